"""Open311 GeoReport v2 compliance: every endpoint in JSON and XML, filters, paging, error
shapes and status codes, times with their zone, UTF-8 Chinese, and refusals that create nothing."""

import datetime as dt
import io
import json
import xml.etree.ElementTree as ET

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from accounts.models import User
from accounts.services import issue_token
from workorders import services as wo
from workorders.models import Category, CategoryAttribute, Datatype, Kind, Source, Transition, WorkOrder
from workorders.testing import make_categories

pytestmark = pytest.mark.django_db
V2 = "/open311/v2"


@pytest.fixture
def cats(world):
    cats = make_categories(world)
    cats["noise"] = Category.objects.create(
        parent=cats["group"], kind=Kind.INCIDENT, code="order.noise", name="噪声扰民", keywords="噪声,施工",
        description="夜间施工、广场舞等噪声",
    )
    CategoryAttribute.objects.create(
        category=cats["noise"], code="sources", datatype=Datatype.MULTIVALUELIST, description="噪声来源", order=1,
        values=[{"key": "build", "name": "施工"}, {"key": "dance", "name": "广场舞"}, {"key": "shop", "name": "商铺"}],
    )
    cats["family"] = Category.objects.create(kind=Kind.MEDIATION, code="mediation.family", name="家庭纠纷")
    return cats


@pytest.fixture
def key(world):
    return issue_token(world.resident1, days=365)[0]


def _json(res, code=200):
    assert res.status_code == code, res.content
    assert res["Content-Type"] == "application/json; charset=utf-8"
    return json.loads(res.content.decode("utf-8"))


def _xml(res, code=200):
    assert res.status_code == code, res.content
    assert res["Content-Type"] == "text/xml; charset=utf-8"
    assert res.content.startswith(b'<?xml version="1.0" encoding="utf-8"?>')
    return ET.fromstring(res.content)


def _spec_error(res, code, fmt="json"):
    if fmt == "json":
        body = _json(res, code)
        assert isinstance(body, list) and len(body) == 1 and set(body[0]) == {"code", "description"}
        assert body[0]["code"] == code and body[0]["description"]
        return body[0]["description"]
    root = _xml(res, code)
    assert root.tag == "errors" and root.find("error/code").text == str(code)
    return root.find("error/description").text


def _report(world, cats, **extra):
    data = dict(category=cats["litter"], source=Source.PORTAL, description="楼下垃圾堆了三天", lat=31.305, lng=120.605,
                attributes={"amount": "large"}, reporter_phone="13812345678")
    data.update(extra)
    return wo.report(world.resident1, **data)


def _png():
    out = io.BytesIO()
    Image.new("RGB", (20, 20), (0, 120, 200)).save(out, "PNG")
    return SimpleUploadedFile("p.png", out.getvalue(), content_type="image/png")


# ---------------------------------------------------------------- services


def test_the_service_list_in_json(world, cats, client):
    res = client.get(f"{V2}/services.json")
    services = _json(res)
    by_code = {s["service_code"]: s for s in services}
    assert set(by_code) == {"env.litter", "order.dispute", "facility.road", "order.noise"}  # no group, no mediation
    litter = by_code["env.litter"]
    assert set(litter) == {"service_code", "service_name", "description", "metadata", "type", "keywords", "group"}
    assert litter["service_name"] == "暴露垃圾" and litter["metadata"] is True and litter["type"] == "realtime"
    assert litter["group"] == "事件"
    assert by_code["order.dispute"]["metadata"] is False
    assert by_code["order.noise"]["keywords"] == "噪声,施工"
    assert "暴露垃圾".encode() in res.content  # UTF-8, not \u escapes
    assert res["Access-Control-Allow-Origin"] == "*"


def test_the_service_list_in_xml(world, cats, client):
    root = _xml(client.get(f"{V2}/services.xml"))
    assert root.tag == "services"
    services = {s.findtext("service_code"): s for s in root.findall("service")}
    assert services["env.litter"].findtext("service_name") == "暴露垃圾"
    assert services["env.litter"].findtext("metadata") == "true"
    assert services["order.dispute"].findtext("metadata") == "false"
    assert services["env.litter"].findtext("type") == "realtime" and services["env.litter"].findtext("group") == "事件"


