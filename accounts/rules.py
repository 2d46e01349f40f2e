"""Permission predicates: the roles every app's rules are written with, and the permissions of
accounts itself. Each app states its own permissions in its rules.py; scope (which rows) is
access.py's job.

| permission                 | city | district | street | community | grid | department | resident |
| accounts.view_access_log   |  x   |    x     |   x    |           |      |            |          |
| accounts.unlock            |  x   |    x     |   x    |           |      |            |          |
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
is_department_handler = has_any_role(Role.DEPARTMENT_HANDLER)
is_resident = has_any_role(Role.RESIDENT)
# Staff with an area of the tree (not department handlers, whose work is their department's).
area_staff = is_admin | is_street | is_community_worker | is_grid_worker

# Who looked at whose personal data is read by those who answer for an area: the street and above.
rules.add_perm("accounts.view_access_log", is_admin | is_street)
# A person locked out after too many wrong passwords is let back in by the street and above (the
# people who hand out the accounts).
rules.add_perm("accounts.unlock", is_admin | is_street)
