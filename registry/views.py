"""Registry pages: resident search, the drill-down grid → building → house → household → resident,
the resident page (reveal, care tags, events, history), organisations, import and export.

Views parse input, call registry/services.py, render. Rows come through registry/access.py, so an
id outside the user's area is a 404; a missing permission is a 403.
"""

import datetime as dt
import os
import re
import tempfile
from dataclasses import dataclass
from html import escape as esc
from itertools import groupby
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import FieldDoesNotExist, PermissionDenied
from django.db.models import Count, Q
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from accounts.access import get_scoped, in_scope, scoped
from linli.errors import DomainError, NotFound
from linli.pages import page, raise_access
from regions.access import home_region
from regions.models import Level, Region

from . import access, search, services
from .forms import (
    STATUS_FILTERS,
    BuildingEditForm,
    BuildingForm,
    EventForm,
    HouseEditForm,
    HouseForm,
    HouseholdForm,
    ImportForm,
    OrganizationForm,
    ResidentEditForm,
    ResidentForm,
    TagForm,
    filter_region_options,
)
from .models import (
    CareTag,
    Gender,
    HouseholdMembership,
    ImportStatus,
    Relation,
    Resident,
    ResidentEvent,
    ResidentStatus,
    ResidentTag,
)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def registry_view(perm: str = "registry.view"):
    """Login required; `perm` or 403; access-layer NotFound → 404, Forbidden → 403."""
    return page(perm)


_raise_access = raise_access


def _region(user, pk) -> Region:
    return get_scoped(Region.objects.all(), user, pk, field="path")


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


# ------------------------------------------------------------------ residents: list, search, export

@dataclass
class Filters:
    q: str
    tag: str
    status: str
    region: Region | None

    @property
    def service_status(self) -> str:
        return "" if self.status == "all" else self.status

    def query(self, **extra) -> str:
        params = {"q": self.q, "tag": self.tag, "status": self.status, "region": self.region.pk if self.region else ""}
        params.update(extra)
        return urlencode({k: v for k, v in params.items() if v not in ("", None)})


def _filters(request) -> Filters:
    g = request.GET
    status = g.get("status") or ResidentStatus.ACTIVE
    if status not in {s for s, _label in STATUS_FILTERS}:
        status = ResidentStatus.ACTIVE
    region = _region(request.user, g["region"]) if g.get("region") else None
    return Filters(q=(g.get("q") or "").strip()[:100], tag=(g.get("tag") or "").strip()[:30], status=status, region=region)


def _list_rows(residents: list, care_tags: list | None = None) -> list:
    """Each row of the resident list as its HTML (`r.html`), written here rather than by a
    template loop: the list renders 50 rows per page and per keystroke; template tags per row
    (url, include, plural blocks) cost ~0.3 ms a row, the loop of variables ~0.04 ms, this
    ~0.01 ms. Every value is escaped (html.escape, which django.utils.html.escape wraps); the
    badges and age phrases are written once per page."""
    _with_tags(residents, care_tags)
    if not residents:
        return residents
    prefix = reverse("registry:resident_detail", args=[0])[:-2]  # ".../residents/" before the id
    genders = {k: esc(str(v)) for k, v in Gender.choices}
    statuses = {k: esc(str(v)) for k, v in ResidentStatus.choices}
    head_label = esc(_("Head"))
    head = f' <span class="badge muted">{head_label}</span>'
    badges: dict[int, str] = {}
    years: dict[int, str] = {}
    today = timezone.localdate()
    for r in residents:
        n = r.age(today)
        main = [esc(r.name)]
        if r.relation == Relation.HEAD:
            main.append(head)
        if r.status != ResidentStatus.ACTIVE:
            main.append(f' <span class="badge muted">{statuses.get(r.status) or esc(r.status)}</span>')
        for t in r.open_tags:
            badge = badges.get(t.pk)
            if badge is None:
                badge = badges[t.pk] = f' <span class="badge {esc(t.category)}">{esc(t.name)}</span>'
            main.append(badge)
        age = years.get(n)
        if age is None:
            age = years[n] = esc(ngettext("%(n)s year", "%(n)s years", n) % {"n": n})
        meta = f'{genders.get(r.gender, "")} · {age} · <span class="masked">{esc(r.id_number_masked)}</span>'
        if r.phone_masked:
            meta += f' · <span class="masked">{esc(r.phone_masked)}</span>'
        if r.address:
            meta += f"<br>{esc(r.address)}"
        r.html = mark_safe(f'<li><a href="{prefix}{r.pk}/">\n  <span class="row-main">{"".join(main)}</span>\n'
                           f'  <span class="row-meta">{meta}</span>\n</a></li>\n')
    return residents


