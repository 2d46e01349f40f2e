import datetime as dt

import pytest
from django.utils import timezone

from linli.errors import Conflict, DomainError, Forbidden
from mediation import access, services
from mediation.models import Case, FollowUp, Outcome, Party
from workorders.models import Status, Transition

from .conftest import days_ago

pytestmark = pytest.mark.django_db


def agreed(w, case, terms=None, signed_on=None):
    services.assign_mediators(w.community1, case, mediators=[w.mediator])
    services.record_session(w.mediator, case, held_on=timezone.localdate(), place="社区调解室", attendees="张三、李四", notes="双方陈述。")
    return services.record_agreement(
        w.mediator, case, form="written", signed_on=signed_on or timezone.localdate(),
        terms=terms if terms is not None else [{"party": "李四", "obligation": "赔偿维修费2000元", "due_on": timezone.localdate() + dt.timedelta(days=10)}],
    )


def test_it_takes_a_dispute_in_as_a_filed_mediation_order_with_parties(med):
    case = med.take_in()
    assert case.order.kind == "mediation"
    assert case.order.status == Status.FILED
    assert case.region == med.grid1 and case.region_path == med.grid1.path
    parties = list(case.parties.all())
    assert [p.name for p in parties] == ["张三", "李四"]
    assert parties[0].phone_masked == "138****1111"
    assert "13800001111" not in parties[0].phone_enc
    assert parties[0].reveal_phone() == "13800001111"


def test_a_grid_worker_takes_a_dispute_in_and_the_community_files_it_later(med):
    case = med.take_in(actor=med.grid1_user, how="initiative")
    assert case.order.status == Status.REPORTED
    services.assign_mediators(med.community1, case, mediators=[med.mediator])
    case.order.refresh_from_db()
    assert case.order.status == Status.DISPATCHED and case.order.assignee == med.mediator


def test_it_refuses_a_bad_phone_and_writes_nothing(med):
    with pytest.raises(DomainError) as e:
        med.take_in(parties=[{"name": "张三", "phone": "12345"}])
    assert e.value.field == "phone"
    assert Case.objects.count() == 0


def test_it_refuses_a_place_outside_the_area(med):
    with pytest.raises(Forbidden):
        med.take_in(actor=med.grid1_user, region=med.grid3)


def test_it_refuses_a_category_that_is_not_mediation(med):
    from workorders.testing import make_categories

    cats = make_categories()
    with pytest.raises(DomainError) as e:
        med.take_in(category=cats["litter"])
    assert e.value.code == "category_unknown"


def test_it_opens_one_case_per_order_only(med):
    case = med.take_in()
    with pytest.raises(Conflict):
        services.open_case(med.community1, case.order, facts="again")


def test_it_adds_a_party_with_a_masked_phone(med):
    case = med.take_in()
    p = services.add_party(med.community1, case, name="王五", role="other", phone="0512-67771234")
    assert p.phone_masked.startswith("051") and p.phone_masked.endswith("1234") and "*" in p.phone_masked
    assert Party.objects.filter(case=case).count() == 3


def test_assigning_a_mediator_dispatches_the_order_to_them(med):
    case = med.take_in()
    services.assign_mediators(med.community1, case, mediators=[med.mediator, med.community1])
    case.order.refresh_from_db()
    assert case.order.status == Status.DISPATCHED and case.order.assignee == med.mediator
    assert set(case.mediators.all()) == {med.mediator, med.community1}


def test_it_refuses_a_mediator_from_another_community(med):
    case = med.take_in()
    with pytest.raises(DomainError) as e:
        services.assign_mediators(med.community1, case, mediators=[med.worker2])
    assert e.value.code == "mediator_out_of_scope"


def test_a_session_starts_the_order(med):
    case = med.take_in()
    services.assign_mediators(med.community1, case, mediators=[med.mediator])
    s = services.record_session(med.mediator, case, held_on=timezone.localdate(), place="调解室", attendees="双方", notes="笔录")
    case.order.refresh_from_db()
    assert s.pk and case.order.status == Status.IN_PROGRESS
    assert Transition.objects.filter(order=case.order, action="mediation_session").exists()


