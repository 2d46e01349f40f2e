"""Every change to field work goes through here: one `transaction.atomic` function per action,
`actor` first. Each raises linli.errors.DomainError (and its NotFound/Forbidden/Conflict) with a
clear message and changes nothing when it does.

- visits.py       recording a visit to a household (a finding becomes a work order)
- patrols.py      patrols: start, location points, end; time per day against the minimum
- attend.py       三必: arriving at a must-attend order, the must-report quick forms
- evaluations.py  residents' ratings of their grid workers, rating rounds, the grid notice
- visit_rules.py  administering the visit and patrol rules (dated data)
- dues.py         the due lists the visit rules produce, kept in step with visits and the registry
- sync.py         the offline queue: a phone's queued items, each through the service of its kind

The actions are importable from here (`from fieldwork.services import record_visit`); the domain
helpers stay in their modules (`from fieldwork.services import dues`).
"""

from .attend import arrive, quick_report
from .evaluations import call_number, rate, update_notice, update_round
from .patrols import add_points, close_idle_patrols, end_patrol, start_patrol
from .visit_rules import add_visit_rule, edit_visit_rule, end_visit_rule, save_patrol_rule
from .visits import parse_when, record_visit

__all__ = [
    "add_points",
    "add_visit_rule",
    "arrive",
    "call_number",
    "close_idle_patrols",
    "edit_visit_rule",
    "end_patrol",
    "end_visit_rule",
    "parse_when",
    "quick_report",
    "rate",
    "record_visit",
    "save_patrol_rule",
    "start_patrol",
    "update_notice",
    "update_round",
]