def _with_tags(residents: list, care_tags: list | None = None) -> list:
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


@registry_view()
@require_http_methods(["GET"])
def resident_list(request):
    f = _filters(request)
    after = _int(request.GET.get("after"))
    page = search.search_residents(request.user, f.q, tag=f.tag, status=f.service_status,
                                   region_path=f.region.path if f.region else "", after=after, columns=search.LIST_COLUMNS)
    care_tags = list(CareTag.objects.all())  # the rows' badges and the filter chips
    ctx = {
        "f": f,
        "rows": _list_rows(page.rows, care_tags),
        "next_after": page.next_after,
        "more_url": f"{reverse('registry:resident_list')}?{f.query(after=page.next_after)}" if page.next_after else "",
        "export_url": f"{reverse('registry:export')}?{f.query()}",
        "query_kind": page.query_kind,
        "chips": [
            {"tag": t, "active": t.code == f.tag,
             "url": f"{reverse('registry:resident_list')}?{f.query(tag='' if t.code == f.tag else t.code)}"}
            for t in care_tags if t.active
        ],
        "region_value": str(f.region.pk) if f.region else "",
        "status_filters": STATUS_FILTERS,
        "regions": filter_region_options(request.user),
    }
    if request.htmx and after:
        return render(request, "registry/_resident_more.html", ctx)
    if request.htmx:
        return render(request, "registry/_resident_results.html", ctx)
    return render(request, "registry/resident_list.html", ctx)


@registry_view("registry.export")
@require_http_methods(["GET"])
def export(request):
    from .exports import export_residents_xlsx

    f = _filters(request)
    fd, path = tempfile.mkstemp(prefix="linli-export-", suffix=".xlsx")
    os.close(fd)
    try:
        path = export_residents_xlsx(request.user, q=f.q, tag=f.tag, region_path=f.region.path if f.region else "", out=path)
        handle = open(path, "rb")
    finally:
        if os.path.exists(path):
            os.unlink(path)  # the open handle keeps the data until the response is sent
    place = f.region or home_region(request.user)
    name = f"居民台账-{place.name if place else ''}-{timezone.localdate():%Y%m%d}.xlsx".replace("--", "-")
    return FileResponse(handle, as_attachment=True, filename=name, content_type=XLSX)


# ------------------------------------------------------------------ drill-down: buildings, houses, households

@registry_view()
@require_http_methods(["GET", "POST"])
def building_list(request):
    user = request.user
    region = _region(user, request.GET["region"]) if request.GET.get("region") else home_region(user)
    if region is None or not in_scope(user, region.path):
        raise Http404
    form = None
    if user.has_perm("registry.edit"):
        initial = {"grid": str(region.pk)} if region.level == Level.GRID else {}
        form = BuildingForm(request.POST or None, user=user, initial=initial, prefix="b")
        if request.method == "POST" and form.is_valid():
            d = form.cleaned_data
            try:
                grid = _region(user, d["grid"])
                b = services.create_building(user, grid=grid, estate=d["estate"], number=d["number"], address=d["address"],
                                             floors=d["floors"] or 6, units=d["units"] or 1)
            except DomainError as e:
                _raise_access(e)
                form.apply_error(e)
            else:
                messages.success(request, _("Building %(name)s registered.") % {"name": str(b)})
                return redirect("registry:building_detail", b.pk)
    elif request.method == "POST":
        raise PermissionDenied
    ctx = {"region": region, "form": form, "crumbs": region.ancestors_and_self()}
    if region.level == Level.GRID:
        ctx["buildings"] = (
            access.buildings(user).filter(region=region)
            .annotate(house_count=Count("houses", distinct=True),
                      household_count=Count("houses__households", filter=Q(houses__households__dissolved_on__isnull=True), distinct=True))
            .order_by("estate", "number", "pk")
        )
    else:
        grids = list(scoped(Region.objects.filter(level=Level.GRID, path__startswith=region.path, valid_to__isnull=True), user, field="path")
                     .order_by("path")[:500])
        counts = dict(access.buildings(user).filter(region__in=grids).values_list("region").annotate(n=Count("id")))
        for g in grids:
            g.building_count = counts.get(g.pk, 0)
        ctx["grids"] = grids
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
        if request.method == "POST" and form.is_valid():
            d = form.cleaned_data
            try:
                h = services.create_house(user, building=b, unit=d["unit"], room=d["room"], use=d["use"], area=d["area"])
            except DomainError as e:
                _raise_access(e)
                form.apply_error(e)
            else:
                messages.success(request, _("House %(name)s registered.") % {"name": h.short_label})
                return redirect("registry:building_detail", b.pk)
    elif request.method == "POST":
        raise PermissionDenied
    return _building_page(request, b, form=form, edit_form=_building_edit_form(user, b))


