"""Background jobs of field work (huey). Under tests huey runs them immediately."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

# Periodic jobs defined next to their code: importing registers them with the consumer.
from . import compliance  # noqa: F401
from .services import patrols  # noqa: F401


@db_task()
def rebuild_area(region_path: str):
    """Due lists of an area after a bulk change (an import)."""
    from .services import dues

    return dues.recompute_all(region_path=region_path)


@db_task()
def rebuild_rule(rule_id: int):
    """A visit rule was added or edited: its current items only."""
    from .services import dues

    return dues.rebuild_rule(rule_id)


@db_periodic_task(crontab(minute="5", hour="0"))
def new_periods_daily():
    """Build the due items of any period that begins today (a new week, month or quarter)."""
    from .services import dues

    return dues.ensure_current()


@db_periodic_task(crontab(minute="10", hour="3"))
def forget_old_receipts():
    """Nightly: the offline uploads' stored answers older than LINLI_SYNC_RECEIPT_DAYS."""
    from .services.sync import forget_receipts

    return forget_receipts()
