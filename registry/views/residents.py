"""Resident pages: the list and its search, the export, registering a person into a household, the
resident page (reveal, care tags, events, history) and its edits."""

import datetime as dt
import os
import tempfile
from dataclasses import dataclass
from html import escape as esc
from urllib.parse import urlencode

from django.contrib import messages
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from accounts.access import in_scope
from linli.errors import DomainError, NotFound
from linli.pages import raise_access, submit
from regions.access import home_region, place
from regions.models import Region

from .. import access, services
from ..access import history, search
from ..exports import export_residents_xlsx
from ..forms import STATUS_FILTERS, EventForm, ResidentEditForm, ResidentForm, TagForm, filter_region_options
from ..models import Gender, Relation, ResidentStatus
from ..services import idnumber
from . import XLSX, registry_view, to_int

# ------------------------------------------------------------------ list, search, export


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
    region = place(request.user, g["region"]) if g.get("region") else None
    return Filters(q=(g.get("q") or "").strip()[:100], tag=(g.get("tag") or "").strip()[:30], status=status, region=region)


def _list_rows(residents: list, care_tags: list | None = None) -> list:
    """Each row of the resident list as its HTML (`r.html`), written here rather than by a
    template loop: the list renders 50 rows per page and per keystroke, and template tags per
    row (url, include, plural blocks), or even a template loop of variables, cost many times
    this. Every value is escaped (html.escape, which django.utils.html.escape wraps); the
    badges and age phrases are written once per page."""
    access.with_open_tags(residents, care_tags)
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


@registry_view()
@require_http_methods(["GET"])
def resident_list(request):
    f = _filters(request)
    after = to_int(request.GET.get("after"))
    page = search.search_residents(request.user, f.q, tag=f.tag, status=f.service_status,
                                   region_path=f.region.path if f.region else "", after=after, columns=search.LIST_COLUMNS)
    care_tags = access.care_tags_all()  # the rows' badges and the filter chips
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
    f = _filters(request)
    fd, path = tempfile.mkstemp(prefix="linli-export-", suffix=".xlsx")
    os.close(fd)
    try:
        path = export_residents_xlsx(request.user, q=f.q, tag=f.tag, region_path=f.region.path if f.region else "", out=path)
        handle = open(path, "rb")
    finally:
        if os.path.exists(path):
            os.unlink(path)  # the open handle keeps the data until the response is sent
    where = f.region or home_region(request.user)
    name = f"居民台账-{where.name if where else ''}-{timezone.localdate():%Y%m%d}.xlsx".replace("--", "-")
    return FileResponse(handle, as_attachment=True, filename=name, content_type=XLSX)


# ------------------------------------------------------------------ registering and editing a person

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
    has_head = access.has_head(user, hh)
    initial = {"relation": Relation.OTHER if has_head else Relation.HEAD, "date": timezone.localdate().isoformat()}
    form = ResidentForm(request.POST or None, initial=initial)
    clash = None
    if request.method == "POST" and form.is_valid() and _check_person_fields(form, form.person_data()):
        d = form.cleaned_data
        try:
            r = services.register_resident(user, household=hh, data=form.person_data(), relation=d["relation"], on=d["date"] or None)
        except DomainError as e:
            raise_access(e)
            clash = _clash_link(user, e, d.get("id_number", ""))  # before the error takes the field's value off the form
            form.apply_error(e)
        else:
            messages.success(request, _("%(name)s is registered.") % {"name": r.name})
            return redirect("registry:resident_detail", r.pk)
    return render(request, "registry/resident_form.html", {
        "household": hh, "form": form, "clash": clash, "crumbs": hh.region.ancestors_and_self(),
    })


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
            raise_access(e)
            clash = _clash_link(user, e, form.cleaned_data.get("id_number", ""))  # before the error takes the value off
            form.apply_error(e)
        else:
            messages.success(request, _("Changes saved."))
            return redirect("registry:resident_detail", r.pk)
    return render(request, "registry/resident_edit.html", {"r": r, "form": form, "clash": clash,
                                                            "crumbs": r.region.ancestors_and_self()})


# ------------------------------------------------------------------ the resident page

@registry_view()
@require_http_methods(["GET"])
def resident_detail(request, pk):
    user = request.user
    r = access.resident(user, pk)
    open_tags, ended_tags = access.resident_tags(r)
    can_edit = user.has_perm("registry.edit")
    return render(request, "registry/resident_detail.html", {
        "r": r,
        "open_tags": open_tags,
        "ended_tags": ended_tags,
        "tag_form": TagForm(initial={"date": timezone.localdate().isoformat()}) if can_edit else None,
        "can_edit": can_edit,
        "can_reveal": user.has_perm("registry.reveal"),
        "history": history.resident_history(r),
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
            raise_access(e)
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
    tag = access.open_tag(r, code)
    if tag is None:
        raise Http404
    try:
        services.end_tag(user, r, tag, on=request.POST.get("date") or None)
    except DomainError as e:
        raise_access(e)
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
    choices = search.household_choices(user, r.region_path, hq, exclude=r.household_id) if needs_household else []
    if needs_household and request.method == "POST" and request.POST.get("household"):
        try:
            chosen = access.household(user, request.POST["household"])
            if all(c[0] != str(chosen.pk) for c in choices):
                choices.insert(0, (str(chosen.pk), str(chosen)))
        except NotFound:
            pass
    form = EventForm(request.POST or None, needs_household=needs_household, household_choices=choices,
                     initial={"date": timezone.localdate().isoformat()})

    def record(d):
        on, note = d["date"] or None, d["note"]
        if kind == "move_out":
            return services.move_out(user, r, on=on, note=note)
        if kind == "death":
            return services.record_death(user, r, on=on, note=note)
        hh = access.household(user, d["household"])
        fn = services.move_house if kind == "move_house" else services.return_resident
        return fn(user, r, household=hh, relation=d["relation"] or Relation.OTHER, on=on, note=note)

    if request.method == "POST" and allowed and submit(form, record):
        messages.success(request, _("%(event)s recorded for %(name)s.") % {"event": title, "name": r.name})
        return redirect("registry:resident_detail", r.pk)
    return render(request, "registry/resident_event.html", {
        "r": r, "kind": kind, "title": title, "form": form, "allowed": allowed, "hq": hq,
        "needs_household": needs_household, "crumbs": r.region.ancestors_and_self(),
    })