@registry_view("registry.edit")
@require_POST
def building_edit(request, pk):
    b = access.building(request.user, pk)
    form = BuildingEditForm(request.POST, prefix="b")
    if form.is_valid():
        try:
            services.update_building(request.user, b, **form.cleaned_data)
        except DomainError as e:
            _raise_access(e)
            form.apply_error(e)
        else:
            messages.success(request, _("Building saved."))
            return redirect("registry:building_detail", b.pk)
    return _building_page(request, b, form=HouseForm(prefix="h"), edit_form=form, status=400)


def _building_edit_form(user, b):
    if not user.has_perm("registry.edit"):
        return None
    initial = {"estate": b.estate, "number": b.number, "address": b.address, "floors": b.floors, "units": b.units}
    return BuildingEditForm(initial=initial, prefix="b")


def _building_page(request, b, *, form, edit_form, status=200):
    houses = list(
        access.houses(request.user).filter(building=b)
        .annotate(household_count=Count("households", filter=Q(households__dissolved_on__isnull=True), distinct=True),
                  people=Count("households__members", filter=Q(households__members__status=ResidentStatus.ACTIVE), distinct=True))
    )
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
        if request.method == "POST" and form.is_valid():
            try:
                hh = services.create_household(user, house=house, number=form.cleaned_data["number"])
            except DomainError as e:
                _raise_access(e)
                form.apply_error(e)
            else:
                messages.success(request, _("Household added; now register its members."))
                return redirect("registry:household_detail", hh.pk)
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
    if form.is_valid():
        try:
            services.update_house(request.user, house, use=form.cleaned_data["use"], area=form.cleaned_data["area"])
        except DomainError as e:
            _raise_access(e)
            form.apply_error(e)
        else:
            messages.success(request, _("House saved."))
            return redirect("registry:house_detail", house.pk)
    return _house_page(request, house, form=HouseholdForm(prefix="hh"), edit_form=form, status=400)


def _house_page(request, house, *, form, edit_form, status=200):
    households = (
        access.households(request.user).filter(house=house, dissolved_on__isnull=True)
        .annotate(member_count=Count("members", filter=Q(members__status=ResidentStatus.ACTIVE)))
        .order_by("pk")
    )
    return render(request, "registry/house_detail.html", {
        "house": house, "households": households, "form": form, "edit_form": edit_form,
        "crumbs": house.region.ancestors_and_self(),
    }, status=status)


@registry_view()
@require_http_methods(["GET"])
def household_detail(request, pk):
    user = request.user
    hh = access.household(user, pk)
    members = list(access.residents(user).filter(household=hh, status=ResidentStatus.ACTIVE).order_by("pk"))
    members.sort(key=lambda r: (r.relation != Relation.HEAD, r.birth_date))
    _with_tags(members)
    relations = {m.resident_id: m.get_relation_display() for m in HouseholdMembership.objects.filter(household=hh).order_by("start_date")}
    events = ResidentEvent.objects.filter(Q(from_household=hh) | Q(to_household=hh)).select_related("resident", "created_by")[:100]
    history = []
    for e in events:
        history.append({"at": e.date, "who": e.created_by, "title": e.get_kind_display(), "resident": e.resident,
                        "visible": in_scope(user, e.resident.region_path), "note": e.note,
                        "relation": relations.get(e.resident_id, "") if e.to_household_id == hh.pk else ""})
    return render(request, "registry/household_detail.html", {
        "household": hh, "members": members, "history": history,
        "crumbs": hh.region.ancestors_and_self(),
    })


