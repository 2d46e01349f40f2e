"""Permission predicates. Each states a policy; scope (which rows) is access.py's job.

Matrix (tests/test_permission_matrix.py writes it down):
| permission                 | city | district | street | community | grid | department | resident |
| registry.view              |  x   |    x     |   x    |     x     |  x   |            |          |
| registry.edit / import     |  x   |    x     |   x    |     x     |  x   |            |          |
| registry.export            |  x   |    x     |   x    |     x     |  x   |            |          |
| registry.reveal            |      |          |        |     x     |  x   |            |          |
| regions.manage             |  x   |    x     |   x    |           |      |            |          |
| accounts.view_access_log   |  x   |    x     |   x    |           |      |            |          |
Reveal can also be granted to one user with the Django permission registry.reveal_personal_data.
"""

import rules

from .access import roles
from .models import Role


def has_any_role(*names):
    wanted = set(names)

    @rules.predicate(name="has_any_role(" + ",".join(sorted(wanted)) + ")")
    def predicate(user):
        return bool(wanted & roles(user))

    return predicate


is_admin = has_any_role(Role.CITY_ADMIN, Role.DISTRICT_ADMIN)
is_street = has_any_role(Role.STREET_OFFICER)
is_community_worker = has_any_role(Role.COMMUNITY_WORKER)
is_grid_worker = has_any_role(Role.GRID_WORKER)


@rules.predicate
def granted_reveal(user):
    """An administrator may grant reveal to one user (e.g. a street officer on a case)."""
    return user.is_authenticated and user.has_perm("registry.reveal_personal_data")


registry_staff = is_admin | is_street | is_community_worker | is_grid_worker

rules.add_perm("registry.view", registry_staff)
rules.add_perm("registry.edit", registry_staff)
rules.add_perm("registry.import", registry_staff)
rules.add_perm("registry.export", registry_staff)
rules.add_perm("registry.reveal", is_community_worker | is_grid_worker | granted_reveal)
rules.add_perm("regions.manage", is_admin | is_street)
rules.add_perm("accounts.view_access_log", is_admin | is_street)
