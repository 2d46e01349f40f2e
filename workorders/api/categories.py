"""The category tree and one category with its attribute schema (what a report asks)."""

from django.utils.translation import gettext_lazy as _
from ninja import Router, Schema

from linli.errors import DomainError, NotFound
from linli.schemas import errors

from .. import access
from ..models import Category, CategoryAttribute, Kind

router = Router()


class CategoryRef(Schema):
    id: int
    code: str
    name: str


class AttributeOut(Schema):
    code: str
    datatype: str
    description: str
    required: bool
    order: int
    values: list[dict]
    variable: bool


class CategoryNode(Schema):
    id: int
    code: str
    name: str
    kind: str
    is_group: bool
    has_attributes: bool
    children: list["CategoryNode"] = []


CategoryNode.model_rebuild()


class CategoryOut(Schema):
    id: int
    code: str
    name: str
    kind: str
    kind_label: str
    parent: CategoryRef | None
    description: str
    keywords: str
    is_group: bool
    settle_on_spot: bool
    must_attend: bool
    working_hours: bool
    materials: list
    time_limit_days: int | None
    handling_unit: str
    channel: str
    service_type: str
    attributes: list[AttributeOut]


def category_ref(cat) -> dict:
    return {"id": cat.pk, "code": cat.code, "name": cat.name}


def _attribute(a: CategoryAttribute) -> dict:
    return {
        "code": a.code, "datatype": a.datatype, "description": a.description, "required": a.required,
        "order": a.order, "values": a.values or [], "variable": a.variable,
    }


def _node(cat: Category, children: dict) -> dict:
    return {
        "id": cat.pk, "code": cat.code, "name": cat.name, "kind": cat.kind, "is_group": cat.is_group,
        "has_attributes": any(a.variable for a in cat.attributes.all()),
        "children": [_node(c, children) for c in children.get(cat.pk, [])],
    }


@router.get(
    "/categories", response={200: list[CategoryNode], **errors()}, summary="The category tree (active categories)",
    operation_id="workorders_api_list_categories",
)
def list_categories(request, kind: str | None = None):
    tree = access.categories()
    roots = [c for c in tree["roots"] if kind is None or c.kind == kind]
    if not access.is_staff(request.auth):
        # A resident reports problems and demands; one-window items are applied for at the window.
        roots = [c for c in roots if c.kind != Kind.SERVICE]
    return [_node(c, tree["children"]) for c in roots]


@router.get(
    "/categories/{code}", response={200: CategoryOut, **errors()}, summary="One category with its attribute schema",
    operation_id="workorders_api_get_category",
)
def get_category(request, code: str):
    try:
        cat = access.category_by_code(code)
    except DomainError:
        raise NotFound("not_found", _("Not found, or outside your area."))
    return {
        "id": cat.pk, "code": cat.code, "name": cat.name, "kind": cat.kind, "kind_label": str(cat.get_kind_display()),
        "parent": category_ref(cat.parent) if cat.parent_id else None, "description": cat.description,
        "keywords": cat.keywords, "is_group": cat.is_group, "settle_on_spot": cat.settle_on_spot,
        "must_attend": cat.must_attend, "working_hours": cat.working_hours, "materials": cat.materials or [],
        "time_limit_days": cat.time_limit_days, "handling_unit": cat.handling_unit, "channel": cat.channel,
        "service_type": cat.service_type, "attributes": [_attribute(a) for a in cat.attributes.all()],
    }
