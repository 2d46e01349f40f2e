"""Permission predicates of the figures. Scope (which places) is access.py's job.

| permission      | city | district | street | community | grid | department | resident |
| insights.view   |  x   |    x     |   x    |     x     |  x   |            |          |
"""

import rules

from accounts.rules import area_staff

# Figures are read by those who answer for an area; a department's figures are its own orders.
rules.add_perm("insights.view", area_staff)
