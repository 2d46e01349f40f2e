"""Forms of the registry pages. They carry and redisplay what a person typed; the rules live in
registry.services (and its validators), whose DomainError messages land on the fields here."""

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from linli.pages import ServiceForm
from regions.access import home_region
from regions.models import Level

from . import access
from .models import (
    CareTag,
    HouseUse,
    ImportMode,
    OrgKind,
    PoliticalStatus,
    Relation,
    ResidenceType,
    ResidentStatus,
)

# A select of places stays usable up to this many options; wider scopes type a narrower filter.
MAX_REGION_OPTIONS = 1000


def region_options(user, levels=(Level.COMMUNITY, Level.GRID), limit: int = MAX_REGION_OPTIONS) -> list[tuple[str, str]]:
    """Active communities and/or grids inside the user's scope, labelled "community · grid"."""
    rows = access.place_options(user, levels, limit)
    parent_paths = {r.path[:16] for r in rows if r.level == Level.GRID}
    parents = access.place_names(parent_paths)
    out = []
    for r in rows:
        if r.level == Level.GRID:
            label = f"{parents.get(r.path[:16], '')} · {r.name}".strip(" ·")
            if Level.COMMUNITY in levels:
                label = "\u3000" + r.name
        else:
            label = r.name
        out.append((str(r.pk), label))
    return out


def filter_region_options(user, limit: int = MAX_REGION_OPTIONS) -> list[tuple[str, str]]:
    """Places to narrow a list by: the two levels below the user's widest node (a city admin
    picks districts and streets, a street officer communities and grids), so the list stays
    short at any city size."""
    home = home_region(user)
    if home is None or home.level >= Level.GRID:
        return []
    levels = tuple(lv for lv in (home.level + 1, home.level + 2) if lv <= Level.GRID)
    rows = access.place_options(user, levels, limit)
    return [(str(r.pk), ("\u3000" if r.level == levels[-1] and len(levels) > 1 else "") + r.name) for r in rows]


def grid_options(user) -> list[tuple[str, str]]:
    return region_options(user, levels=(Level.GRID,))


class DateInput(forms.DateInput):
    input_type = "date"


def date_field(label, required=False):
    # Kept as text: the service parses 1990-01-02, 1990/1/2, 1990年1月2日 and says what is wrong.
    return forms.CharField(label=label, required=required, widget=DateInput(attrs={"autocomplete": "off"}))


class BuildingForm(ServiceForm):
    grid = forms.ChoiceField(label=_("Grid"))
    estate = forms.CharField(label=_("Estate or street"), max_length=100, required=False)
    number = forms.CharField(label=_("Building number"), max_length=20, required=False)
    address = forms.CharField(label=_("Street address"), max_length=200, required=False)
    floors = forms.CharField(label=_("Floors"), initial=6, required=False, widget=forms.NumberInput(attrs={"min": 1, "max": 200}))
    units = forms.CharField(label=_("Units"), initial=1, required=False, widget=forms.NumberInput(attrs={"min": 1, "max": 50}))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["grid"].choices = grid_options(user)


class BuildingEditForm(ServiceForm):
    estate = forms.CharField(label=_("Estate or street"), max_length=100, required=False)
    number = forms.CharField(label=_("Building number"), max_length=20, required=False)
    address = forms.CharField(label=_("Street address"), max_length=200, required=False)
    floors = forms.CharField(label=_("Floors"), required=False, widget=forms.NumberInput(attrs={"min": 1, "max": 200}))
    units = forms.CharField(label=_("Units"), required=False, widget=forms.NumberInput(attrs={"min": 1, "max": 50}))


class HouseForm(ServiceForm):
    unit = forms.CharField(label=_("Unit"), initial=1, required=False, widget=forms.NumberInput(attrs={"min": 1}))
    room = forms.CharField(label=_("Room"), max_length=20, required=False)
    use = forms.ChoiceField(label=_("Use"), choices=HouseUse.choices, initial=HouseUse.OWNER)
    area = forms.DecimalField(label=_("Area (m²)"), required=False, max_digits=8, decimal_places=2, min_value=0)


class HouseEditForm(ServiceForm):
    use = forms.ChoiceField(label=_("Use"), choices=HouseUse.choices)
    area = forms.DecimalField(label=_("Area (m²)"), required=False, max_digits=8, decimal_places=2, min_value=0)


class HouseholdForm(ServiceForm):
    number = forms.CharField(label=_("Household number (optional)"), max_length=30, required=False)


PERSON_HELP = {
    "id_number": _("18 characters; an old 15-digit number is upgraded."),
    "phone": _("Mobile (11 digits) or landline; optional."),
}


class ResidentForm(ServiceForm):
    name = forms.CharField(label=_("Name"), max_length=60, required=False)
    id_number = forms.CharField(label=_("ID number"), max_length=30, required=False, help_text=PERSON_HELP["id_number"],
                                widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "text"}))
    phone = forms.CharField(label=_("Phone"), max_length=30, required=False, help_text=PERSON_HELP["phone"],
                            widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "tel"}))
    ethnicity = forms.CharField(label=_("Ethnicity"), max_length=20, required=False, initial="汉族")
    residence_type = forms.ChoiceField(label=_("Residence type"), choices=ResidenceType.choices, initial=ResidenceType.REGISTERED)
    political_status = forms.ChoiceField(label=_("Political status"), choices=PoliticalStatus.choices, initial=PoliticalStatus.MASSES)
    relation = forms.ChoiceField(label=_("Relation to head"), choices=Relation.choices, initial=Relation.HEAD)
    date = date_field(_("Moved in on"))

    def person_data(self) -> dict:
        d = self.cleaned_data
        data = {k: d.get(k, "") for k in ("name", "id_number", "ethnicity", "residence_type", "political_status")}
        if d.get("phone"):
            data["phone"] = d["phone"]
        return data