def test_a_service_definition_in_json_and_xml(world, cats, client):
    body = _json(client.get(f"{V2}/services/env.litter.json"))
    assert body["service_code"] == "env.litter"
    amount, bags = body["attributes"]
    assert amount == {
        "variable": True, "code": "amount", "datatype": "singlevaluelist", "required": True,
        "datatype_description": amount["datatype_description"], "order": 1, "description": "垃圾量",
        "values": [{"key": "small", "name": "少量"}, {"key": "large", "name": "大量"}],
    }
    assert bags["datatype"] == "number" and bags["required"] is False and "values" not in bags

    root = _xml(client.get(f"{V2}/services/order.noise.xml"))
    assert root.tag == "service_definition" and root.findtext("service_code") == "order.noise"
    attribute = root.find("attributes/attribute")
    assert attribute.findtext("datatype") == "multivaluelist" and attribute.findtext("required") == "false"
    assert [v.findtext("key") for v in attribute.findall("values/value")] == ["build", "dance", "shop"]
    assert [v.findtext("name") for v in attribute.findall("values/value")] == ["施工", "广场舞", "商铺"]


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_an_unknown_or_unpublished_service_is_404(world, cats, client, fmt):
    for code in ("no.such", "incident", "mediation.family"):  # unknown, a group, not published
        assert code in _spec_error(client.get(f"{V2}/services/{code}.{fmt}"), 404, fmt)


# ---------------------------------------------------------------- creating requests


def _post(client, fmt="json", **data):
    return client.post(f"{V2}/requests.{fmt}", data)


def test_it_creates_a_request_with_lat_long_and_attributes(world, cats, client, key):
    res = _post(client, api_key=key, jurisdiction_id="suzhou", service_code="env.litter", lat="31.305", long="120.605",
                description="小区门口垃圾没人清", **{"attribute[amount]": "large", "attribute[bags]": "3"},
                first_name="小明", last_name="王", phone="13912345678", email="wxm@example.com",
                media_url="https://img.example.com/1.jpg")
    body = _json(res)
    assert len(body) == 1 and set(body[0]) == {"service_request_id", "service_notice", "account_id"}
    order = WorkOrder.objects.get()
    assert body[0]["service_request_id"] == order.number
    assert order.source == Source.OPEN311 and order.reporter == world.resident1 and order.client == "resident1"
    assert order.region == world.grid1 and order.attributes == {"amount": "large", "bags": 3}
    assert order.description == "小区门口垃圾没人清"
    assert order.reporter_name == "王小明" and order.reporter_phone() == "13912345678"
    assert Transition.objects.get(order=order, action="report").data["media_url"] == "https://img.example.com/1.jpg"
    assert "钮家巷社区" in body[0]["service_notice"]


def test_it_answers_a_creation_in_xml_and_takes_multi_value_attributes(world, cats, client, key):
    res = client.post(f"{V2}/requests.xml", {
        "api_key": key, "service_code": "order.noise", "lat": "31.305", "long": "120.615",
        "attribute[sources][]": ["build", "dance"], "description": "晚上十点后还在施工",
    })
    root = _xml(res)
    assert root.tag == "service_requests"
    number = root.findtext("request/service_request_id")
    order = WorkOrder.objects.get()
    assert number == order.number and order.region == world.grid2
    assert order.attributes == {"sources": ["build", "dance"]}


def test_a_staff_key_reports_as_staff(world, cats, client):
    staff_key = issue_token(world.grid1_user, days=30)[0]
    _json(_post(client, api_key=staff_key, service_code="order.dispute", lat="31.305", long="120.605"))
    order = WorkOrder.objects.get()
    assert order.reporter == world.grid1_user and order.reporter_name == str(world.grid1_user)


