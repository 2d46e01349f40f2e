"""The shape ARCHITECTURE.md sets for every app, checked on the source: the same file set in
every app, no writes in views or API handlers, and no scoped querysets built there either (the
layers themselves are checked by import-linter in `make lint`)."""

import ast
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
APPS = ["accounts", "regions", "registry", "insights", "workorders", "mediation", "fieldwork", "api", "web"]

# The one file set (modules or packages), and the optional modules with the same names everywhere.
CORE = {"models", "services", "access", "rules", "api", "views", "forms", "tests", "templates", "static", "locale"}
OPTIONAL = {"apps", "admin", "urls", "tasks", "hooks", "figures", "exports", "schemas", "demo", "testing",
            "migrations", "management", "templatetags", "__init__"}
# The shell's own pieces: the API root's second protocol, and the page frame.
SHELL = {"api": {"open311"}, "web": {"context"}}

WRITES = {"save", "delete", "bulk_create", "bulk_update", "update_or_create", "get_or_create"}
QUERY_WRITES = {"update", "create", "delete"}
SCOPE_HELPERS = {"scoped", "get_scoped", "scope_q", "prefix_q"}


def _members(app: str) -> set[str]:
    out = set()
    for path in (ROOT / app).iterdir():
        if path.name.startswith(".") or path.name == "__pycache__":
            continue
        out.add(path.stem if path.suffix == ".py" else path.name)
    return out


@pytest.mark.parametrize("app", APPS)
def test_every_app_has_the_one_file_set(app):
    extra = _members(app) - CORE - OPTIONAL - SHELL.get(app, set())
    assert extra == set(), f"{app}: {sorted(extra)} are not in the file set of ARCHITECTURE.md; put them inside services/, views/, api/ ..."


def _handler_modules(app: str):
    """The app's views and API modules (a module or every module of the package)."""
    for name in ("views", "api"):
        if app == "api" and name == "api":
            continue  # the ninja root itself
        module = ROOT / app / f"{name}.py"
        package = ROOT / app / name
        if module.exists():
            yield module
        if package.is_dir():
            yield from sorted(package.rglob("*.py"))
    if app == "api":
        yield ROOT / "api" / "open311.py"


def _scoped_models() -> set[str]:
    names = {"Region"}
    for model in apps.get_models():
        if any(f.name in ("region_path", "region") for f in model._meta.concrete_fields):
            names.add(model.__name__)
    return names


def _chain(node) -> list[str]:
    """The names and attributes a call's receiver is made of: X.objects.filter(...).update → [X, objects, filter]."""
    out = []
    while True:
        if isinstance(node, ast.Call):
            node = node.func
        elif isinstance(node, ast.Attribute):
            out.append(node.attr)
            node = node.value
        elif isinstance(node, ast.Name):
            out.append(node.id)
            return out[::-1]
        else:
            return out[::-1]


def _problems(path: Path, scoped: set[str]) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    found = []
    for node in ast.walk(tree):
        where = f"{path.relative_to(ROOT)}:{getattr(node, 'lineno', 0)}"
        if isinstance(node, ast.Attribute) and node.attr == "atomic" and _chain(node.value)[-1:] == ["transaction"]:
            found.append(f"{where} transaction.atomic (a service's job)")
        if isinstance(node, ast.Attribute) and node.attr == "objects" and isinstance(node.value, ast.Name) and node.value.id in scoped:
            found.append(f"{where} {node.value.id}.objects (a scoped queryset: access.py's job)")
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Name) and func.id in SCOPE_HELPERS:
                found.append(f"{where} {func.id}() (scope is access.py's job)")
            if isinstance(func, ast.Attribute):
                receiver = _chain(func.value)
                if receiver[-1:] in (["router"], ["api"]):
                    continue  # @router.delete(...): a route, not a write
                if func.attr in WRITES and receiver[-1:] != ["session"]:
                    found.append(f"{where} .{func.attr}() (writes belong in services)")
                elif func.attr in QUERY_WRITES and ("objects" in receiver or "filter" in receiver or "exclude" in receiver):
                    found.append(f"{where} .{func.attr}() on a queryset (writes belong in services)")
                if func.attr in SCOPE_HELPERS and receiver[-1:] in (["access"], ["accounts"]):
                    found.append(f"{where} {func.attr}() (scope is access.py's job)")
    return found


@pytest.mark.parametrize("app", APPS)
def test_views_and_api_handlers_parse_call_and_render_only(app):
    scoped = _scoped_models()
    problems = [p for path in _handler_modules(app) for p in _problems(path, scoped)]
    assert problems == [], "\n".join(problems)