def test_it_refuses_a_session_before_a_mediator_is_chosen(med):
    case = med.take_in()
    with pytest.raises(Conflict):
        services.record_session(med.community1, case, held_on=timezone.localdate(), place="调解室", attendees="双方", notes="笔录")


def test_it_refuses_a_session_in_the_future(med):
    case = med.take_in()
    services.assign_mediators(med.community1, case, mediators=[med.mediator])
    with pytest.raises(DomainError) as e:
        services.record_session(med.mediator, case, held_on=timezone.localdate() + dt.timedelta(days=1), place="室", attendees="双方", notes="笔录")
    assert e.value.code == "date_in_future"


def test_an_agreement_moves_the_order_to_handled_and_schedules_follow_ups_on_due_dates(med):
    case = med.take_in()
    today = timezone.localdate()
    agreed(med, case, terms=[
        {"party": "李四", "obligation": "赔偿维修费2000元", "due_on": today + dt.timedelta(days=10)},
        {"party": "李四", "obligation": "修复防水层", "due_on": today + dt.timedelta(days=20)},
    ])
    case.refresh_from_db()
    assert case.outcome == Outcome.AGREEMENT and case.performance_due == today + dt.timedelta(days=20)
    assert case.order.status == Status.HANDLED
    assert "Agreement" in case.order.transitions.get(action="handle").note or "协议" in case.order.transitions.get(action="handle").note
    dues = list(FollowUp.objects.filter(case=case).values_list("due_on", "term__obligation"))
    assert dues == [
        (today + dt.timedelta(days=10), "赔偿维修费2000元"),
        (today + dt.timedelta(days=20), "修复防水层"),
        (today + dt.timedelta(days=30), None),
    ]


def test_an_oral_agreement_without_terms_gets_the_default_visit(med):
    case = med.take_in()
    services.assign_mediators(med.community1, case, mediators=[med.mediator])
    services.record_agreement(med.mediator, case, form="oral", signed_on=timezone.localdate(), text="双方互相谅解，当场握手言和。")
    assert list(case.follow_ups.values_list("due_on", flat=True)) == [timezone.localdate() + dt.timedelta(days=30)]


def test_it_refuses_a_term_due_before_the_agreement(med):
    case = med.take_in()
    services.assign_mediators(med.community1, case, mediators=[med.mediator])
    with pytest.raises(DomainError) as e:
        services.record_agreement(med.mediator, case, form="written", signed_on=timezone.localdate(), terms=[
            {"party": "李四", "obligation": "赔偿", "due_on": days_ago(3)}])
    assert e.value.code == "term_due_early"
    case.refresh_from_db()
    assert not case.has_agreement and case.order.status == Status.DISPATCHED
    assert not FollowUp.objects.exists()


def test_it_refuses_a_second_agreement(med):
    case = med.take_in()
    agreed(med, case)
    with pytest.raises(Conflict):
        services.record_agreement(med.mediator, case, form="oral", signed_on=timezone.localdate(), text="x")


def test_a_co_mediator_who_is_not_the_assignee_records_the_agreement(med):
    from accounts.models import Role
    from registry.testing import make_user

    helper = make_user("grid1b", Role.GRID_WORKER, med.grid1)
    case = med.take_in()
    services.assign_mediators(med.community1, case, mediators=[med.mediator, helper])
    services.record_agreement(helper, case, form="oral", signed_on=timezone.localdate(), text="当场和解")
    case.order.refresh_from_db()
    assert case.order.status == Status.HANDLED
    assert case.order.transitions.get(action="handle").actor == helper


def test_it_records_a_follow_up_result(med):
    case = med.take_in()
    agreed(med, case)
    fu = case.follow_ups.first()
    services.record_follow_up(med.mediator, fu, result="performed", visited_on=timezone.localdate())
    fu.refresh_from_db()
    assert fu.result == "performed" and fu.by == med.mediator


