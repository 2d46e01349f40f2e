"""Every change to the registry. One `transaction.atomic` function per action; each checks the
actor's permission and scope, validates, writes, and leaves history (auditlog rows through the
model signals, ResidentEvent rows for moves and deaths). A refused action raises DomainError and
changes nothing.

`actor=None` means the system (demo generator, commands).
"""

import datetime as dt

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.access import in_scope
from accounts.models import PersonalDataAccess
from linli.errors import Conflict, DomainError, Forbidden
from regions.models import Level, Region

from ..hooks import household_changed
from ..models import (
    Building,
    CareTag,
    EventKind,
    House,
    Household,
    HouseholdMembership,
    Organization,
    Relation,
    Resident,
    ResidentEvent,
    ResidentStatus,
    ResidentTag,
)
from . import idnumber
from . import validators as v
from .pinyin import name_pinyin


def _require(actor, perm: str, path: str | None = None):
    if actor is None:
        return
    if not actor.has_perm(perm):
        raise Forbidden("forbidden", _("You do not have permission for this."))
    if path is not None and not in_scope(actor, path):
        raise Forbidden("forbidden", _("That is outside your area."))


def _grid(region: Region) -> Region:
    if region is None or region.level != Level.GRID:
        raise DomainError("region_not_grid", _("Choose a grid."), field="region")
    if region.valid_to is not None:
        raise DomainError("region_inactive", _("%(name)s has been closed; add places to its successor."), name=region.name)
    return region


# ---------------------------------------------------------------- places: buildings and houses

@transaction.atomic
def create_building(actor, *, grid: Region, estate: str, number: str, address: str = "", floors=6, units=1) -> Building:
    _grid(grid)
    _require(actor, "registry.edit", grid.path)
    estate = (estate or "").strip()
    number = str(number or "").strip().removesuffix("号楼")
    if not estate or not number:
        raise DomainError("building_incomplete", _("A building needs an estate (or street) and a number."), field="number")
    try:
        floors, units = int(floors), int(units)
    except (TypeError, ValueError):
        raise DomainError("building_size", _("Floors and units are whole numbers."), field="floors")
    if not (1 <= floors <= 200 and 1 <= units <= 50):
        raise DomainError("building_size", _("Floors run from 1 to 200 and units from 1 to 50."), field="floors")
    if Building.objects.filter(region=grid, estate=estate, number=number).exists():
        raise DomainError("building_exists", _("That building is already registered in this grid."), field="number")
    b = Building(estate=estate, number=number, address=(address or "").strip(), floors=floors, units=units)
    b.set_region(grid)
    b.save()
    return b


@transaction.atomic
def update_building(actor, building: Building, **fields) -> Building:
    _require(actor, "registry.edit", building.region_path)
    building = Building.objects.select_for_update().get(pk=building.pk)
    for key in ("estate", "number", "address"):
        if key in fields and fields[key] is not None:
            setattr(building, key, str(fields[key]).strip())
    for key, lo, hi in (("floors", 1, 200), ("units", 1, 50)):
        if key in fields and fields[key] is not None:
            try:
                value = int(fields[key])
            except (TypeError, ValueError):
                value = -1
            if not lo <= value <= hi:
                raise DomainError("building_size", _("Floors run from 1 to 200 and units from 1 to 50."), field=key)
            setattr(building, key, value)
    if not building.estate or not building.number:
        raise DomainError("building_incomplete", _("A building needs an estate (or street) and a number."), field="number")
    building.number = building.number.removesuffix("号楼")
    if Building.objects.filter(region_id=building.region_id, estate=building.estate, number=building.number).exclude(pk=building.pk).exists():
        raise DomainError("building_exists", _("That building is already registered in this grid."), field="number")
    highest = House.objects.filter(building=building).order_by("-unit").values_list("unit", flat=True).first()
    if highest and building.units < highest:
        raise DomainError("building_units_in_use", _("Unit %(n)s has houses registered; the building needs at least %(n)s units."),
                          field="units", n=highest)
    building.save()
    return building


@transaction.atomic
def archive_building(actor, building: Building) -> Building:
    """Take a building off the lists (its houses and history stay). Refused while people live in it."""
    _require(actor, "registry.edit", building.region_path)
    if Resident.objects.filter(household__house__building=building, status=ResidentStatus.ACTIVE).exists():
        raise Conflict("building_occupied", _("People still live in this building; record their moves first."))
    building = Building.objects.select_for_update().get(pk=building.pk)
    if building.archived_at is None:
        building.archived_at = timezone.now()
        building.save()
    return building


