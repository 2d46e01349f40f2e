"""Mediation of disputes (矛盾纠纷调解, People's Mediation Law 人民调解法).

A mediation case IS a work order of kind `mediation`: the order carries the lifecycle (report →
file → dispatch to a mediator → handle → close), this app carries the record of the mediation
attached to it: the parties, the facts, the mediators, the sessions, the agreement and its
terms, the follow-up visits on performance and the court confirmation.

Glossary: *party* 当事人 (applicant 申请人, respondent 被申请人), *session* 调解, *agreement*
调解协议 (written 书面 or oral 口头), *term* 协议条款, *follow-up visit* 回访, *court
confirmation* 司法确认 (applied for within 30 days of the agreement), *own initiative* 主动调解.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from linli import pii

# Art. 33: the parties may jointly apply to a court for confirmation within 30 days of the
# agreement taking effect.
COURT_WINDOW_DAYS = 30
# A follow-up visit this many days after the agreement, besides one on each term's due date.
DEFAULT_FOLLOW_UP_DAYS = 30


# How the mediation steps read on the work order's timeline (Transition.action → label).
TIMELINE_LABELS = {
    "mediation_open": _("Mediation case opened"),
    "mediation_party": _("Party added"),
    "mediation_mediators": _("Mediators chosen"),
    "mediation_session": _("Mediation session"),
    "mediation_follow_up": _("Follow-up visit"),
    "mediation_court_applied": _("Court confirmation applied for"),
    "mediation_court_result": _("Court's decision"),
}


class How(models.TextChoices):
    APPLICATION = "application", _("Application by a party")
    INITIATIVE = "initiative", _("Own initiative")
    REFERRED = "referred", _("Referred")


class Outcome(models.TextChoices):
    PENDING = "", _("Under mediation")
    AGREEMENT = "agreement", _("Agreement reached")
    NO_AGREEMENT = "no_agreement", _("No agreement")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class AgreementForm(models.TextChoices):
    WRITTEN = "written", _("Written")
    ORAL = "oral", _("Oral")


class CourtResult(models.TextChoices):
    PENDING = "", _("Awaiting the court")
    CONFIRMED = "confirmed", _("Confirmed")
    REFUSED = "refused", _("Refused")


class Case(models.Model):
    """The mediation record of one work order. `region`/`region_path` are the order's place."""

    order = models.OneToOneField("workorders.WorkOrder", on_delete=models.CASCADE, related_name="mediation")
    region = models.ForeignKey("regions.Region", on_delete=models.PROTECT, related_name="+")
    region_path = models.CharField(max_length=255)
    how = models.CharField(_("how it came"), max_length=20, choices=How.choices, default=How.APPLICATION)
    referred_by = models.CharField(_("referred by"), max_length=100, blank=True)
    facts = models.TextField(_("facts of the dispute"))
    mediators = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="mediation_cases", blank=True, verbose_name=_("mediators"))
    outcome = models.CharField(_("outcome"), max_length=20, choices=Outcome.choices, blank=True, default=Outcome.PENDING)

    # The agreement (one per case).
    agreement_form = models.CharField(_("form of the agreement"), max_length=10, choices=AgreementForm.choices, blank=True)
    agreement_text = models.TextField(_("agreement"), blank=True)
    signed_on = models.DateField(_("agreed on"), null=True, blank=True)
    # The agreement's deadline: its last term's due date (the day it was agreed when it has none).
    performance_due = models.DateField(null=True, blank=True)

    # Court confirmation (司法确认).
    court_applied_on = models.DateField(_("applied to the court on"), null=True, blank=True)
    court = models.CharField(_("court"), max_length=100, blank=True)
    court_result = models.CharField(_("court's decision"), max_length=10, choices=CourtResult.choices, blank=True)
    court_decided_on = models.DateField(_("decided on"), null=True, blank=True)

    opened_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [
            models.Index(fields=["region_path", "id"], name="med_case_scope_idx", opclasses=["varchar_pattern_ops", ""]),
        ]
        verbose_name = _("mediation case")

    def __str__(self):
        return f"{self.order.number} {self.order.title}"

    @property
    def has_agreement(self) -> bool:
        return self.signed_on is not None

    @property
    def court_window_ends(self):
        import datetime as dt

        return self.signed_on + dt.timedelta(days=COURT_WINDOW_DAYS) if self.signed_on else None


class PartyRole(models.TextChoices):
    APPLICANT = "applicant", _("Applicant")
    RESPONDENT = "respondent", _("Respondent")
    OTHER = "other", _("Other party")


class Party(models.Model):
    AAD_PHONE = b"mediation.party.phone"
    ENCRYPTED_FIELDS = {"phone_enc": AAD_PHONE}

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="parties")
    name = models.CharField(_("name"), max_length=50)
    role = models.CharField(_("role"), max_length=20, choices=PartyRole.choices, default=PartyRole.APPLICANT)
    resident = models.ForeignKey("registry.Resident", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    phone_enc = models.TextField(blank=True)
    phone_masked = models.CharField(_("phone"), max_length=20, blank=True)
    address = models.CharField(_("address"), max_length=200, blank=True)

    class Meta:
        ordering = ["id"]

    def __str__(self):
        return self.name

    def set_phone(self, phone: str):
        self.phone_enc = pii.encrypt(phone, self.AAD_PHONE) if phone else ""
        self.phone_masked = pii.mask_phone(phone) if phone else ""

    def reveal_phone(self) -> str:
        return pii.decrypt(self.phone_enc, self.AAD_PHONE) if self.phone_enc else ""


class Session(models.Model):
    """One sitting of the mediation: when, where, who came, what was said (调解笔录)."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="sessions")
    held_on = models.DateField(_("date"))
    place = models.CharField(_("place"), max_length=100)
    attendees = models.CharField(_("attendees"), max_length=300)
    notes = models.TextField(_("notes"))
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["held_on", "id"]

    def __str__(self):
        return f"{self.case_id} {self.held_on}"


class Term(models.Model):
    """One line of the agreement: who does what by when."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="terms")
    party = models.CharField(_("who"), max_length=50)
    obligation = models.CharField(_("does what"), max_length=300)
    due_on = models.DateField(_("by when"))
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["order", "id"]

    def __str__(self):
        return f"{self.party}: {self.obligation} ({self.due_on})"


class FollowUpResult(models.TextChoices):
    PERFORMED = "performed", _("Performed")
    PARTLY = "partly", _("Partly performed")
    NOT_PERFORMED = "not_performed", _("Not performed")


class FollowUp(models.Model):
    """A follow-up visit (回访) on performance: one on each term's due date and a default one
    30 days after the agreement. `term` is empty for the default visit."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="follow_ups")
    term = models.ForeignKey(Term, null=True, blank=True, on_delete=models.CASCADE, related_name="follow_ups")
    due_on = models.DateField(_("due on"))
    result = models.CharField(_("result"), max_length=20, choices=FollowUpResult.choices, blank=True)
    note = models.TextField(_("note"), blank=True)
    visited_on = models.DateField(_("visited on"), null=True, blank=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["due_on", "id"]
        indexes = [models.Index(fields=["result", "due_on"], name="med_followup_due_idx")]

    def __str__(self):
        return f"{self.case_id} {self.due_on} {self.result or '-'}"
