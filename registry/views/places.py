"""The drill-down of places: a place's grids or a grid's buildings, a building's houses by unit
and floor, a house's households, a household's members and history; adding and editing each."""

from itertools import groupby

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from accounts.access import in_scope
from linli.pages import submit
from regions.access import home_region, place
from regions.models import Level

from .. import access, services
from ..forms import BuildingEditForm, BuildingForm, HouseEditForm, HouseForm, HouseholdForm
from ..models import Relation
from . import registry_view


@registry_view()
@require_http_methods(["GET", "POST"])
def building_list(request):
    user = request.user
    region = place(user, request.GET["region"]) if request.GET.get("region") else home_region(user)
    if region is None or not in_scope(user, region.path):
        raise Http404
    form = None
    if user.has_perm("registry.edit"):
        initial = {"grid": str(region.pk)} if region.level == Level.GRID else {}
        form = BuildingForm(request.POST or None, user=user, initial=initial, prefix="b")
        if request.method == "POST" and (done := submit(form, lambda d: services.create_building(
                user, grid=place(user, d["grid"]), estate=d["estate"], number=d["number"], address=d["address"],
                floors=d["floors"] or 6, units=d["units"] or 1))):
            b = done.value
            messages.success(request, _("Building %(name)s registered.") % {"name": str(b)})
            return redirect("registry:building_detail", b.pk)
    elif request.method == "POST":
        raise PermissionDenied
    ctx = {"region": region, "form": form, "crumbs": region.ancestors_and_self()}
    if region.level == Level.GRID:
        ctx["buildings"] = access.grid_buildings(user, region)
    else:
        ctx["grids"] = access.grids_with_building_counts(user, region)
    return render(request, "registry/building_list.html", ctx)


def _room_key(h):
    return (h.floor if h.floor is not None else 0, len(h.room), h.room)


@registry_view()
@require_http_methods(["GET", "POST"])
def building_detail(request, pk):
    user = request.user
    b = access.building(user, pk)
    form = None
    if user.has_perm("registry.edit"):
        form = HouseForm(request.POST or None, prefix="h")
        if request.method == "POST" and (done := submit(form, lambda d: services.create_house(
                user, building=b, unit=d["unit"], room=d["room"], use=d["use"], area=d["area"]))):
            messages.success(request, _("House %(name)s registered.") % {"name": done.value.short_label})
            return redirect("registry:building_detail", b.pk)
    elif request.method == "POST":
        raise PermissionDenied
    return _building_page(request, b, form=form, edit_form=_building_edit_form(user, b))


@registry_view("registry.edit")
@require_POST
def building_edit(request, pk):
    b = access.building(request.user, pk)
    form = BuildingEditForm(request.POST, prefix="b")
    if submit(form, lambda d: services.update_building(request.user, b, **d)):
        messages.success(request, _("Building saved."))
        return redirect("registry:building_detail", b.pk)
    return _building_page(request, b, form=HouseForm(prefix="h"), edit_form=form, status=400)


def _building_edit_form(user, b):
    if not user.has_perm("registry.edit"):
        return None
    initial = {"estate": b.estate, "number": b.number, "address": b.address, "floors": b.floors, "units": b.units}
    return BuildingEditForm(initial=initial, prefix="b")


def _building_page(request, b, *, form, edit_form, status=200):
    houses = access.building_houses(request.user, b)
    houses.sort(key=lambda h: (h.unit, *_room_key(h)))
    units = []
    for unit, in_unit in groupby(houses, key=lambda h: h.unit):
        floors = [{"floor": fl, "houses": list(hs)} for fl, hs in groupby(in_unit, key=lambda h: h.floor)]
        units.append({"unit": unit, "floors": floors})
    return render(request, "registry/building_detail.html", {
        "building": b, "units": units, "house_total": len(houses), "form": form, "edit_form": edit_form,
        "crumbs": b.region.ancestors_and_self(),
    }, status=status)


@registry_view()
@require_http_methods(["GET", "POST"])
def house_detail(request, pk):
    user = request.user
    house = access.house(user, pk)
    form = None
    if user.has_perm("registry.edit"):
        form = HouseholdForm(request.POST or None, prefix="hh")
        if request.method == "POST" and (done := submit(form, lambda d: services.create_household(
                user, house=house, number=d["number"]))):
            messages.success(request, _("Household added; now register its members."))
            return redirect("registry:household_detail", done.value.pk)
    elif request.method == "POST":
        raise PermissionDenied
    edit_form = None
    if user.has_perm("registry.edit"):
        edit_form = HouseEditForm(initial={"use": house.use, "area": house.area}, prefix="e")
    return _house_page(request, house, form=form, edit_form=edit_form)


@registry_view("registry.edit")
@require_POST
def house_edit(request, pk):
    house = access.house(request.user, pk)
    form = HouseEditForm(request.POST, prefix="e")
    if submit(form, lambda d: services.update_house(request.user, house, use=d["use"], area=d["area"])):
        messages.success(request, _("House saved."))
        return redirect("registry:house_detail", house.pk)
    return _house_page(request, house, form=HouseholdForm(prefix="hh"), edit_form=form, status=400)


def _house_page(request, house, *, form, edit_form, status=200):
    return render(request, "registry/house_detail.html", {
        "house": house, "households": access.house_households(request.user, house), "form": form, "edit_form": edit_form,
        "crumbs": house.region.ancestors_and_self(),
    }, status=status)


@registry_view()
@require_http_methods(["GET"])
def household_detail(request, pk):
    user = request.user
    hh = access.household(user, pk)
    members = list(access.members(user, hh))
    members.sort(key=lambda r: (r.relation != Relation.HEAD, r.birth_date))
    access.with_open_tags(members)
    return render(request, "registry/household_detail.html", {
        "household": hh, "members": members, "history": access.household_history(user, hh),
        "crumbs": hh.region.ancestors_and_self(),
    })
