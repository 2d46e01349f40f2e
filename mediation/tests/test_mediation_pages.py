import datetime as dt

import pytest
from django.utils import timezone

from mediation import services
from mediation.models import Case, FollowUp
from workorders.models import Status

pytestmark = pytest.mark.django_db


def test_the_list_shows_the_cases_of_my_area_only(med, login):
    mine = med.take_in(title="楼上漏水纠纷")
    other = med.take_in(actor=med.worker2, region=med.grid3, title="停车位纠纷")
    html = login(med.community1).get("/mediation/").content.decode()
    assert mine.order.title in html and other.order.title not in html
    html = login(med.worker2).get("/mediation/").content.decode()
    assert other.order.title in html and "楼上漏水纠纷" not in html


def test_the_list_filters_by_status_and_type(med, login):
    a = med.take_in(title="甲案")
    med.take_in(title="乙案", category=med.family)
    services.assign_mediators(med.community1, a, mediators=[med.mediator])
    services.close_case(med.community1, a, outcome="withdrawn", note="撤回")
    client = login(med.community1)
    html = client.get("/mediation/", {"status": "closed"}).content.decode()
    assert "甲案" in html and "乙案" not in html
    html = client.get("/mediation/", {"status": "all", "category": med.family.pk}).content.decode()
    assert "乙案" in html and "甲案" not in html


def test_the_list_pages_by_keyset(med, login):
    from mediation import views

    for i in range(views.PAGE + 3):
        med.take_in(title=f"纠纷{i:02d}")
    client = login(med.community1)
    first = client.get("/mediation/")
    assert first.context["next_url"]
    second = client.get("/mediation/" + first.context["next_url"])
    assert len(first.context["cases"]) == views.PAGE and len(second.context["cases"]) == 3
    assert not {c.pk for c in first.context["cases"]} & {c.pk for c in second.context["cases"]}


def test_a_case_outside_the_area_is_404(med, login):
    case = med.take_in()
    client = login(med.worker2)
    assert client.get(f"/mediation/{case.pk}/").status_code == 404
    assert client.post(f"/mediation/{case.pk}/parties/", {"name": "x", "role": "other"}).status_code == 404
    assert client.get(f"/mediation/{case.pk}/agreement/print/").status_code == 404


def test_residents_and_departments_have_no_mediation_pages(med, login):
    assert login(med.resident1).get("/mediation/").status_code == 403
    assert login(med.dept1).get("/mediation/").status_code == 403


def test_a_community_worker_takes_a_dispute_in_through_the_form(med, login):
    client = login(med.community1)
    assert client.get("/mediation/new/").status_code == 200
    r = client.post("/mediation/new/", {
        "category": med.neighbours.pk, "region": med.grid1.pk, "title": "噪音纠纷", "facts": "夜间装修噪音。", "how": "application",
        "applicant": "张三", "applicant_phone": "13800001111", "respondent": "李四", "respondent_phone": "",
    })
    case = Case.objects.get()
    assert r.status_code == 302 and r["Location"].endswith(f"/mediation/{case.pk}/")
    assert case.order.status == Status.FILED and case.parties.count() == 2


def test_the_intake_form_says_what_is_wrong_and_saves_nothing(med, login):
    r = login(med.community1).post("/mediation/new/", {
        "category": med.neighbours.pk, "region": med.grid1.pk, "title": "噪音纠纷", "facts": "夜间装修噪音。", "how": "application",
        "applicant": "张三", "applicant_phone": "123",
    })
    assert r.status_code == 200
    assert "phone" in r.content.decode() or "电话" in r.content.decode()
    assert r.context["form"].errors["applicant_phone"]
    assert not Case.objects.exists()


def test_the_case_page_shows_masked_phones_and_the_steps(med, login):
    case = med.take_in()
    html = login(med.community1).get(f"/mediation/{case.pk}/").content.decode()
    assert "138****1111" in html and "13800001111" not in html
    assert f"/mediation/{case.pk}/mediators/" in html


