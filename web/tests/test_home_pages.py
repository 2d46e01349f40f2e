import pytest
from django.urls import reverse

from registry import services as reg


def home(login, user) -> str:
    r = login(user).get(reverse("home"))
    assert r.status_code == 200
    return r.content.decode()


@pytest.mark.django_db
def test_city_admin_home_shows_the_city_and_its_districts(world, login):
    html = home(login, world.admin)
    assert "苏州市" in html
    assert "姑苏区" in html
    assert reverse("regions:node", args=[world.district.pk]) in html
    assert reverse("accounts:access_log") in html


@pytest.mark.django_db
def test_street_officer_home_lists_its_communities_as_cards(world, login):
    html = home(login, world.street1)
    assert "平江街道" in html
    for community in (world.community, world.community2):
        assert community.name in html
        assert reverse("regions:node", args=[community.pk]) in html
    assert "街道工作人员" in html  # role in the top bar


@pytest.mark.django_db
def test_community_worker_home_shows_its_grids_search_and_care_shortcuts(world, login):
    html = home(login, world.community1)
    assert "钮家巷社区" in html
    assert "第一网格" in html and "第二网格" in html
    assert "第三网格" not in html and "大儒巷社区" not in html
    assert 'name="q"' in html
    assert reverse("registry:import") in html
    assert reverse("registry:export") in html
    assert "?tag=dibao" in html and "?tag=elderly" in html and "?tag=tekun" in html
    assert reverse("accounts:access_log") not in html  # no access-log permission


@pytest.mark.django_db
def test_grid_worker_home_shows_only_its_own_grid(world, login):
    reg.add_tag(None, world.g1.residents[0], "dibao")
    reg.add_tag(None, world.g2.residents[0], "dibao")
    reg.add_tag(None, world.g2.residents[1], "dibao")
    html = home(login, world.grid1_user)
    assert "第一网格" in html
    assert "第二网格" not in html and "第三网格" not in html
    # cheap counts over the one grid: 1 building, 2 households, 3 residents
    assert "<dd>1</dd>" in html and "<dd>2</dd>" in html and "<dd>3</dd>" in html
    assert f"?region={world.grid1.pk}" in html
    # one 低保 resident in grid1 (the two in grid2 are not counted)
    assert f'tag=dibao&amp;region={world.grid1.pk}"><span>低保</span><span class="badge care">1</span>' in html
    for r in world.g2.residents + world.g3.residents:
        assert r.name not in html


@pytest.mark.django_db
def test_resident_home_shows_their_household_masked_and_their_grid_worker(world, login):
    me = world.g1.residents[2]
    html = home(login, world.resident1)
    assert "我的家庭" in html
    assert me.name in html
    assert me.id_number_masked in html
    assert me.phone_masked in html
    assert me.reveal_id_number() not in html
    assert me.reveal_phone() not in html
    assert "第一网格" in html and "grid1" in html
    # members of other households are not shown, nor staff navigation
    for r in world.g1.residents[:2] + world.g2.residents:
        assert r.name not in html
    assert reverse("regions:index") not in html


@pytest.mark.django_db
def test_department_handler_home_says_what_they_see_without_registry_links(world, login):
    html = home(login, world.dept1)
    assert "住建局" in html
    assert "姑苏区" in html
    assert reverse("registry:resident_list") not in html
    assert reverse("regions:node", args=[world.district.pk]) in html


@pytest.mark.django_db
def test_navigation_follows_the_role(world, login):
    admin_html = home(login, world.admin)
    assert reverse("registry:resident_list") in admin_html
    assert reverse("accounts:access_log") in admin_html
    grid_html = home(login, world.grid1_user)
    assert reverse("registry:resident_list") in grid_html
    assert reverse("accounts:access_log") not in grid_html
    assert 'class="tabbar"' in grid_html


@pytest.mark.django_db
def test_a_user_without_a_role_gets_a_plain_explanation(world, client):
    from accounts.models import User

    u = User.objects.create_user("newbie", password="x")
    client.force_login(u)
    r = client.get(reverse("home"))
    assert r.status_code == 200
    assert "还没有分配角色" in r.content.decode()


@pytest.mark.django_db
def test_the_frame_costs_few_queries(world, login, django_assert_max_num_queries):
    client = login(world.community1)
    with django_assert_max_num_queries(9):
        assert client.get(reverse("home")).status_code == 200


@pytest.mark.django_db
def test_refusals_are_explained_inside_the_frame(world, login):
    client = login(world.grid1_user)
    r = client.get(reverse("regions:node", args=[world.grid2.pk]))
    assert r.status_code == 404 and "不在您的辖区内" in r.content.decode() and 'class="topbar"' in r.content.decode()
    r = client.get(reverse("accounts:access_log"))
    assert r.status_code == 403 and "您的角色无权访问" in r.content.decode()