def test_it_places_an_address_string_by_the_registry_or_region_names(world, cats, client, key):
    body = _json(_post(client, api_key=key, service_code="order.dispute", address_string="苏州市姑苏区测试小区2 1号楼楼下"))
    order = WorkOrder.objects.get(pk=WorkOrder.pk_from_number(body[0]["service_request_id"]))
    assert order.region == world.grid2 and order.address == "苏州市姑苏区测试小区2 1号楼楼下"
    body = _json(_post(client, api_key=key, service_code="order.dispute", address_string="钮家巷社区第一网格菜场门口"))
    assert WorkOrder.objects.get(pk=WorkOrder.pk_from_number(body[0]["service_request_id"])).region == world.grid1
    body = _json(_post(client, api_key=key, service_code="order.dispute", address_string="大儒巷社区里面"))  # one grid
    assert WorkOrder.objects.get(pk=WorkOrder.pk_from_number(body[0]["service_request_id"])).region == world.grid3


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_no_or_a_bad_api_key_is_403_and_creates_nothing(world, cats, client, fmt):
    data = {"service_code": "env.litter", "lat": "31.305", "long": "120.605", "attribute[amount]": "small"}
    text = _spec_error(_post(client, fmt, **data), 403, fmt)
    assert "api_key is required" in text
    text = _spec_error(_post(client, fmt, api_key="not-a-key", **data), 403, fmt)
    assert "api_key" in text
    expired, row = issue_token(world.resident1)
    row.expires_at = timezone.now() - dt.timedelta(seconds=1)
    row.save()
    _spec_error(_post(client, fmt, api_key=expired, **data), 403, fmt)
    nobody = User.objects.create_user(username="norole", password="x")
    _spec_error(_post(client, fmt, api_key=issue_token(nobody)[0], **data), 403, fmt)
    assert WorkOrder.objects.count() == 0


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_bad_requests_are_400_with_a_clear_description_and_create_nothing(world, cats, client, key, fmt):
    def refused(**data):
        return _spec_error(_post(client, fmt, api_key=key, **data), 400, fmt)

    assert "service_code" in refused(lat="31.305", long="120.605")
    assert "no.such" in refused(service_code="no.such", lat="31.305", long="120.605")
    assert "mediation.family" in refused(service_code="mediation.family", lat="31.305", long="120.605")
    text = refused(service_code="env.litter", lat="31.305", long="120.605")
    assert "垃圾量" in text and "attribute[amount]" in text
    assert "垃圾量" in refused(service_code="env.litter", lat="31.305", long="120.605", **{"attribute[amount]": "huge"})
    assert "outside" in refused(service_code="order.dispute", lat="39.9", long="116.4")
    assert "lat" in refused(service_code="order.dispute", lat="31.305")
    assert "address_string" in refused(service_code="order.dispute")
    assert "address_string" in refused(service_code="order.dispute", address_string="火星基地")
    assert "media_url" in refused(service_code="order.dispute", lat="31.305", long="120.605", media_url="javascript:alert(1)")
    assert WorkOrder.objects.count() == 0


def test_other_methods_and_paths_answer_in_the_error_shape(world, cats, client):
    _spec_error(client.put(f"{V2}/requests.json"), 400)
    assert client.head(f"{V2}/services.json").status_code == 200
    _spec_error(client.get(f"{V2}/requests.csv"), 404)
    _spec_error(client.get(f"{V2}/nothing.xml"), 404, "xml")


# ---------------------------------------------------------------- reading requests


REQUEST_FIELDS = {
    "service_request_id", "status", "status_notes", "service_name", "service_code", "description", "agency_responsible",
    "service_notice", "requested_datetime", "updated_datetime", "expected_datetime", "address", "address_id", "zipcode",
    "lat", "long", "media_url",
}


def test_requests_read_back_in_json_without_personal_data(world, cats, client):
    order = _report(world, cats, files=[_png()], address="平江路 12 号")
    wo.file(world.community1, order, note="已立案，派网格员处理")
    body = _json(client.get(f"{V2}/requests.json"))
    assert len(body) == 1
    r = body[0]
    assert set(r) == REQUEST_FIELDS
    assert r["service_request_id"] == order.number and r["status"] == "open"
    assert r["status_notes"] == "已立案，等待派遣"  # the filing note is the staff's own: the public get the status
    assert r["service_code"] == "env.litter" and r["service_name"] == "暴露垃圾" and r["description"] == "楼下垃圾堆了三天"
    assert r["agency_responsible"] == "钮家巷社区"
    assert r["requested_datetime"].endswith("+08:00") and r["updated_datetime"].endswith("+08:00")
    assert r["expected_datetime"].endswith("+08:00")
    assert dt.datetime.fromisoformat(r["requested_datetime"]) == order.reported_at.replace(microsecond=0)
    assert r["lat"] == 31.305 and r["long"] == 120.605 and r["address"] == "平江路 12 号"
    assert r["media_url"].startswith("http://testserver/media/workorders/")
    text = client.get(f"{V2}/requests.json").content.decode()
    for private in (str(world.resident1), "13812345678", "138****5678", world.g1.residents[2].name):
        assert private not in text


