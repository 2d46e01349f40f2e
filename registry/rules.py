"""Permission predicates of the registry. Scope (which rows) is access.py's job.

| permission        | city | district | street | community | grid | department | resident |
| registry.view     |  x   |    x     |   x    |     x     |  x   |            |          |
| registry.edit     |  x   |    x     |   x    |     x     |  x   |            |          |
| registry.import   |  x   |    x     |   x    |     x     |  x   |            |          |
| registry.export   |  x   |    x     |   x    |     x     |  x   |            |          |
| registry.reveal   |      |          |        |     x     |  x   |            |          |
Reveal can also be granted to one user with the Django permission registry.reveal_personal_data.
"""

import rules

from accounts.rules import area_staff, is_community_worker, is_grid_worker


@rules.predicate
def granted_reveal(user):
    """An administrator may grant reveal to one user (e.g. a street officer on a case)."""
    return user.is_authenticated and user.has_perm("registry.reveal_personal_data")


rules.add_perm("registry.view", area_staff)
rules.add_perm("registry.edit", area_staff)
rules.add_perm("registry.import", area_staff)
rules.add_perm("registry.export", area_staff)
# The people who knock on the door see the full number when they must (minimum necessary access).
rules.add_perm("registry.reveal", is_community_worker | is_grid_worker | granted_reveal)
