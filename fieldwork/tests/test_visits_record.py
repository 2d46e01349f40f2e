import base64
import datetime as dt
import io
import json

import pytest
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from fieldwork.models import DueItem, Visit, VisitKind
from fieldwork.services import dues, record_visit
from linli.errors import DomainError, Forbidden
from workorders.models import Source, WorkOrder
from workorders.services.seed import seed_categories

pytestmark = pytest.mark.django_db


@pytest.fixture
def city(world):
    seed_categories()
    dues.recompute_all()
    return world


def _post_visit(client, household, **data):
    body = {"kind": "routine", "notes": "看望老人", **data}
    return client.post(reverse("fieldwork:visit_new", args=[household.pk]), body)


def _jpeg_data_url():
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 80, 60)).save(out, "JPEG")
    return "data:image/jpeg;base64," + base64.b64encode(out.getvalue()).decode()


def test_a_grid_worker_records_a_visit_on_the_form_and_the_due_list_counts_it(city, login):
    hh = city.g1.households[0]
    client = login(city.grid1_user)
    form = client.get(reverse("fieldwork:visit_new", args=[hh.pk]))
    assert form.status_code == 200
    html = form.content.decode()
    assert 'data-queue="visit"' in html and 'name="client_key"' in html and city.g1.residents[0].name in html
    before = DueItem.objects.get(household=hh, rule__code="all_quarterly").done
    r = _post_visit(client, hh, met=[city.g1.residents[0].pk], met_note="女儿也在")
    visit = Visit.objects.get()
    assert r.status_code == 302 and r["Location"].startswith(reverse("fieldwork:visit_detail", args=[visit.pk]))
    assert visit.worker == city.grid1_user and visit.region == city.grid1
    assert list(visit.met.values_list("pk", flat=True)) == [city.g1.residents[0].pk]
    assert DueItem.objects.get(household=hh, rule__code="all_quarterly").done == before + 1
    page = client.get(r["Location"]).content.decode()
    assert "女儿也在" in page and reverse("fieldwork:due") in page


def test_a_household_outside_the_grid_is_refused_on_the_web_and_in_the_api(city, login):
    other = city.g2.households[0]
    client = login(city.grid1_user)
    assert _post_visit(client, other, nobody_home="1").status_code == 404
    r = client.post("/api/fieldwork/visits", json.dumps({"household": other.pk, "nobody_home": True}), content_type="application/json")
    assert r.status_code == 403
    body = r.json()
    assert body["code"] == "outside_grid" and body["message_en"] == "That household is outside your grid."
    assert not Visit.objects.exists()
    with pytest.raises(Forbidden):
        record_visit(city.grid1_user, household=other, nobody_home=True)


def test_a_visit_dated_in_the_future_is_refused_at_the_field(city, login):
    hh = city.g1.households[0]
    client = login(city.grid1_user)
    tomorrow = timezone.localtime() + dt.timedelta(days=1)
    r = _post_visit(client, hh, visited_at=tomorrow.strftime("%Y-%m-%dT%H:%M"), notes="看望")
    assert r.status_code == 200
    html = r.content.decode()
    assert 'class="field-error"' in html and "看望" in html  # the note typed is kept
    r = client.post("/api/fieldwork/visits", json.dumps({"household": hh.pk, "notes": "x", "visited_at": tomorrow.isoformat()}), content_type="application/json")
    assert r.status_code == 400 and r.json()["code"] == "when_future" and r.json()["field"] == "visited_at"
    assert not Visit.objects.exists()


def test_only_members_of_the_household_can_be_ticked_as_met(city, login):
    hh = city.g1.households[0]
    tenant = city.g1.residents[2]  # lives in the other household of the grid
    r = _post_visit(login(city.grid1_user), hh, met=[tenant.pk])
    assert r.status_code == 200 and "field-error" in r.content.decode()
    with pytest.raises(DomainError) as e:
        record_visit(city.grid1_user, household=hh, met=[tenant.pk])
    assert e.value.code == "met_not_member"
    assert not Visit.objects.exists()


