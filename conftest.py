import os

import pytest

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's sync API next to live_server


@pytest.fixture
def world(db):
    from registry.testing import build_world

    return build_world()


@pytest.fixture
def login(client):
    """login(user) -> the Django test client signed in as that user."""

    def _login(user):
        client.force_login(user)
        return client

    return _login


CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


@pytest.fixture(scope="session")
def browser():
    """Debian's Chromium driven by Playwright (never a downloaded browser)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser, live_server):
    """A fresh browser context (phone-sized when the test asks for `mobile`)."""
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    pg = context.new_page()
    pg.set_default_timeout(10_000)
    pg.base_url = live_server.url
    yield pg
    context.close()


@pytest.fixture
def phone(browser, live_server):
    context = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    pg = context.new_page()
    pg.set_default_timeout(10_000)
    pg.base_url = live_server.url
    yield pg
    context.close()


def browser_login(pg, username, password="linli-demo"):
    pg.goto(pg.base_url + "/accounts/login/")
    pg.fill("input[name=username]", username)
    pg.fill("input[name=password]", password)
    pg.click("button[type=submit]")
    pg.wait_for_load_state("networkidle")


@pytest.fixture(autouse=True)
def _chinese_first():
    """Every test starts in the default language: LocaleMiddleware leaves the last request's
    language active in the thread, so an English request would leak into the next test."""
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def _forget_rule_caches():
    """Per-process caches must not carry rows of a rolled-back test into the next one."""
    from accounts import access
    from fieldwork.services import dues
    from regions.access import tree
    from workorders import access as workorders_access

    tree.forget()
    access.reset_kept()
    workorders_access.reset_kept()
    yield
    dues.forget()
    tree.forget()
    access.reset_kept()
    workorders_access.reset_kept()


# Rows the data migrations write. A transactional test (live_server) ends by flushing every table,
# so the next one would start without them: put them back first.
_SEEDS = [
    ("registry.migrations.0002_care_tags", "seed", "registry.CareTag"),
    ("fieldwork.migrations.0002_seed_rules", "seed", "fieldwork.VisitRule"),
    ("insights.migrations.0003_ranking_default", "seed", "insights.RankingRule"),
]


@pytest.fixture(autouse=True)
def _migration_rows(request):
    if "live_server" not in request.fixturenames and "transactional_db" not in request.fixturenames:
        yield
        return
    import importlib

    from django.apps import apps

    request.getfixturevalue("transactional_db")
    for module, func, model in _SEEDS:
        if not apps.get_model(model).objects.exists():
            getattr(importlib.import_module(module), func)(apps, None)
    yield
