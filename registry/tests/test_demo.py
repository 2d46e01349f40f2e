import datetime as dt
from collections import Counter

import pytest
from django.core.management import call_command

from accounts.models import Role, RoleAssignment, User
from linli import pii
from regions.models import Level, Region
from regions.services import point_to_grid
from registry import demo
from registry.models import (
    Building,
    EventKind,
    House,
    Household,
    HouseholdMembership,
    Organization,
    Relation,
    Resident,
    ResidentEvent,
    ResidentTag,
)
from registry.services import idnumber, valid_credit_code
from registry.services.pinyin import name_pinyin

SMALL = 400


@pytest.fixture
def city(db):
    return demo.build_demo(residents=SMALL, seed=7)


def test_it_builds_the_tree_and_exactly_the_residents_asked_for(city):
    assert city.created
    assert Resident.objects.count() == SMALL == city.counts["residents"]
    levels = Counter(Region.objects.values_list("level", flat=True))
    assert levels == {Level.CITY: 1, Level.DISTRICT: 2, Level.STREET: 4, Level.COMMUNITY: 12, Level.GRID: 40}
    assert Household.objects.count() == city.counts["households"] > SMALL // 5
    assert HouseholdMembership.objects.filter(end_date__isnull=True).count() == SMALL
    assert ResidentEvent.objects.filter(kind=EventKind.REGISTERED).count() == SMALL
    assert Organization.objects.count() >= 40 * 4


def test_official_codes_name_streets_towns_and_villages():
    from regions.services.codes import validate_code

    for dcode, _, streets in demo.TREE:
        validate_code(Level.DISTRICT, dcode, demo.CITY[0])
        for scode, sname, comms in streets:
            validate_code(Level.STREET, scode, dcode)
            assert sname.endswith("镇") == (100 <= int(scode[6:9]) < 200)
            for ccode, cname, _n in comms:
                validate_code(Level.COMMUNITY, ccode, scode)
                assert cname.endswith("村") == (int(ccode[9:12]) >= 200)


def test_every_id_number_is_valid_unique_and_agrees_with_birth_date_and_gender(city):
    seen = set()
    for r in Resident.objects.all():
        number = r.reveal_id_number()
        parsed = idnumber.parse(number)
        assert (parsed.birth_date, parsed.gender) == (r.birth_date, r.gender)
        assert r.id_number_bidx == pii.blind_index(number, "id_number")
        assert r.id_number_masked == pii.mask_id_number(number)
        assert (r.pinyin, r.initials) == name_pinyin(r.name)
        if r.phone_enc:
            assert r.phone_masked == pii.mask_phone(r.reveal_phone()) and r.phone_bidx
        seen.add(number)
    assert len(seen) == SMALL
    floating = Resident.objects.filter(residence_type="floating")
    assert floating.exists()
    assert not any(f.reveal_id_number()[:4] == "3205" for f in floating)


def test_every_row_carries_the_path_of_its_grid(city):
    grid_paths = dict(Region.objects.filter(level=Level.GRID).values_list("pk", "path"))
    for model in (Building, House, Household, Resident, Organization):
        for region_id, path in model.objects.values_list("region_id", "region_path"):
            assert grid_paths[region_id] == path, model
    assert not House.objects.exclude(region_path=models_path("building")).exists()
    assert not Household.objects.exclude(region_path=models_path("house")).exists()
    for tag in ResidentTag.objects.select_related("resident"):
        assert tag.region_path == tag.resident.region_path


def models_path(relation):
    from django.db.models import F

    return F(f"{relation}__region_path")


def test_households_have_one_head_who_is_a_member(city):
    for hh in Household.objects.prefetch_related("members"):
        members = list(hh.members.all())
        heads = [m for m in members if m.relation == Relation.HEAD]
        assert 1 <= len(members) <= 5
        assert len(heads) == 1 and hh.head_id == heads[0].pk


def test_care_tags_follow_age_and_come_in_realistic_shares(db):
    demo.build_demo(residents=3000, seed=11)
    today = dt.date.today()
    tagged = set(ResidentTag.objects.filter(tag__code="elderly").values_list("resident_id", flat=True))
    for r in Resident.objects.all():
        assert (r.age(today) >= 60) == (r.pk in tagged)
    share = len(tagged) / 3000
    assert 0.12 < share < 0.30
    kinds = Counter(Resident.objects.values_list("residence_type", flat=True))
    assert 0.10 < kinds["floating"] / 3000 < 0.30 and kinds["overseas"] > 0
    uses = Counter(House.objects.values_list("use", flat=True))
    assert uses["owner"] > uses["rented"] > uses["vacant"] > 0


def test_organisations_have_valid_credit_codes(city):
    codes = list(Organization.objects.values_list("credit_code", flat=True))
    assert codes and all(valid_credit_code(c) for c in codes)


def test_a_second_run_changes_nothing(city):
    before = {m.__name__: m.objects.count() for m in (Region, Building, House, Household, Resident, ResidentTag, User)}
    again = demo.build_demo(residents=SMALL, seed=99)
    assert not again.created and again.accounts == []
    assert before == {m.__name__: m.objects.count() for m in (Region, Building, House, Household, Resident, ResidentTag, User)}
    assert again.seconds < 2


def test_the_command_is_idempotent(db):
    call_command("seed_demo", residents=60)
    count = Resident.objects.count()
    call_command("seed_demo", residents=60)
    assert Resident.objects.count() == count == 60


def test_demo_accounts_exist_with_their_roles(city):
    def role(username):
        ra = RoleAssignment.objects.select_related("region").get(user__username=username)
        return ra.role, ra.region

    assert role("admin") == (Role.CITY_ADMIN, Region.objects.get(code=demo.CITY[0]))
    admin = User.objects.get(username="admin")
    assert admin.is_staff and admin.is_superuser and admin.check_password("linli-demo")
    assert role("district1")[0] == Role.DISTRICT_ADMIN and role("district1")[1].level == Level.DISTRICT
    assert role("street1")[0] == Role.STREET_OFFICER and role("street1")[1].level == Level.STREET
    r, community = role("community1")
    assert r == Role.COMMUNITY_WORKER
    _, grid1 = role("grid1")
    _, grid2 = role("grid2")
    assert grid1 != grid2 and Region.objects.get_parent(grid1) == community == Region.objects.get_parent(grid2)
    assert role("dept1")[0] == Role.DEPARTMENT_HANDLER
    assert RoleAssignment.objects.get(user__username="dept1").department == "住建局"
    for username in ("district1", "street1", "community1", "grid1", "grid2", "dept1", "resident1"):
        assert User.objects.get(username=username).check_password("linli-demo")


def test_resident1_lives_in_grid1(city):
    user = User.objects.get(username="resident1")
    grid1 = RoleAssignment.objects.get(user__username="grid1").region
    assert user.resident.region_id == grid1.pk and user.resident.household_id
    assert RoleAssignment.objects.get(user=user).role == Role.RESIDENT


def test_a_point_inside_a_grid_finds_that_grid(city):
    for grid in Region.objects.filter(level=Level.GRID):
        lng, lat = (grid.min_lng + grid.max_lng) / 2, (grid.min_lat + grid.max_lat) / 2
        assert point_to_grid(lng, lat) == grid
    assert point_to_grid(100.0, 20.0) is None