def _house_fields(building: Building, unit, room, use) -> tuple[int, str, str, int | None]:
    try:
        unit = int(unit or 1)
    except (TypeError, ValueError):
        raise DomainError("house_unit", _("Unit is a whole number."), field="unit")
    if not 1 <= unit <= max(building.units, 1):
        raise DomainError("house_unit", _("This building has units 1 to %(n)s."), field="unit", n=building.units)
    room = v.clean_text(room).replace(" ", "").removesuffix("室")
    if not room or len(room) > 20:
        raise DomainError("house_room", _("Room number is missing."), field="room")
    use = v.parse_house_use(use, field="use", default="owner")
    floor = int(room[:-2]) if room.isdigit() and len(room) >= 3 else None
    return unit, room, use, floor


@transaction.atomic
def create_house(actor, *, building: Building, unit=1, room: str, use="owner", area=None) -> House:
    _require(actor, "registry.edit", building.region_path)
    unit, room, use, floor = _house_fields(building, unit, room, use)
    if House.objects.filter(building=building, unit=unit, room=room).exists():
        raise DomainError("house_exists", _("That house is already registered."), field="room")
    h = House(building=building, unit=unit, room=room, use=use, floor=floor, area=area)
    h.region_id, h.region_path = building.region_id, building.region_path
    h.save()
    return h


@transaction.atomic
def update_house(actor, house: House, *, use=None, area=None) -> House:
    _require(actor, "registry.edit", house.region_path)
    house = House.objects.select_for_update().get(pk=house.pk)
    if use is not None:
        house.use = v.parse_house_use(use, field="use")
    if area is not None:
        house.area = area
    house.save()
    return house


@transaction.atomic
def create_household(actor, *, house: House, number: str = "") -> Household:
    _require(actor, "registry.edit", house.region_path)
    hh = Household(house=house, number=(number or "").strip())
    hh.region_id, hh.region_path = house.region_id, house.region_path
    hh.save()
    return hh


# ---------------------------------------------------------------- residents

PERSON_FIELDS = ("name", "id_number", "phone", "ethnicity", "residence_type", "political_status")


def clean_person(data: dict, *, partial: bool = False) -> dict:
    """Validate a resident's own fields; returns model values (id_number as IdNumber)."""
    out: dict = {}
    if not partial or "name" in data:
        out["name"] = v.parse_name(data.get("name"))
    if not partial or "id_number" in data:
        out["id_number"] = idnumber.parse(data.get("id_number"))
    if "phone" in data:
        out["phone"] = v.parse_phone(data.get("phone"))
    if "ethnicity" in data:
        eth = v.clean_text(data.get("ethnicity")) or "汉族"
        if len(eth) > 20:
            raise DomainError("ethnicity_invalid", _("Ethnicity has at most 20 characters."), field="ethnicity")
        out["ethnicity"] = eth if eth.endswith("族") or not eth else eth + "族"
    if "residence_type" in data:
        out["residence_type"] = v.parse_residence_type(data.get("residence_type"), field="residence_type", default="registered")
    if "political_status" in data:
        out["political_status"] = v.parse_political_status(data.get("political_status"), field="political_status", default="masses")
    return out


def _apply_person(r: Resident, clean: dict):
    if "name" in clean:
        r.name = clean["name"]
        r.pinyin, r.initials = name_pinyin(r.name)
    if "id_number" in clean:
        idn = clean["id_number"]
        r.set_id_number(idn.number)
        r.birth_date, r.gender = idn.birth_date, idn.gender
    if "phone" in clean:
        r.set_phone(clean["phone"])
    for key in ("ethnicity", "residence_type", "political_status"):
        if key in clean:
            setattr(r, key, clean[key])


def find_by_id_number(number: str) -> Resident | None:
    from linli.pii import blind_index

    return Resident.objects.filter(id_number_bidx=blind_index(number, "id_number")).first()


def _check_unique_id(r: Resident):
    clash = Resident.objects.filter(id_number_bidx=r.id_number_bidx).exclude(pk=r.pk).first()
    if clash is not None:
        raise Conflict(
            "id_number_taken",
            _("A resident with this ID number is already registered (%(masked)s); open that record instead."),
            field="id_number",
            masked=clash.id_number_masked,
        )


