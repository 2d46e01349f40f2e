"""The independent `georeport` client from PyPI reads our Open311 facade over HTTP, in JSON and
in XML. It has no call for creating requests, so one is posted the way its README's servers take
them (a form with api_key), and then read back through the client."""

import pytest
import requests
from georeport import GeoReport

from accounts.services import issue_token
from workorders import services as wo
from workorders.models import Source, WorkOrder
from workorders.testing import make_categories


@pytest.fixture
def city(transactional_db, world, live_server):
    cats = make_categories(world)
    order = wo.report(world.resident1, category=cats["litter"], source=Source.PORTAL, description="河边垃圾", lat=31.305, lng=120.605,
                      attributes={"amount": "large"})
    wo.file(world.community1, order, note="已立案")
    return {"cats": cats, "order": order, "root": f"{live_server.url}/open311/v2/"}


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_the_client_reads_services_and_definitions(city, fmt):
    client = GeoReport(city["root"], jurisdiction="suzhou", output_format=fmt)
    services = client.get_service_list()
    assert {s["service_code"] for s in services} == {"env.litter", "order.dispute", "facility.road"}
    litter = next(s for s in services if s["service_code"] == "env.litter")
    assert litter["service_name"] == "暴露垃圾" and str(litter["metadata"]).lower() == "true"
    definition = client.get_service_definition("env.litter")
    attributes = definition["attributes"] if fmt == "json" else definition["attributes"]["attribute"]
    amount = attributes[0]
    assert amount["code"] == "amount" and str(amount["required"]).lower() == "true"
    values = amount["values"] if fmt == "json" else amount["values"]["value"]
    assert [v["name"] for v in values] == ["少量", "大量"]


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_the_client_reads_requests_back(city, fmt):
    client = GeoReport(city["root"], output_format=fmt)
    order = city["order"]
    listed = client.get_service_requests(service_code="env.litter", status="open")
    one = listed if isinstance(listed, dict) else listed[0]  # xmltodict gives a lone item as a dict
    assert one["service_request_id"] == order.number and one["status"] == "open" and one["status_notes"] == "已立案，等待派遣"  # the filing note stays inside
    request = client.get_service_request(order.number)
    assert request["description"] == "河边垃圾" and request["requested_datetime"].endswith("+08:00")
    assert client.get_service_requests(service_request_id=order.number, status="closed") is not None


def test_a_posted_request_reads_back_through_the_client(city, world):
    key = issue_token(world.resident1, days=30)[0]
    res = requests.post(city["root"] + "requests.json", data={
        "api_key": key, "service_code": "order.dispute", "lat": "31.305", "long": "120.615", "description": "楼上漏水到楼下",
    }, timeout=10)
    assert res.status_code == 200, res.text
    number = res.json()[0]["service_request_id"]
    client = GeoReport(city["root"], api_key=key)
    got = client.get_service_request(number)
    assert got["service_code"] == "order.dispute" and got["description"] == "楼上漏水到楼下" and got["status"] == "open"
    assert WorkOrder.objects.get(pk=WorkOrder.pk_from_number(number)).source == Source.OPEN311
    # and without a key the server refuses, which the client surfaces as an HTTP error
    refused = requests.post(city["root"] + "requests.json", data={"service_code": "order.dispute", "lat": "31.305", "long": "120.615"}, timeout=10)
    assert refused.status_code == 403 and refused.json()[0]["code"] == 403
