"""Registry querysets scoped to the acting user, with what their pages need joined in.

The place of each row is joined without its boundary GeoJSON (a list of 50 residents would
otherwise load and parse its grid's polygon 50 times); a page that draws it reads it itself."""

from django.db.models import Count
from django.utils.translation import gettext_lazy as _

from accounts.access import get_scoped, scoped
from linli.errors import Forbidden

from .models import Building, CareTag, House, Household, ImportJob, Organization, Resident, ResidentStatus, ResidentTag


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


# ---------------------------------------------------------------- what the shell shows

# Care-tag shortcuts on the community and grid home pages (codes of CareTag rows).
CARE_SHORTCUTS = ["elderly", "elderly80", "dibao", "tekun", "empty_nest", "living_alone", "severe_disabled", "left_behind"]


def care_tags() -> list[CareTag]:
    tags = {t.code: t for t in CareTag.objects.filter(code__in=CARE_SHORTCUTS, active=True)}
    return [tags[c] for c in CARE_SHORTCUTS if c in tags]


def grid_home(request, grid) -> dict:
    """A grid worker's home: cheap counts over the one grid, and its care groups with counts."""
    path = grid.path
    stats = [
        (_("Buildings"), Building.objects.filter(region_path__startswith=path, archived_at__isnull=True).count()),
        (_("Households"), Household.objects.filter(region_path__startswith=path, dissolved_on__isnull=True).count()),
        (_("Residents"), Resident.objects.filter(region_path__startswith=path, status=ResidentStatus.ACTIVE).count()),
    ]
    tags = care_tags()
    per_tag = dict(
        ResidentTag.objects.filter(region_path__startswith=path, end_date__isnull=True, tag__in=tags).values_list("tag_id").annotate(n=Count("id"))
    )
    for t in tags:
        t.count = per_tag.get(t.pk, 0)
    return {"stats": stats, "tags": tags}


def community_home(request, community) -> dict:
    return {"tags": care_tags()}


def resident_home(request, grid) -> dict:
    """A resident's own household, its active members (masked numbers only)."""
    me = request.user.resident
    household = me.household if me and me.household_id else None
    members = []
    if household is not None:
        members = list(Resident.objects.filter(household=household, status=ResidentStatus.ACTIVE).order_by("relation", "birth_date"))
        members.sort(key=lambda r: (r.relation != "head", r.birth_date))
    return {"household": household, "members": members}


def contents_of(path: str) -> list[tuple]:
    """What a merge of the place at `path` moves (regions.hooks)."""
    return [
        (_("Buildings"), Building.objects.filter(region_path__startswith=path, archived_at__isnull=True).count()),
        (_("Households"), Household.objects.filter(region_path__startswith=path, dissolved_on__isnull=True).count()),
        (_("Residents"), Resident.objects.filter(region_path__startswith=path, status=ResidentStatus.ACTIVE).count()),
        (_("Organisations"), Organization.objects.filter(region_path__startswith=path, archived_at__isnull=True).count()),
    ]


def load_pinyin() -> None:
    """The pinyin dictionaries (pypinyin: 47,000 phrases and 42,000 characters), loaded once per
    server process before its first request (linli.startup)."""
    from .services import pinyin  # noqa: F401
