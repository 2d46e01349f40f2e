import json

import pytest
from django.urls import reverse

from regions.models import Level, Region


def node_url(region):
    return reverse("regions:node", args=[region.pk])


@pytest.mark.django_db
def test_index_opens_the_users_home_node(world, login):
    r = login(world.street1).get(reverse("regions:index"))
    assert r.status_code == 302 and r["Location"] == node_url(world.street)


@pytest.mark.django_db
def test_node_page_shows_breadcrumbs_details_and_children(world, login):
    html = login(world.street1).get(node_url(world.community)).content.decode()
    # breadcrumbs from the city down; places above the street officer's scope are plain text
    crumbs = html.split('class="breadcrumbs"')[1].split("</nav>")[0]
    assert crumbs.index("苏州市") < crumbs.index("姑苏区") < crumbs.index("平江街道") < crumbs.index("钮家巷社区")
    assert node_url(world.city) not in crumbs
    assert node_url(world.street) in crumbs
    assert "320508001001" in html and "居委会" in html
    assert node_url(world.grid1) in html and node_url(world.grid2) in html
    assert "第三网格" not in html


@pytest.mark.django_db
def test_grid_page_draws_its_boundary_outline(world, login):
    html = login(world.grid1_user).get(node_url(world.grid1)).content.decode()
    assert "<svg viewBox=" in html and '<path d="M' in html


@pytest.mark.django_db
def test_node_outside_scope_is_not_found(world, login):
    client = login(world.grid1_user)
    assert client.get(node_url(world.grid2)).status_code == 404
    assert client.get(node_url(world.community)).status_code == 404
    assert login(world.community1).get(node_url(world.grid3)).status_code == 404
    assert client.get(reverse("regions:node", args=[999999])).status_code == 404


@pytest.mark.django_db
def test_residents_have_no_tree(world, login):
    assert login(world.resident1).get(reverse("regions:index")).status_code == 403


@pytest.mark.django_db
def test_only_managers_see_the_change_forms(world, login):
    assert "修改本单位" in login(world.street1).get(node_url(world.community)).content.decode()
    assert "修改本单位" not in login(world.community1).get(node_url(world.community)).content.decode()


@pytest.mark.django_db
def test_street_officer_creates_a_grid_with_the_next_number(world, login):
    client = login(world.street1)
    r = client.post(reverse("regions:create_child", args=[world.community.pk]), {"name": "第四网格", "code": ""})
    assert r.status_code == 302
    grid = Region.objects.get(name="第四网格")
    assert grid.level == Level.GRID and grid.code == "320508001001003"
    assert grid.path.startswith(world.community.path)
    assert "第四网格" in client.get(node_url(world.community)).content.decode()


@pytest.mark.django_db
def test_a_bad_code_shows_the_message_keeps_the_input_and_creates_nothing(world, login):
    before = Region.objects.count()
    r = login(world.street1).post(
        reverse("regions:create_child", args=[world.street.pk]), {"name": "新社区", "code": "32050800100X"}
    )
    assert r.status_code == 400
    html = r.content.decode()
    assert 'class="field-error"' in html and "区划代码只能由数字组成。" in html
    assert 'value="新社区"' in html and 'value="32050800100X"' in html
    assert f'name="next" value="{node_url(world.street)}"' in html  # the language switch returns to a page that answers GET
    assert Region.objects.count() == before


@pytest.mark.django_db
def test_a_code_outside_the_parent_is_refused(world, login):
    r = login(world.street1).post(
        reverse("regions:create_child", args=[world.street.pk]), {"name": "新社区", "code": "320508002003"}
    )
    assert r.status_code == 400
    assert "代码须以上级单位的代码" in r.content.decode()
    assert not Region.objects.filter(name="新社区").exists()


@pytest.mark.django_db
def test_bad_boundary_json_is_refused_and_the_text_kept(world, login):
    r = login(world.street1).post(reverse("regions:boundary", args=[world.grid1.pk]), {"boundary": "{not json"})
    assert r.status_code == 400
    assert "不是有效的 JSON" in r.content.decode() and "{not json" in r.content.decode()
    world.grid1.refresh_from_db()
    assert world.grid1.boundary is not None


@pytest.mark.django_db
def test_boundary_is_saved_with_its_bounding_box(world, login):
    square = {"type": "Polygon", "coordinates": [[[120.0, 31.0], [120.5, 31.0], [120.5, 31.5], [120.0, 31.5], [120.0, 31.0]]]}
    r = login(world.street1).post(reverse("regions:boundary", args=[world.community2.pk]), {"boundary": json.dumps(square)})
    assert r.status_code == 302
    world.community2.refresh_from_db()
    assert world.community2.boundary == square and world.community2.max_lat == 31.5


