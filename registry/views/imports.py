"""Import pages: uploading a sheet, the template, a job's progress and refused rows, its report."""

import os

from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from linli.pages import submit
from regions.access import home_region, place

from .. import access, exports
from ..forms import ImportForm
from ..models import ImportStatus
from ..services import importer
from . import XLSX, registry_view


@registry_view("registry.import")
@require_http_methods(["GET", "POST"])
def import_index(request):
    user = request.user
    home = home_region(user)
    form = ImportForm(request.POST or None, request.FILES or None, user=user,
                      initial={"region": str(home.pk) if home else ""})
    if request.method == "POST" and (done := submit(form, lambda d: importer.start_import(
            user, d["file"], mode=d["mode"], region=place(user, d["region"])))):
        return redirect("registry:import_job", done.value.pk)
    jobs = access.import_jobs(user).select_related("region", "created_by")[:20]
    return render(request, "registry/import.html", {"form": form, "jobs": jobs})


@registry_view("registry.import")
@require_http_methods(["GET"])
def import_template(request):
    response = HttpResponse(exports.template_xlsx(), content_type=XLSX)
    response["Content-Disposition"] = "attachment; filename*=UTF-8''%E5%B1%85%E6%B0%91%E5%AF%BC%E5%85%A5%E6%A8%A1%E6%9D%BF.xlsx"
    return response


@registry_view("registry.import")
@require_http_methods(["GET"])
def import_job(request, pk):
    job = access.import_job(request.user, pk)
    running = job.status in (ImportStatus.PENDING, ImportStatus.RUNNING)
    processed = importer.rows_done(job)
    percent = int(processed * 100 / job.total_rows) if job.total_rows else 0
    header, refused, refused_total = ([], [], 0) if running else exports.refused_rows(job)
    ctx = {"job": job, "running": running, "percent": min(percent, 100), "processed": processed, "header": header,
           "refused": refused, "refused_total": refused_total}
    if request.htmx:
        return render(request, "registry/_import_status.html", ctx)
    return render(request, "registry/import_job.html", ctx)


@registry_view("registry.import")
@require_http_methods(["GET"])
def import_report(request, pk):
    job = access.import_job(request.user, pk)
    if not job.report:
        raise Http404
    base = os.path.splitext(job.original_name)[0] or "import"
    return FileResponse(job.report.open("rb"), as_attachment=True, filename=f"{base}-导入结果.xlsx", content_type=XLSX)
