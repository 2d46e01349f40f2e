"""Wrong passwords are throttled: after the limit a user name, and the address they come from,
are locked for a while on the sign-in page and on the API alike (429 with Retry-After and a
Chinese message saying when to try again), even with the right password; an administrator
unlocks them."""

import pytest
from django.test import Client

from accounts.models import User
from accounts.testing import PASSWORD, make_user


@pytest.fixture
def small_limit(settings):
    settings.AXES_FAILURE_LIMIT = settings.LINLI_LOGIN_FAILURES = 3
    return 3


def _page(client, username, password):
    return client.post("/accounts/login/", {"username": username, "password": password})


def _api(client, username, password):
    return client.post("/api/auth/token", {"username": username, "password": password}, content_type="application/json")


def test_thirty_wrong_passwords_lock_the_page_and_the_right_one_then_waits(world, small_limit):
    c = Client()
    answers = [_page(c, "grid1", "wrong").status_code for _ in range(30)]
    assert answers[:small_limit - 1] == [200] * (small_limit - 1)  # the form again, with its message
    assert set(answers[small_limit:]) == {429}
    r = _page(c, "grid1", PASSWORD)
    assert r.status_code == 429 and int(r["Retry-After"]) == 15 * 60
    html = r.content.decode()
    assert "密码错误次数过多" in html and "分钟" in html
    assert "_auth_user_id" not in c.session


def test_the_api_answers_429_with_retry_after_in_the_error_shape(world, small_limit):
    c = Client()
    for _ in range(small_limit):
        _api(c, "grid1", "wrong")
    r = _api(c, "grid1", PASSWORD)
    assert r.status_code == 429 and int(r["Retry-After"]) > 0
    body = r.json()
    assert body["code"] == "too_many_attempts" and "分钟" in body["message"] and "minutes" in body["message_en"]


def test_one_address_trying_many_user_names_is_locked_too(world, small_limit):
    c = Client()
    for name in ("a1", "a2", "a3"):
        _page(c, name, "wrong")
    assert _page(c, "community1", PASSWORD).status_code == 429


def test_other_user_names_from_other_addresses_are_not_locked(world, small_limit):
    for _ in range(small_limit + 1):
        _page(Client(REMOTE_ADDR="10.0.0.9"), "grid1", "wrong")
    assert _page(Client(REMOTE_ADDR="10.0.0.10"), "grid2", PASSWORD).status_code == 302


def test_a_right_password_before_the_limit_resets_the_count(world, small_limit):
    c = Client()
    for _ in range(small_limit - 1):
        _page(c, "grid1", "wrong")
    assert _page(c, "grid1", PASSWORD).status_code == 302
    c = Client()
    for _ in range(small_limit - 1):
        _page(c, "grid1", "wrong")
    assert _page(c, "grid1", PASSWORD).status_code == 302


def test_an_administrator_unlocks_and_the_person_signs_in(world, small_limit, login):
    c = Client()
    for _ in range(small_limit):
        _page(c, "grid1", "wrong")
    assert _page(c, "grid1", PASSWORD).status_code == 429
    street = login(world.street1)
    page = street.get("/accounts/locked/")
    assert page.status_code == 200 and "grid1" in page.content.decode()
    attempt = page.context["rows"][0].pk
    r = street.post("/accounts/locked/", {"attempt": attempt})
    assert r.status_code == 302
    assert _page(c, "grid1", PASSWORD).status_code == 302


def test_only_the_street_and_above_may_unlock(world, small_limit):
    for user in (world.community1, world.grid1_user, world.resident1):
        c = Client()
        c.force_login(User.objects.get(pk=user.pk))
        assert c.get("/accounts/locked/").status_code == 403
        assert c.post("/accounts/locked/", {"attempt": 1}).status_code == 403


def test_make_user_accounts_still_sign_in_normally(world):
    make_user("newgrid", "grid_worker", world.grid3)
    assert _page(Client(), "newgrid", PASSWORD).status_code == 302
