import datetime as dt

import pytest
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role
from fieldwork.models import DueItem, PatrolRule, VisitRule
from fieldwork.services import dues, visit_rules
from linli.errors import DomainError, Forbidden
from registry import services as reg
from registry.models import CareTag
from registry.testing import make_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def city(world):
    reg.add_tag(None, world.g1.residents[0], "dibao")
    dues.recompute_all()
    return world


def _form(rule, **changes):
    data = {
        "name": rule.name, "target": rule.target, "tags": [str(t.pk) for t in rule.tags.all()], "visits": str(rule.visits),
        "period": rule.period, "weight": str(rule.weight), "must_visit": "1" if rule.must_visit else "", "region": "",
        "valid_from": timezone.localdate().isoformat(),
    }
    data.update(changes)
    return data


def test_who_may_read_and_change_the_rules(city, login):
    rule = VisitRule.objects.get(code="hardship_monthly")
    district = make_user("district1", Role.DISTRICT_ADMIN, city.district)
    for user, read, edit in ((city.admin, 200, 200), (district, 200, 200), (city.street1, 200, 403), (city.community1, 403, 403), (city.grid1_user, 403, 403)):
        client = login(user)
        assert client.get(reverse("fieldwork:rules")).status_code == read, user
        assert client.get(reverse("fieldwork:rule_edit", args=[rule.pk])).status_code == edit, user
    # A district administrator may not change the city-wide rule.
    with pytest.raises(Forbidden):
        visit_rules.edit_visit_rule(district, rule, _form(rule, visits="2"))
    html = login(city.street1).get(reverse("fieldwork:rules")).content.decode()
    assert "困难家庭每月走访（三必）" in html and reverse("fieldwork:rule_edit", args=[rule.pk]) not in html


def test_an_edit_ends_the_old_version_and_rebuilds_only_that_rule(city, login, django_capture_on_commit_callbacks):
    rule = VisitRule.objects.get(code="hardship_monthly")
    quarterly = set(DueItem.objects.filter(rule__code="all_quarterly").values_list("pk", "done", "due_on"))
    assert DueItem.objects.get(rule=rule).required == 1
    client = login(city.admin)
    with django_capture_on_commit_callbacks(execute=True):
        r = client.post(reverse("fieldwork:rule_edit", args=[rule.pk]), _form(rule, visits="2", name="困难家庭每月两次走访"))
    assert r.status_code == 302
    rule.refresh_from_db()
    today = timezone.localdate()
    new = VisitRule.objects.get(code="hardship_monthly", valid_from=today)
    assert rule.valid_to == today and new.visits == 2 and new.valid_to is None
    assert set(new.tags.values_list("code", flat=True)) == {"dibao", "tekun", "severe_disabled"}
    # The dibao household's current item now follows the new version; nobody else's changed.
    item = DueItem.objects.get(rule__code="hardship_monthly", period_end__gte=today)
    assert item.rule_id == new.pk and item.required == 2 and item.household_id == city.g1.households[0].pk
    assert set(DueItem.objects.filter(rule__code="all_quarterly").values_list("pk", "done", "due_on")) == quarterly
    # The change is in the audit log.
    ct = ContentType.objects.get_for_model(VisitRule)
    assert LogEntry.objects.filter(content_type=ct, object_pk=str(rule.pk), action=LogEntry.Action.UPDATE).exists()
    assert LogEntry.objects.filter(content_type=ct, object_pk=str(new.pk), action=LogEntry.Action.CREATE).exists()
    # Incremental equals a full recompute.
    snapshot = sorted(DueItem.objects.filter(period_end__gte=today).values_list("household_id", "rule_id", "required", "done", "due_on"))
    dues.recompute_all()
    assert sorted(DueItem.objects.filter(period_end__gte=today).values_list("household_id", "rule_id", "required", "done", "due_on")) == snapshot