def test_a_finding_becomes_a_work_order_in_the_same_step(city, login):
    hh = city.g1.households[0]
    r = _post_visit(
        login(city.grid1_user), hh, met=[city.g1.residents[0].pk], findings="楼道里有电动车在充电",
        finding_category=str(city_cat("safety.ebike").pk), finding_title="楼道飞线充电", finding_urgent="1",
    )
    assert r.status_code == 302
    visit = Visit.objects.get()
    order = WorkOrder.objects.get()
    assert visit.order == order and order.source == Source.GRID and order.region == city.grid1
    assert order.title == "楼道飞线充电" and order.priority == "urgent" and order.description == "楼道里有电动车在充电"


def city_cat(code):
    from workorders.models import Category

    return Category.objects.get(code=code)


def test_nothing_is_saved_when_the_work_order_is_refused(city, login):
    hh = city.g1.households[0]
    client = login(city.grid1_user)
    # 暴露垃圾 asks how much rubbish (a required detail the visit form does not carry).
    r = _post_visit(client, hh, met=[city.g1.residents[0].pk], findings="门口堆了垃圾", finding_category=str(city_cat("env.litter").pk))
    assert r.status_code == 200 and "form-errors" in r.content.decode()
    # A one-window item is not something a visit reports.
    with pytest.raises(DomainError) as e:
        record_visit(city.grid1_user, household=hh, notes="x", findings="想办低保", finding_category="svc.dibao")
    assert e.value.code == "finding_kind"
    assert not Visit.objects.exists() and not WorkOrder.objects.exists()
    assert DueItem.objects.get(household=hh, rule__code="all_quarterly").done == 0


def test_a_follow_up_needs_a_target(city, login):
    from workorders import services as wo

    hh = city.g1.households[0]
    with pytest.raises(DomainError) as e:
        record_visit(city.grid1_user, household=hh, kind=VisitKind.FOLLOW_UP, notes="回访")
    assert e.value.code == "follow_up_target"
    order = wo.report(city.grid1_user, category=city_cat("demand.hardship"), source=Source.GRID, region=city.grid1, description="生活困难")
    client = login(city.grid1_user)
    assert order.title in client.get(reverse("fieldwork:visit_new", args=[hh.pk])).content.decode()
    r = _post_visit(client, hh, kind="follow_up", follows_order=str(order.pk), notes="回访，已落实")
    assert r.status_code == 302
    assert Visit.objects.get().follows_order == order


def test_a_replayed_client_key_makes_one_visit(city, login):
    hh = city.g1.households[0]
    client = login(city.grid1_user)
    body = json.dumps({"household": hh.pk, "met": [city.g1.residents[1].pk], "client_key": "4a1b6c1e-0d9e-4d8e-9a55-5f0e9c1f7a11"})
    first = client.post("/api/fieldwork/visits", body, content_type="application/json")
    again = client.post("/api/fieldwork/visits", body, content_type="application/json")
    assert first.status_code == 201 and again.status_code == 200
    assert first.json()["id"] == again.json()["id"]
    assert Visit.objects.count() == 1
    assert DueItem.objects.get(household=hh, rule__code="all_quarterly").done == 1
    # The form posted twice (a double tap) with its key: still one visit.
    _post_visit(client, hh, nobody_home="1", client_key="k-form-1")
    _post_visit(client, hh, nobody_home="1", client_key="k-form-1")
    assert Visit.objects.count() == 2


def test_an_offline_payload_with_a_photo_and_text_flags_is_taken_as_the_form_would(city):
    hh = city.g1.households[0]
    visit = record_visit(
        city.grid1_user, household=str(hh.pk), met=str(city.g1.residents[0].pk), nobody_home="false", finding_urgent="false",
        notes="离线记录", files=[_jpeg_data_url()], client_key="offline-1",
    )
    assert visit.nobody_home is False
    assert visit.photos.count() == 1 and visit.photos.get().content_type == "image/jpeg"
    with pytest.raises(DomainError) as e:
        record_visit(city.grid1_user, household=hh, notes="x", files=["not a data url"])
    assert e.value.code == "photo_invalid"


