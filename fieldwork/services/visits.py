"""Household visits: a grid worker records whom they met, what they found (a finding with a
category becomes a work order in the same transaction) and the photos; the visit counts towards
the household's due items at once. Also the parsing the other field services share: times from
a phone, checkboxes, coordinates and photos queued offline as data URLs.
"""

import datetime as dt

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from linli.errors import Conflict, DomainError
from registry.models import Household, Resident

from .. import access
from ..models import Visit, VisitKind, VisitPhoto
from . import dues

# A phone's clock may run a little ahead; anything later than this is "in the future".
CLOCK_SKEW = dt.timedelta(minutes=10)
# Visits queued offline may be sent days later, but not a visit from months ago.
OLDEST_VISIT = dt.timedelta(days=60)
MAX_PHOTOS = 9


def parse_when(value, *, field: str = "visited_at") -> dt.datetime:
    """An aware datetime from a datetime, an ISO string or nothing (now); refuses the future."""
    now = timezone.now()
    if value in (None, ""):
        return now
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise DomainError("when_invalid", _("That date and time is not valid."), field=field)
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        value = dt.datetime.combine(value, dt.time(12))
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    if value > now + CLOCK_SKEW:
        raise DomainError("when_future", _("The time %(when)s is in the future."), field=field, when=timezone.localtime(value).strftime("%Y-%m-%d %H:%M"))
    if value < now - OLDEST_VISIT:
        raise DomainError("when_too_old", _("The time %(when)s is more than 60 days ago."), field=field, when=timezone.localtime(value).strftime("%Y-%m-%d %H:%M"))
    return value


def _household(household) -> Household:
    if not isinstance(household, Household):
        try:
            household = Household.objects.select_related("house__building").get(pk=int(household))
        except (Household.DoesNotExist, ValueError, TypeError):
            raise DomainError("household_unknown", _("There is no such household."), field="household")
    if household.dissolved_on is not None:
        raise DomainError("household_dissolved", _("That household no longer exists."), field="household")
    return household


def _flag(value) -> bool:
    """A checkbox from a form, JSON or an offline payload ("false" and "0" are false)."""
    if isinstance(value, str):
        return value.strip().lower() not in ("", "0", "false", "off", "no", "none", "null")
    return bool(value)


def _ids(values, field: str) -> set[int]:
    if values in (None, ""):
        return set()
    if isinstance(values, (str, int)):
        values = [values]
    try:
        return {int(v) for v in values if str(v).strip()}
    except (TypeError, ValueError):
        raise DomainError("met_not_member", _("Only members of this household can be ticked as met."), field=field)


def _as_files(files) -> list:
    """Uploaded files as they are; photos queued offline arrive as data URLs
    ("data:image/jpeg;base64,...") and become in-memory uploads."""
    import base64
    import binascii

    from django.core.files.uploadedfile import SimpleUploadedFile

    out = []
    for i, f in enumerate(files or ()):
        if isinstance(f, str):
            head, sep, data = f.partition(",")
            if not sep or not head.startswith("data:") or ";base64" not in head:
                raise DomainError("photo_invalid", _("A photo could not be read; take it again."), field="files")
            try:
                raw = base64.b64decode(data, validate=False)
            except (binascii.Error, ValueError):
                raise DomainError("photo_invalid", _("A photo could not be read; take it again."), field="files")
            content_type = head[5:].split(";")[0] or "application/octet-stream"
            ext = content_type.rsplit("/", 1)[-1] if "/" in content_type else "bin"
            f = SimpleUploadedFile(f"photo{i + 1}.{ext}", raw, content_type=content_type)
        elif isinstance(f, dict) and "data" in f:
            f = _as_files([f["data"]])[0]
        out.append(f)
    return out


def _coord(value, lo, hi, field):
    if value in (None, ""):
        return None
    try:
        f = float(value)
    except (TypeError, ValueError):
        raise DomainError("location_invalid", _("The location is not valid."), field=field)
    if not lo <= f <= hi:
        raise DomainError("location_invalid", _("The location is not valid."), field=field)
    return f


