"""Intake pages: the resident's 随手拍, the grid worker's report and settle-on-the-spot, the
hotline call and assigning work down; the nearby-duplicates hint; my reports."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from regions.services.geo import haversine_m as haversine
from workorders.access import nearby_orders
from workorders.models import Attachment, Source, Status, WorkOrder
from workorders.testing import make_categories

pytestmark = pytest.mark.django_db


@pytest.fixture
def cats(world):
    return make_categories(world)


def jpeg(name="p.jpg"):
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 80, 40)).save(out, "JPEG")
    return SimpleUploadedFile(name, out.getvalue(), content_type="image/jpeg")


def test_the_report_page_shows_categories_and_the_map(world, cats, login):
    r = login(world.resident1).get(reverse("workorders:report"))
    assert r.status_code == 200
    html = r.content.decode()
    assert "暴露垃圾" in html and 'id="pick-map"' in html and "geo-grids" in html
    assert "第一网格" in html  # the grid boundaries drawn from Region.boundary


def test_the_category_questions_render_every_datatype(world, cats, login):
    from workorders.models import CategoryAttribute, Datatype

    for i, dtype in enumerate(["string", "datetime", "text", "multivaluelist"]):
        CategoryAttribute.objects.create(category=cats["litter"], code=f"q{i}", datatype=dtype, description=f"问题{i}", order=10 + i,
                                         values=[{"key": "a", "name": "甲"}, {"key": "b", "name": "乙"}] if "list" in dtype else [])
    r = login(world.resident1).get(reverse("workorders:attribute_form"), {"category": cats["litter"].pk})
    html = r.content.decode()
    assert 'type="radio" name="attribute[amount]"' in html
    assert 'type="number"' in html and 'type="datetime-local"' in html and "<textarea" in html
    assert 'type="checkbox" name="attribute[q3]"' in html and 'type="text" name="attribute[q0]"' in html
    assert Datatype.SINGLEVALUELIST


def test_a_resident_reports_with_a_map_point_and_a_photo(world, cats, login):
    c = login(world.resident1)
    r = c.post(reverse("workorders:report"), {
        "category": cats["litter"].pk, "description": "楼下垃圾堆了三天", "lat": "31.305", "lng": "120.605",
        "attribute[amount]": "large", "attribute[bags]": "3", "files": [jpeg()],
    })
    order = WorkOrder.objects.get()
    assert r.status_code == 302 and r["Location"] == reverse("workorders:detail", args=[order.pk])
    assert order.source == Source.PORTAL and order.region == world.grid1 and order.reporter == world.resident1
    assert order.attributes == {"amount": "large", "bags": 3}
    assert Attachment.objects.filter(order=order, role="before").count() == 1


def test_a_missing_required_answer_is_refused_with_the_question_and_nothing_saved(world, cats, login):
    r = login(world.resident1).post(reverse("workorders:report"), {"category": cats["litter"].pk, "lat": "31.305", "lng": "120.605"})
    assert r.status_code == 200
    assert "垃圾量" in r.content.decode()
    assert not WorkOrder.objects.exists()


def test_a_point_outside_the_city_is_refused_clearly(world, cats, login):
    r = login(world.resident1).post(reverse("workorders:report"), {"category": cats["dispute"].pk, "lat": "40.0", "lng": "116.4"})
    assert r.status_code == 200 and "form-errors" in r.content.decode()
    assert not WorkOrder.objects.exists()


def test_a_file_that_is_not_a_photo_is_refused(world, cats, login):
    bad = SimpleUploadedFile("x.jpg", b"MZ this is not a photo at all", content_type="image/jpeg")
    r = login(world.resident1).post(reverse("workorders:report"), {"category": cats["dispute"].pk, "lat": "31.305", "lng": "120.605", "files": [bad]})
    assert r.status_code == 200 and "x.jpg" in r.content.decode()
    assert not WorkOrder.objects.exists()


def test_an_address_only_report_lands_in_the_residents_own_grid(world, cats, login):
    login(world.resident1).post(reverse("workorders:report"), {"category": cats["dispute"].pk, "address": "1号楼东门"})
    order = WorkOrder.objects.get()
    assert order.region == world.grid1 and order.address == "1号楼东门"


def test_a_grid_worker_reports_from_the_phone_as_grid_source(world, cats, login):
    login(world.grid1_user).post(reverse("workorders:report"), {"category": cats["dispute"].pk, "lat": "31.305", "lng": "120.605", "urgent": "1"})
    order = WorkOrder.objects.get()
    assert order.source == Source.GRID and order.priority == "urgent"


def test_a_grid_worker_settles_on_the_spot_in_one_step(world, cats, login):
    r = login(world.grid1_user).post(reverse("workorders:settle"), {
        "category": cats["litter"].pk, "attribute[amount]": "small", "note": "已清理", "files": [jpeg("b.jpg")], "after_files": [jpeg("a.jpg")],
    })
    order = WorkOrder.objects.get()
    assert r.status_code == 302
    assert order.status == Status.CLOSED and order.settled_on_spot and order.region == world.grid1
    assert set(order.attachments.values_list("role", flat=True)) == {"before", "after"}


def test_settling_without_saying_how_is_refused(world, cats, login):
    r = login(world.grid1_user).post(reverse("workorders:settle"), {"category": cats["litter"].pk, "attribute[amount]": "small"})
    assert r.status_code == 200 and "form-errors" in r.content.decode()
    assert not WorkOrder.objects.exists()


def test_a_resident_may_not_settle_on_the_spot(world, cats, login):
    assert login(world.resident1).get(reverse("workorders:settle")).status_code == 403


def test_staff_enter_a_hotline_call_with_the_callers_phone_masked(world, cats, login):
    c = login(world.community1)
    assert c.get(reverse("workorders:hotline")).status_code == 200
    c.post(reverse("workorders:hotline"), {
        "category": cats["dispute"].pk, "reporter_name": "王阿姨", "reporter_phone": "13812345678", "region": world.grid2.pk,
        "description": "楼上漏水",
    })
    order = WorkOrder.objects.get()
    assert order.source == Source.HOTLINE and order.region == world.grid2
    assert order.reporter_phone_masked == "138****5678" and order.reporter_phone() == "13812345678"


def test_a_hotline_call_links_a_resident_of_the_area_by_id_number(world, cats, login):
    import datetime as dt

    from registry.services import idnumber

    head = world.g1.residents[0]  # 张三, the first person build_world registers
    plain = idnumber.make("320508", dt.date(1950, 3, 1), "M", 1)
    login(world.community1).post(reverse("workorders:hotline"), {"category": cats["dispute"].pk, "id_number": plain, "region": world.grid1.pk})
    assert WorkOrder.objects.get().resident_id == head.pk


def test_a_hotline_call_refuses_a_resident_outside_the_area(world, cats, login):
    import datetime as dt

    from registry.services import idnumber

    plain = idnumber.make("320508", dt.date(1950, 3, 3), "M", 7)  # 王五 of grid3 (another community)
    r = login(world.community1).post(reverse("workorders:hotline"), {"category": cats["dispute"].pk, "id_number": plain, "region": world.grid1.pk})
    assert r.status_code == 200 and "form-errors" in r.content.decode()
    assert not WorkOrder.objects.exists()


def test_a_hotline_call_for_a_grid_outside_the_area_is_a_404(world, cats, login):
    r = login(world.community1).post(reverse("workorders:hotline"), {"category": cats["dispute"].pk, "region": world.grid3.pk})
    assert r.status_code == 404
    assert not WorkOrder.objects.exists()


def test_a_resident_cannot_open_the_hotline_page(world, cats, login):
    assert login(world.resident1).get(reverse("workorders:hotline")).status_code == 403


def test_the_street_assigns_work_down_to_a_community(world, cats, login):
    c = login(world.street1)
    assert c.get(reverse("workorders:assign")).status_code == 200
    r = c.post(reverse("workorders:assign"), {"category": cats["dispute"].pk, "region": world.community.pk, "title": "排查楼道堆物"})
    order = WorkOrder.objects.get()
    assert r.status_code == 302 and order.source == Source.ASSIGNED and order.status == Status.FILED
    assert order.handler_region == world.community


def test_a_grid_worker_cannot_assign_work_down(world, cats, login):
    assert login(world.grid1_user).get(reverse("workorders:assign")).status_code == 403


def test_nearby_open_orders_of_the_category_are_suggested(world, cats, login):
    from workorders import services as wo

    first = wo.report(world.resident1, category=cats["litter"], lat=31.3050, lng=120.6050, attributes={"amount": "large"})
    wo.report(world.resident1, category=cats["litter"], lat=31.3060, lng=120.6050, attributes={"amount": "large"})  # ~111 m away
    wo.report(world.resident1, category=cats["dispute"], lat=31.3050, lng=120.6050)  # another category
    found = nearby_orders(cats["litter"].pk, 31.3052, 120.6051)
    assert [o.pk for o in found] == [first.pk] and found[0].distance < 50
    r = login(world.grid2_user).get(reverse("workorders:nearby"), {"category": cats["litter"].pk, "lat": "31.3052", "lng": "120.6051", "format": "json"})
    rows = r.json()["results"]
    assert len(rows) == 1 and rows[0]["number"] == first.number
    assert rows[0]["url"] == ""  # grid2's worker cannot open grid1's order
    html = login(world.resident1).get(reverse("workorders:nearby"), {"category": cats["litter"].pk, "lat": "31.3052", "lng": "120.6051"}).content.decode()
    assert first.title in html and reverse("workorders:detail", args=[first.pk]) in html


def test_haversine_measures_metres():
    assert 110 < haversine(31.305, 120.605, 31.306, 120.605) < 112


def test_my_reports_show_progress_and_only_my_own(world, cats, login):
    from workorders import services as wo

    mine = wo.report(world.resident1, category=cats["dispute"], lat=31.305, lng=120.605)
    wo.file(world.community1, mine)
    wo.report(world.grid1_user, category=cats["dispute"], source=Source.GRID, region=world.grid1, title="别人的")
    html = login(world.resident1).get(reverse("workorders:mine")).content.decode()
    assert mine.number in html and "别人的" not in html and 'role="progressbar"' in html


def test_a_video_goes_alone_not_with_photos(world, cats, login):
    video = SimpleUploadedFile("v.mp4", b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 64, content_type="video/mp4")
    r = login(world.resident1).post(reverse("workorders:report"), {
        "category": cats["dispute"].pk, "lat": "31.305", "lng": "120.605", "files": [video, jpeg()],
    })
    assert r.status_code == 200 and "form-errors" in r.content.decode()
    assert not WorkOrder.objects.exists()
    video.seek(0)
    login(world.resident1).post(reverse("workorders:report"), {"category": cats["dispute"].pk, "lat": "31.305", "lng": "120.605", "files": [video]})
    order = WorkOrder.objects.get()
    assert order.attachments.get().content_type == "video/mp4"
