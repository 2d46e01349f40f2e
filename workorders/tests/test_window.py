import pytest
from django.urls import reverse

from accounts.models import Role
from linli.errors import Conflict, DomainError, Forbidden, NotFound
from registry.testing import make_user
from workorders import access
from workorders.models import Category, Kind, Source, Stage, Status, Transition
from workorders.services import window
from workorders.services.seed import seed_categories

pytestmark = pytest.mark.django_db


@pytest.fixture
def item(world):
    seed_categories()
    return Category.objects.get(code="svc.residence_proof")  # 申请人身份证, 户口簿, 房产证或租房合同


@pytest.fixture
def community2_worker(world):
    return make_user("community2", Role.COMMUNITY_WORKER, world.community2)


def _apply(world, item, received, **extra):
    data = dict(category=item, resident=world.g1.residents[0], attributes={"purpose": "子女入学"}, received=received)
    data.update(extra)
    return window.apply(world.community1, **data)


def test_missing_materials_get_one_notice_then_acceptance_and_finishing(world, item):
    order = _apply(world, item, ["申请人身份证"])
    assert order.status == Status.REPORTED and order.kind == Kind.SERVICE and order.source == Source.WINDOW
    assert order.reporter_name == "张三" and order.region == world.grid1 and order.handler_region == world.community
    notice = Transition.objects.get(order=order, action=window.ACTION_MISSING)
    assert notice.data["missing"] == ["户口簿", "房产证或租房合同"]  # every missing item at once
    assert notice.from_status == notice.to_status == Status.REPORTED
    assert order.due_at is None  # the clock waits for the applicant

    with pytest.raises(DomainError) as e:
        window.accept(world.community1, order, ["申请人身份证", "户口簿"])
    assert e.value.code == "materials_missing" and "房产证或租房合同" in e.value.text()

    order = window.accept(world.community1, order, item.materials, note="补齐材料")
    assert order.status == Status.FILED and order.stage == Stage.DISPATCH and order.deadline is not None
    file_step = Transition.objects.get(order=order, action="file")
    assert file_step.note == "补齐材料" and file_step.data["received"] == item.materials

    order = window.process(world.community1, order)
    assert order.status == Status.IN_PROGRESS and order.assignee == world.community1
    order = window.finish(world.community1, order, note="已开具居住证明")
    assert order.status == Status.CLOSED
    actions = list(order.transitions.values_list("action", flat=True))
    assert actions == ["report", "materials_missing", "file", "dispatch", "start", "handle", "close"]


def test_an_application_with_every_material_is_accepted_at_once(world, item):
    order = _apply(world, item, item.materials)
    assert order.status == Status.FILED
    assert not order.transitions.filter(action=window.ACTION_MISSING).exists()
    order = window.finish(world.community1, order, note="当场办结")
    assert order.status == Status.CLOSED


def test_an_applicant_not_in_the_registry_gives_name_and_phone(world, item):
    order = window.apply(world.community1, category=item, region=world.community, applicant_name="外来人员甲", applicant_phone="13912345678",
                         attributes={"purpose": "办理社保"}, received=item.materials)
    assert order.reporter_name == "外来人员甲" and order.reporter_phone_masked == "139****5678"
    for bad, field in (({"applicant_name": ""}, "applicant_name"), ({"applicant_phone": ""}, "applicant_phone"),
                       ({"applicant_phone": "12345"}, "applicant_phone")):
        data = dict(category=item, region=world.community, applicant_name="乙", applicant_phone="13912345678", attributes={"purpose": "x"})
        data.update(bad)
        with pytest.raises(DomainError) as e:
            window.apply(world.community1, **data)
        assert e.value.field == field


def test_a_required_detail_and_an_unknown_material_are_refused_and_nothing_is_written(world, item):
    n = Transition.objects.count()
    with pytest.raises(DomainError) as e:
        _apply(world, item, item.materials, attributes={})
    assert e.value.field == "attribute[purpose]"
    with pytest.raises(DomainError) as e:
        _apply(world, item, ["结婚证"])
    assert e.value.code == "material_unknown"
    assert Transition.objects.count() == n


def test_a_notice_must_name_something(world, item):
    order = _apply(world, item, ["申请人身份证"])
    with pytest.raises(DomainError):
        window.notify_missing(world.community1, order, [])
    window.notify_missing(world.community1, order, ["户口簿"], "仍缺户口簿", received=["申请人身份证", "房产证或租房合同"])
    assert order.transitions.filter(action=window.ACTION_MISSING).count() == 2