def test_a_grid2_worker_cannot_see_grid1_visits(city, login):
    hh = city.g1.households[0]
    visit = record_visit(city.grid1_user, household=hh, notes="看望")
    client = login(city.grid2_user)
    assert client.get(reverse("fieldwork:visit_detail", args=[visit.pk])).status_code == 404
    assert client.get(reverse("fieldwork:household_visits", args=[hh.pk])).status_code == 404
    assert client.get(reverse("fieldwork:visit_new", args=[hh.pk])).status_code == 404
    assert client.get(f"/api/fieldwork/visits/{visit.pk}").status_code == 404
    assert client.get(f"/api/fieldwork/households/{hh.pk}/visits").status_code == 404
    assert client.get("/api/fieldwork/visits").json()["items"] == []
    assert "看望" not in client.get(reverse("fieldwork:visit_list")).content.decode()
    # The community worker above both grids sees it.
    client = login(city.community1)
    assert client.get(reverse("fieldwork:visit_detail", args=[visit.pk])).status_code == 200
    assert [v["id"] for v in client.get("/api/fieldwork/visits").json()["items"]] == [visit.pk]


def test_the_household_page_shows_its_visit_history(city, login):
    hh = city.g1.households[0]
    record_visit(city.grid1_user, household=hh, notes="第一次走访", met=[city.g1.residents[0].pk])
    record_visit(city.grid1_user, household=hh, notes="第二次走访", nobody_home=True)
    client = login(city.grid1_user)
    html = client.get(reverse("registry:household_detail", args=[hh.pk])).content.decode()
    assert 'id="household-visits"' in html and "第一次走访" in html and "第二次走访" in html
    assert reverse("fieldwork:visit_new", args=[hh.pk]) in html
    history = client.get(reverse("fieldwork:household_visits", args=[hh.pk])).content.decode()
    assert "第一次走访" in history and "全部住户每季度走访" in history
    api = client.get(f"/api/fieldwork/households/{hh.pk}/visits").json()
    assert len(api["items"]) == 2


def test_the_visit_list_filters_by_kind_and_date(city, login):
    record_visit(city.grid1_user, household=city.g1.households[0], kind=VisitKind.CARE, notes="给王奶奶送药")
    record_visit(city.grid1_user, household=city.g1.households[1], notes="楼道例行巡看")
    record_visit(city.grid2_user, household=city.g2.households[0], notes="二网格走访")
    client = login(city.community1)
    html = client.get(reverse("fieldwork:visit_list"), {"kind": "care"}).content.decode()
    assert "给王奶奶送药" in html and "楼道例行巡看" not in html
    html = client.get(reverse("fieldwork:visit_list"), {"grid": city.grid2.pk}).content.decode()
    assert "二网格走访" in html and "楼道例行巡看" not in html
    yesterday = (timezone.localdate() - dt.timedelta(days=1)).isoformat()
    html = client.get(reverse("fieldwork:visit_list"), {"until": yesterday}).content.decode()
    assert "楼道例行巡看" not in html
    api = client.get("/api/fieldwork/visits", {"kind": "care"}).json()
    assert [v["notes"] for v in api["items"]] == ["给王奶奶送药"]


def test_the_form_suggests_a_must_visit_for_a_hardship_household(city, login, django_capture_on_commit_callbacks):
    from registry import services as reg

    hh1, hh2 = city.g1.households
    with django_capture_on_commit_callbacks(execute=True):
        reg.add_tag(None, city.g1.residents[0], "dibao")
    client = login(city.grid1_user)
    html = client.get(reverse("fieldwork:visit_new", args=[hh1.pk])).content.decode()
    assert 'value="must" checked' in html
    html = client.get(reverse("fieldwork:visit_new", args=[hh2.pk])).content.decode()
    assert 'value="routine" checked' in html
