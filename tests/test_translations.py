"""The Chinese catalogues: complete, consistent with the source and with their compiled .mo files,
and actually served (Chinese by default, English after the language switch)."""

import ast
import datetime as dt
import re
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils.translation.template import templatize

ROOT = Path(settings.BASE_DIR)
APPS = ["linli", "regions", "accounts", "registry", "api", "web"]
PO_NAME = "locale/zh_Hans/LC_MESSAGES/django.po"

# %(name)s, %s, %d, %% ... as Python's % operator reads them.
PLACEHOLDER = re.compile(r"%(?:\([^)]+\))?[-#0 +]*\d*(?:\.\d+)?[sdifr%]")
TAG = re.compile(r"</?[a-zA-Z][^>]*>")


def _po_files():
    return sorted(p for app in APPS if (p := ROOT / app / PO_NAME).exists())


def _entries():
    for path in _po_files():
        for entry in polib.pofile(str(path)):
            yield path.parts[-5], entry


def _translations(entry):
    return list(entry.msgstr_plural.values()) if entry.msgid_plural else [entry.msgstr]


def test_every_app_with_strings_has_a_catalogue():
    apps = {p.parts[-5] for p in _po_files()}
    assert {"regions", "accounts", "registry", "api", "web"} <= apps


def test_every_entry_is_translated_and_none_is_fuzzy():
    bad = [(app, e.msgid) for app, e in _entries() if e.obsolete or "fuzzy" in e.flags or not all(_translations(e))]
    assert bad == []
    for path in _po_files():
        po = polib.pofile(str(path))
        assert not po.metadata_is_fuzzy, path
        assert po.metadata["Plural-Forms"].replace(" ", "") == "nplurals=1;plural=0;", path
        assert po.metadata["Content-Type"] == "text/plain; charset=UTF-8", path


def test_placeholders_and_html_are_kept_in_every_translation():
    problems = []
    for app, e in _entries():
        for source, target in [(e.msgid, t) for t in _translations(e)]:
            if sorted(PLACEHOLDER.findall(source)) != sorted(PLACEHOLDER.findall(target)):
                # plural forms: the singular may omit the count, the zh form must use the plural's placeholders
                if not (e.msgid_plural and sorted(PLACEHOLDER.findall(e.msgid_plural)) == sorted(PLACEHOLDER.findall(target))):
                    problems.append((app, e.msgid, target))
            if sorted(TAG.findall(source)) != sorted(TAG.findall(target)):
                problems.append((app, e.msgid, target))
    assert problems == []


def test_translations_are_chinese():
    # A translation that still reads as English is a string someone forgot.
    latin_only = [
        (app, e.msgid) for app, e in _entries()
        for t in _translations(e)
        if not re.search(r"[\u4e00-\u9fff]", PLACEHOLDER.sub("", t))
    ]
    assert latin_only == []


def test_each_msgid_has_one_translation_across_apps():
    # Django merges the apps' catalogues into one: the same msgid must not mean two things.
    seen, clashes = {}, []
    for app, e in _entries():
        key = (e.msgctxt, e.msgid)
        value = tuple(_translations(e))
        if key in seen and seen[key][1] != value:
            clashes.append((key, seen[key], (app, value)))
        seen.setdefault(key, (app, value))
    assert clashes == []


@pytest.mark.parametrize("po_path", _po_files(), ids=lambda p: p.parts[-5])
def test_the_compiled_mo_matches_its_po(po_path):
    mo_path = po_path.with_suffix(".mo")
    assert mo_path.exists(), f"{mo_path} is missing: run make messages"
    po = polib.pofile(str(po_path))
    mo = polib.mofile(str(mo_path))

    def table(catalogue):
        return {
            (e.msgctxt, e.msgid): (tuple(sorted(e.msgstr_plural.items())) if e.msgid_plural else e.msgstr)
            for e in catalogue
            if e.msgid and (e.msgid_plural and all(e.msgstr_plural.values()) or not e.msgid_plural and e.msgstr)
        }

    assert table(mo) == table(po), f"{mo_path} is stale: run make messages"


# --- every string marked in the source is in its app's catalogue --------------------------------

PY_FUNCS = {
    "_": "s", "_g": "s", "gettext": "s", "gettext_lazy": "s", "gettext_noop": "s",
    "pgettext": "cs", "pgettext_lazy": "cs",
    "ngettext": "sp", "ngettext_lazy": "sp", "npgettext": "csp", "npgettext_lazy": "csp",
}
_LITERAL = r"""u(?:'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")"""
TEMPLATE_CALL = re.compile(r"\b(gettext|pgettext|ngettext|npgettext)\(((?:" + _LITERAL + r"\s*,?\s*)+)")


def _python_msgids(path: Path):
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = node.func.id if isinstance(node.func, ast.Name) else node.func.attr if isinstance(node.func, ast.Attribute) else None
        shape = PY_FUNCS.get(name)
        if not shape or len(node.args) < len(shape):
            continue
        args = node.args[: len(shape)]
        if not all(isinstance(a, ast.Constant) and isinstance(a.value, str) for a in args):
            continue
        values = dict(zip(shape, (a.value for a in args), strict=False))
        yield values.get("c"), values["s"]


def _template_msgids(path: Path):
    code = templatize(path.read_text(encoding="utf-8"), origin=str(path))
    for func, args in TEMPLATE_CALL.findall(code):
        values = ast.literal_eval("(" + args.rstrip().rstrip(",") + ",)")
        yield (values[0], values[1]) if func.startswith(("pgettext", "npgettext")) else (None, values[0])


