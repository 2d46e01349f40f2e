"""Input of the work-order pages: the category picker, the attribute fields of a category, and
the small parsers the views share. Validation of what matters (attributes, files, places) is
the services' job; these only read the request."""

from django.utils.translation import gettext_lazy as _

from .models import Category, Datatype, Kind, Status

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
