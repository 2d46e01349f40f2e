"""What the apps add to the shell: navigation entries, the home pages' buttons and parts, the
bell's count, and work a server process does once before its first request.

The kernel declares these points so that the shell (web) imports no app and no app imports the
shell: each app registers in its AppConfig.ready(), the shell reads. Points between two apps
(say, mediation telling work orders who mediates a case) are declared by the lower app in its
own hooks.py, the same way.
"""

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class NavEntry:
    """One entry of the page frame's navigation.

    `perm` is the permission the entry needs (a rules permission), a role check known to the
    shell ("grid": grid workers, "field": grid and community workers), or None. `order` places it
    in the menu; `top` in the top bar (lower first; None: the menu only); `tab` puts it in the
    phone's tab bar. `audience` is "staff" or "resident".
    """

    key: str
    label: object
    url_name: str
    icon: str
    perm: str | None = None
    tab: bool = False
    order: int = 100
    top: int | None = None
    audience: str = "staff"


@dataclass(frozen=True)
class Action:
    """A big button on a home page ("grid", "community", "admin", "department", "resident").

    The address is `url_name` reversed with `args`, then with the home's place id appended
    (`region_arg`) or added as ?region= (`region_query`). Buttons with the same `group` share a
    card headed by it (no group: the page's first row of buttons); `order` sorts them.
    """

    page: str
    key: str
    label: object
    url_name: str
    icon: str = "sheet"
    args: tuple = ()
    region_arg: bool = False
    region_query: bool = False
    primary: bool = False
    perm: str | None = None
    order: int = 100
    group: object = ""
    note: object = ""


_nav: dict[str, NavEntry] = {}
_actions: dict[str, Action] = {}
_home: dict[str, list[Callable]] = {}
_warmups: list[Callable[[], None]] = []
_unread: list[Callable] = []
_notifiers: list[Callable] = []


def add_nav(*entries: NavEntry) -> None:
    for entry in entries:
        _nav[f"{entry.audience}:{entry.key}"] = entry


def nav_entries(audience: str = "staff") -> list[NavEntry]:
    return sorted((e for e in _nav.values() if e.audience == audience), key=lambda e: (e.order, e.key))


def add_actions(*actions: Action) -> None:
    for action in actions:
        _actions[f"{action.page}:{action.key}"] = action


def actions(page: str) -> list[Action]:
    return sorted((a for a in _actions.values() if a.page == page), key=lambda a: (a.order, a.key))


def set_unread_counter(count: Callable) -> None:
    """The bell of the page frame: `count(user)` is the number of the user's unread notices."""
    _unread[:] = [count]


def unread_counter() -> Callable | None:
    return _unread[0] if _unread else None


def set_notifier(send: Callable) -> None:
    """The inbox behind the bell: `send(users, verb, text, params=None, link="")` leaves each user
    a notice (and the copies by email or SMS its owner sends for such a verb)."""
    _notifiers[:] = [send]


def notify(users, verb: str, text, params: dict | None = None, link: str = "") -> None:
    """Leave the users a notice in the platform's inbox (the bell): any app may call this."""
    if _notifiers:
        _notifiers[0](users, verb, text, params=params, link=link)


def add_home_part(page: str, build: Callable) -> None:
    """A part of a home page: `build(request, region)` returns the entries the page's template
    shows (a dict). Pages: "grid", "community", "resident" (region: the resident's grid)."""
    parts = _home.setdefault(page, [])
    if build not in parts:
        parts.append(build)


def home_parts(page: str, request, region) -> dict:
    out: dict = {}
    for build in _home.get(page, []):
        out.update(build(request, region))
    return out


def add_warmup(fn: Callable[[], None]) -> None:
    """Something a server process loads once before its first request (linli.startup)."""
    if fn not in _warmups:
        _warmups.append(fn)


def warmups() -> list[Callable[[], None]]:
    return list(_warmups)