def _source_files(app: str):
    base = ROOT / app
    skip = {"tests", "migrations", "locale", "static", "__pycache__"}
    for path in sorted(base.rglob("*")):
        if skip & set(path.relative_to(base).parts[:-1]) or not path.is_file():
            continue
        if path.suffix == ".py":
            yield path, _python_msgids
        elif path.suffix in (".html", ".txt") and "templates" in path.parts:
            yield path, _template_msgids


@pytest.mark.parametrize("app", APPS)
def test_every_marked_string_in_the_source_is_translated(app):
    po_path = ROOT / app / PO_NAME
    catalogue = {}
    if po_path.exists():
        catalogue = {(e.msgctxt, e.msgid): e for e in polib.pofile(str(po_path))}
    missing = []
    for path, extract in _source_files(app):
        for key in extract(path):
            entry = catalogue.get(key)
            if entry is None or not all(_translations(entry)):
                missing.append((str(path.relative_to(ROOT)), key[0], key[1]))
    assert missing == [], "new strings without a translation: run make messages and translate them"


# --- the catalogues are served ------------------------------------------------------------------


@pytest.mark.django_db
def test_the_sign_in_page_is_chinese_by_default_and_english_after_the_switch():
    client = Client()
    html = client.get(reverse("login")).content.decode()
    assert '<html lang="zh-hans">' in html and "登录邻里" in html and "用户名" in html and "密码" in html
    assert "Sign in to Linli" not in html
    client.post("/i18n/setlang/", {"language": "en", "next": reverse("login")})
    html = client.get(reverse("login")).content.decode()
    assert '<html lang="en">' in html and "Sign in to Linli" in html and "User name" in html
    assert "登录邻里" not in html


@pytest.mark.django_db
def test_the_home_page_is_chinese_by_default_and_english_after_the_switch(world, login):
    client = login(world.grid1_user)
    html = client.get(reverse("home")).content.decode()
    assert "首页" in html and "居民" in html and "退出登录" in html and "网格员" in html
    assert "Sign out" not in html
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    html = client.get(reverse("home")).content.decode()
    assert "Home" in html and "Residents" in html and "Sign out" in html and "Grid worker" in html
    assert "退出登录" not in html


@pytest.mark.django_db
def test_a_refused_form_explains_itself_in_chinese(world, login):
    from registry.models import Resident
    from registry.services import idnumber

    good = idnumber.make("320508", dt.date(1985, 4, 12), "F", 300)
    bad = good[:-1] + ("0" if good[-1] != "0" else "1")
    before = Resident.objects.count()
    resp = login(world.grid1_user).post(
        reverse("registry:resident_create", args=[world.g1.households[1].pk]),
        {"name": "林小红", "id_number": bad, "ethnicity": "汉族", "residence_type": "registered",
         "political_status": "masses", "relation": "child", "date": "2024-01-15"},
    )
    body = resp.content.decode()
    assert f"身份证号校验位不对（应为 {idnumber.check_char(good[:17])}），请核对。" in body
    assert Resident.objects.count() == before


@pytest.mark.django_db
def test_api_errors_carry_the_chinese_message_and_the_english_one(world):
    from accounts.services import issue_token
    from registry.models import Resident
    from registry.services import idnumber

    key, _row = issue_token(world.grid1_user)
    api = Client(headers={"Authorization": f"Bearer {key}"})
    good = idnumber.make("320508", dt.date(2010, 6, 1), "M", 300)
    bad = good[:-1] + ("0" if good[-1] != "0" else "1")
    before = Resident.objects.count()
    res = api.post("/api/registry/residents", {
        "household_id": world.g1.households[0].pk, "relation": "子女", "date": "2024-05-01",
        "name": "张小明", "id_number": bad,
    }, content_type="application/json")
    assert res.status_code == 400
    body = res.json()
    assert body["code"] == "id_number_checksum"
    assert body["message"].startswith("身份证号校验位不对")
    assert body["message_en"].startswith("ID number check character is wrong")
    assert Resident.objects.count() == before

    missing = Client().get("/api/no-such-route").json()
    assert missing["message"] == "没有这个接口地址。" and missing["message_en"] == "There is no such API address."


def test_the_served_text_is_the_projects_translation():
    # Django's own catalogues (admin: "History" → 历史, humanize: "now" → 现在) must not win over ours.
    from django.utils import translation

    wrong = []
    with translation.override("zh-hans"):
        for app, e in _entries():
            if e.msgid_plural:
                served = translation.npgettext(e.msgctxt, e.msgid, e.msgid_plural, 1) if e.msgctxt else translation.ngettext(e.msgid, e.msgid_plural, 1)
                expected = e.msgstr_plural[0]
            else:
                served = translation.pgettext(e.msgctxt, e.msgid) if e.msgctxt else translation.gettext(e.msgid)
                expected = e.msgstr
            if served != expected:
                wrong.append((app, e.msgid, served, expected))
    assert wrong == []


def test_an_english_browser_still_gets_chinese_until_the_person_switches(client):
    page = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert 'lang="zh-hans"' in page.content.decode()
    client.post("/i18n/setlang/", {"language": "en", "next": "/accounts/login/"})
    page = client.get("/accounts/login/", HTTP_ACCEPT_LANGUAGE="zh-CN")
    assert 'lang="en"' in page.content.decode()