def test_requests_read_back_in_xml(world, cats, client):
    order = _report(world, cats)
    root = _xml(client.get(f"{V2}/requests.xml"))
    assert root.tag == "service_requests"
    request = root.find("request")
    assert {child.tag for child in request} == REQUEST_FIELDS
    assert request.findtext("service_request_id") == order.number and request.findtext("status") == "open"
    assert request.findtext("requested_datetime").endswith("+08:00")
    root = _xml(client.get(f"{V2}/requests/{order.number}.xml"))
    assert root.findtext("request/service_name") == "暴露垃圾"


def test_statuses_map_to_open_and_closed(world, cats, client):
    open_ = _report(world, cats)
    voided = _report(world, cats)
    wo.void(world.community1, voided, note="重复上报")
    duplicate = _report(world, cats)
    wo.mark_duplicate(world.community1, duplicate, of=open_)
    closed = wo.settle_on_spot(world.grid1_user, category=cats["litter"], region=world.grid1, note="当场清理",
                               attributes={"amount": "small"})
    got = {r["service_request_id"]: r for r in _json(client.get(f"{V2}/requests.json"))}
    assert got[open_.number]["status"] == "open"
    assert {got[o.number]["status"] for o in (voided, duplicate, closed)} == {"closed"}
    assert got[voided.number]["status_notes"] == "重复上报" and got[closed.number]["status_notes"] == "当场清理"
    assert got[duplicate.number]["status_notes"]  # a status phrase when the step left no note
    assert got[closed.number]["service_notice"] == ""
    closed_only = _json(client.get(f"{V2}/requests.json", {"status": "closed"}))
    assert {r["service_request_id"] for r in closed_only} == {voided.number, duplicate.number, closed.number}
    open_only = _json(client.get(f"{V2}/requests.json", {"status": "open"}))
    assert [r["service_request_id"] for r in open_only] == [open_.number]
    assert len(_json(client.get(f"{V2}/requests.json", {"status": "open,closed"}))) == 4