def _check_person_fields(form, data: dict) -> bool:
    """Check each personal field on its own so that every wrong field gets its message at once
    (the service stops at the first); True when all are right."""
    ok = True
    for key, value in data.items():
        try:
            services.clean_person({key: value}, partial=True)
        except DomainError as e:
            form.apply_error(e)
            ok = False
    return ok


def _clash_link(user, error: DomainError, raw_number: str):
    """For "ID already registered": the existing record, when the user may open it."""
    if error.code != "id_number_taken":
        return None
    from .services import idnumber

    try:
        clash = services.find_by_id_number(idnumber.parse(raw_number).number)
    except DomainError:
        return None
    if clash is not None and in_scope(user, clash.region_path) and user.has_perm("registry.view"):
        return clash
    return None


@registry_view("registry.edit")
@require_http_methods(["GET", "POST"])
def resident_create(request, household_pk):
    user = request.user
    hh = access.household(user, household_pk)
    has_head = access.residents(user).filter(household=hh, relation=Relation.HEAD, status=ResidentStatus.ACTIVE).exists()
    initial = {"relation": Relation.OTHER if has_head else Relation.HEAD, "date": timezone.localdate().isoformat()}
    form = ResidentForm(request.POST or None, initial=initial)
    clash = None
    if request.method == "POST" and form.is_valid() and _check_person_fields(form, form.person_data()):
        d = form.cleaned_data
        try:
            r = services.register_resident(user, household=hh, data=form.person_data(), relation=d["relation"], on=d["date"] or None)
        except DomainError as e:
            _raise_access(e)
            clash = _clash_link(user, e, d.get("id_number", ""))
            form.apply_error(e)
        else:
            messages.success(request, _("%(name)s is registered.") % {"name": r.name})
            return redirect("registry:resident_detail", r.pk)
    return render(request, "registry/resident_form.html", {
        "household": hh, "form": form, "clash": clash, "crumbs": hh.region.ancestors_and_self(),
    })


# ------------------------------------------------------------------ the resident page

SECRET_FIELD = re.compile(r"(_enc|_bidx)$")
CIPHERTEXT = re.compile(r"^[\w-]+\$[A-Za-z0-9+/=]{16,}$")
HIDDEN_AUDIT_FIELDS = {"id", "region", "region_path", "household", "resident", "pinyin", "initials", "updated_at", "created_at"}


def _audit_value(field, value) -> str:
    if value in (None, "None", ""):
        return "—"
    value = str(value)
    if CIPHERTEXT.match(value):
        return "•••"
    if field is not None and getattr(field, "choices", None):
        return str(dict(field.choices).get(value, value))
    return value


def _audit_changes(entry) -> list[tuple[str, str, str]]:
    model = entry.content_type.model_class()
    out = []
    for name, values in (entry.changes_dict or {}).items():
        if name in HIDDEN_AUDIT_FIELDS or SECRET_FIELD.search(name):
            continue
        try:
            field = model._meta.get_field(name)
        except FieldDoesNotExist:
            field = None
        if field is not None and field.is_relation and name != "tag":
            continue
        label = str(field.verbose_name) if field is not None else name
        old, new = (list(values) + [None, None])[:2]
        if name == "tag":
            tags = dict(CareTag.objects.filter(pk__in=[_int(old), _int(new)]).values_list("pk", "name"))
            old, new = tags.get(_int(old)), tags.get(_int(new))
            label = _("Care tag")
        out.append((label, _audit_value(field, old), _audit_value(field, new)))
    return out