def _join(r: Resident, household: Household, relation: str, on: dt.date):
    if HouseholdMembership.objects.filter(resident=r, end_date__isnull=True).exists():
        raise Conflict(
            "resident_in_household",
            _("%(name)s already belongs to a household; record a move instead."),
            field="household",
            name=r.name,
        )
    if relation == Relation.HEAD and household.head_id and household.head_id != r.pk:
        head = Resident.objects.get(pk=household.head_id)
        if head.household_id == household.pk:
            raise Conflict("household_has_head", _("This household already has a head, %(name)s."), field="relation", name=head.name)
    try:
        with transaction.atomic():
            HouseholdMembership.objects.create(household=household, resident=r, relation=relation, start_date=on)
    except IntegrityError:
        raise Conflict("resident_in_household", _("%(name)s already belongs to a household; record a move instead."), name=r.name)
    r.household = household
    r.relation = relation
    r.region_id, r.region_path = household.region_id, household.region_path
    r.status = ResidentStatus.ACTIVE
    if relation == Relation.HEAD:
        household.head = r
        household.save(update_fields=["head"])


def _leave(r: Resident, on: dt.date):
    HouseholdMembership.objects.filter(resident=r, end_date__isnull=True).update(end_date=on)
    if r.household_id:
        hh = Household.objects.get(pk=r.household_id)
        if hh.head_id == r.pk:
            hh.head = None
            hh.save(update_fields=["head"])


@transaction.atomic
def register_resident(actor, *, household: Household, data: dict, relation="head", on=None, kind=EventKind.MOVE_IN, note="") -> Resident:
    """A person moves in (or is registered in place) into a household."""
    _require(actor, "registry.edit", household.region_path)
    if household.dissolved_on:
        raise DomainError("household_dissolved", _("That household no longer exists."), field="household")
    clean = clean_person(data)
    relation = v.parse_relation(relation, field="relation", default="head")
    on = v.parse_date(on, field="date") or timezone.localdate()
    r = Resident()
    _apply_person(r, clean)
    _check_unique_id(r)
    if on < r.birth_date:
        raise DomainError("date_before_birth", _("The date is before the person's birth."), field="date")
    r.region_id, r.region_path = household.region_id, household.region_path
    r.save()
    _join(r, household, relation, on)
    r.save()
    ResidentEvent.objects.create(resident=r, kind=kind, date=on, to_household=household, note=note, created_by=actor)
    refresh_age_tags(r)
    household_changed(household.pk)
    return r


@transaction.atomic
def update_resident(actor, resident: Resident, data: dict, *, expected_updated_at=None) -> Resident:
    _require(actor, "registry.edit", resident.region_path)
    r = Resident.objects.select_for_update().get(pk=resident.pk)
    if expected_updated_at is not None and r.updated_at != expected_updated_at:
        raise Conflict("stale", _("Someone else changed this resident meanwhile; reload and try again."))
    clean = clean_person(data, partial=True)
    _apply_person(r, clean)
    if "id_number" in clean:
        _check_unique_id(r)
    if "relation" in data and r.household_id:
        relation = v.parse_relation(data["relation"], field="relation")
        if relation != r.relation:
            if relation == Relation.HEAD:
                hh = Household.objects.select_for_update().get(pk=r.household_id)
                if hh.head_id and hh.head_id != r.pk:
                    raise Conflict("household_has_head", _("This household already has a head, %(name)s."), field="relation", name=hh.head.name)
                hh.head = r
                hh.save(update_fields=["head"])
            elif r.relation == Relation.HEAD:
                Household.objects.filter(pk=r.household_id, head=r).update(head=None)
            r.relation = relation
            HouseholdMembership.objects.filter(resident=r, end_date__isnull=True).update(relation=relation)
    r.save()
    refresh_age_tags(r)
    return r


def _active(r: Resident):
    if r.status != ResidentStatus.ACTIVE:
        raise DomainError("resident_not_active", _("%(name)s no longer lives here (%(state)s)."), name=r.name, state=r.get_status_display())


@transaction.atomic
def move_out(actor, resident: Resident, *, on=None, note="") -> Resident:
    _require(actor, "registry.edit", resident.region_path)
    r = Resident.objects.select_for_update().get(pk=resident.pk)
    _active(r)
    on = v.parse_date(on, field="date") or timezone.localdate()
    from_hh = r.household
    _leave(r, on)
    r.household = None
    r.status = ResidentStatus.MOVED_OUT
    r.save()
    ResidentEvent.objects.create(resident=r, kind=EventKind.MOVE_OUT, date=on, from_household=from_hh, note=note, created_by=actor)
    household_changed(from_hh.pk if from_hh else None)
    return r


