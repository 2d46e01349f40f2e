"""Imports and exports over JSON: uploading a resident sheet, a job's status and progress, its
row-by-row report, and the residents of the caller's area as .xlsx (masked)."""

import datetime as dt
import os
from typing import Literal

from django.conf import settings
from django.http import FileResponse
from django.utils.translation import gettext_lazy as _
from ninja import Field, File, Form, Query, Router, Schema, Status
from ninja.files import UploadedFile

from linli.errors import DomainError, NotFound
from linli.schemas import errors
from regions.access import place
from regions.schemas import RegionRef, region_ref

from .. import access
from ..exports import export_residents_xlsx
from ..models import ImportJob
from ..services import importer

router = Router()

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _xlsx_response(description: str) -> dict:
    return {
        "responses": {
            200: {
                "description": description,
                "content": {XLSX: {"schema": {"type": "string", "format": "binary"}}},
            }
        }
    }


class ImportJobOut(Schema):
    id: int
    status: str
    status_label: str
    mode: str
    original_name: str
    region: RegionRef
    processed: int
    total: int
    created: int
    updated: int
    errors: int
    message: str
    created_at: dt.datetime
    finished_at: dt.datetime | None
    report_url: str | None


def _job(job: ImportJob) -> dict:
    return {
        "id": job.pk,
        "status": job.status,
        "status_label": str(job.get_status_display()),
        "mode": job.mode,
        "original_name": job.original_name,
        "region": region_ref(job.region),
        "processed": importer.rows_done(job),
        "total": job.total_rows,
        "created": job.created_count,
        "updated": job.updated_count,
        "errors": job.error_count,
        "message": job.message,
        "created_at": job.created_at,
        "finished_at": job.finished_at,
        "report_url": f"/api/registry/imports/{job.pk}/report" if job.report else None,
    }


@router.post("/imports", response={202: ImportJobOut, **errors(413)}, summary="Upload a resident spreadsheet (.xlsx)")
def start_import(
    request,
    file: UploadedFile = File(..., description="The spreadsheet (.xlsx or .xls)."),  # noqa: B008
    mode: Literal["atomic", "valid_rows"] = Form("atomic"),
    region_id: int | None = Form(None, description="Import into this node (within your area); default your home node."),
):
    user = request.auth
    access.require(user, "registry.import")
    if file.size and file.size > settings.LINLI_MAX_UPLOAD_BYTES:
        raise DomainError(
            "import_file_too_big", _("The file is larger than %(mb)s MB; split it into smaller files."),
            field="file", status=413, mb=settings.LINLI_MAX_UPLOAD_BYTES // (1024 * 1024),
        )
    region = place(user, region_id) if region_id is not None else None
    job = importer.start_import(user, file, mode=mode, region=region)
    job = access.import_jobs(user).select_related("region").filter(pk=job.pk).first() or job
    return Status(202, _job(job))


@router.get("/imports/{job_id}", response={200: ImportJobOut, **errors()}, summary="An import's status and progress")
def get_import(request, job_id: int):
    return _job(access.import_job(request.auth, job_id))


@router.get("/imports/{job_id}/report", response=errors(), openapi_extra=_xlsx_response("The row-by-row report."),
            summary="An import's row-by-row report (.xlsx)")
def import_report(request, job_id: int):
    job = access.import_job(request.auth, job_id)
    if not job.report:
        raise NotFound("report_not_ready", _("This import has no report yet."))
    try:
        handle = job.report.open("rb")
    except FileNotFoundError:
        raise NotFound("report_missing", _("The report file is no longer available."))
    return FileResponse(handle, as_attachment=True, filename=f"import-{job.pk}-report.xlsx", content_type=XLSX)


class ExportQuery(Schema):
    q: str = Field("", max_length=100)
    tag: str = ""
    region_id: int | None = None


@router.get("/export", response=errors(), openapi_extra=_xlsx_response("The residents, masked."),
            summary="Residents of your area as .xlsx (same filters as the list)")
def export(request, filters: Query[ExportQuery]):
    user = request.auth
    access.require(user, "registry.export")
    path = export_residents_xlsx(user, q=filters.q, tag=filters.tag, region_path=access.region_path(user, filters.region_id))
    name = f"residents-{dt.date.today():%Y%m%d}.xlsx"
    response = FileResponse(open(path, "rb"), as_attachment=True, filename=name, content_type=XLSX)
    _remove_after(response, path)
    return response


def _remove_after(response: FileResponse, path) -> None:
    """Delete the temporary export file once the response is sent."""
    close = response.close

    def closer():
        close()
        try:
            os.remove(path)
        except OSError:
            pass

    response.close = closer
