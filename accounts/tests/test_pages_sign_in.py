import pytest
from django.urls import reverse


@pytest.mark.django_db
def test_it_signs_in_with_the_right_password_and_lands_on_home(world, client):
    r = client.post(reverse("login"), {"username": "grid1", "password": "linli-demo"})
    assert r.status_code == 302 and r["Location"] == reverse("home")
    page = client.get(reverse("home"))
    assert page.status_code == 200
    assert "第一网格" in page.content.decode()


@pytest.mark.django_db
def test_a_wrong_password_says_so_and_signs_nobody_in(world, client):
    r = client.post(reverse("login"), {"username": "grid1", "password": "wrong"})
    assert r.status_code == 200
    html = r.content.decode()
    assert 'class="form-errors"' in html
    assert "用户名或密码不正确" in html
    assert 'value="grid1"' in html  # the user name is kept
    assert "_auth_user_id" not in client.session
    assert client.get(reverse("home")).status_code == 302


@pytest.mark.django_db
def test_the_sign_in_page_is_chinese_by_default(client):
    r = client.get(reverse("login"))
    assert r.status_code == 200
    assert '<html lang="zh-hans">' in r.content.decode()


@pytest.mark.django_db
def test_home_needs_sign_in(client):
    r = client.get(reverse("home"))
    assert r.status_code == 302 and r["Location"].startswith(reverse("login"))


@pytest.mark.django_db
def test_sign_out_is_a_post_and_ends_the_session(world, login):
    client = login(world.grid1_user)
    assert client.get(reverse("logout")).status_code == 405
    r = client.post(reverse("logout"))
    assert r.status_code == 302 and r["Location"] == reverse("login")
    assert client.get(reverse("home")).status_code == 302


@pytest.mark.django_db
def test_the_language_switch_goes_to_english_and_back(world, login):
    client = login(world.grid1_user)
    assert '<html lang="zh-hans">' in client.get(reverse("home")).content.decode()
    r = client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert r.status_code == 302 and r["Location"] == "/"
    html = client.get(reverse("home")).content.decode()
    assert '<html lang="en">' in html
    assert 'value="en" aria-pressed="true"' in html
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
    assert '<html lang="zh-hans">' in client.get(reverse("home")).content.decode()
