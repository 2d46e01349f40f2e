"""Registry querysets scoped to the acting user, with what their pages need joined in.

The place of each row is joined without its boundary GeoJSON (a list of 50 residents would
otherwise load and parse its grid's polygon 50 times); a page that draws it reads it itself."""

from django.utils.translation import gettext_lazy as _

from accounts.access import get_scoped, scoped
from linli.errors import Forbidden

from .models import Building, House, Household, ImportJob, Organization, Resident


def require(user, perm: str):
    if not user.has_perm(perm):
        raise Forbidden("forbidden", _("You do not have permission for this."))


def residents(user):
    require(user, "registry.view")
    return scoped(Resident.objects.select_related("household__house__building", "region").defer("region__boundary"), user)


def buildings(user):
    require(user, "registry.view")
    return scoped(Building.objects.select_related("region").defer("region__boundary").filter(archived_at__isnull=True), user)


def houses(user):
    require(user, "registry.view")
    return scoped(House.objects.select_related("building", "region").defer("region__boundary"), user)


def households(user):
    require(user, "registry.view")
    return scoped(Household.objects.select_related("house__building", "head", "region").defer("region__boundary"), user)


def organizations(user):
    require(user, "registry.view")
    return scoped(Organization.objects.select_related("region").defer("region__boundary").filter(archived_at__isnull=True), user)


def import_jobs(user):
    require(user, "registry.import")
    return scoped(ImportJob.objects.all(), user)


def resident(user, pk) -> Resident:
    return get_scoped(residents(user), user, pk)


def building(user, pk) -> Building:
    return get_scoped(buildings(user), user, pk)


def house(user, pk) -> House:
    return get_scoped(houses(user), user, pk)


def household(user, pk) -> Household:
    return get_scoped(households(user), user, pk)


def organization(user, pk) -> Organization:
    return get_scoped(organizations(user), user, pk)