def resident_history(r: Resident) -> list[dict]:
    """Events and audit-log entries of a resident and their care tags, newest first. Values are
    the stored masked copies; encrypted columns are excluded from the audit log and never shown."""
    from auditlog.models import LogEntry

    items = []
    for e in r.events.select_related("created_by", "from_household__house__building", "to_household__house__building"):
        detail = []
        if e.from_household_id:
            detail.append(_("from %(place)s") % {"place": e.from_household.house})
        if e.to_household_id:
            detail.append(_("to %(place)s") % {"place": e.to_household.house})
        items.append({"at": e.created_at, "date": e.date, "who": e.created_by, "title": e.get_kind_display(),
                      "detail": ", ".join(detail), "note": e.note, "changes": []})
    tag_ids = [str(pk) for pk in r.tags.values_list("pk", flat=True)]
    ct_r = ContentType.objects.get_for_model(Resident)
    ct_t = ContentType.objects.get_for_model(ResidentTag)
    entries = LogEntry.objects.filter(
        Q(content_type=ct_r, object_id=r.pk) | Q(content_type=ct_t, object_id__in=tag_ids)
    ).select_related("actor", "content_type").order_by("-timestamp")[:200]
    titles = {
        (ct_r.pk, LogEntry.Action.CREATE): _("Record created"),
        (ct_r.pk, LogEntry.Action.UPDATE): _("Record changed"),
        (ct_t.pk, LogEntry.Action.CREATE): _("Care tag added"),
        (ct_t.pk, LogEntry.Action.UPDATE): _("Care tag changed"),
    }
    for entry in entries:
        changes = _audit_changes(entry)
        if entry.action == LogEntry.Action.UPDATE and not changes:
            continue
        title = titles.get((entry.content_type_id, entry.action), entry.get_action_display())
        if entry.content_type_id == ct_t.pk and entry.action == LogEntry.Action.UPDATE and any(
            c[0] == str(ResidentTag._meta.get_field("end_date").verbose_name) for c in changes
        ):
            title = _("Care tag ended")
        if entry.content_type_id == ct_t.pk and entry.action == LogEntry.Action.CREATE:
            changes = [c for c in changes if c[0] == _("Care tag")]
        items.append({"at": entry.timestamp, "date": None, "who": entry.actor, "title": title, "detail": "", "note": "",
                      "changes": changes})
    items.sort(key=lambda i: i["at"], reverse=True)
    return items


@registry_view()
@require_http_methods(["GET"])
def resident_detail(request, pk):
    user = request.user
    r = access.resident(user, pk)
    open_tags = list(r.tags.filter(end_date__isnull=True).select_related("tag").order_by("tag__sort"))
    ended_tags = list(r.tags.filter(end_date__isnull=False).select_related("tag").order_by("-end_date")[:20])
    can_edit = user.has_perm("registry.edit")
    return render(request, "registry/resident_detail.html", {
        "r": r,
        "open_tags": open_tags,
        "ended_tags": ended_tags,
        "tag_form": TagForm(initial={"date": timezone.localdate().isoformat()}) if can_edit else None,
        "can_edit": can_edit,
        "can_reveal": user.has_perm("registry.reveal"),
        "history": resident_history(r),
        "crumbs": r.region.ancestors_and_self(),
    })


REVEAL_FIELDS = {"id_number", "phone"}


@registry_view("registry.reveal")
@require_POST
@never_cache
def resident_reveal(request, pk, field):
    if field not in REVEAL_FIELDS:
        raise Http404
    r = access.resident(request.user, pk)
    value = services.reveal(request.user, r, field, ip=request.META.get("REMOTE_ADDR"), reason=request.POST.get("reason", ""))
    return render(request, "registry/_revealed.html", {"value": value})


@registry_view("registry.edit")
@require_http_methods(["GET", "POST"])
def resident_edit(request, pk):
    user = request.user
    r = access.resident(user, pk)
    initial = {
        "name": r.name, "ethnicity": r.ethnicity, "residence_type": r.residence_type,
        "political_status": r.political_status, "relation": r.relation, "updated_at": r.updated_at.isoformat(),
    }
    form = ResidentEditForm(request.POST or None, initial=initial, has_household=bool(r.household_id))
    clash = None
    if request.method == "POST" and form.is_valid() and _check_person_fields(
        form, {k: v for k, v in form.person_data().items() if k != "relation"}
    ):
        expected = None
        if form.cleaned_data.get("updated_at"):
            try:
                expected = dt.datetime.fromisoformat(form.cleaned_data["updated_at"])
            except ValueError:
                expected = None
        try:
            services.update_resident(user, r, form.person_data(), expected_updated_at=expected)
        except DomainError as e:
            _raise_access(e)
            clash = _clash_link(user, e, form.cleaned_data.get("id_number", ""))
            form.apply_error(e)
        else:
            messages.success(request, _("Changes saved."))
            return redirect("registry:resident_detail", r.pk)
    return render(request, "registry/resident_edit.html", {"r": r, "form": form, "clash": clash,
                                                            "crumbs": r.region.ancestors_and_self()})


