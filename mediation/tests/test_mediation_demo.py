import pytest

from mediation.demo import build_demo_cases
from mediation.models import Case, FollowUp
from workorders.models import Category, Kind

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo_city(db):
    from registry.demo import build_demo

    build_demo(residents=400)
    group = Category.objects.create(kind=Kind.MEDIATION, code="mediation", name="矛盾纠纷调解", is_group=True)
    for code, name in (("med.family", "婚姻家庭纠纷"), ("med.neighbours", "邻里纠纷"), ("med.property", "物业纠纷"), ("med.labour", "劳动争议")):
        Category.objects.create(parent=group, kind=Kind.MEDIATION, code=code, name=name)


def test_the_demo_cases_are_built_once(demo_city):
    from insights.models import Rollup

    made = build_demo_cases()
    assert made == 12 and Case.objects.count() == 12
    assert build_demo_cases() == 0 and Case.objects.count() == 12
    assert FollowUp.objects.exclude(result="").exists()
    assert Case.objects.filter(court_result="confirmed").exists()
    assert Rollup.objects.filter(indicator="med.received", level=1, period="year").exists()
