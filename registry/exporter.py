"""Spreadsheets out of the registry: resident exports and import reports.

Exports stream: the queryset is read with `.values().iterator(chunk_size=...)` and written row by
row by linli.xlsx (inline text cells straight into the zip), so memory stays flat however many
rows there are. Only masked ID numbers and phones leave the database. Every free-text cell goes
through `safe_text`, which neutralises spreadsheet formulas (a cell beginning with = + - @, tab
or CR gets a leading apostrophe); cells are always written as text, never as formulas. Import
reports are written the same way.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from collections import defaultdict

from django.core.files.base import File
from django.utils import timezone

from accounts.access import scoped
from linli.db import prefix_q, sqlite_pragmas
from linli.pii import clean_text, mask_id_number, mask_phone
from linli.xlsx import RED, StreamingWorkbook
from regions.models import Level, Region

from . import access
from .models import (
    CareTag,
    Gender,
    ImportJob,
    Organization,
    OrgKind,
    PoliticalStatus,
    Relation,
    ResidenceType,
    ResidentStatus,
    ResidentTag,
)
from .search import filter_residents

CHUNK = 2000
_DANGEROUS = ("=", "+", "-", "@", "\t", "\r")

RESIDENT_HEADERS = ["姓名", "性别", "出生日期", "年龄", "身份证号(脱敏)", "联系电话(脱敏)", "民族", "户籍类型", "政治面貌",
                    "网格", "地址", "与户主关系", "关爱标签", "状态"]
ORG_HEADERS = ["名称", "类型", "统一社会信用代码", "网格", "地址", "联系人", "联系电话(脱敏)", "从业人数"]

# Chinese labels for the exported choices (the sheet is for Chinese offices whatever the UI language).
GENDER_ZH = {Gender.MALE: "男", Gender.FEMALE: "女"}
RESIDENCE_ZH = {ResidenceType.REGISTERED: "户籍", ResidenceType.FLOATING: "流动", ResidenceType.OVERSEAS: "境外"}
POLITICAL_ZH = {
    PoliticalStatus.MASSES: "群众", PoliticalStatus.CPC_MEMBER: "中共党员", PoliticalStatus.CPC_PROBATIONARY: "中共预备党员",
    PoliticalStatus.CYL_MEMBER: "共青团员", PoliticalStatus.DEMOCRATIC_PARTY: "民主党派", PoliticalStatus.NON_PARTISAN: "无党派人士",
}
RELATION_ZH = {
    Relation.HEAD: "户主", Relation.SPOUSE: "配偶", Relation.CHILD: "子女", Relation.PARENT: "父母", Relation.GRANDCHILD: "孙子女",
    Relation.GRANDPARENT: "祖父母", Relation.SIBLING: "兄弟姐妹", Relation.CHILD_IN_LAW: "儿媳/女婿", Relation.TENANT: "租户",
    Relation.OTHER: "其他",
}
STATUS_ZH = {ResidentStatus.ACTIVE: "在住", ResidentStatus.MOVED_OUT: "已迁出", ResidentStatus.DECEASED: "已故"}
ORG_KIND_ZH = {
    OrgKind.BUSINESS: "企业", OrgKind.SOCIAL: "社会组织", OrgKind.SCHOOL: "学校", OrgKind.HOSPITAL: "医院",
    OrgKind.GOVERNMENT: "机关事业单位", OrgKind.PROPERTY: "物业公司", OrgKind.OTHER: "其他",
}


def safe_text(value) -> str:
    """Text for a spreadsheet cell that a spreadsheet program will never run as a formula."""
    if value is None:
        return ""
    text = str(value)
    if text and text[0] in _DANGEROUS:
        return "'" + text
    return text


def _out_path(out, prefix: str) -> str:
    if out:
        return str(out)
    fd, path = tempfile.mkstemp(prefix=prefix, suffix=".xlsx")
    os.close(fd)
    return path


def _region_names(paths: set[str]) -> dict[str, str]:
    """Name of every region on the given paths (their ancestors included), by path."""
    wanted = set()
    for p in paths:
        for i in range(4, len(p) + 1, 4):
            wanted.add(p[:i])
    names = {}
    for part in _chunked(sorted(wanted), 2000):
        for path, name in Region.objects.filter(path__in=part).values_list("path", "name"):
            names[path] = name
    return names


def _chunked(seq, n):
    for i in range(0, len(seq), n):
        yield seq[i:i + n]


def _address(names: dict[str, str], region_path: str, estate, number, unit, room) -> str:
    """…街道…社区…小区…号楼…单元…室 (from the street down)."""
    parts = []
    for level in (Level.STREET, Level.COMMUNITY):
        p = region_path[: level * 4]
        if len(p) == level * 4 and p in names:
            parts.append(names[p])
    if estate:
        parts.append(estate)
    if number:
        parts.append(f"{number}号楼" if str(number).isdigit() else str(number))
    if unit:
        parts.append(f"{unit}单元")
    if room:
        parts.append(f"{room}室")
    return "".join(parts)


def export_residents_xlsx(user, *, q: str = "", tag: str = "", region_path: str = "", out=None) -> str:
    """Write the user's residents (filtered like the search page) to an .xlsx; returns its path."""
    access.require(user, "registry.export")
    qs, _kind, _column = filter_residents(access.residents(user), q, tag=tag, region_path=region_path)

    path = _out_path(out, "residents-")
    wb = StreamingWorkbook(path)
    ws = wb.add_sheet("居民", RESIDENT_HEADERS, [10, 5, 12, 5, 20, 14, 8, 8, 12, 12, 48, 10, 20, 8])

    tag_names = dict(CareTag.objects.values_list("id", "name"))
    grid_names: dict[str, str] = {}
    names_cache: dict[str, str] = {}
    today = timezone.localdate()
    fields = ("id", "name", "gender", "birth_date", "id_number_masked", "phone_masked", "ethnicity", "residence_type",
              "political_status", "region_path", "relation", "status", "household__house__building__estate",
              "household__house__building__number", "household__house__unit", "household__house__room")
    batch: list[dict] = []

    def flush(batch):
        ids = [r["id"] for r in batch]
        tags = defaultdict(list)
        for rid, tid in ResidentTag.objects.filter(resident_id__in=ids, end_date__isnull=True).values_list("resident_id", "tag_id"):
            tags[rid].append(tag_names.get(tid, ""))
        missing = {r["region_path"] for r in batch} - set(grid_names)
        if missing:
            names_cache.update(_region_names(missing))
            for p in missing:
                grid_names[p] = names_cache.get(p, "")
        for r in batch:
            b: dt.date = r["birth_date"]
            age = today.year - b.year - ((today.month, today.day) < (b.month, b.day))
            ws.write_row((
                safe_text(r["name"]), GENDER_ZH.get(r["gender"], r["gender"]), b.isoformat(), age, r["id_number_masked"],
                r["phone_masked"], r["ethnicity"], RESIDENCE_ZH.get(r["residence_type"], r["residence_type"]),
                safe_text(POLITICAL_ZH.get(r["political_status"], r["political_status"])), safe_text(grid_names[r["region_path"]]),
                safe_text(_address(names_cache, r["region_path"], r["household__house__building__estate"],
                                   r["household__house__building__number"], r["household__house__unit"], r["household__house__room"])),
                RELATION_ZH.get(r["relation"], r["relation"] or ""), safe_text("、".join(sorted(tags.get(r["id"], [])))),
                STATUS_ZH.get(r["status"], r["status"]),
            ))

    # Rows are read once, in order: on SQLite a small page cache and no memory map keep the
    # process's memory flat for a street of 100,000 people (the connection's map and its 64 MB
    # cache made it grow by 82 MB; the Python side was already flat).
    with sqlite_pragmas(cache_kib=8 * 1024, mmap_bytes=0):
        for r in qs.order_by("pk").values(*fields).iterator(chunk_size=CHUNK):
            batch.append(r)
            if len(batch) >= CHUNK:
                flush(batch)
                batch = []
        if batch:
            flush(batch)
        _organisations_sheet(wb, user, region_path, names_cache)
    wb.close()
    return path


