"""The page frame's navigation: each item's permission answered as user.has_perm answers it,
without reading the user's Django permissions when they cannot change the answer; the role
rows read once per page; the icons."""

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import User
from web import context
from web.templatetags.linli_icons import ICONS, UNKNOWN, icon

pytestmark = pytest.mark.django_db

PERMS = sorted({e.perm for e in context.staff_items() if e.perm and e.perm not in context._ROLE_CHECKS})
WHO = ["admin", "street1", "community1", "grid1_user", "dept1", "resident1"]


def _fresh(user):
    return User.objects.get(pk=user.pk)  # no cached roles or permissions


@pytest.mark.parametrize("who", WHO)
def test_each_items_permission_is_answered_as_has_perm_answers_it(world, who):
    user = getattr(world, who)
    for perm in PERMS:
        assert context._allowed(_fresh(user), perm) == _fresh(user).has_perm(perm), perm


def test_a_superuser_without_a_role_sees_every_permissioned_item(world):
    boss = User.objects.create_superuser("boss", password="x")
    assert all(context._allowed(_fresh(boss), perm) for perm in PERMS)


def test_a_model_permission_granted_to_a_user_still_counts(world):
    """A name that is a Django model permission goes through has_perm (ModelBackend)."""
    user = world.resident1
    perm = Permission.objects.get(content_type__app_label="registry", codename="reveal_personal_data")
    assert "registry.reveal_personal_data" in context._model_permissions()
    assert not context._allowed(_fresh(user), "registry.reveal_personal_data")
    user.user_permissions.add(perm)
    assert context._allowed(_fresh(user), "registry.reveal_personal_data")


@pytest.mark.parametrize("who", ["street1", "community1", "grid1_user", "dept1"])
def test_the_frame_reads_the_roles_once_and_no_django_permissions(world, who):
    request = RequestFactory().get("/")
    request.user = _fresh(getattr(world, who))
    with CaptureQueriesContext(connection) as q:
        ctx = context.navigation(request)
    sql = [x["sql"] for x in q.captured_queries]
    assert not any("auth_permission" in s for s in sql), sql
    assert sum("accounts_roleassignment" in s for s in sql) == 1, sql
    assert ctx["nav_place"] is not None and ctx["nav_items"]


def test_the_scope_helpers_and_the_frame_share_the_role_query(world):
    from accounts.access import assignments
    from regions.access import tree

    tree.places.get()  # the process's tree, loaded once (not per request)
    user = _fresh(world.community1)
    with CaptureQueriesContext(connection) as q:
        assignments(user)
        context.role_rows(user)
        name = context.primary_role(user).region.name
    assert len(q.captured_queries) == 1 and name == world.community.name


def test_icons_are_ready_svg_and_an_unknown_name_gets_a_circle():
    assert icon("home") is ICONS["home"] and icon("home").startswith("<svg") and icon("home").endswith("</svg>\n")
    assert icon("no-such-icon") is UNKNOWN


def test_the_menu_shows_each_items_icon(world, login):
    html = login(world.community1).get(reverse("workorders:board")).content.decode()
    assert html.count("<svg") >= 10
    assert '<path d="M4 6h16M4 12h16M4 18h16"/>' in html  # the menu button
