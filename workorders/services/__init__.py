"""Every change of the work-order engine, one `transaction.atomic` function per action.

- `orders`: the lifecycle of an order (report, file, dispatch, handle, verify, close, more
  time, escalation, the reporter's word, the SLA timer); its actions are re-exported here, so
  `from workorders import services as wo; wo.report(...)` is the way other apps change orders.
- `config`: categories, their attribute schemas, SLA limits and routing rules.
- `window`: the one-window desk (一窗受理).
- Domain helpers the actions use: `sla` (deadlines and the working calendar), `routing` (where
  an order goes), `attributes` (the category's schema checked), `notify` (notices and their
  copies), `uploads` (attached files checked), `seed` (the standard category tree).
"""

from .orders import (
    MAX_FILES,
    REOPEN_DAYS,
    WARN_BEFORE,
    assign_down,
    check_deadlines,
    close,
    confirm,
    decide,
    dispatch,
    dispatchers_of,
    escalate,
    file,
    grid_workers_of,
    handle,
    mark_duplicate,
    rate,
    reopen,
    report,
    request_more_time,
    resume,
    settle_on_spot,
    start,
    take,
    verify,
    void,
)

__all__ = [
    "MAX_FILES",
    "REOPEN_DAYS",
    "WARN_BEFORE",
    "assign_down",
    "check_deadlines",
    "close",
    "confirm",
    "decide",
    "dispatch",
    "dispatchers_of",
    "escalate",
    "file",
    "grid_workers_of",
    "handle",
    "mark_duplicate",
    "rate",
    "reopen",
    "report",
    "request_more_time",
    "resume",
    "settle_on_spot",
    "start",
    "take",
    "verify",
    "void",
]
