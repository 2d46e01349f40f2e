"""Organisation pages: the list and its search, registering, editing, archiving, and revealing the
contact phone."""

from urllib.parse import urlencode

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from linli.pages import submit
from linli.paging import keyset
from regions.access import place

from .. import access, services
from ..forms import OrganizationForm
from . import registry_view, to_int

ORG_PAGE = 50


@registry_view()
@require_http_methods(["GET"])
def organization_list(request):
    user = request.user
    q = (request.GET.get("q") or "").strip()[:100]
    after = to_int(request.GET.get("after"))
    qs = access.organizations(user)
    if q:
        qs = qs.filter(name__icontains=q)
    page = keyset(qs, after=after, limit=ORG_PAGE)
    next_after = page.next_after
    ctx = {"rows": page.items, "q": q,
           "more_url": f"{reverse('registry:organization_list')}?{urlencode({'q': q, 'after': next_after})}" if next_after else ""}
    if request.htmx and after:
        return render(request, "registry/_organization_more.html", ctx)
    if request.htmx:
        return render(request, "registry/_organization_results.html", ctx)
    return render(request, "registry/organization_list.html", ctx)


@registry_view("registry.edit")
@require_http_methods(["GET", "POST"])
def organization_create(request):
    user = request.user
    initial = {}
    if request.GET.get("region"):
        initial["grid"] = request.GET["region"]
    form = OrganizationForm(request.POST or None, user=user, initial=initial)
    if request.method == "POST" and (done := submit(form, lambda d: services.create_organization(
            user, grid=place(user, d["grid"]), data=form.org_data()))):
        o = done.value
        messages.success(request, _("%(name)s registered.") % {"name": o.name})
        return redirect("registry:organization_detail", o.pk)
    return render(request, "registry/organization_form.html", {"form": form, "org": None})


@registry_view()
@require_http_methods(["GET"])
def organization_detail(request, pk):
    user = request.user
    o = access.organization(user, pk)
    return render(request, "registry/organization_detail.html", {
        "o": o, "can_edit": user.has_perm("registry.edit"), "can_reveal": user.has_perm("registry.reveal"),
        "crumbs": o.region.ancestors_and_self(),
    })


@registry_view("registry.edit")
@require_http_methods(["GET", "POST"])
def organization_edit(request, pk):
    user = request.user
    o = access.organization(user, pk)
    initial = {k: getattr(o, k) for k in ("name", "kind", "credit_code", "address", "contact_name", "employees")}
    form = OrganizationForm(request.POST or None, user=user, editing=True, initial=initial)
    if request.method == "POST" and submit(form, lambda d: services.update_organization(user, o, form.org_data())):
        messages.success(request, _("Changes saved."))
        return redirect("registry:organization_detail", o.pk)
    return render(request, "registry/organization_form.html", {"form": form, "org": o})


@registry_view("registry.edit")
@require_POST
def organization_archive(request, pk):
    user = request.user
    o = access.organization(user, pk)
    if request.POST.get("confirm") != "yes":
        messages.error(request, _("Tick the box to confirm the archiving."))
        return redirect("registry:organization_detail", o.pk)
    services.archive_organization(user, o)
    messages.success(request, _("%(name)s archived; it stays in the history.") % {"name": o.name})
    return redirect("registry:organization_list")


@registry_view("registry.reveal")
@require_POST
@never_cache
def organization_reveal(request, pk):
    o = access.organization(request.user, pk)
    value = services.reveal(request.user, o, "contact_phone", ip=request.META.get("REMOTE_ADDR"), reason=request.POST.get("reason", ""))
    return render(request, "registry/_revealed.html", {"value": value})
