"""What the apps built on work orders tell the engine, which imports none of them
(ARCHITECTURE.md: the lower app declares the point, the app above registers in its
AppConfig.ready()).

- Handler checks: `add_handler_check(check)`, `check(user, order) -> bool`. Someone handles an
  order besides its assignee, department, grid and dispatchers (mediation: every mediator named
  on the case built on it).
- Timeline labels: `add_timeline_labels({action: label})`. The names of the steps other apps
  record on an order's timeline (Transition.action), shown on the order's page.
- Record links: `add_record_link(link)`, `link(order) -> Link | None`. The record another app
  built on an order (its mediation case), linked from the order's page.
"""

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Link:
    label: object
    url: str


_handler_checks: list[Callable] = []
_timeline_labels: dict[str, object] = {}
_record_links: list[Callable] = []


def add_handler_check(check: Callable) -> None:
    if check not in _handler_checks:
        _handler_checks.append(check)


def handles(user, order) -> bool:
    """Does a registered check count `user` among the order's handlers?"""
    return any(check(user, order) for check in _handler_checks)


def add_timeline_labels(labels: dict) -> None:
    _timeline_labels.update(labels)


def timeline_labels() -> dict:
    return dict(_timeline_labels)


def add_record_link(link: Callable) -> None:
    if link not in _record_links:
        _record_links.append(link)


def record_links(order) -> list[Link]:
    return [found for link in _record_links if (found := link(order)) is not None]
