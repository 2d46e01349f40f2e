"""Background jobs of the registry (huey). Under tests huey runs them immediately."""

from huey.contrib.djhuey import db_task


@db_task()
def import_job(job_id: int):
    from .services.importer import run_import

    run_import(job_id)


@db_task()
def import_report(job_id: int):
    """The row-by-row report of a finished import (written after the import, so the job's
    result is visible at once and the report follows)."""
    from .exports import import_report_xlsx
    from .models import ImportJob

    job = ImportJob.objects.get(pk=job_id)
    import_report_xlsx(job)
