"""Pages of the grid notice (网格公示): the grid's worker and its community's workers write it;
anyone reads the public page its poster's QR code leads to.

- /fieldwork/notice/              the grids whose notice the user writes
- /fieldwork/notice/<id>/edit/    write a grid's notice
- /fieldwork/g/<slug>/            the public notice (no sign-in), its call button, QR code and poster

Views parse, call fieldwork.services.evaluations (where the notice is kept), render.
"""

from django.contrib import messages
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.safestring import mark_safe
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET, require_http_methods

from linli.errors import DomainError
from linli.pages import page, raise_access

from .. import access, exports
from ..services import evaluations as ev

# ---------------------------------------------------------------- staff


@page(allow=access.is_field_worker)
@require_GET
def notice_list(request):
    return render(request, "fieldwork/notice/list.html", {"grids": access.notice_grids(request.user)})


@page(allow=access.is_field_worker)
@require_http_methods(["GET", "POST"])
def notice_edit(request, grid_id):
    grid = access.grid(request.user, grid_id)
    if not ev.may_edit_notice(request.user, grid):
        raise DomainError("forbidden", _("Not allowed."), status=403)
    profile = ev.notice_of(grid)
    error = None
    if request.method == "POST":
        phone = request.POST.get("phone", "").strip()
        try:
            ev.update_notice(
                request.user, grid,
                duties=request.POST.get("duties", ""),
                commitment=request.POST.get("commitment", ""),
                service_hours=request.POST.get("service_hours", ""),
                phone="" if request.POST.get("remove_phone") else (phone or None),
            )
        except DomainError as e:
            raise_access(e)
            error = e
        else:
            messages.success(request, gettext("The grid notice is saved and shown on its public page."))
            return redirect("fieldwork:notice_edit", grid.pk)
    if error is not None:
        values = request.POST
    elif profile is not None:
        values = {"duties": profile.duties, "commitment": profile.commitment, "service_hours": profile.service_hours}
    else:
        values = {"duties": str(ev.DEFAULT_DUTIES), "commitment": str(ev.DEFAULT_COMMITMENT), "service_hours": gettext("Monday to Friday 8:30–17:30")}
    public_url = request.build_absolute_uri(reverse("fieldwork:notice", args=[profile.slug])) if profile else ""
    return render(request, "fieldwork/notice/edit.html", {
        "grid": grid, "profile": profile, "values": values, "error": error, "public_url": public_url,
        "workers": ev.grid_workers(grid),
    })


# ---------------------------------------------------------------- the public page (no sign-in)


def _public(slug):
    try:
        return ev.notice_by_slug(slug)
    except DomainError:
        raise Http404


def public_url(request, slug) -> str:
    return request.build_absolute_uri(reverse("fieldwork:notice", args=[slug]))


@require_GET
def notice(request, slug):
    profile = _public(slug)
    data = ev.public_notice(profile)
    return render(request, "fieldwork/notice/public.html", {"n": data, "p": profile})


@require_GET
def notice_print(request, slug):
    profile = _public(slug)
    data = ev.public_notice(profile)
    url = public_url(request, slug)
    return render(request, "fieldwork/notice/print.html", {
        "n": data, "p": profile, "url": url, "qr": mark_safe(exports.qr_svg(url, inline=True)),
        # A long text is set smaller so that the poster stays on one A4 sheet.
        "long": len(profile.duties) + len(profile.commitment) > 300,
    })


class TelRedirect(HttpResponseRedirect):
    allowed_schemes = ["tel"]


@require_GET
@cache_control(no_store=True)
def notice_call(request, slug):
    profile = _public(slug)
    try:
        number = ev.call_number(profile, ip=request.META.get("REMOTE_ADDR"), user=request.user)
    except DomainError as e:
        if e.status == 404:
            raise Http404
        return render(request, "fieldwork/notice/call_refused.html", {"p": profile, "error": e}, status=e.status)
    return TelRedirect(f"tel:{number}")


@require_GET
def notice_qr(request, slug):
    profile = _public(slug)
    return HttpResponse(exports.qr_svg(public_url(request, profile.slug)), content_type="image/svg+xml")
