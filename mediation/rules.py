"""Permission predicates of mediation. Scope (which cases) is access.py's job.

| permission      | city | district | street | community | grid | department | resident | mediator |
| mediation.view  |  x   |    x     |   x    |     x     |  x   |            |          |    x     |
A mediator is anyone named on a case (a department's lawyer, a volunteer): they see their cases.
"""

import rules

from accounts.rules import area_staff


@rules.predicate
def is_mediator(user):
    """Named as a mediator on at least one case."""
    return user.is_authenticated and user.mediation_cases.exists()


rules.add_perm("mediation.view", area_staff | is_mediator)