@registry_view("registry.edit")
@require_POST
def resident_tag_add(request, pk):
    user = request.user
    r = access.resident(user, pk)
    form = TagForm(request.POST)
    if form.is_valid():
        d = form.cleaned_data
        try:
            rt = services.add_tag(user, r, d["tag"], on=d["date"] or None, note=d["note"])
        except DomainError as e:
            _raise_access(e)
            messages.error(request, e.text())
        else:
            messages.success(request, _("Care tag %(name)s added.") % {"name": rt.tag.name})
    else:
        messages.error(request, "; ".join(str(m) for errs in form.errors.values() for m in errs))
    return redirect("registry:resident_detail", r.pk)


@registry_view("registry.edit")
@require_POST
def resident_tag_end(request, pk, code):
    user = request.user
    r = access.resident(user, pk)
    tag = CareTag.objects.filter(code=code).first()
    if tag is None or not r.tags.filter(tag=tag, end_date__isnull=True).exists():
        raise Http404
    try:
        services.end_tag(user, r, tag, on=request.POST.get("date") or None)
    except DomainError as e:
        _raise_access(e)
        messages.error(request, e.text())
    else:
        messages.success(request, _("Care tag %(name)s ended.") % {"name": tag.name})
    return redirect("registry:resident_detail", r.pk)


EVENT_KINDS = {
    "move_out": (_("Move out"), False),
    "move_house": (_("Move to another household"), True),
    "return": (_("Move back in"), True),
    "death": (_("Record death"), False),
}


def _household_choices(user, near_path: str, hq: str, exclude=None) -> list[tuple[str, str]]:
    qs = access.households(user).filter(dissolved_on__isnull=True)
    kind, params = search.classify(hq) if hq else ("none", {})
    if kind == "address":
        qs = qs.filter(search.address_q(params, "house__"))
    elif hq:
        qs = qs.filter(Q(head__name__startswith=hq) | Q(house__building__estate__startswith=hq) | Q(number=hq))
    elif near_path:
        qs = qs.filter(region_path=near_path)
    if exclude:
        qs = qs.exclude(pk=exclude)
    return [(str(hh.pk), str(hh)) for hh in qs.order_by("house__building__estate", "house__building__number", "house__unit", "house__room", "pk")[:300]]


@registry_view("registry.edit")
@require_http_methods(["GET", "POST"])
def resident_event(request, pk, kind):
    user = request.user
    if kind not in EVENT_KINDS:
        raise Http404
    r = access.resident(user, pk)
    title, needs_household = EVENT_KINDS[kind]
    allowed = r.status == ResidentStatus.MOVED_OUT if kind == "return" else r.status == ResidentStatus.ACTIVE
    hq = (request.GET.get("hq") or "").strip()[:60]
    choices = _household_choices(user, r.region_path, hq, exclude=r.household_id) if needs_household else []
    if needs_household and request.method == "POST" and request.POST.get("household"):
        try:
            chosen = access.household(user, request.POST["household"])
            if all(c[0] != str(chosen.pk) for c in choices):
                choices.insert(0, (str(chosen.pk), str(chosen)))
        except NotFound:
            pass
    form = EventForm(request.POST or None, needs_household=needs_household, household_choices=choices,
                     initial={"date": timezone.localdate().isoformat()})
    if request.method == "POST" and allowed and form.is_valid():
        d = form.cleaned_data
        on, note = d["date"] or None, d["note"]
        try:
            if kind == "move_out":
                services.move_out(user, r, on=on, note=note)
            elif kind == "death":
                services.record_death(user, r, on=on, note=note)
            else:
                hh = access.household(user, d["household"])
                fn = services.move_house if kind == "move_house" else services.return_resident
                fn(user, r, household=hh, relation=d["relation"] or Relation.OTHER, on=on, note=note)
        except DomainError as e:
            _raise_access(e)
            form.apply_error(e)
        else:
            messages.success(request, _("%(event)s recorded for %(name)s.") % {"event": title, "name": r.name})
            return redirect("registry:resident_detail", r.pk)
    return render(request, "registry/resident_event.html", {
        "r": r, "kind": kind, "title": title, "form": form, "allowed": allowed, "hq": hq,
        "needs_household": needs_household, "crumbs": r.region.ancestors_and_self(),
    })


