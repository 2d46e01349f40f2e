"""Extension points of the tree for the apps built on it.

`add_contents(count)`: `count(path)` returns [(label, number), ...] of the rows an app keeps under
a place (the registry: buildings, households, residents, organisations). The merge confirmation
shows them, so a person sees what moves before merging two communities.
"""

from collections.abc import Callable

_contents: list[Callable[[str], list]] = []


def add_contents(count: Callable[[str], list]) -> None:
    if count not in _contents:
        _contents.append(count)


def contents_of(path: str) -> list[tuple[object, int]]:
    return [item for count in _contents for item in count(path)]
