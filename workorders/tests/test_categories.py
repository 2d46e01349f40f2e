import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from linli.errors import DomainError, Forbidden
from workorders.models import Category, CategoryAttribute, Holiday, Kind, RoutingRule, SlaRule, Stage
from workorders.services import config, routing, sla
from workorders.services.seed import seed_categories

pytestmark = pytest.mark.django_db


def _counts():
    return {m.__name__: m.objects.count() for m in (Category, CategoryAttribute, SlaRule, RoutingRule, Holiday)}


def test_seeding_twice_changes_nothing():
    first = seed_categories()
    assert first["categories"] > 70 and first["holidays"] > 30
    before = _counts()
    assert not any(seed_categories().values())
    assert _counts() == before


def test_the_seed_covers_every_kind_with_thirty_window_items():
    seed_categories()
    items = Category.objects.filter(kind=Kind.SERVICE, is_group=False)
    assert 28 <= items.count() <= 35
    for item in items:
        assert item.materials and item.time_limit_days and item.handling_unit and item.channel and item.service_type
        assert item.working_hours
    assert Category.objects.filter(kind=Kind.MEDIATION, is_group=False).count() == 7
    assert Category.objects.filter(kind=Kind.SUPERVISION, is_group=False).exists()
    assert Category.objects.get(code="incident.dispute").must_attend
    assert Category.objects.get(code="incident.emergency").must_attend
    residence = Category.objects.get(code="svc.residence_permit")
    assert residence.channel == "both" and "申请人身份证" in residence.materials


def test_seeded_limits_follow_taiyuan_and_routing_sends_facilities_to_departments(world):
    seed_categories()
    litter = Category.objects.get(code="env.litter")
    assert sla.limit_minutes(litter, Stage.FILE, False) == 30
    assert sla.limit_minutes(litter, Stage.DISPATCH, True) == 10
    assert sla.limit_minutes(litter, Stage.VERIFY, False) == 120
    assert sla.limit_minutes(litter, Stage.VERIFY, True) == 60
    assert sla.limit_minutes(Category.objects.get(code="incident.emergency"), Stage.FILE, True) == 5
    assert routing.handler_for(litter, world.grid1) == (world.community, "")
    assert routing.handler_for(Category.objects.get(code="facility.road"), world.grid1) == (world.street, "住建局")
    assert routing.handler_for(Category.objects.get(code="facility.streetlight"), world.grid1) == (world.street, "城管局")
    assert routing.handler_for(Category.objects.get(code="incident.dispute"), world.grid1) == (world.grid1, "")


def test_holidays_include_national_day_and_swapped_working_days():
    seed_categories()
    assert not Holiday.objects.get(date=dt.date(2026, 10, 1)).working
    assert Holiday.objects.get(date=dt.date(2026, 10, 10)).working  # a Saturday worked (调休)
    assert not Holiday.objects.get(date=dt.date(2026, 2, 17)).working  # 春节
    assert sla.Calendar().is_working_day(dt.date(2026, 2, 14))


def test_seeding_never_overwrites_an_administrators_edits(world):
    seed_categories()
    litter = Category.objects.get(code="env.litter")
    config.update_category(world.admin, litter, {"name": "垃圾暴露", "active": True, "settle_on_spot": False})
    bags = litter.attributes.get(code="bags")
    config.delete_attribute(world.admin, bags)
    rule = SlaRule.objects.get(category=litter, stage=Stage.HANDLE)
    rule.minutes = 999
    rule.save()
    seed_categories()
    litter.refresh_from_db()
    assert litter.name == "垃圾暴露" and not litter.settle_on_spot
    assert not litter.attributes.filter(code="bags").exists()
    assert SlaRule.objects.get(category=litter, stage=Stage.HANDLE).minutes == 999