def test_the_whole_case_through_the_pages(med, login):
    case = med.take_in()
    desk = login(med.community1)
    r = desk.post(f"/mediation/{case.pk}/mediators/", {"mediators": [med.mediator.pk]})
    assert r.status_code == 302
    mediator = login(med.mediator)
    today = timezone.localdate()
    r = mediator.post(f"/mediation/{case.pk}/sessions/", {"held_on": today.isoformat(), "place": "调解室", "attendees": "双方", "notes": "笔录"})
    assert r.status_code == 302
    r = mediator.post(f"/mediation/{case.pk}/agreement/", {
        "form": "written", "signed_on": today.isoformat(), "text": "",
        "term_0_party": "李四", "term_0_obligation": "赔偿2000元", "term_0_due_on": (today + dt.timedelta(days=7)).isoformat(),
    })
    assert r.status_code == 302
    assert mediator.get(f"/mediation/{case.pk}/agreement/print/").status_code == 200
    fu = FollowUp.objects.filter(case=case).first()
    r = mediator.post(f"/mediation/follow-ups/{fu.pk}/", {"result": "performed", "visited_on": today.isoformat(), "note": ""})
    assert r.status_code == 302
    r = mediator.post(f"/mediation/{case.pk}/court/", {"applied_on": today.isoformat(), "court": "姑苏区人民法院"})
    assert r.status_code == 302
    r = desk.post(f"/mediation/{case.pk}/close/", {"note": "结案"})
    assert r.status_code == 302
    case.refresh_from_db()
    assert case.order.status == Status.CLOSED and case.court == "姑苏区人民法院"


def test_a_refused_step_shows_the_message_at_the_form(med, login):
    case = med.take_in()
    services.assign_mediators(med.community1, case, mediators=[med.mediator])
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    r = login(med.mediator).post(f"/mediation/{case.pk}/sessions/", {"held_on": tomorrow.isoformat(), "place": "室", "attendees": "双方", "notes": "x"})
    assert r.status_code == 400
    assert "该日期晚于今天" in r.content.decode()
    assert not case.sessions.exists()


def test_a_grid_worker_sees_a_case_in_the_grid_but_may_not_record_a_visit(med, login):
    case = med.take_in()
    services.assign_mediators(med.community1, case, mediators=[med.mediator])
    services.record_agreement(med.mediator, case, form="oral", signed_on=timezone.localdate(), text="和解")
    client = login(med.grid1_user)
    page = client.get(f"/mediation/{case.pk}/")
    assert page.status_code == 200 and "/mediation/follow-ups/" not in page.content.decode()
    fu = case.follow_ups.first()
    assert client.post(f"/mediation/follow-ups/{fu.pk}/", {"result": "performed", "visited_on": timezone.localdate().isoformat()}).status_code == 403


def test_the_list_highlights_overdue_follow_ups(med, login):
    case = med.take_in()
    services.assign_mediators(med.community1, case, mediators=[med.mediator])
    services.record_agreement(med.mediator, case, form="oral", signed_on=timezone.localdate(), text="和解")
    FollowUp.objects.filter(case=case).update(due_on=timezone.localdate() - dt.timedelta(days=3))
    html = login(med.community1).get("/mediation/").content.decode()
    assert 'class="overdue"' in html


def test_every_case_route_answers_404_to_the_sibling_grid(med, login):
    case = med.take_in(region=med.grid2)
    services.assign_mediators(med.community1, case, mediators=[med.mediator])
    services.record_agreement(med.mediator, case, form="written", signed_on=timezone.localdate(), text="和解")
    fu = case.follow_ups.first()
    client = login(med.grid1_user)
    from mediation.urls import urlpatterns

    checked = 0
    for p in urlpatterns:
        route = str(p.pattern)
        if "<int:pk>" not in route:
            continue
        url = "/mediation/" + route.replace("<int:pk>", str(fu.pk if route.startswith("follow-ups") else case.pk))
        for method in (client.get, client.post):
            r = method(url)
            assert r.status_code in (404, 405), (url, r.status_code)
        checked += 1
    assert checked == 10
    html = client.get("/mediation/", {"status": "all"}).content.decode()
    assert case.order.title not in html and f"/mediation/{case.pk}/" not in html


def test_a_request_from_the_portal_waits_for_its_case_and_gets_one(med, login):
    from workorders import services as wo

    order = wo.report(med.resident1, category=med.family, title="子女探视纠纷", description="离婚后探视安排有争执。", reporter_phone="13800009999")
    desk = login(med.community1)
    html = desk.get("/mediation/").content.decode()
    assert f"/mediation/orders/{order.pk}/open/" in html
    form = desk.get(f"/mediation/orders/{order.pk}/open/")
    assert form.context["form"].initial["applicant_phone"] == "13800009999"
    r = desk.post(f"/mediation/orders/{order.pk}/open/", {
        "facts": "离婚后探视安排有争执。", "how": "application", "applicant": "周杰", "applicant_phone": "13800009999",
        "respondent": "某某", "respondent_phone": "",
    })
    case = Case.objects.get(order=order)
    assert r.status_code == 302 and case.parties.count() == 2
    assert case.parties.first().resident == med.g1.residents[2]
    assert f"/mediation/orders/{order.pk}/open/" not in desk.get("/mediation/").content.decode()
    # the sibling community's worker neither sees it waiting nor opens it
    assert login(med.worker2).get(f"/mediation/orders/{order.pk}/open/").status_code == 404
