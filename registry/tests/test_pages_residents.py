"""Resident list, search, filters, load-more and export pages."""

import datetime as dt

import pytest
from django.urls import reverse

from registry.models import Resident
from registry.testing import add_person

LIST = "registry:resident_list"


def test_grid_worker_sees_only_their_grid_on_the_resident_list(world, login):
    c = login(world.grid1_user)
    body = c.get(reverse(LIST)).content.decode()
    for r in world.g1.residents:
        assert r.name in body and r.id_number_masked in body
    for r in world.g2.residents + world.g3.residents:
        assert r.name not in body and r.id_number_masked not in body
    # Full ID numbers never appear on a list.
    assert world.g1.residents[0].reveal_id_number() not in body


def test_search_by_pinyin_initials_finds_the_person(world, login):
    c = login(world.grid1_user)
    body = c.get(reverse(LIST), {"q": "zs"}).content.decode()
    assert "张三" in body and "赵敏" not in body


def test_search_by_exact_id_number_of_a_sibling_grid_finds_nobody(world, login):
    c = login(world.grid1_user)
    number = world.g2.residents[0].reveal_id_number()
    body = c.get(reverse(LIST), {"q": number}).content.decode()
    assert world.g2.residents[0].name not in body
    assert "没有找到" in body
    # ... while the community worker finds them.
    body = login(world.community1).get(reverse(LIST), {"q": number}).content.decode()
    assert world.g2.residents[0].name in body


def test_search_by_address_and_phone(world, login):
    c = login(world.grid1_user)
    body = c.get(reverse(LIST), {"q": "1号楼2单元202"}).content.decode()
    assert "周杰" in body and "张三" not in body
    body = c.get(reverse(LIST), {"q": "13800000001"}).content.decode()
    assert "张三" in body and "周杰" not in body


def test_live_search_returns_only_the_results_block(world, login):
    c = login(world.grid1_user)
    resp = c.get(reverse(LIST), {"q": "zhou"}, HTTP_HX_REQUEST="true")
    body = resp.content.decode()
    assert resp.status_code == 200
    assert body.lstrip().startswith('<div id="results"') and "<html" not in body
    assert "周杰" in body and "张三" not in body


def test_load_more_appends_the_next_page_with_htmx(world, login):
    hh = world.g1.households[1]
    for i in range(50):
        add_person(hh, "钱" + "甲乙丙丁戊己庚辛壬癸"[i % 10] + "子丑寅卯辰巳午未申酉"[i // 10], dt.date(1980, 1, 1 + i % 28), "M", 100 + i, relation="other")
    c = login(world.grid1_user)
    first = c.get(reverse(LIST)).content.decode()
    assert 'id="resident-pager"' in first and "after=" in first
    after = Resident.objects.filter(region_path__startswith=world.grid1.path).order_by("pk")[49].pk
    more = c.get(reverse(LIST), {"after": after}, HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in more and 'hx-swap-oob="outerHTML"' in more
    assert more.count("<li>") == 3  # 53 residents in grid1: 50 on the first page, 3 more
    assert "after=" not in more  # no further page


def test_care_tag_and_status_filters(world, login):
    from registry import services

    services.add_tag(None, world.g1.residents[2], "dibao")
    services.move_out(None, world.g1.residents[1], on="2024-01-01")
    c = login(world.grid1_user)
    body = c.get(reverse(LIST), {"tag": "dibao"}).content.decode()
    assert "周杰" in body and "张三" not in body
    body = c.get(reverse(LIST), {"status": "moved_out"}).content.decode()
    assert "赵敏" in body and "张三" not in body
    body = c.get(reverse(LIST)).content.decode()
    assert "赵敏" not in body


def test_region_filter_outside_the_area_is_not_found(world, login):
    c = login(world.grid1_user)
    assert c.get(reverse(LIST), {"region": world.grid2.pk}).status_code == 404
    c = login(world.community1)
    body = c.get(reverse(LIST), {"region": world.grid2.pk}).content.decode()
    assert "李四" in body and "张三" not in body


@pytest.mark.parametrize("username", ["dept1", "resident1"])
def test_people_without_registry_access_get_403(world, client, username):
    from accounts.models import User

    client.force_login(User.objects.get(username=username))
    assert client.get(reverse(LIST)).status_code == 403
    assert client.get(reverse("registry:resident_detail", args=[world.g1.residents[0].pk])).status_code == 403


def test_anonymous_visitors_are_sent_to_sign_in(world, client):
    resp = client.get(reverse(LIST))
    assert resp.status_code == 302 and "/accounts/login/" in resp["Location"]


def _sheet_text(resp) -> str:
    import io

    from python_calamine import CalamineWorkbook

    data = b"".join(resp.streaming_content)
    wb = CalamineWorkbook.from_filelike(io.BytesIO(data))
    return "\n".join("\t".join(str(c) for c in row) for row in wb.get_sheet_by_index(0).to_python())


def test_export_streams_the_grid_workers_residents_masked(world, login, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    c = login(world.grid1_user)
    resp = c.get(reverse("registry:export"))
    assert resp.status_code == 200
    disposition = resp["Content-Disposition"]
    assert "attachment" in disposition and ".xlsx" in disposition
    assert "%E5%B1%85%E6%B0%91%E5%8F%B0%E8%B4%A6" in disposition  # 居民台账
    text = _sheet_text(resp)
    assert "张三" in text and "李四" not in text
    assert world.g1.residents[0].id_number_masked in text
    assert world.g1.residents[0].reveal_id_number() not in text


def test_export_follows_the_search_filters(world, login):
    c = login(world.community1)
    text = _sheet_text(c.get(reverse("registry:export"), {"q": "zs"}))
    assert "张三" in text and "李四" not in text and "周杰" not in text


def test_export_needs_permission(world, login):
    assert login(world.dept1).get(reverse("registry:export")).status_code == 403


def test_list_rows_show_each_persons_address_and_a_non_digit_building_as_written(world, login):
    from registry.models import Building

    c = login(world.grid1_user)
    body = c.get(reverse(LIST)).content.decode()
    for r in world.g1.residents:
        if r.household_id:
            assert str(r.household.house) in body
    # A building "named" rather than numbered (A座) is not written as "A座号楼".
    b, house = world.g1.building, world.g1.houses[0]
    Building.objects.filter(pk=b.pk).update(number="A座")
    body = c.get(reverse(LIST)).content.decode()
    assert f"{b.estate}A座{house.unit}单元{house.room}室" in body and "A座号楼" not in body
