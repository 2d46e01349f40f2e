"""Test helpers: a few categories with SLA and routing rules, and a department handler."""

from accounts.models import Role
from accounts.testing import make_user

from .models import Category, CategoryAttribute, Datatype, HandlerLevel, Kind, RoutingRule, SlaRule, Stage


def make_categories(world=None):
    incidents = Category.objects.create(kind=Kind.INCIDENT, code="incident", name="事件", is_group=True)
    litter = Category.objects.create(parent=incidents, kind=Kind.INCIDENT, code="env.litter", name="暴露垃圾")
    CategoryAttribute.objects.create(
        category=litter, code="amount", datatype=Datatype.SINGLEVALUELIST, description="垃圾量", required=True, order=1,
        values=[{"key": "small", "name": "少量"}, {"key": "large", "name": "大量"}],
    )
    CategoryAttribute.objects.create(category=litter, code="bags", datatype=Datatype.NUMBER, description="袋数", order=2)
    dispute = Category.objects.create(parent=incidents, kind=Kind.INCIDENT, code="order.dispute", name="邻里纠纷", must_attend=True)
    road = Category.objects.create(parent=incidents, kind=Kind.INCIDENT, code="facility.road", name="道路破损", settle_on_spot=False)
    for stage, minutes, urgent in ((Stage.FILE, 30, 10), (Stage.DISPATCH, 30, 10), (Stage.HANDLE, 2880, 240), (Stage.VERIFY, 120, 60)):
        SlaRule.objects.create(category=incidents, stage=stage, minutes=minutes, urgent_minutes=urgent)
    RoutingRule.objects.create(category=incidents, level=HandlerLevel.COMMUNITY)
    RoutingRule.objects.create(category=road, level=HandlerLevel.STREET, department="住建局")
    cats = {"group": incidents, "litter": litter, "dispute": dispute, "road": road}
    if world is not None:
        world.dept_roads = make_user("roads1", Role.DEPARTMENT_HANDLER, world.district, department="住建局")
    return cats
