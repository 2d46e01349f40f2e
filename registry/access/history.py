"""A resident's history as the pages and the API read it: their dated events, and the audit
log's entries of their record and care tags. Encrypted columns are not in the audit log and are
never shown; values are the stored masked copies."""

import re

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import FieldDoesNotExist
from django.db.models import Q
from django.utils.translation import gettext as _

from ..models import CareTag, Resident, ResidentEvent, ResidentTag


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


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


def resident_record(r: Resident):
    """(events, audit entries, the care tags' content type id) of a resident for the API: every
    event, and every audit entry of the record and its care tags, newest first."""
    from auditlog.models import LogEntry

    events = ResidentEvent.objects.filter(resident=r).select_related("created_by")
    tag_ids = [str(pk) for pk in ResidentTag.objects.filter(resident=r).values_list("pk", flat=True)]
    ct_res = ContentType.objects.get_for_model(Resident)
    ct_tag = ContentType.objects.get_for_model(ResidentTag)
    entries = (
        LogEntry.objects.filter(content_type=ct_res, object_pk=str(r.pk))
        | LogEntry.objects.filter(content_type=ct_tag, object_pk__in=tag_ids)
    ).select_related("actor").order_by("-timestamp", "-pk")
    return events, entries, ct_tag.pk
