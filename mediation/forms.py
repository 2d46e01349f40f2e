from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .models import AgreementForm, FollowUpResult, How, Outcome, PartyRole

TERM_ROWS = 4
DATE = forms.DateInput(attrs={"type": "date"})


def _today():
    return timezone.localdate()


class IntakeForm(forms.Form):
    category = forms.ChoiceField(label=_("Type of dispute"))
    region = forms.ChoiceField(label=_("Place of the dispute"))
    title = forms.CharField(label=_("Title"), max_length=200, help_text=_("A short line, e.g. 楼上漏水纠纷."))
    facts = forms.CharField(label=_("Facts of the dispute"), widget=forms.Textarea(attrs={"rows": 5}), max_length=4000)
    how = forms.ChoiceField(label=_("How it came"), choices=How.choices, widget=forms.RadioSelect, initial=How.APPLICATION)
    referred_by = forms.CharField(label=_("Referred by"), max_length=100, required=False, help_text=_("Only for a referred case: the unit that referred it."))
    applicant = forms.CharField(label=_("Applicant's name"), max_length=50)
    applicant_phone = forms.CharField(label=_("Applicant's phone"), max_length=20, required=False)
    respondent = forms.CharField(label=_("Respondent's name"), max_length=50, required=False)
    respondent_phone = forms.CharField(label=_("Respondent's phone"), max_length=20, required=False)

    def __init__(self, *args, categories=(), regions=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = [("", "—")] + [(c.pk, c.name) for c in categories]
        self.fields["region"].choices = [(r.pk, r.label) for r in regions]


class OpenCaseForm(forms.Form):
    """A case for a mediation work order that came in by another channel (portal, hotline...)."""

    facts = forms.CharField(label=_("Facts of the dispute"), widget=forms.Textarea(attrs={"rows": 5}), max_length=4000)
    how = forms.ChoiceField(label=_("How it came"), choices=How.choices, widget=forms.RadioSelect, initial=How.APPLICATION)
    referred_by = forms.CharField(label=_("Referred by"), max_length=100, required=False, help_text=_("Only for a referred case: the unit that referred it."))
    applicant = forms.CharField(label=_("Applicant's name"), max_length=50)
    applicant_phone = forms.CharField(label=_("Applicant's phone"), max_length=20, required=False)
    respondent = forms.CharField(label=_("Respondent's name"), max_length=50, required=False)
    respondent_phone = forms.CharField(label=_("Respondent's phone"), max_length=20, required=False)


class PartyForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=50)
    role = forms.ChoiceField(label=_("Role"), choices=PartyRole.choices)
    phone = forms.CharField(label=_("Phone"), max_length=20, required=False)
    address = forms.CharField(label=_("Address"), max_length=200, required=False)


class MediatorsForm(forms.Form):
    mediators = forms.MultipleChoiceField(label=_("Mediators"), widget=forms.CheckboxSelectMultiple, help_text=_("The first one ticked takes the work order."))
    note = forms.CharField(label=_("Note"), max_length=500, required=False)

    def __init__(self, *args, people=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["mediators"].choices = [(u.pk, u.choice_label) for u in people]


class SessionForm(forms.Form):
    held_on = forms.DateField(label=_("Date"), widget=DATE, initial=_today)
    place = forms.CharField(label=_("Where held"), max_length=100, initial="社区人民调解室")
    attendees = forms.CharField(label=_("Attendees"), max_length=300)
    notes = forms.CharField(label=_("Notes"), widget=forms.Textarea(attrs={"rows": 5}), max_length=10000)


class AgreementRecordForm(forms.Form):
    form = forms.ChoiceField(label=_("Form of the agreement"), choices=AgreementForm.choices, widget=forms.RadioSelect, initial=AgreementForm.WRITTEN)
    signed_on = forms.DateField(label=_("Agreed on"), widget=DATE, initial=_today)
    text = forms.CharField(
        label=_("What was agreed"), widget=forms.Textarea(attrs={"rows": 4}), max_length=10000, required=False,
        help_text=_("The responsibilities and how the terms are performed; for an oral agreement, its content."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for i in range(TERM_ROWS):
            self.fields[f"term_{i}_party"] = forms.CharField(label=_("Obliged party"), max_length=50, required=False)
            self.fields[f"term_{i}_obligation"] = forms.CharField(label=_("Does what"), max_length=300, required=False)
            self.fields[f"term_{i}_due_on"] = forms.DateField(label=_("By when"), widget=DATE, required=False)

    def term_rows(self):
        return [(self[f"term_{i}_party"], self[f"term_{i}_obligation"], self[f"term_{i}_due_on"]) for i in range(TERM_ROWS)]

    def terms(self):
        d = self.cleaned_data
        return [{"party": d.get(f"term_{i}_party"), "obligation": d.get(f"term_{i}_obligation"), "due_on": d.get(f"term_{i}_due_on")} for i in range(TERM_ROWS)]


class FollowUpForm(forms.Form):
    result = forms.ChoiceField(label=_("Result"), choices=FollowUpResult.choices)
    visited_on = forms.DateField(label=_("Visited on"), widget=DATE, initial=_today)
    note = forms.CharField(label=_("Note"), max_length=2000, required=False)


class CourtApplyForm(forms.Form):
    applied_on = forms.DateField(label=_("Applied on"), widget=DATE, initial=_today)
    court = forms.CharField(label=_("Court"), max_length=100)


class CourtResultForm(forms.Form):
    result = forms.ChoiceField(label=_("Court's decision"), choices=[("confirmed", _("Confirmed")), ("refused", _("Refused"))], widget=forms.RadioSelect)
    decided_on = forms.DateField(label=_("Decided on"), widget=DATE, initial=_today)


class CloseForm(forms.Form):
    outcome = forms.ChoiceField(
        label=_("Outcome"), required=False, widget=forms.RadioSelect,
        choices=[(Outcome.NO_AGREEMENT, Outcome.NO_AGREEMENT.label), (Outcome.WITHDRAWN, Outcome.WITHDRAWN.label)],
    )
    note = forms.CharField(label=_("Note"), widget=forms.Textarea(attrs={"rows": 3}), max_length=2000, required=False)


STATUS_FILTERS = [("open", _("Open cases")), ("closed", _("Closed cases")), ("all", _("All"))]