# ------------------------------------------------------------------ organisations

ORG_PAGE = 50


@registry_view()
@require_http_methods(["GET"])
def organization_list(request):
    user = request.user
    q = (request.GET.get("q") or "").strip()[:100]
    after = _int(request.GET.get("after"))
    qs = access.organizations(user)
    if q:
        qs = qs.filter(name__icontains=q)
    if after:
        qs = qs.filter(pk__gt=after)
    rows = list(qs.order_by("pk")[: ORG_PAGE + 1])
    next_after = rows[ORG_PAGE - 1].pk if len(rows) > ORG_PAGE else None
    ctx = {"rows": rows[:ORG_PAGE], "q": q,
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
    if request.method == "POST" and form.is_valid():
        try:
            grid = _region(user, form.cleaned_data["grid"])
            o = services.create_organization(user, grid=grid, data=form.org_data())
        except DomainError as e:
            _raise_access(e)
            form.apply_error(e)
        else:
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
    if request.method == "POST" and form.is_valid():
        try:
            services.update_organization(user, o, form.org_data())
        except DomainError as e:
            _raise_access(e)
            form.apply_error(e)
        else:
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


# ------------------------------------------------------------------ import

@registry_view("registry.import")
@require_http_methods(["GET", "POST"])
def import_index(request):
    user = request.user
    home = home_region(user)
    form = ImportForm(request.POST or None, request.FILES or None, user=user,
                      initial={"region": str(home.pk) if home else ""})
    if request.method == "POST" and form.is_valid():
        from .services.importer import start_import

        d = form.cleaned_data
        try:
            region = _region(user, d["region"])
            job = start_import(user, d["file"], mode=d["mode"], region=region)
        except DomainError as e:
            _raise_access(e)
            form.apply_error(e)
        else:
            return redirect("registry:import_job", job.pk)
    jobs = access.import_jobs(user).select_related("region", "created_by")[:20]
    return render(request, "registry/import.html", {"form": form, "jobs": jobs})


@registry_view("registry.import")
@require_http_methods(["GET"])
def import_template(request):
    from .exports import template_xlsx

    response = HttpResponse(template_xlsx(), content_type=XLSX)
    response["Content-Disposition"] = "attachment; filename*=UTF-8''%E5%B1%85%E6%B0%91%E5%AF%BC%E5%85%A5%E6%A8%A1%E6%9D%BF.xlsx"
    return response


@registry_view("registry.import")
@require_http_methods(["GET"])
def import_job(request, pk):
    user = request.user
    job = get_scoped(access.import_jobs(user).select_related("region", "created_by"), user, pk)
    running = job.status in (ImportStatus.PENDING, ImportStatus.RUNNING)
    from .exports import refused_rows
    from .services.importer import rows_done

    processed = rows_done(job)
    percent = int(processed * 100 / job.total_rows) if job.total_rows else 0
    header, refused, refused_total = ([], [], 0) if running else refused_rows(job)
    ctx = {"job": job, "running": running, "percent": min(percent, 100), "processed": processed, "header": header,
           "refused": refused, "refused_total": refused_total}
    if request.htmx:
        return render(request, "registry/_import_status.html", ctx)
    return render(request, "registry/import_job.html", ctx)


@registry_view("registry.import")
@require_http_methods(["GET"])
def import_report(request, pk):
    user = request.user
    job = get_scoped(access.import_jobs(user), user, pk)
    if not job.report:
        raise Http404
    base = os.path.splitext(job.original_name)[0] or "import"
    return FileResponse(job.report.open("rb"), as_attachment=True, filename=f"{base}-导入结果.xlsx", content_type=XLSX)