def test_an_edit_is_validated_and_a_refused_one_changes_nothing(world):
    seed_categories()
    item = Category.objects.get(code="svc.dibao")
    good = {"name": "最低生活保障申请", "active": True, "materials": "身份证\n户口簿\n\n收入证明 ", "time_limit_days": "20",
            "handling_unit": "街道社会事务办", "channel": "window", "service_type": "public"}
    config.update_category(world.admin, item, good)
    item.refresh_from_db()
    assert item.name == "最低生活保障申请" and item.materials == ["身份证", "户口簿", "收入证明"] and item.time_limit_days == 20

    for bad, field in (
        ({"name": ""}, "name"),
        ({"time_limit_days": "0"}, "time_limit_days"),
        ({"time_limit_days": "十"}, "time_limit_days"),
        ({"materials": "身份证\n身份证"}, "materials"),
        ({"channel": "fax"}, "channel"),
        ({"handling_unit": ""}, "handling_unit"),
    ):
        with pytest.raises(DomainError) as e:
            config.update_category(world.admin, item, {**good, **bad})
        assert e.value.field == field
    item.refresh_from_db()
    assert item.name == "最低生活保障申请" and item.time_limit_days == 20


def test_only_administrators_change_categories(world):
    seed_categories()
    item = Category.objects.get(code="env.litter")
    for user in (world.street1, world.community1, world.grid1_user, world.resident1):
        with pytest.raises(Forbidden):
            config.update_category(user, item, {"name": "x"})


def test_switching_a_group_off_switches_off_its_categories(world):
    seed_categories()
    group = Category.objects.get(code="env")
    config.update_category(world.admin, group, {"name": group.name, "active": False})
    assert not Category.objects.filter(parent=group, active=True).exists()
    with pytest.raises(DomainError) as e:
        config.update_category(world.admin, Category.objects.get(code="env.litter"), {"name": "暴露垃圾", "active": True})
    assert e.value.code == "parent_inactive"


def test_attributes_are_added_edited_reordered_and_removed(world):
    seed_categories()
    cat = Category.objects.get(code="order.noise")
    a = config.save_attribute(world.admin, cat, {"code": "floor", "description": "楼层", "datatype": "number"})
    assert a.order == 3
    a = config.save_attribute(world.admin, cat, {"description": "发生时段", "datatype": "singlevaluelist", "required": "on",
                                                 "values": "day|白天\nnight|夜间\n"}, a)
    assert a.values == [{"key": "day", "name": "白天"}, {"key": "night", "name": "夜间"}] and a.required and a.code == "floor"
    config.move_attribute(world.admin, a, up=True)
    assert list(cat.attributes.order_by("order").values_list("code", flat=True)) == ["source", "floor", "night"]
    config.delete_attribute(world.admin, a)
    assert not cat.attributes.filter(code="floor").exists()


@pytest.mark.parametrize("data,field", [
    ({"code": "Bad Code", "description": "x", "datatype": "string"}, "code"),
    ({"code": "source", "description": "x", "datatype": "string"}, "code"),
    ({"code": "x", "description": "", "datatype": "string"}, "description"),
    ({"code": "x", "description": "x", "datatype": "colour"}, "datatype"),
    ({"code": "x", "description": "x", "datatype": "singlevaluelist", "values": "only|一个"}, "values"),
    ({"code": "x", "description": "x", "datatype": "singlevaluelist", "values": "a|甲\na|乙"}, "values"),
    ({"code": "x", "description": "x", "datatype": "singlevaluelist", "values": "a b|甲\nc|乙"}, "values"),
    ({"code": "x", "description": "x", "datatype": "number", "values": "a|甲\nb|乙"}, "values"),
])
def test_a_bad_attribute_is_refused_with_its_field(world, data, field):
    seed_categories()
    cat = Category.objects.get(code="order.noise")
    before = list(cat.attributes.values_list("code", "description", "values"))
    with pytest.raises(DomainError) as e:
        config.save_attribute(world.admin, cat, data)
    assert e.value.field == field
    assert list(cat.attributes.values_list("code", "description", "values")) == before


