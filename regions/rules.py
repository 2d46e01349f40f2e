"""Permission predicates of the tree. Scope (which places) is access.py's job.

| permission       | city | district | street | community | grid | department | resident |
| regions.manage   |  x   |    x     |   x    |           |      |            |          |
| regions.locate   |  x   |    x     |        |           |      |            |          |
"""

import rules

from accounts.rules import is_admin, is_street

# Places are created, renamed, moved and merged by the street and above (a community's grids are
# drawn by its street office).
rules.add_perm("regions.manage", is_admin | is_street)
# Finding the grid of raw coordinates is an administrator's check of the boundaries, not a
# page for the desks (they find places by name and address).
rules.add_perm("regions.locate", is_admin)