def test_a_community_worker_of_another_community_cannot_see_or_act(world, item, community2_worker):
    order = _apply(world, item, ["申请人身份证"])
    with pytest.raises(NotFound):
        access.order(community2_worker, order.pk)
    with pytest.raises(Forbidden):
        window.accept(community2_worker, order, item.materials)
    with pytest.raises(Forbidden):
        window.notify_missing(community2_worker, order, ["户口簿"])
    with pytest.raises(Forbidden):
        window.apply(community2_worker, category=item, resident=world.g1.residents[0], attributes={"purpose": "x"}, received=item.materials)


def test_a_stale_page_gets_a_conflict(world, item):
    order = _apply(world, item, ["申请人身份证"])
    old = order.version
    window.accept(world.community1, order, item.materials)
    with pytest.raises(Conflict):
        window.notify_missing(world.community1, order, ["户口簿"], version=old)


def test_only_one_window_items_go_through_the_desk(world, item):
    from workorders import services

    litter = Category.objects.get(code="env.litter")
    order = services.report(world.grid1_user, category=litter, source=Source.GRID, region=world.grid1, attributes={"amount": "small"})
    with pytest.raises(DomainError):
        window.accept(world.community1, order, [])


# ------------------------------------------------------------------ pages


def test_the_desk_lists_items_waiting_and_today(world, item, client):
    waiting = _apply(world, item, ["申请人身份证"])
    accepted = _apply(world, Category.objects.get(code="svc.senior_card"), Category.objects.get(code="svc.senior_card").materials,
                      attributes={})
    client.force_login(world.community1)
    page = client.get(reverse("workorders:window"))
    assert page.status_code == 200
    html = page.content.decode()
    assert "居住证办理" in html and "开具居住证明" in html
    assert reverse("workorders:window_application", args=[waiting.pk]) in html
    assert reverse("workorders:window_application", args=[accepted.pk]) in html


def test_the_pages_take_an_application_print_the_notice_accept_and_finish(world, item, client):
    client.force_login(world.community1)
    url = reverse("workorders:window_new", args=[item.code])
    assert client.get(url).status_code == 200
    r = client.post(url, {"resident": str(world.g1.residents[0].pk), "region": str(world.community.pk),
                          "received": ["申请人身份证"], "attr_purpose": "子女入学", "other_missing": "单位证明"})
    assert r.status_code == 302
    order = world.community1.reported_orders.get()
    assert r.url == reverse("workorders:window_slip", args=[order.pk])
    slip = client.get(r.url).content.decode()
    assert "户口簿" in slip and "房产证或租房合同" in slip and "单位证明" in slip and "张三" in slip

    r = client.post(reverse("workorders:window_accept", args=[order.pk]), {"received": item.materials})
    assert r.status_code == 302
    order.refresh_from_db()
    assert order.status == Status.FILED
    client.post(reverse("workorders:window_process", args=[order.pk]))
    r = client.post(reverse("workorders:window_finish", args=[order.pk]), {"note": ""})
    order.refresh_from_db()
    assert order.status == Status.IN_PROGRESS  # refused: no result given
    client.post(reverse("workorders:window_finish", args=[order.pk]), {"note": "已开具"})
    order.refresh_from_db()
    assert order.status == Status.CLOSED
    assert client.get(reverse("workorders:window_application", args=[order.pk])).status_code == 200


def test_a_bad_application_form_says_what_is_wrong(world, item, client):
    client.force_login(world.community1)
    r = client.post(reverse("workorders:window_new", args=[item.code]), {"region": str(world.community.pk), "received": item.materials})
    assert r.status_code == 400
    assert not world.community1.reported_orders.exists()


def test_pages_of_another_communitys_application_are_not_found(world, item, client, community2_worker):
    order = _apply(world, item, ["申请人身份证"])
    client.force_login(community2_worker)
    for name in ("window_application", "window_slip"):
        assert client.get(reverse(f"workorders:{name}", args=[order.pk])).status_code == 404
    assert client.post(reverse("workorders:window_accept", args=[order.pk]), {"received": item.materials}).status_code == 404
    order.refresh_from_db()
    assert order.status == Status.REPORTED
    html = client.get(reverse("workorders:window")).content.decode()
    assert reverse("workorders:window_application", args=[order.pk]) not in html


def test_the_resident_lookup_finds_only_the_users_area(world, item, client, community2_worker):
    client.force_login(world.community1)
    assert "张三" in client.get(reverse("workorders:window_residents"), {"who": "张三"}).content.decode()
    client.force_login(community2_worker)
    assert "张三" not in client.get(reverse("workorders:window_residents"), {"who": "张三"}).content.decode()


def test_grid_workers_and_residents_have_no_window(world, item, client):
    for user in (world.grid1_user, world.resident1, world.dept1):
        client.force_login(user)
        assert client.get(reverse("workorders:window")).status_code == 403
