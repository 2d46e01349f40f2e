import json

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class BoundaryField(forms.CharField):
    """A GeoJSON text box: parsed here, checked by regions.geo in the service."""

    widget = forms.Textarea(attrs={"rows": 5, "spellcheck": "false", "class": "mono"})

    def to_python(self, value):
        text = super().to_python(value).strip()
        if not text:
            return None
        try:
            return json.loads(text)
        except ValueError:
            raise forms.ValidationError(_("The boundary is not valid JSON. Paste a GeoJSON Polygon or MultiPolygon."))


class ChildForm(forms.Form):
    name = forms.CharField(label=pgettext_lazy("place", "Name"), required=False, max_length=100)
    code = forms.CharField(label=_("Code"), required=False, max_length=20)
    boundary = BoundaryField(label=_("Boundary (GeoJSON, optional)"), required=False)


class RenameForm(forms.Form):
    name = forms.CharField(label=_("New name"), required=False, max_length=100)


class BoundaryForm(forms.Form):
    boundary = BoundaryField(label=_("Boundary (GeoJSON); leave empty to remove it"), required=False)


def community_choices(communities, streets: dict) -> list:
    """Communities grouped by their street, for a <select> with <optgroup>s."""
    groups: dict = {}
    for c in communities:
        street = streets.get(c.path[: 3 * c.steplen])
        groups.setdefault(street.name if street else "", []).append((str(c.pk), f"{c.name} ({c.code})"))
    return [("", _("Choose a community"))] + [(name, options) for name, options in groups.items()]


class CommunityChoiceForm(forms.Form):
    community = forms.ChoiceField(label=_("Community"))
    confirm = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["community"].choices = choices
        self.fields["community"].error_messages["required"] = _("Choose a community.")
        self.fields["community"].error_messages["invalid_choice"] = _("Choose one of the communities in the list.")


class LocateForm(forms.Form):
    lng = forms.FloatField(label=_("Longitude"), min_value=-180, max_value=180, widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}))
    lat = forms.FloatField(label=_("Latitude"), min_value=-90, max_value=90, widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}))
