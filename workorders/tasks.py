"""Background jobs of the work-order engine (huey). Under tests huey runs them immediately."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task, lock_task


@db_task()
def deliver_copies(user_ids, order_id, verb, text):
    from .services.notify import deliver

    return deliver(user_ids, order_id, verb, text)


@db_periodic_task(crontab(minute="*"))
def check_deadlines_every_minute():
    """Warn before a stage deadline, flag and supervise (督办) after it. Idempotent: each
    deadline is warned and supervised once however often this runs."""
    from .services import check_deadlines

    return check_deadlines()


@db_periodic_task(crontab(minute="*"))
@lock_task("insights-refresh")
def refresh_rollups_every_minute():
    """Carry the orders changed in the last minute into the figures' cells."""
    from .figures import refresh

    return refresh()