def _organisations_sheet(wb, user, region_path: str, names_cache: dict):
    ws = wb.add_sheet("单位", ORG_HEADERS, [40 if col == 4 else 16 for col in range(len(ORG_HEADERS))])
    qs = scoped(Organization.objects.filter(archived_at__isnull=True), user)
    if region_path:
        qs = qs.filter(prefix_q("region_path", region_path))
    rows = qs.order_by("pk").values_list("name", "kind", "credit_code", "region_path", "address", "contact_name",
                                         "contact_phone_masked", "employees")
    for name, kind, code, path, address, contact, phone, employees in rows.iterator(chunk_size=CHUNK):
        if path not in names_cache:
            names_cache.update(_region_names({path}))
        values = (name, ORG_KIND_ZH.get(kind, kind), code, names_cache.get(path, ""), address, contact, phone)
        ws.write_row([safe_text(v) for v in values] + [employees])


# ---------------------------------------------------------------- import report

def import_report_xlsx(job: ImportJob) -> str:
    """The original rows with a status column (新增 / 更新 / 错误：…), stored on job.report.
    Needs the import's outcome (kept by the importer); returns the report's storage name.

    The report is kept on the server, so ID numbers and phones in it are masked like every other
    output; the row number says which line of the person's own file each status belongs to. Once
    the report exists the uploaded file (plain personal data) is deleted."""
    from .importer import find_header, load_outcome, read_rows

    outcome = load_outcome(job)
    if outcome is None:
        return job.report.name if job.report else ""
    if not job.file or not job.file.storage.exists(job.file.name):
        return job.report.name if job.report else ""
    rows = read_rows(job.file.path, outcome["kind"])
    header = rows[outcome["header_index"]] if rows else []
    try:
        _index, mapping = find_header(rows)
    except Exception:
        mapping = {}
    maskers = {mapping[k]: f for k, f in (("id_number", _mask_id), ("phone", _mask_phone)) if k in mapping}
    fd, tmp = tempfile.mkstemp(prefix="import-report-", suffix=".xlsx")
    os.close(fd)
    try:
        wb = StreamingWorkbook(tmp)
        labels = ["行号", "导入结果"] + [safe_text(_text(v)) for v in header]
        ws = wb.add_sheet("导入结果", labels, [6, 40] + [14] * len(header))
        red = {1: RED}
        for rowno, status in zip(outcome["rows"], outcome["statuses"], strict=True):
            source = rows[rowno - 1] if rowno - 1 < len(rows) else []
            cells: list = [rowno, safe_text(status)]
            for col, value in enumerate(source):
                if value is None or value == "":
                    cells.append(None)
                    continue
                text = _text(value)
                if col in maskers:
                    text = maskers[col](text)
                cells.append(safe_text(text))
            ws.write_row(cells, styles=red if status.startswith("错误") else None)
        wb.close()
        base = os.path.splitext(job.original_name)[0] or "import"
        with open(tmp, "rb") as f:
            job.report.save(f"{base}-结果.xlsx", File(f), save=False)
        ImportJob.objects.filter(pk=job.pk).update(report=job.report.name)
        job.file.delete(save=False)
        ImportJob.objects.filter(pk=job.pk).update(file="")
        return job.report.name
    finally:
        os.unlink(tmp)


def _mask_id(text: str) -> str:
    return mask_id_number(clean_text(text).replace(" ", "").upper())


def _mask_phone(text: str) -> str:
    return mask_phone(clean_text(text).replace(" ", "").replace("-", ""))


def _text(value) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M") if (value.hour or value.minute) else value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return "" if value is None else str(value)
