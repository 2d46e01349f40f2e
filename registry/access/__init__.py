"""Registry querysets scoped to the acting user, with what their pages need joined in, and the
reads the pages and the API make of them (search.py: the resident search; history.py: a
resident's events and recorded changes).

The place of each row is joined without its boundary GeoJSON (a list of 50 residents would
otherwise load and parse its grid's polygon 50 times); a page that draws it reads it itself."""

from django.db.models import Count, Q
from django.utils.translation import gettext_lazy as _

from accounts.access import get_scoped, in_scope, scoped
from linli.db import prefix_q
from linli.errors import Forbidden
from regions.access import place
from regions.models import Level, Region

from ..models import (
    Building,
    CareTag,
    House,
    Household,
    HouseholdMembership,
    ImportJob,
    Organization,
    Relation,
    Resident,
    ResidentEvent,
    ResidentStatus,
    ResidentTag,
)


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


def organization_incl_archived(user, pk) -> Organization:
    """One organisation of the user's area, archived ones included (what archiving answers)."""
    return get_scoped(Organization.objects.select_related("region"), user, pk)


def region_path(user, region_id: int | None) -> str:
    """The path of a place in the user's area (NotFound outside it), or "" when none is named."""
    return place(user, region_id).path if region_id is not None else ""


def import_job(user, pk) -> ImportJob:
    return get_scoped(import_jobs(user).select_related("region", "created_by"), user, pk)


# ---------------------------------------------------------------- what the pages and the API read

def care_tags_all() -> list[CareTag]:
    """Every care tag, retired ones too (the list's badges and filter chips)."""
    return list(CareTag.objects.all())


def with_open_tags(residents: list, care_tags: list | None = None) -> list:
    """Attach the open care tags to each resident (one query of ids for the page; the handful of
    care tags themselves are read once, or given by a caller that has them already)."""
    kinds = {t.pk: t for t in (CareTag.objects.all() if care_tags is None else care_tags)}
    tags: dict[int, list] = {}
    rows = ResidentTag.objects.filter(resident_id__in=[r.pk for r in residents], end_date__isnull=True)
    for resident_id, tag_id in rows.values_list("resident_id", "tag_id"):
        tags.setdefault(resident_id, []).append(kinds[tag_id])
    for r in residents:
        r.open_tags = sorted(tags.get(r.pk, []), key=lambda t: (t.sort, t.pk))
    return residents


def open_tags(residents: list) -> dict[int, list[ResidentTag]]:
    """The open care tags of each resident, with their tags, in the tags' order (one query)."""
    rows = ResidentTag.objects.filter(resident__in=[r.pk for r in residents], end_date__isnull=True).select_related("tag")
    out: dict[int, list[ResidentTag]] = {}
    for t in rows.order_by("tag__sort", "tag__code"):
        out.setdefault(t.resident_id, []).append(t)
    return out


def open_tag(resident: Resident, code: str) -> CareTag | None:
    """The care tag `code` when the resident has it open, else None."""
    tag = CareTag.objects.filter(code=code).first()
    if tag is None or not ResidentTag.objects.filter(resident=resident, tag=tag, end_date__isnull=True).exists():
        return None
    return tag


def resident_tags(resident: Resident) -> tuple[list[ResidentTag], list[ResidentTag]]:
    """The resident's open care tags, and the last 20 ended."""
    open_ = list(resident.tags.filter(end_date__isnull=True).select_related("tag").order_by("tag__sort"))
    ended = list(resident.tags.filter(end_date__isnull=False).select_related("tag").order_by("-end_date")[:20])
    return open_, ended


def grids_with_building_counts(user, region: Region) -> list[Region]:
    """The active grids under `region` in the user's area (at most 500), each with
    `building_count`."""
    grids = list(scoped(Region.objects.filter(level=Level.GRID, path__startswith=region.path, valid_to__isnull=True), user,
                        field="path").order_by("path")[:500])
    counts = dict(buildings(user).filter(region__in=grids).values_list("region").annotate(n=Count("id")))
    for g in grids:
        g.building_count = counts.get(g.pk, 0)
    return grids


def grid_buildings(user, grid: Region):
    """The buildings of one grid, each with `house_count` and `household_count` (open ones)."""
    return (
        buildings(user).filter(region=grid)
        .annotate(house_count=Count("houses", distinct=True),
                  household_count=Count("houses__households", filter=Q(houses__households__dissolved_on__isnull=True), distinct=True))
        .order_by("estate", "number", "pk")
    )


def building_houses(user, building: Building) -> list[House]:
    """The houses of a building, each with `household_count` (open ones) and `people` (living there)."""
    return list(
        houses(user).filter(building=building)
        .annotate(household_count=Count("households", filter=Q(households__dissolved_on__isnull=True), distinct=True),
                  people=Count("households__members", filter=Q(households__members__status=ResidentStatus.ACTIVE), distinct=True))
    )


def house_households(user, house: House):
    """The open households of a house, each with `member_count` (living there)."""
    return (
        households(user).filter(house=house, dissolved_on__isnull=True)
        .annotate(member_count=Count("members", filter=Q(members__status=ResidentStatus.ACTIVE)))
        .order_by("pk")
    )


def members(user, household: Household):
    """The people living in a household, in id order."""
    return residents(user).filter(household=household, status=ResidentStatus.ACTIVE).order_by("pk")


def has_head(user, household: Household) -> bool:
    return residents(user).filter(household=household, relation=Relation.HEAD, status=ResidentStatus.ACTIVE).exists()


def household_history(user, household: Household) -> list[dict]:
    """Who moved into and out of a household (the last 100 events); `visible` when the person
    is in the user's area, and the relation they joined with."""
    relations = {m.resident_id: m.get_relation_display()
                 for m in HouseholdMembership.objects.filter(household=household).order_by("start_date")}
    events = ResidentEvent.objects.filter(Q(from_household=household) | Q(to_household=household)).select_related(
        "resident", "created_by")[:100]
    history = []
    for e in events:
        history.append({"at": e.date, "who": e.created_by, "title": e.get_kind_display(), "resident": e.resident,
                        "visible": in_scope(user, e.resident.region_path), "note": e.note,
                        "relation": relations.get(e.resident_id, "") if e.to_household_id == household.pk else ""})
    return history


def organizations_to_export(user, region_path: str = ""):
    """The active organisations of the user's area (under `region_path` when given)."""
    qs = scoped(Organization.objects.filter(archived_at__isnull=True), user)
    if region_path:
        qs = qs.filter(prefix_q("region_path", region_path))
    return qs


def place_options(user, levels, limit: int) -> list[Region]:
    """Active places of the given levels in the user's area, in tree order (at most `limit`)."""
    return list(
        scoped(Region.objects.filter(level__in=levels, valid_to__isnull=True), user, field="path")
        .order_by("path")
        .only("id", "path", "name", "level")[:limit]
    )


def place_names(paths) -> dict[str, str]:
    """Names of the places at `paths`, by path."""
    return dict(Region.objects.filter(path__in=paths).values_list("path", "name")) if paths else {}


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
    from ..services import pinyin  # noqa: F401