class ResidentEditForm(ServiceForm):
    name = forms.CharField(label=_("Name"), max_length=60, required=False)
    id_number = forms.CharField(label=_("New ID number"), max_length=30, required=False,
                                help_text=_("Leave empty to keep the registered number."),
                                widget=forms.TextInput(attrs={"autocomplete": "off"}))
    phone = forms.CharField(label=_("New phone"), max_length=30, required=False,
                            help_text=_("Leave empty to keep the registered number."),
                            widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "tel"}))
    ethnicity = forms.CharField(label=_("Ethnicity"), max_length=20, required=False)
    residence_type = forms.ChoiceField(label=_("Residence type"), choices=ResidenceType.choices)
    political_status = forms.ChoiceField(label=_("Political status"), choices=PoliticalStatus.choices)
    relation = forms.ChoiceField(label=_("Relation to head"), choices=Relation.choices, required=False)
    updated_at = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, has_household=True, **kwargs):
        super().__init__(*args, **kwargs)
        if not has_household:
            del self.fields["relation"]

    def person_data(self) -> dict:
        d = self.cleaned_data
        data = {k: d.get(k, "") for k in ("name", "ethnicity", "residence_type", "political_status")}
        for key in ("id_number", "phone"):
            if d.get(key):
                data[key] = d[key]
        if d.get("relation"):
            data["relation"] = d["relation"]
        return data


class EventForm(ServiceForm):
    """Move out, move house, move back in, record death: a dated event."""

    household = forms.ChoiceField(label=_("Household"), required=False)
    relation = forms.ChoiceField(label=_("Relation to head"), choices=Relation.choices, initial=Relation.OTHER, required=False)
    date = date_field(_("Date"), required=False)
    note = forms.CharField(label=_("Note"), max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 2}))
    confirm = forms.BooleanField(label=_("I have checked this and confirm it."), required=True,
                                 widget=forms.CheckboxInput(attrs={"style": "width:24px;height:24px;vertical-align:middle"}))

    def __init__(self, *args, needs_household: bool, household_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        if needs_household:
            self.fields["household"].required = True
            self.fields["household"].choices = [("", "—")] + list(household_choices)
        else:
            del self.fields["household"]
            del self.fields["relation"]


class TagForm(ServiceForm):
    tag = forms.ChoiceField(label=_("Care tag"))
    date = date_field(_("From"))
    note = forms.CharField(label=_("Note"), max_length=200, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Age tags (elderly, children) follow the birth date and are not set by hand.
        tags = CareTag.objects.filter(active=True, min_age__isnull=True, max_age__isnull=True)
        self.fields["tag"].choices = [(t.code, t.name) for t in tags]


class OrganizationForm(ServiceForm):
    grid = forms.ChoiceField(label=_("Grid"))
    name = forms.CharField(label=pgettext_lazy("organisation", "Name"), max_length=210, required=False)
    kind = forms.ChoiceField(label=_("Kind"), choices=OrgKind.choices, initial=OrgKind.BUSINESS)
    credit_code = forms.CharField(label=_("Unified social credit code"), max_length=30, required=False)
    address = forms.CharField(label=_("Address"), max_length=200, required=False)
    contact_name = forms.CharField(label=_("Contact person"), max_length=50, required=False)
    contact_phone = forms.CharField(label=_("Contact phone"), max_length=30, required=False,
                                    widget=forms.TextInput(attrs={"autocomplete": "off", "inputmode": "tel"}))
    employees = forms.CharField(label=_("Employees"), required=False, widget=forms.NumberInput(attrs={"min": 0}))

    def __init__(self, *args, user, editing=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["grid"].choices = grid_options(user)
        if editing:
            del self.fields["grid"]
            self.fields["contact_phone"].label = _("New contact phone")
            self.fields["contact_phone"].help_text = _("Leave empty to keep the registered number.")

    def org_data(self) -> dict:
        d = self.cleaned_data
        data = {k: d.get(k) or "" for k in ("name", "kind", "credit_code", "address", "contact_name", "employees")}
        if d.get("contact_phone"):
            data["contact_phone"] = d["contact_phone"]
        return data


class ImportForm(ServiceForm):
    file = forms.FileField(label=_("Spreadsheet (.xlsx or .csv)"),
                           widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.xls,.ods,.csv"}))
    mode = forms.ChoiceField(
        label=_("When some rows are wrong"),
        choices=[
            (ImportMode.ALL_OR_NOTHING, _("Import only if every row is right (全部成功才导入)")),
            (ImportMode.VALID_ROWS, _("Import the correct rows, report the rest (只导入正确的行)")),
        ],
        initial=ImportMode.ALL_OR_NOTHING,
        widget=forms.RadioSelect,
    )
    region = forms.ChoiceField(label=_("Import into"))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["region"].choices = region_options(user)


STATUS_FILTERS = [
    (ResidentStatus.ACTIVE, _("Living here")),
    (ResidentStatus.MOVED_OUT, _("Moved out")),
    (ResidentStatus.DECEASED, _("Deceased")),
    ("all", _("All")),
]
