"""Background jobs of field work (huey). Under tests huey runs them immediately."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task


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


@db_periodic_task(crontab(minute="*/15"))
def close_idle_patrols_job():
    """Every quarter hour: close the patrols nobody ended."""
    from .services import patrols

    return patrols.close_idle_patrols()


@db_periodic_task(crontab(minute="*/10"))
def refresh_figures_job():
    """Every 10 minutes: the worker-days and cells touched since the last run."""
    from . import figures

    return figures.refresh()


@db_periodic_task(crontab(minute="20", hour="0"))
def refresh_recent_figures_job():
    """Just after midnight (after the due lists' new periods): a new day's overdue snapshot."""
    from . import figures

    return figures.refresh_recent()


@db_periodic_task(crontab(minute="10", hour="3"))
def forget_old_receipts():
    """Nightly: the offline uploads' stored answers older than LINLI_SYNC_RECEIPT_DAYS."""
    from .services.sync import forget_receipts

    return forget_receipts()