@transaction.atomic
def move_house(actor, resident: Resident, *, household: Household, relation="other", on=None, note="") -> Resident:
    _require(actor, "registry.edit", resident.region_path)
    _require(actor, "registry.edit", household.region_path)
    r = Resident.objects.select_for_update().get(pk=resident.pk)
    _active(r)
    if r.household_id == household.pk:
        raise DomainError("same_household", _("%(name)s already lives in that household."), name=r.name)
    relation = v.parse_relation(relation, field="relation", default="other")
    on = v.parse_date(on, field="date") or timezone.localdate()
    from_hh = r.household
    _leave(r, on)
    _join(r, household, relation, on)
    r.save()
    ResidentTag.objects.filter(resident=r).update(region_path=r.region_path)
    ResidentEvent.objects.create(
        resident=r, kind=EventKind.MOVE_HOUSE, date=on, from_household=from_hh, to_household=household, note=note, created_by=actor
    )
    household_changed(from_hh.pk if from_hh else None, household.pk)
    return r


@transaction.atomic
def return_resident(actor, resident: Resident, *, household: Household, relation="other", on=None, note="") -> Resident:
    """A person who had moved out moves back in."""
    _require(actor, "registry.edit", household.region_path)
    r = Resident.objects.select_for_update().get(pk=resident.pk)
    if r.status != ResidentStatus.MOVED_OUT:
        raise DomainError("resident_not_moved_out", _("Only a person who moved out can move back in."))
    relation = v.parse_relation(relation, field="relation", default="other")
    on = v.parse_date(on, field="date") or timezone.localdate()
    _join(r, household, relation, on)
    r.save()
    ResidentTag.objects.filter(resident=r).update(region_path=r.region_path)
    ResidentEvent.objects.create(resident=r, kind=EventKind.MOVE_IN, date=on, to_household=household, note=note, created_by=actor)
    household_changed(household.pk)
    return r


@transaction.atomic
def record_death(actor, resident: Resident, *, on=None, note="") -> Resident:
    _require(actor, "registry.edit", resident.region_path)
    r = Resident.objects.select_for_update().get(pk=resident.pk)
    _active(r)
    on = v.parse_date(on, field="date") or timezone.localdate()
    if on < r.birth_date:
        raise DomainError("date_before_birth", _("The date is before the person's birth."), field="date")
    from_hh = r.household
    _leave(r, on)
    r.household = None
    r.status = ResidentStatus.DECEASED
    r.save()
    ResidentTag.objects.filter(resident=r, end_date__isnull=True).update(end_date=on)
    ResidentEvent.objects.create(resident=r, kind=EventKind.DEATH, date=on, from_household=from_hh, note=note, created_by=actor)
    household_changed(from_hh.pk if from_hh else None)
    return r


# ---------------------------------------------------------------- care tags

def refresh_age_tags(r: Resident, today: dt.date | None = None):
    """Tags derived from age (elderly, children) follow the birth date."""
    today = today or timezone.localdate()
    age = r.age(today)
    for tag in CareTag.objects.filter(active=True).exclude(min_age=None, max_age=None):
        fits = (tag.min_age is None or age >= tag.min_age) and (tag.max_age is None or age <= tag.max_age)
        fits = fits and r.status == ResidentStatus.ACTIVE
        open_row = ResidentTag.objects.filter(resident=r, tag=tag, end_date__isnull=True).first()
        if fits and open_row is None:
            ResidentTag.objects.create(resident=r, tag=tag, start_date=today, region_path=r.region_path)
            household_changed(r.household_id)
        elif not fits and open_row is not None:
            open_row.end_date = today
            open_row.save(update_fields=["end_date"])
            household_changed(r.household_id)


@transaction.atomic
def add_tag(actor, resident: Resident, tag: CareTag | str, *, on=None, note="") -> ResidentTag:
    _require(actor, "registry.edit", resident.region_path)
    if isinstance(tag, str):
        tag = CareTag.objects.filter(code=tag).first() or CareTag.objects.filter(name=tag).first()
        if tag is None:
            raise DomainError("tag_unknown", _("Unknown care tag."), field="tag")
    if not tag.active:
        raise DomainError("tag_inactive", _("The tag %(name)s is retired."), field="tag", name=tag.name)
    on = v.parse_date(on, field="date") or timezone.localdate()
    existing = ResidentTag.objects.filter(resident=resident, tag=tag, end_date__isnull=True).first()
    if existing:
        return existing
    row = ResidentTag.objects.create(resident=resident, tag=tag, start_date=on, note=note, region_path=resident.region_path)
    household_changed(resident.household_id)
    return row


