"""Every app's permissions for every role, written down as one table (each app's rules.py states
the same in its docstring). A permission added anywhere must be added here, or the last test
fails."""

import pytest
import rules

# Each row: permission, then who holds it (x) among
#   city admin · district admin · street officer · community worker · grid worker · department handler · resident
MATRIX = """
registry.view              x x x x x . .
registry.edit              x x x x x . .
registry.import            x x x x x . .
registry.export            x x x x x . .
registry.reveal            . . . x x . .
regions.manage             x x x . . . .
regions.locate             x x . . . . .
accounts.view_access_log   x x x . . . .
accounts.unlock            x x x . . . .
insights.view              x x x x x . .
workorders.view_config     x x x . . . .
workorders.configure       x x . . . . .
workorders.window          x x x x . . .
mediation.view             x x x x x . .
fieldwork.view_config      x x x . . . .
fieldwork.configure        x x . . . . .
fieldwork.view_figures     x x x x x . .
"""
ROLES = ["city", "district", "street", "community", "grid", "department", "resident"]


def _table() -> dict[str, set[str]]:
    out = {}
    for line in MATRIX.strip().splitlines():
        perm, *marks = line.split()
        assert len(marks) == len(ROLES), line
        out[perm] = {role for role, mark in zip(ROLES, marks, strict=True) if mark == "x"}
    return out


@pytest.fixture
def people(world):
    from accounts.models import Role
    from accounts.testing import make_user

    return {
        "city": world.admin,
        "district": make_user("district1", Role.DISTRICT_ADMIN, world.district),
        "street": world.street1,
        "community": world.community1,
        "grid": world.grid1_user,
        "department": world.dept1,
        "resident": world.resident1,
    }


@pytest.mark.parametrize("role", ROLES)
def test_each_role_holds_exactly_its_permissions(people, role):
    from accounts.models import User

    user = User.objects.get(pk=people[role].pk)
    held = {perm for perm in _table() if user.has_perm(perm)}
    assert held == {perm for perm, roles in _table().items() if role in roles}


def test_the_table_names_every_permission_the_apps_define():
    defined = {name for name in rules.permissions.permissions if "." in name}
    assert defined == set(_table())


def test_a_mediator_named_on_a_case_may_open_mediation_whatever_their_role(world, people):
    """mediation.view also holds for anyone named as a mediator on a case (a department's
    lawyer, a volunteer)."""
    from accounts.models import User
    from mediation import services as med
    from workorders.models import Category, Kind

    category = Category.objects.create(kind=Kind.MEDIATION, code="med.neighbours", name="邻里纠纷")
    case = med.take_in(world.community1, category=category, region=world.grid1, title="楼上漏水纠纷", facts="楼上漏水",
                       parties=[{"name": "张三", "role": "applicant", "phone": "13800001111"}])
    dept = User.objects.get(pk=world.dept1.pk)
    assert not dept.has_perm("mediation.view")
    med.assign_mediators(world.community1, case, mediators=[dept])
    assert User.objects.get(pk=world.dept1.pk).has_perm("mediation.view")


def test_reveal_can_be_granted_to_one_user(world):
    from django.contrib.auth.models import Permission

    from accounts.models import User

    world.street1.user_permissions.add(Permission.objects.get(codename="reveal_personal_data"))
    assert User.objects.get(pk=world.street1.pk).has_perm("registry.reveal")
