"""Background jobs of the insights app (huey). Under tests huey runs tasks immediately; call
rollups.refresh() directly there."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, lock_task


@db_periodic_task(crontab(minute="*"))
@lock_task("insights-refresh")
def refresh_rollups_every_minute():
    """Carry the orders changed in the last minute into the rollup cells."""
    from .rollups import refresh

    return refresh()
