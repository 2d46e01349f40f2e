"""Paths of the tree of places (regions.Region, treebeard's materialised path).

A place's path is its parent's path and four more characters; every scoped row copies its
place's path into `region_path`, so "in this area" is a prefix test. The helpers here work on
the strings alone, so code below the regions app can reason about places without it.
"""

STEP = 4  # characters per level (Region.steplen)


def at_level(path: str, level: int) -> str:
    """The path of the place at `level` (1 city … 5 grid) above or at this one."""
    return path[: STEP * level]


def level_of(path: str) -> int:
    return len(path) // STEP


def parent(path: str) -> str:
    return path[:-STEP]


def ancestors(path: str, *, from_level: int = 1) -> list[str]:
    """The paths from `from_level` down to this place, itself included."""
    return [path[:i] for i in range(STEP * from_level, len(path) + 1, STEP)]