def test_it_asks_what_is_outstanding_when_not_performed(med):
    case = med.take_in()
    agreed(med, case)
    with pytest.raises(DomainError) as e:
        services.record_follow_up(med.mediator, case.follow_ups.first(), result="partly")
    assert e.value.field == "note"


def test_it_refuses_a_follow_up_result_on_someone_elses_case(med):
    case = med.take_in()
    agreed(med, case)
    # grid1's worker sees the case (it lies in grid1) but neither mediates nor dispatches it.
    with pytest.raises(Forbidden):
        services.record_follow_up(med.grid1_user, case.follow_ups.first(), result="performed")
    # community2's worker does not even see it.
    with pytest.raises(DomainError) as e:
        services.record_follow_up(med.worker2, case.follow_ups.first(), result="performed")
    assert e.value.status == 404
    assert not case.follow_ups.exclude(result="").exists()


def test_it_applies_for_court_confirmation_within_30_days(med):
    case = med.take_in()
    agreed(med, case)
    services.apply_to_court(med.mediator, case, applied_on=timezone.localdate(), court="姑苏区人民法院")
    services.record_court_result(med.mediator, case, result="confirmed", decided_on=timezone.localdate())
    case.refresh_from_db()
    assert case.court == "姑苏区人民法院" and case.court_result == "confirmed"


def test_it_refuses_court_confirmation_after_30_days(med):
    case = med.take_in()
    case.order.reported_at = timezone.now() - dt.timedelta(days=60)
    case.order.save()
    agreed(med, case, signed_on=days_ago(40), terms=[{"party": "李四", "obligation": "赔偿", "due_on": days_ago(35)}])
    with pytest.raises(DomainError) as e:
        services.apply_to_court(med.mediator, case, applied_on=timezone.localdate(), court="姑苏区人民法院")
    assert e.value.code == "court_window_passed"
    assert "30" in e.value.as_dict()["message"]
    case.refresh_from_db()
    assert case.court_applied_on is None
    # the 30th day is still in time
    services.apply_to_court(med.mediator, case, applied_on=days_ago(10), court="姑苏区人民法院")


def test_it_refuses_court_confirmation_without_an_agreement(med):
    case = med.take_in()
    with pytest.raises(Conflict):
        services.apply_to_court(med.community1, case, applied_on=timezone.localdate(), court="法院")


def test_it_closes_an_agreed_case(med):
    case = med.take_in()
    agreed(med, case)
    services.close_case(med.community1, case, note="协议已签")
    case.refresh_from_db()
    assert case.order.status == Status.CLOSED and case.outcome == Outcome.AGREEMENT


def test_it_closes_a_case_without_agreement_with_a_reason(med):
    case = med.take_in()
    services.assign_mediators(med.community1, case, mediators=[med.mediator])
    with pytest.raises(DomainError):
        services.close_case(med.community1, case, outcome="no_agreement", note="")
    services.close_case(med.community1, case, outcome="withdrawn", note="申请人撤回申请")
    case.refresh_from_db()
    assert case.order.status == Status.CLOSED and case.outcome == Outcome.WITHDRAWN


def test_only_the_dispatchers_close(med):
    case = med.take_in()
    services.assign_mediators(med.community1, case, mediators=[med.grid1_user])
    services.record_agreement(med.grid1_user, case, form="oral", signed_on=timezone.localdate(), text="和解")
    with pytest.raises(Forbidden):
        services.close_case(med.grid1_user, case)
    case.order.refresh_from_db()
    assert case.order.status == Status.HANDLED


def test_a_case_outside_the_area_is_not_found(med):
    case = med.take_in()
    with pytest.raises(DomainError) as e:
        services.add_party(med.worker2, case, name="某人")
    assert e.value.status == 404


def test_follow_ups_due_lists_overdue_visits_in_the_area(med):
    case = med.take_in()
    agreed(med, case)
    FollowUp.objects.filter(case=case, term__isnull=False).update(due_on=days_ago(2))
    due = list(access.due_follow_ups(med.community1))
    assert len(due) == 1 and due[0].case == case
    assert list(access.due_follow_ups(med.worker2)) == []
