"""Permission predicates of the work-order engine. Scope (which orders) is access.py's job.

| permission               | city | district | street | community | grid | department | resident |
| workorders.view_config   |  x   |    x     |   x    |           |      |            |          |
| workorders.configure     |  x   |    x     |        |           |      |            |          |
| workorders.window        |  x   |    x     |   x    |     x     |      |            |          |
"""

import rules

from accounts.rules import is_admin, is_community_worker, is_street

# Categories, their schemas, limits and routing are the city's policy: administrators change
# them; street officers read them to explain a deadline or a routing to a community.
rules.add_perm("workorders.configure", is_admin)
rules.add_perm("workorders.view_config", is_admin | is_street)
# The one-window desk sits in the community's service centre; streets and above may stand in.
rules.add_perm("workorders.window", is_community_worker | is_street | is_admin)
