import datetime as dt

import pytest

from accounts.models import Role
from registry.testing import make_user
from workorders.models import Category, Kind


@pytest.fixture
def med(world):
    """Two mediation categories, a mediator in community1 (besides the community worker) and a
    helper to take a case in."""
    from mediation import services

    group = Category.objects.create(kind=Kind.MEDIATION, code="mediation", name="矛盾纠纷调解", is_group=True)
    world.neighbours = Category.objects.create(parent=group, kind=Kind.MEDIATION, code="med.neighbours", name="邻里纠纷")
    world.family = Category.objects.create(parent=group, kind=Kind.MEDIATION, code="med.family", name="婚姻家庭纠纷")
    world.mediator = make_user("mediator1", Role.COMMUNITY_WORKER, world.community, display_name="调解员老陈")
    world.worker2 = make_user("community2", Role.COMMUNITY_WORKER, world.community2)

    def take_in(actor=None, region=None, category=None, **kw):
        return services.take_in(
            actor or world.community1,
            category=category or world.neighbours,
            region=region or world.grid1,
            title=kw.pop("title", "楼上漏水纠纷"),
            facts=kw.pop("facts", "楼上住户卫生间漏水，楼下天花板受损，双方就赔偿产生争执。"),
            parties=kw.pop("parties", [
                {"name": "张三", "role": "applicant", "phone": "13800001111"},
                {"name": "李四", "role": "respondent", "phone": "13900002222"},
            ]),
            **kw,
        )

    world.take_in = take_in
    return world


def days_ago(n: int) -> dt.date:
    from django.utils import timezone

    return timezone.localdate() - dt.timedelta(days=n)