@transaction.atomic
def end_tag(actor, resident: Resident, tag: CareTag, *, on=None) -> None:
    _require(actor, "registry.edit", resident.region_path)
    on = v.parse_date(on, field="date") or timezone.localdate()
    for row in ResidentTag.objects.filter(resident=resident, tag=tag, end_date__isnull=True):
        row.end_date = max(on, row.start_date)
        row.save(update_fields=["end_date"])
    household_changed(resident.household_id)


# ---------------------------------------------------------------- organisations

def valid_credit_code(code: str) -> bool:
    """GB 32100-2015 unified social credit code check character."""
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    weights = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
    if len(code) != 18 or any(c not in alphabet for c in code):
        return False
    total = sum(alphabet.index(c) * w for c, w in zip(code[:17], weights, strict=True))
    return alphabet[(31 - total % 31) % 31] == code[17]


def _org_fields(o: Organization, data: dict):
    from ..models import OrgKind

    if "name" in data:
        name = v.clean_text(data["name"])
        if not name or len(name) > 200 or "<" in name or ">" in name:
            raise DomainError("org_name", _("An organisation needs a name (at most 200 characters, no < or >)."), field="name")
        o.name = name
    if "kind" in data:
        kind = v.clean_text(data["kind"]) or "business"
        labels = {str(label): value for value, label in OrgKind.choices}
        labels.update({"企业": "business", "社会组织": "social", "学校": "school", "医院": "hospital", "机关": "government",
                       "事业单位": "government", "物业": "property", "物业公司": "property", "其他": "other"})
        kind = labels.get(kind, kind)
        if kind not in OrgKind.values:
            raise DomainError("org_kind", _("Unknown kind of organisation."), field="kind")
        o.kind = kind
    if "credit_code" in data:
        code = v.clean_text(data["credit_code"]).replace(" ", "").upper()
        if code and not valid_credit_code(code):
            raise DomainError("credit_code_invalid", _("The unified social credit code is not valid."), field="credit_code")
        o.credit_code = code
    for key in ("address", "contact_name"):
        if key in data:
            setattr(o, key, v.clean_text(data[key])[:200])
    if "contact_phone" in data:
        o.set_contact_phone(v.parse_phone(data["contact_phone"], field="contact_phone"))
    if "employees" in data and data["employees"] not in (None, ""):
        try:
            o.employees = int(data["employees"])
        except (TypeError, ValueError):
            raise DomainError("employees_invalid", _("Employees is a whole number."), field="employees")


@transaction.atomic
def create_organization(actor, *, grid: Region, data: dict) -> Organization:
    _grid(grid)
    _require(actor, "registry.edit", grid.path)
    o = Organization()
    o.set_region(grid)
    _org_fields(o, {"name": data.get("name", ""), **data})
    o.save()
    return o


@transaction.atomic
def update_organization(actor, org: Organization, data: dict) -> Organization:
    _require(actor, "registry.edit", org.region_path)
    o = Organization.objects.select_for_update().get(pk=org.pk)
    _org_fields(o, data)
    o.save()
    return o


@transaction.atomic
def archive_organization(actor, org: Organization) -> Organization:
    _require(actor, "registry.edit", org.region_path)
    Organization.objects.filter(pk=org.pk).update(archived_at=timezone.now())
    org.refresh_from_db()
    return org


# ---------------------------------------------------------------- personal data

REVEALABLE = {
    (Resident, "id_number"): Resident.reveal_id_number,
    (Resident, "phone"): Resident.reveal_phone,
    (Organization, "contact_phone"): Organization.reveal_contact_phone,
}


@transaction.atomic
def reveal(actor, obj, field: str, *, ip: str | None = None, reason: str = "") -> str:
    """The plain value of a protected field, after checking permission; writes an access row."""
    if actor is None or not actor.has_perm("registry.reveal"):
        raise Forbidden("reveal_forbidden", _("You do not have permission to see full personal data."))
    if not in_scope(actor, obj.region_path):
        raise Forbidden("forbidden", _("That is outside your area."))
    getter = REVEALABLE.get((type(obj), field))
    if getter is None:
        raise DomainError("reveal_field", _("That field cannot be revealed."), field="field")
    value = getter(obj)
    PersonalDataAccess.objects.create(
        user=actor,
        resident=obj if isinstance(obj, Resident) else None,
        organization=obj if isinstance(obj, Organization) else None,
        field=field,
        reason=(reason or "")[:200],
        ip=ip,
        region_path=obj.region_path,
    )
    return value