def test_requests_filter_by_id_code_and_dates(world, cats, client):
    a = _report(world, cats)
    b = _report(world, cats, category=cats["dispute"], attributes={})
    c = _report(world, cats)
    ids = ",".join([c.number, a.number, "209901019999999", "20990101" + "9" * 30])
    assert [r["service_request_id"] for r in _json(client.get(f"{V2}/requests.json", {"service_request_id": ids}))] == [c.number, a.number]
    by_code = _json(client.get(f"{V2}/requests.json", {"service_code": "order.dispute"}))
    assert [r["service_request_id"] for r in by_code] == [b.number]
    both = _json(client.get(f"{V2}/requests.json", {"service_code": "order.dispute,env.litter"}))
    assert len(both) == 3
    WorkOrder.objects.filter(pk=a.pk).update(reported_at=timezone.now() - dt.timedelta(days=30))
    a.refresh_from_db()  # the number carries the day it was reported
    since = (timezone.now() - dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    recent = _json(client.get(f"{V2}/requests.json", {"start_date": since}))
    assert {r["service_request_id"] for r in recent} == {b.number, c.number}
    until = (timezone.localtime() - dt.timedelta(days=10)).isoformat()
    from_ = (timezone.localtime() - dt.timedelta(days=70)).isoformat()  # a range spans at most 90 days
    old = _json(client.get(f"{V2}/requests.json", {"end_date": until, "start_date": from_}))
    assert [r["service_request_id"] for r in old] == [a.number]
    # the default window is the last 90 days
    WorkOrder.objects.filter(pk=a.pk).update(reported_at=timezone.now() - dt.timedelta(days=100))
    assert len(_json(client.get(f"{V2}/requests.json"))) == 2


def test_requests_page_newest_first(world, cats, client):
    orders = [_report(world, cats) for _ in range(5)]
    newest_first = [o.number for o in reversed(orders)]
    page1 = _json(client.get(f"{V2}/requests.json", {"page_size": 2}))
    page3 = _json(client.get(f"{V2}/requests.json", {"page_size": 2, "page": 3}))
    assert [r["service_request_id"] for r in page1] == newest_first[:2]
    assert [r["service_request_id"] for r in page3] == newest_first[4:]
    assert _json(client.get(f"{V2}/requests.json", {"page_size": 2, "page": 4})) == []
    assert len(_json(client.get(f"{V2}/requests.json"))) == 5  # default page size 50


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_bad_filters_are_400(world, cats, client, fmt):
    for params in ({"page_size": "500"}, {"page_size": "0"}, {"page": "-1"}, {"page": "x"}, {"start_date": "yesterday"},
                   {"status": "pending"}, {"service_code": "no.such"},
                   {"start_date": "2026-02-01", "end_date": "2026-01-01"}):
        _spec_error(client.get(f"{V2}/requests.{fmt}", params), 400, fmt)


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_one_request_and_unknown_ones(world, cats, client, fmt):
    order = _report(world, cats)
    res = client.get(f"{V2}/requests/{order.number}.{fmt}")
    if fmt == "json":
        body = _json(res)
        assert len(body) == 1 and body[0]["service_request_id"] == order.number
    else:
        assert _xml(res).findtext("request/service_request_id") == order.number
    _spec_error(client.get(f"{V2}/requests/209901019999999.{fmt}"), 404, fmt)
    _spec_error(client.get(f"{V2}/requests/19990101{order.pk:07d}.{fmt}"), 404, fmt)  # right id, wrong day
    _spec_error(client.get(f"{V2}/requests/abc.{fmt}"), 404, fmt)
    _spec_error(client.get(f"{V2}/requests/20990101{'9' * 30}.{fmt}"), 404, fmt)


def test_mediation_cases_are_not_published(world, cats, client):
    case = wo.report(world.community1, category=cats["family"], source=Source.HOTLINE, region=world.grid1, description="婆媳矛盾")
    _spec_error(client.get(f"{V2}/requests/{case.number}.json"), 404)
    _spec_error(client.get(f"{V2}/tokens/{case.token}.json"), 404)
    assert "婆媳" not in client.get(f"{V2}/requests.json").content.decode()


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_a_token_leads_to_its_request(world, cats, client, fmt):
    order = _report(world, cats)
    res = client.get(f"{V2}/tokens/{order.token}.{fmt}")
    if fmt == "json":
        assert _json(res) == [{"service_request_id": order.number, "token": str(order.token)}]
    else:
        root = _xml(res)
        assert root.findtext("request/service_request_id") == order.number and root.findtext("request/token") == str(order.token)
    _spec_error(client.get(f"{V2}/tokens/00000000-0000-0000-0000-000000000000.{fmt}"), 404, fmt)
    _spec_error(client.get(f"{V2}/tokens/nope.{fmt}"), 404, fmt)


def test_chinese_round_trips_in_utf8(world, cats, client, key):
    text = "“噪声”扰民：楼上装修，电钻声 & <很吵>"
    body = _json(_post(client, api_key=key, service_code="order.dispute", lat="31.305", long="120.605", description=text))
    number = body[0]["service_request_id"]
    assert _json(client.get(f"{V2}/requests/{number}.json"))[0]["description"] == text
    assert _xml(client.get(f"{V2}/requests/{number}.xml")).findtext("request/description") == text


def test_discovery(world, client):
    body = _json(client.get(f"{V2}/discovery.json"))
    assert body["endpoints"][0]["url"] == "http://testserver/open311/v2/"
    assert _xml(client.get(f"{V2}/discovery.xml")).tag == "discovery"


def test_staff_notes_to_each_other_stay_inside_and_the_reply_is_published(world, cats, client):
    """status_notes carry only what was written for the reporter (the closing reply, why it was
    not taken up), never a dispatch note or an approval."""
    order = _report(world, cats)
    wo.file(world.community1, order, note="请按期处置")
    wo.dispatch(world.community1, order, assignee=world.grid1_user, note="同意缓办")
    notes = _json(client.get(f"{V2}/requests/{order.number}.json"))[0]["status_notes"]
    assert "请按期处置" not in notes and "同意缓办" not in notes
    wo.handle(world.grid1_user, order, note="内部：已联系物业经理")
    wo.verify(world.community1, order, passed=True)
    wo.close(world.community1, order, note="垃圾已清运，感谢您的反映")
    assert _json(client.get(f"{V2}/requests/{order.number}.json"))[0]["status_notes"] == "垃圾已清运，感谢您的反映"


def test_a_search_spans_at_most_ninety_days(world, cats, client):
    r = client.get("/open311/v2/requests.json", {"start_date": "2026-01-01T00:00:00+08:00", "end_date": "2026-06-01T00:00:00+08:00"})
    assert r.status_code == 400 and "90" in r.json()[0]["description"]
    assert client.get("/open311/v2/requests.json", {"start_date": "2026-01-01T00:00:00+08:00"}).status_code == 200
