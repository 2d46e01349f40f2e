"""Forms of the category administration pages. They only shape input; the checks that matter
(and their messages) live in workorders/config.py, whose DomainError lands on the field."""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.access import assignments
from accounts.models import Role
from linli.pages import ServiceForm
from regions.models import Level, Region

from .models import Category, Datatype, HandlerLevel, Stage
from .services.sla import _minutes_per_working_day


class CategoryForm(ServiceForm):
    name = forms.CharField(label=_("Name"), max_length=100, required=False)
    description = forms.CharField(label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 2}))
    keywords = forms.CharField(label=_("Keywords"), max_length=200, required=False, help_text=_("Words people use for it, separated by spaces."))
    sort = forms.CharField(label=_("Order"), required=False, widget=forms.NumberInput(attrs={"min": 0}))
    active = forms.BooleanField(label=_("Active (takes new reports)"), required=False)
    settle_on_spot = forms.BooleanField(label=_("A grid worker may settle it on the spot"), required=False)
    must_attend = forms.BooleanField(label=_("Must be attended at once (三必)"), required=False)
    working_hours = forms.BooleanField(label=_("Deadlines count working hours only"), required=False)
    materials = forms.CharField(
        label=_("Required materials"), required=False, widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("One material per line, as the applicant should read it."),
    )
    time_limit_days = forms.CharField(label=_("Time limit (working days)"), required=False, widget=forms.NumberInput(attrs={"min": 1, "max": 365}))
    handling_unit = forms.CharField(label=_("Handling unit"), max_length=100, required=False)
    channel = forms.ChoiceField(label=_("Channel"), required=False, choices=[("", "—")] + list(Category._meta.get_field("channel").choices))
    service_type = forms.ChoiceField(
        label=_("Service type"), required=False, choices=[("", "—")] + list(Category._meta.get_field("service_type").choices)
    )

    SERVICE_FIELDS = ("materials", "time_limit_days", "handling_unit", "channel", "service_type")

    def __init__(self, *args, category: Category, **kwargs):
        super().__init__(*args, **kwargs)
        if not (category.kind == "service" and not category.is_group):
            for name in self.SERVICE_FIELDS:
                del self.fields[name]
        if category.is_group:
            for name in ("settle_on_spot", "must_attend"):
                del self.fields[name]

    @staticmethod
    def initial_for(category: Category) -> dict:
        data = {k: getattr(category, k) for k in (
            "name", "description", "keywords", "sort", "active", "settle_on_spot", "must_attend", "working_hours",
            "time_limit_days", "handling_unit", "channel", "service_type",
        )}
        data["materials"] = "\n".join(category.materials or [])
        return data


class NewCategoryForm(ServiceForm):
    code = forms.CharField(label=_("Code"), max_length=40, required=False, help_text=_("The Open311 service code, e.g. env.graffiti; it cannot be changed later."))
    name = forms.CharField(label=_("Name"), max_length=100, required=False)
    is_group = forms.BooleanField(label=_("A group (holds other categories, takes no orders)"), required=False)


class AttributeForm(ServiceForm):
    code = forms.CharField(label=_("Code"), max_length=40, required=False, help_text=_("Lower-case letters, digits and underscores; fixed once saved."))
    description = forms.CharField(label=_("Question"), max_length=200, required=False)
    datatype = forms.ChoiceField(label=_("Type of answer"), choices=Datatype.choices)
    required = forms.BooleanField(label=_("An answer is required"), required=False)
    values = forms.CharField(
        label=_("Choices"), required=False, widget=forms.Textarea(attrs={"rows": 6, "class": "mono"}),
        help_text=_("For the list types: one choice per line, written key|name, e.g. small|少量."),
    )

    def __init__(self, *args, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if editing:
            del self.fields["code"]


class SlaForm(ServiceForm):
    stage = forms.ChoiceField(label=_("Stage"), choices=Stage.choices)
    minutes = forms.CharField(label=_("Limit (minutes)"), required=False, widget=forms.NumberInput(attrs={"min": 1}))
    urgent_minutes = forms.CharField(label=_("Urgent limit (minutes)"), required=False, widget=forms.NumberInput(attrs={"min": 1}))
    valid_from = forms.CharField(label=_("Valid from"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, working: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["valid_from"].initial = timezone.localdate().isoformat()
        if working:
            self.fields["minutes"].help_text = _("Working minutes: a working day is %(n)s minutes.") % {"n": _minutes_per_working_day()}


def routing_places(user) -> list[tuple[str, str]]:
    """The places a user may route for: the whole city (city administrators), and the
    districts and streets of their area."""
    options = []
    paths = [p for r, p, _i in assignments(user) if r in (Role.CITY_ADMIN, Role.DISTRICT_ADMIN)]
    if any(r == Role.CITY_ADMIN for r, _p, _i in assignments(user)):
        options.append(("", str(_("The whole city"))))
    seen = set()
    for path in paths:
        for region in Region.objects.filter(path__startswith=path, level__lte=Level.STREET, valid_to__isnull=True).order_by("path"):
            if region.pk not in seen and region.level > Level.CITY:
                seen.add(region.pk)
                indent = "　" * (region.level - Level.DISTRICT)
                options.append((str(region.pk), f"{indent}{region.name}"))
    return options


class RoutingForm(ServiceForm):
    region = forms.ChoiceField(label=_("Place"), required=False)
    level = forms.ChoiceField(label=_("Handled by"), choices=HandlerLevel.choices, initial=HandlerLevel.COMMUNITY)
    department = forms.CharField(label=_("Department"), max_length=100, required=False, help_text=_("Leave empty when the unit itself handles it, e.g. 住建局 or 城管局."))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["region"].choices = routing_places(user)