def test_a_new_limit_starts_on_its_day_and_keeps_the_old_one_in_history(world):
    seed_categories()
    cat = Category.objects.get(code="env.litter")
    today = timezone.localdate()
    start = today + dt.timedelta(days=10)
    config.add_sla_rule(world.admin, cat, stage=Stage.HANDLE, minutes="180", urgent_minutes="45", valid_from=start.isoformat())
    assert sla.limit_minutes(cat, Stage.HANDLE, False, today) == 240
    assert sla.limit_minutes(cat, Stage.HANDLE, False, start - dt.timedelta(days=1)) == 240
    assert sla.limit_minutes(cat, Stage.HANDLE, False, start) == 180
    assert sla.limit_minutes(cat, Stage.HANDLE, True, start) == 45
    old = SlaRule.objects.get(category=cat, stage=Stage.HANDLE, valid_from=dt.date(2000, 1, 1))
    assert old.valid_to == start  # ended, not changed or deleted

    # A rule slipped in between ends where the later one begins.
    middle = today + dt.timedelta(days=5)
    rule = config.add_sla_rule(world.admin, cat, stage=Stage.HANDLE, minutes="200", valid_from=middle)
    assert rule.valid_to == start
    assert sla.limit_minutes(cat, Stage.HANDLE, False, middle) == 200
    assert sla.limit_minutes(cat, Stage.HANDLE, False, start) == 180
    # A planned rule can be withdrawn; the one before runs on.
    config.delete_sla_rule(world.admin, rule)
    assert sla.limit_minutes(cat, Stage.HANDLE, False, middle) == 240


def test_a_category_without_its_own_limit_takes_its_groups(world):
    seed_categories()
    cat = Category.objects.get(code="env.vending")
    group = Category.objects.get(code="incident")
    start = timezone.localdate() + dt.timedelta(days=3)
    config.add_sla_rule(world.admin, group, stage=Stage.FILE, minutes=20, urgent_minutes=5, valid_from=start)
    assert sla.limit_minutes(cat, Stage.FILE, False, start) == 20
    assert sla.limit_minutes(cat, Stage.FILE, False, start - dt.timedelta(days=1)) == 30


@pytest.mark.parametrize("data,field", [
    ({"minutes": "0"}, "minutes"),
    ({"minutes": ""}, "minutes"),
    ({"minutes": "60", "urgent_minutes": "90"}, "urgent_minutes"),
    ({"minutes": "60", "valid_from": "2001-01-01"}, "valid_from"),
    ({"minutes": "60", "valid_from": "明天"}, "valid_from"),
    ({"minutes": "60", "stage": "lunch"}, "stage"),
])
def test_a_bad_limit_is_refused(world, data, field):
    seed_categories()
    cat = Category.objects.get(code="env.litter")
    n = SlaRule.objects.count()
    with pytest.raises(DomainError) as e:
        config.add_sla_rule(world.admin, cat, **{"stage": Stage.HANDLE, **data})
    assert e.value.field == field
    assert SlaRule.objects.count() == n


def test_a_limit_in_force_cannot_be_withdrawn(world):
    seed_categories()
    rule = SlaRule.objects.get(category__code="env.litter", stage=Stage.HANDLE)
    with pytest.raises(DomainError):
        config.delete_sla_rule(world.admin, rule)


def test_routing_rules_are_per_place_and_the_deepest_wins(world):
    seed_categories()
    cat = Category.objects.get(code="env.litter")
    config.save_routing_rule(world.admin, cat, region=world.street, level=3, department="城管局")
    assert routing.handler_for(cat, world.grid1) == (world.street, "城管局")
    config.save_routing_rule(world.admin, cat, region=world.street, level=4, department="")  # replaces
    assert RoutingRule.objects.filter(category=cat, region=world.street).count() == 1
    assert routing.handler_for(cat, world.grid1) == (world.community, "")
    with pytest.raises(DomainError) as e:
        config.save_routing_rule(world.admin, cat, region=world.street, level=2)
    assert e.value.code == "level_above_place"