@pytest.mark.django_db
def test_rename_with_an_empty_name_shows_the_service_message(world, login):
    client = login(world.street1)
    r = client.post(reverse("regions:rename", args=[world.grid1.pk]), {"name": "  "})
    assert r.status_code == 400 and "请填写名称。" in r.content.decode()
    assert client.post(reverse("regions:rename", args=[world.grid1.pk]), {"name": "一网格"}).status_code == 302
    world.grid1.refresh_from_db()
    assert world.grid1.name == "一网格"


@pytest.mark.django_db
def test_community_worker_may_not_change_the_tree(world, login):
    client = login(world.community1)
    r = client.post(reverse("regions:create_child", args=[world.community.pk]), {"name": "私设网格", "code": ""})
    assert r.status_code == 403
    assert not Region.objects.filter(name="私设网格").exists()
    assert client.get(reverse("regions:move", args=[world.grid1.pk])).status_code == 403




@pytest.mark.django_db
def test_move_to_a_community_outside_the_list_is_refused(world, login):
    r = login(world.street1).post(reverse("regions:move", args=[world.grid2.pk]), {"community": world.grid3.pk})
    assert r.status_code == 400
    assert "请从列表中选择一个社区。" in r.content.decode()
    assert Region.objects.get(pk=world.grid2.pk).path.startswith(world.community.path)


@pytest.mark.django_db
def test_merge_asks_for_confirmation_naming_what_moves_then_merges(world, login):
    client = login(world.street1)
    url = reverse("regions:merge", args=[world.community2.pk])
    r = client.post(url, {"community": world.community.pk})
    assert r.status_code == 200
    html = r.content.decode()
    assert "第三网格" in html  # the grid that moves
    assert "<dd>3</dd>" in html  # its three residents
    assert 'name="confirm" value="1"' in html
    world.community2.refresh_from_db()
    assert world.community2.valid_to is None  # nothing changed yet

    r = client.post(url, {"community": world.community.pk, "confirm": "1"})
    assert r.status_code == 302 and r["Location"] == node_url(world.community)
    world.community2.refresh_from_db()
    assert world.community2.valid_to is not None and world.community2.successor_id == world.community.pk
    grid3 = Region.objects.get(pk=world.grid3.pk)
    assert grid3.path.startswith(world.community.path)
    closed = client.get(node_url(world.community2)).content.decode()
    assert "已撤销" in closed and node_url(world.community) in closed


@pytest.mark.django_db
def test_merge_into_itself_is_not_offered(world, login):
    r = login(world.street1).post(reverse("regions:merge", args=[world.community.pk]), {"community": world.community.pk})
    assert r.status_code == 400
    assert Region.objects.get(pk=world.community.pk).valid_to is None


@pytest.mark.django_db
def test_point_lookup_answers_within_scope_only(world, login):
    from accounts.models import Role
    from accounts.testing import make_user

    url = reverse("regions:locate")
    inside_grid3 = {"lng": "120.625", "lat": "31.305"}
    html = login(world.admin).get(url, inside_grid3).content.decode()
    assert "第三网格" in html
    other_district = make_user("district9", Role.DISTRICT_ADMIN, world.district)
    from regions import services as rs

    street2 = rs.create_region(None, parent=world.district, code="320508002000", name="观前街道")
    other_district.roles.update(region=street2, region_path=street2.path)
    html = login(other_district).get(url, inside_grid3).content.decode()
    assert "第三网格" not in html and "该位置不在您辖区的任何网格内。" in html


@pytest.mark.django_db
def test_point_lookup_is_an_administrators_tool(world, login):
    """Finding the grid of raw coordinates checks the boundaries: administrators only; the desks
    and grid workers find places by name and address."""
    url = reverse("regions:locate")
    for user in (world.street1, world.community1, world.grid1_user):
        assert login(user).get(url, {"lng": "120.605", "lat": "31.305"}).status_code == 403
    assert "按坐标查找网格" not in login(world.street1).get(reverse("regions:node", args=[world.street.pk])).content.decode()


@pytest.mark.django_db
def test_point_lookup_rejects_coordinates_out_of_range(world, login):
    r = login(world.admin).get(reverse("regions:locate"), {"lng": "500", "lat": "31"})
    assert r.status_code == 400 and 'class="field-error"' in r.content.decode()
