"""Permission predicates of field work. Scope (which rows) is access.py's job.

| permission               | city | district | street | community | grid | department | resident |
| fieldwork.view_config    |  x   |    x     |   x    |           |      |            |          |
| fieldwork.configure      |  x   |    x     |        |           |      |            |          |
| fieldwork.view_figures   |  x   |    x     |   x    |     x     |  x   |            |          |
"""

import rules

from accounts.rules import area_staff, is_admin, is_street

# Visit and patrol rules are the city's policy (DESIGN contract 4): administrators change them;
# street officers read them to explain a due list to a community.
rules.add_perm("fieldwork.configure", is_admin)
rules.add_perm("fieldwork.view_config", is_admin | is_street)
# Compliance figures, daily patrol time and the residents' ratings: read by staff with an area.
rules.add_perm("fieldwork.view_figures", area_staff)
