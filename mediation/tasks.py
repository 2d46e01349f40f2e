"""Background jobs of mediation (huey). Under tests huey runs them immediately."""

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task


@db_task()
def refresh_case_kpis(case_id):
    """Rebuild the KPI cells one case touches (after each of its steps)."""
    from .figures import refresh_case

    return refresh_case(case_id)


@db_periodic_task(crontab(minute="20", hour="2"))
def refresh_kpis_nightly():
    """This and the previous month, quarter and year everywhere: agreements' deadlines pass and
    reporters rate closed cases without a case step. Idempotent."""
    from .figures import refresh_recent

    return refresh_recent()