def test_a_district_administrator_routes_only_inside_the_district(world):
    from accounts.models import Role
    from regions import services as rs
    from registry.testing import make_user

    seed_categories()
    other = rs.create_region(None, parent=world.city, code="320505000000", name="虎丘区")
    district1 = make_user("district1", Role.DISTRICT_ADMIN, world.district)
    cat = Category.objects.get(code="env.litter")
    config.save_routing_rule(district1, cat, region=world.street, level=4)
    with pytest.raises(Forbidden):
        config.save_routing_rule(district1, cat, region=other, level=4)
    with pytest.raises(Forbidden):
        config.save_routing_rule(district1, cat, region=None, level=4)


# ------------------------------------------------------------------ pages


def test_street_officers_may_look_but_not_change(world, client):
    seed_categories()
    cat = Category.objects.get(code="env.litter")
    client.force_login(world.street1)
    assert client.get(reverse("workorders:config")).status_code == 200
    page = client.get(reverse("workorders:config_category", args=[cat.pk]))
    assert page.status_code == 200 and "暴露垃圾" in page.content.decode()
    assert client.post(reverse("workorders:config_category", args=[cat.pk]), {"name": "x"}).status_code == 403
    assert client.post(reverse("workorders:config_sla_add", args=[cat.pk]), {"stage": "handle", "minutes": "5"}).status_code == 403


def test_community_and_grid_workers_do_not_see_the_administration(world, client):
    seed_categories()
    for user in (world.community1, world.grid1_user, world.resident1):
        client.force_login(user)
        assert client.get(reverse("workorders:config")).status_code == 403


def test_the_edit_page_saves_and_shows_a_clear_message_for_bad_input(world, client):
    seed_categories()
    item = Category.objects.get(code="svc.residence_proof")
    client.force_login(world.admin)
    data = {"name": item.name, "active": "on", "materials": "身份证\n户口簿", "time_limit_days": "abc",
            "handling_unit": "社区居委会", "channel": "window", "service_type": "public", "sort": "0"}
    page = client.post(reverse("workorders:config_category", args=[item.pk]), data)
    assert page.status_code == 400
    assert "时限" in page.content.decode() or "Time limit" in page.content.decode()
    item.refresh_from_db()
    assert item.time_limit_days == 1
    data["time_limit_days"] = "2"
    page = client.post(reverse("workorders:config_category", args=[item.pk]), data)
    assert page.status_code == 302
    item.refresh_from_db()
    assert item.time_limit_days == 2 and item.materials == ["身份证", "户口簿"]


def test_the_pages_add_a_question_a_limit_and_a_routing_rule(world, client):
    seed_categories()
    cat = Category.objects.get(code="order.noise")
    client.force_login(world.admin)
    r = client.post(reverse("workorders:config_attribute_new", args=[cat.pk]),
                    {"code": "decibel", "description": "分贝", "datatype": "number"})
    assert r.status_code == 302 and cat.attributes.filter(code="decibel").exists()
    a = cat.attributes.get(code="decibel")
    assert client.post(reverse("workorders:config_attribute_move", args=[a.pk]), {"direction": "up"}).status_code == 302
    r = client.post(reverse("workorders:config_sla_add", args=[cat.pk]),
                    {"stage": "handle", "minutes": "90", "urgent_minutes": "30", "valid_from": timezone.localdate().isoformat()})
    assert r.status_code == 302
    assert sla.limit_minutes(cat, Stage.HANDLE, False) == 90
    r = client.post(reverse("workorders:config_routing_add", args=[cat.pk]), {"region": str(world.street.pk), "level": "3", "department": ""})
    assert r.status_code == 302 and RoutingRule.objects.filter(category=cat, region=world.street).exists()
    r = client.post(reverse("workorders:config_routing_add", args=[cat.pk]), {"region": str(world.street.pk), "level": "1"})
    assert r.status_code == 400
    page = client.get(reverse("workorders:config_category", args=[cat.pk])).content.decode()
    assert "分贝" in page and "decibel" in page
