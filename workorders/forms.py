"""Input of the work-order pages: the category picker, the attribute fields of a category and
the small parsers the views share; the forms of the category administration and of the
one-window desk. Validation of what matters (attributes, files, places, limits, materials) is
the services' job, whose DomainError lands on the form's field; these only read the request."""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from linli.errors import DomainError
from linli.pages import ServiceForm

from . import access
from .models import Category, Datatype, HandlerLevel, Kind, Stage, Status
from .services.sla import minutes_per_working_day

REPORT_KINDS = (Kind.INCIDENT, Kind.DEMAND)

BOARD_STATUSES = [
    ("open", _("All open")),
    (Status.REPORTED, Status.REPORTED.label),
    (Status.FILED, Status.FILED.label),
    (Status.DISPATCHED, Status.DISPATCHED.label),
    (Status.IN_PROGRESS, Status.IN_PROGRESS.label),
    (Status.HANDLED, Status.HANDLED.label),
    (Status.VERIFIED, Status.VERIFIED.label),
    (Status.SUSPENDED, Status.SUSPENDED.label),
    (Status.CLOSED, Status.CLOSED.label),
    (Status.VOIDED, Status.VOIDED.label),
    (Status.DUPLICATE, Status.DUPLICATE.label),
    ("all", _("All")),
]


def category_groups(kinds=REPORT_KINDS, *, settle_only: bool = False) -> list[tuple[str, list[dict]]]:
    """Leaf categories of the given kinds ({pk, name}), grouped under their parent's name (for
    <optgroup>). Plain dicts: the select renders every category on every page load."""
    rows = (
        Category.objects.filter(active=True, kind__in=kinds, is_group=False)
        .order_by("sort", "code").values_list("pk", "name", "kind", "parent__name", "settle_on_spot")
    )
    kind_labels = {k: str(v) for k, v in Kind.choices}
    groups: dict[str, list[dict]] = {}
    for pk, name, kind, parent_name, settle in rows:
        if settle_only and not settle:
            continue
        groups.setdefault(parent_name or kind_labels.get(kind, kind), []).append({"pk": pk, "name": name})
    return list(groups.items())


def pick_category(value, kinds=REPORT_KINDS) -> Category | None:
    try:
        pk = int(value)
    except (TypeError, ValueError):
        return None
    return Category.objects.filter(pk=pk, kind__in=kinds).first()


def attribute_fields(category: Category | None, data=None, error_field: str = "") -> list[dict]:
    """The category's questions, each with the value the user gave (to redisplay a refused form)."""
    if category is None:
        return []
    fields = []
    for a in category.attributes.all():
        name = f"attribute[{a.code}]"
        if data is not None:
            value = data.getlist(name) if a.datatype == Datatype.MULTIVALUELIST else data.get(name, "")
        else:
            value = [] if a.datatype == Datatype.MULTIVALUELIST else ""
        fields.append({
            "attr": a,
            "name": name,
            "id": f"attr-{a.code}",
            "value": value,
            "error": error_field == name,
            "input": {
                Datatype.STRING: "text", Datatype.NUMBER: "number", Datatype.DATETIME: "datetime-local",
            }.get(a.datatype, ""),
        })
    return fields


def attribute_values(category: Category | None, data) -> dict:
    """{code: value} from the form (lists for several-choice questions; blanks left out)."""
    if category is None:
        return {}
    out = {}
    for a in category.attributes.all():
        if not a.variable:
            continue
        name = f"attribute[{a.code}]"
        if a.datatype == Datatype.MULTIVALUELIST:
            values = [v for v in data.getlist(name) if v]
            if values:
                out[a.code] = values
        else:
            value = (data.get(name) or "").strip()
            if value:
                out[a.code] = value
    return out


def text(data, name: str, limit: int = 4000) -> str:
    return (data.get(name) or "").strip()[:limit]


def integer(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def point(data) -> tuple[str, str]:
    """(lat, lng) as given (blank when not picked); the service checks them."""
    return (data.get("lat") or "").strip(), (data.get("lng") or "").strip()


# ------------------------------------------------------------------ category administration
# The checks that matter (and their messages) live in workorders/services/config.py.


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
            self.fields["minutes"].help_text = _("Working minutes: a working day is %(n)s minutes.") % {"n": minutes_per_working_day()}


class RoutingForm(ServiceForm):
    region = forms.ChoiceField(label=_("Place"), required=False)
    level = forms.ChoiceField(label=_("Handled by"), choices=HandlerLevel.choices, initial=HandlerLevel.COMMUNITY)
    department = forms.CharField(label=_("Department"), max_length=100, required=False, help_text=_("Leave empty when the unit itself handles it, e.g. 住建局 or 城管局."))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["region"].choices = access.routing_places(user)


# ------------------------------------------------------------------ the one-window desk


class ApplicationForm(ServiceForm):
    resident = forms.CharField(required=False, widget=forms.HiddenInput)
    applicant_name = forms.CharField(label=_("Applicant's name"), max_length=50, required=False)
    applicant_phone = forms.CharField(label=_("Phone"), max_length=20, required=False,
                                      widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}))
    region = forms.ChoiceField(label=_("Community"), required=False)
    received = forms.MultipleChoiceField(label=_("Materials handed in"), required=False, widget=forms.CheckboxSelectMultiple)
    other_missing = forms.CharField(
        label=_("Anything else missing"), required=False, widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("One per line; goes on the one-time notice with the unticked materials."),
    )
    note = forms.CharField(label=_("Note"), required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, category, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.category = category
        self.fields["received"].choices = [(m, m) for m in category.materials or []]
        places = access.window_places(user)
        self.fields["region"].choices = [(str(r.pk), r.name) for r in places]
        self.places = {str(r.pk): r for r in places}
        self.attribute_fields = []
        for a in category.attributes.filter(variable=True).order_by("order", "id"):
            name = f"attr_{a.code}"
            label = a.description
            if a.datatype == Datatype.SINGLEVALUELIST:
                field = forms.ChoiceField(label=label, required=False, choices=[("", "—")] + [(v["key"], v["name"]) for v in a.values])
            elif a.datatype == Datatype.MULTIVALUELIST:
                field = forms.MultipleChoiceField(label=label, required=False, choices=[(v["key"], v["name"]) for v in a.values],
                                                  widget=forms.CheckboxSelectMultiple)
            elif a.datatype == Datatype.TEXT:
                field = forms.CharField(label=label, required=False, widget=forms.Textarea(attrs={"rows": 3}))
            elif a.datatype == Datatype.DATETIME:
                field = forms.CharField(label=label, required=False, widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
            elif a.datatype == Datatype.NUMBER:
                field = forms.CharField(label=label, required=False, widget=forms.TextInput(attrs={"inputmode": "decimal"}))
            else:
                field = forms.CharField(label=label, required=False)
            if a.required:
                field.label = f"{label} *"
            self.fields[name] = field
            self.attribute_fields.append(name)

    def attributes(self) -> dict:
        return {name[5:]: self.cleaned_data.get(name) for name in self.attribute_fields}

    def apply_error(self, error: DomainError):
        field = error.field or ""
        if field.startswith("attribute["):
            field = "attr_" + field[len("attribute["):-1]
        self.add_error(field if field in self.fields else None, error.text())

    def details(self):
        return [self[n] for n in self.attribute_fields]