def test_adding_and_ending_a_rule_touches_its_own_items(city, login, django_capture_on_commit_callbacks):
    client = login(city.admin)
    tag = CareTag.objects.get(code="empty_nest")
    reg.add_tag(None, city.g2.residents[0], "empty_nest")
    with django_capture_on_commit_callbacks(execute=True):
        r = client.post(reverse("fieldwork:rule_new"), {
            "code": "empty_nest_weekly", "name": "空巢老人每周电话", "target": "tags", "tags": [str(tag.pk)], "visits": "1",
            "period": "week", "weight": "6", "region": str(city.community.pk), "valid_from": timezone.localdate().isoformat(),
        })
    assert r.status_code == 302
    rule = VisitRule.objects.get(code="empty_nest_weekly")
    assert list(DueItem.objects.filter(rule=rule).values_list("household_id", flat=True)) == [city.g2.households[0].pk]
    with django_capture_on_commit_callbacks(execute=True):
        r = client.post(reverse("fieldwork:rule_edit", args=[rule.pk]), {**_form(rule), "end": "1"})
    assert r.status_code == 302
    assert not DueItem.objects.filter(rule=rule).exists()
    assert DueItem.objects.filter(rule__code="all_quarterly").count() == 6


def test_bad_rule_input_is_refused_at_the_field_and_nothing_changes(city, login):
    rule = VisitRule.objects.get(code="all_quarterly")
    client = login(city.admin)
    yesterday = (timezone.localdate() - dt.timedelta(days=1)).isoformat()
    for changes, field in (({"valid_from": yesterday}, "valid_from"), ({"visits": "0"}, "visits"), ({"target": "tags", "tags": []}, "tags")):
        r = client.post(reverse("fieldwork:rule_edit", args=[rule.pk]), _form(rule, **changes))
        assert r.status_code == 200 and "form-errors" in r.content.decode(), field
    assert VisitRule.objects.filter(code="all_quarterly").count() == 1
    r = client.post(reverse("fieldwork:rule_new"), {"code": "all_quarterly", "name": "重复", "target": "all", "visits": "1", "period": "month"})
    assert r.status_code == 200 and VisitRule.objects.filter(code="all_quarterly").count() == 1
    with pytest.raises(DomainError):
        visit_rules.add_visit_rule(city.admin, {"code": "bad code!", "name": "x", "visits": 1})


def test_a_patrol_rule_change_keeps_the_old_version(city, login):
    old = PatrolRule.objects.get()
    client = login(city.admin)
    r = client.post(reverse("fieldwork:patrol_rule_edit", args=[old.pk]), {"min_minutes": "300", "region": "", "valid_from": timezone.localdate().isoformat()})
    assert r.status_code == 302
    old.refresh_from_db()
    new = PatrolRule.objects.exclude(pk=old.pk).get()
    assert old.valid_to == timezone.localdate() and old.min_minutes == 240
    assert new.min_minutes == 300 and new.valid_from == timezone.localdate()
    assert login(city.street1).post(reverse("fieldwork:patrol_rule_new"), {"min_minutes": "100"}).status_code == 403


def test_a_change_dated_later_keeps_today_s_items_and_is_rebuilt_on_that_day(city, login, django_capture_on_commit_callbacks, monkeypatch):
    from fieldwork import tasks

    scheduled = []
    monkeypatch.setattr(tasks.rebuild_rule, "schedule", lambda args=None, eta=None, **kw: scheduled.append((args, eta)))
    rule = VisitRule.objects.get(code="hardship_monthly")
    later = timezone.localdate() + dt.timedelta(days=3)
    before = list(DueItem.objects.filter(rule=rule).values_list("pk", "required"))
    with django_capture_on_commit_callbacks(execute=True):
        new = visit_rules.edit_visit_rule(city.admin, rule, _form(rule, visits="3", valid_from=later.isoformat()))
    rule.refresh_from_db()
    assert rule.valid_to == later and new.valid_from == later
    assert list(DueItem.objects.filter(rule=rule).values_list("pk", "required")) == before  # still in force today
    assert sorted(a[0] for a, _eta in scheduled) == sorted([rule.pk, new.pk])
    assert {timezone.localtime(eta).date() for _a, eta in scheduled} == {later}
    # On that day the rebuild swaps the versions' items.
    dues.forget()
    dues.rebuild_rule(rule.pk, later)
    dues.rebuild_rule(new.pk, later)
    assert not DueItem.objects.filter(rule=rule, period_end__gte=later).exists()
    assert DueItem.objects.get(rule=new).required == 3