@transaction.atomic
def record_visit(
    actor,
    *,
    household,
    visited_at=None,
    kind: str = VisitKind.ROUTINE,
    met=(),
    met_note: str = "",
    nobody_home: bool = False,
    notes: str = "",
    findings: str = "",
    finding_category=None,
    finding_title: str = "",
    finding_urgent: bool = False,
    follows_order=None,
    follows_case=None,
    lat=None,
    lng=None,
    files=(),
    client_key: str = "",
) -> Visit:
    """Record a visit to a household of the actor's grid. A finding with a category becomes a
    work order (incident or resident demand) in the same transaction. With a `client_key` (an
    offline upload), a second call with the same key returns the first visit unchanged."""
    client_key = (client_key or "").strip()[:64]
    if client_key:
        existing = Visit.objects.filter(worker=actor, client_key=client_key).first()
        if existing is not None:
            return existing
    household = _household(household)
    access.require_field_area(actor, household.region_path)
    when = parse_when(visited_at)
    if kind not in VisitKind.values:
        raise DomainError("kind_invalid", _("Choose the kind of visit."), field="kind")
    met_ids = _ids(met, "met")
    members = set(Resident.objects.filter(pk__in=met_ids, household=household).values_list("pk", flat=True)) if met_ids else set()
    if met_ids - members:
        raise DomainError("met_not_member", _("Only members of this household can be ticked as met."), field="met")
    notes, findings = (notes or "").strip(), (findings or "").strip()
    met_note, nobody_home = (met_note or "").strip(), _flag(nobody_home)
    if not (members or met_note or nobody_home or notes):
        raise DomainError("visit_empty", _("Say whom you met (or that nobody was home) or write a note."), field="met")
    order_obj = case_obj = None
    if kind == VisitKind.FOLLOW_UP:
        order_obj, case_obj = _follows(actor, follows_order, follows_case)
    visit = Visit(
        household=household,
        worker=actor,
        visited_at=when,
        kind=kind,
        met_note=met_note[:200],
        nobody_home=nobody_home,
        notes=notes[:4000],
        findings=findings[:4000],
        follows_order=order_obj,
        follows_case=case_obj,
        lat=_coord(lat, -90, 90, "lat"),
        lng=_coord(lng, -180, 180, "lng"),
        client_key=client_key,
    )
    # The ids are on the household already (household.region would be one more query).
    visit.region_id, visit.region_path = household.region_id, household.region_path
    if finding_category not in (None, ""):
        visit.order = _report_finding(actor, visit, household, finding_category, finding_title, findings, _flag(finding_urgent))
    try:
        with transaction.atomic():
            visit.save()
    except IntegrityError:
        # The same offline upload arrived twice at once and the other request saved it first.
        raise Conflict("visit_duplicate", _("This visit was already received."))
    if members:
        # A new visit has no rows yet: one INSERT (met.set() would read them first).
        Visit.met.through.objects.bulk_create([Visit.met.through(visit_id=visit.pk, resident_id=m) for m in sorted(members)])
    _save_photos(visit, _as_files(files))
    dues.count_visit(visit)
    return visit


def _follows(actor, follows_order, follows_case):
    from workorders import access as wo_access

    order_obj = case_obj = None
    if follows_order not in (None, ""):
        order_obj = wo_access.order(actor, getattr(follows_order, "pk", follows_order))
    if follows_case not in (None, ""):
        from mediation.models import Case

        pk = getattr(follows_case, "pk", follows_case)
        case_obj = Case.objects.select_related("order").filter(pk=pk).first() if str(pk).isdigit() else None
        if case_obj is None or not access.may_work_in(actor, case_obj.order.region_path):
            from linli.errors import NotFound

            raise NotFound("not_found", _("Not found, or outside your area."))
    if order_obj is None and case_obj is None:
        raise DomainError("follow_up_target", _("Say which work order or mediation case this visit follows up."), field="follows_order")
    return order_obj, case_obj


def _report_finding(actor, visit, household, category, title, findings, urgent):
    from workorders import services as wo
    from workorders.models import Source

    if not findings:
        raise DomainError("finding_required", _("Describe what was found."), field="findings")
    category = _finding_category(category)
    return wo.report(
        actor,
        category=category,
        source=Source.GRID,
        title=title,
        description=findings,
        region=household.region,
        lat=visit.lat,
        lng=visit.lng,
        address=str(household.house),
        urgent=bool(urgent),
        client="visit",
    )


def _finding_category(category):
    """A finding becomes an incident or a resident demand, nothing else (a service application
    or a mediation case has its own intake)."""
    from workorders.models import Category, Kind

    if not isinstance(category, Category):
        value = str(category).strip()
        found = Category.objects.filter(pk=int(value)).first() if value.isdigit() else Category.objects.filter(code=value).first()
        if found is None:
            raise DomainError("category_unknown", _("There is no such category of work."), field="finding_category")
        category = found
    if category.kind not in (Kind.INCIDENT, Kind.DEMAND):
        raise DomainError("finding_kind", _("A finding becomes an incident or a resident demand; choose one of those."), field="finding_category")
    return category


def _save_photos(visit: Visit, files):
    if not files:
        return
    from workorders.services import uploads

    if len(files) > MAX_PHOTOS:
        raise DomainError("too_many_photos", _("Attach at most %(n)s photos to a visit."), field="files", n=MAX_PHOTOS)
    for f in files:
        content_type = uploads.check(f)
        if not content_type.startswith("image/"):
            raise DomainError("photo_only", _("Only photos can be attached to a visit."), field="files")
        thumb = uploads.thumbnail(f, content_type)
        photo = VisitPhoto(visit=visit, content_type=content_type, size=f.size)
        photo.file.save(getattr(f, "name", "photo.jpg"), f, save=False)
        if thumb is not None:
            photo.thumbnail.save("thumb.jpg", thumb, save=False)
        photo.save()
