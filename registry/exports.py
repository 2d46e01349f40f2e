"""Spreadsheets out of the registry: resident exports, the import template and import reports.

Exports stream: the queryset is read with `.values().iterator(chunk_size=...)` and written row by
row by linli.xlsx (inline text cells straight into the zip), so memory stays flat however many
rows there are. Only masked ID numbers and phones leave the database. Every free-text cell goes
through `safe_text`, which neutralises spreadsheet formulas (a cell beginning with = + - @, tab
or CR gets a leading apostrophe); cells are always written as text, never as formulas. Import
reports are written the same way.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import tempfile
from collections import defaultdict

from django.core.files.base import File
from django.utils import timezone

from linli.db import sqlite_pragmas
from linli.pii import clean_text, mask_id_number, mask_phone
from linli.xlsx import RED, StreamingWorkbook
from regions.models import Level, Region

from . import access
from .access.search import filter_residents
from .models import (
    CareTag,
    Gender,
    ImportJob,
    OrgKind,
    PoliticalStatus,
    Relation,
    ResidenceType,
    ResidentStatus,
    ResidentTag,
)
from .services import importer

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
    # process's memory flat for a street of 100,000 people (the connection's map and its usual
    # cache made it grow with every page read; the Python side was already flat).
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
    qs = access.organizations_to_export(user, region_path)
    rows = qs.order_by("pk").values_list("name", "kind", "credit_code", "region_path", "address", "contact_name",
                                         "contact_phone_masked", "employees")
    for name, kind, code, path, address, contact, phone, employees in rows.iterator(chunk_size=CHUNK):
        if path not in names_cache:
            names_cache.update(_region_names({path}))
        values = (name, ORG_KIND_ZH.get(kind, kind), code, names_cache.get(path, ""), address, contact, phone)
        ws.write_row([safe_text(v) for v in values] + [employees])


# ---------------------------------------------------------------- import template

def template_xlsx() -> bytes:
    """The download template: Chinese headers, one example row, and a sheet of instructions."""
    import xlsxwriter

    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True})
    head = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
    need = wb.add_format({"bold": True, "bg_color": "#FCE4D6", "border": 1})
    text = wb.add_format({"num_format": "@"})
    ws = wb.add_worksheet("居民信息")
    example = {
        "name": "张三", "id_number": "11010519491231002X", "gender": "女", "birth_date": "1949-12-31", "ethnicity": "汉族",
        "phone": "13800001234", "residence_type": "户籍", "political_status": "群众", "grid": "第一网格",
        "estate": "幸福小区", "building": "3", "unit": "2", "room": "301", "use": "自住", "household_number": "",
        "relation": "户主", "tags": "独居老人、低保", "note": "",
    }
    for col, (key, label, required) in enumerate(importer.HEADERS):
        ws.write_string(0, col, label, need if required else head)
        ws.write_string(1, col, example[key], text)
        ws.set_column(col, col, 20 if key in ("id_number", "estate", "tags", "note") else 12, text)
    ws.freeze_panes(1, 0)
    notes = wb.add_worksheet("填写说明")
    notes.set_column(0, 0, 14)
    notes.set_column(1, 1, 8)
    notes.set_column(2, 2, 90)
    notes.write_row(0, 0, ["列名", "必填", "说明"], head)
    tag_names = "、".join(CareTag.objects.filter(active=True, min_age__isnull=True, max_age__isnull=True).values_list("name", flat=True))
    explain = {
        "name": "居民姓名，不含数字和 < > { } ; \\ 等字符。",
        "id_number": "18 位公民身份号码（旧的 15 位号码会自动升级）。请把本列设为“文本”格式，否则 Excel 会把后几位变成 0。"
                     "同一身份证号再次导入时更新原有记录，不会重复登记。",
        "gender": "男/女。可不填：从身份证号得出；填写时须与身份证号一致。",
        "birth_date": "如 1990-01-02、1990/1/2、19900102。可不填：从身份证号得出；填写时须与身份证号一致。",
        "ethnicity": "如 汉族、回族；不填为汉族。",
        "phone": "11 位手机号或带区号的固定电话。",
        "residence_type": "户籍、流动 或 境外；不填为户籍。",
        "political_status": "群众、中共党员、中共预备党员、共青团员、民主党派、无党派人士；不填为群众。",
        "grid": "网格名称或网格编码。导入到某一个网格时可不填。",
        "estate": "小区名称，或没有小区时的街路巷名。",
        "building": "楼栋号，如 3 或 3号楼。楼栋不存在时自动建立。",
        "unit": "单元号，如 2 或 2单元；不填为 1。",
        "room": "房号，如 301。房屋不存在时自动建立。",
        "use": "自住、出租、空置 或 商用；不填为自住。",
        "household_number": "户号。同一房屋、同一户号的人为一户；不填时一套房屋为一户。",
        "relation": "户主、配偶、子女、父母、孙子女、兄弟姐妹、儿媳/女婿、租户、其他。每户必须有且只有一名户主；只有一人的户可不填。",
        "tags": "关爱标签，多个用顿号、逗号或分号分隔：" + tag_names + "。老年人、高龄老人、未成年人按出生日期自动标注。",
        "note": "备注，记入本次登记或迁入的记录。",
    }
    wrap = wb.add_format({"text_wrap": True, "valign": "top"})
    for i, (key, label, required) in enumerate(importer.HEADERS, start=1):
        notes.write_string(i, 0, label, wrap)
        notes.write_string(i, 1, "是" if required else ("视情况" if key == "grid" else "否"), wrap)
        notes.write_string(i, 2, explain[key], wrap)
    n = len(importer.HEADERS) + 2
    for line in (
        "标题行可以在表头上方（表头须在前 5 行内）；列的顺序不限，常见的列名写法（如 公民身份号码、手机号、楼号、室）都能识别。",
        "空单元格不会清除已有信息。居民换了房屋再次导入时，记为搬迁（人户关系和迁移记录都会保留）。",
        "“全部或全不”方式：任何一行有错就整批不导入；“只导入正确的行”方式：正确的行导入，错误的行在结果报告中说明原因。",
    ):
        notes.merge_range(n, 0, n, 2, line, wrap)
        n += 1
    wb.close()
    return buf.getvalue()


# ---------------------------------------------------------------- import report

def import_report_xlsx(job: ImportJob) -> str:
    """The original rows with a status column (新增 / 更新 / 错误：…), stored on job.report.
    Needs the import's outcome (kept by the import job); returns the report's storage name.

    The report is kept on the server, so ID numbers and phones in it are masked like every other
    output; the row number says which line of the person's own file each status belongs to. Once
    the report exists the uploaded file (plain personal data) is deleted."""
    outcome = importer.load_outcome(job)
    if outcome is None:
        return job.report.name if job.report else ""
    if not job.file or not job.file.storage.exists(job.file.name):
        return job.report.name if job.report else ""
    rows = importer.read_rows(job.file.path, outcome["kind"])
    header = rows[outcome["header_index"]] if rows else []
    try:
        _index, mapping = importer.find_header(rows)
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
            return importer.store_report(job, f"{base}-结果.xlsx", File(f))
    finally:
        os.unlink(tmp)


def refused_rows(job, limit: int = 200) -> tuple[list[str], list[list[str]], int]:
    """Header and refused rows read back from the job's row report (the rows whose status says
    错误), for the import page: the reason next to the name, ID numbers and phones masked like
    every other list."""
    if not job.report:
        return [], [], 0
    from python_calamine import CalamineWorkbook

    try:
        with job.report.open("rb") as fh:
            sheet = CalamineWorkbook.from_filelike(fh).get_sheet_by_index(0).to_python(skip_empty_area=False)
    except Exception:
        return [], [], 0
    header_at = next((i for i, row in enumerate(sheet[:6]) if any("姓名" in str(c) for c in row)), None)
    if header_at is None:
        return [], [], 0
    header = [str(c).strip() for c in sheet[header_at]]
    keys = [importer.field_of(h) or "" for h in header]
    status_col = next((i for i, h in enumerate(header) if h in ("导入结果", "结果", "状态")), None)
    refused, total = [], 0
    for row in sheet[header_at + 1:]:
        cells = ["" if c is None else (str(int(c)) if isinstance(c, float) and c.is_integer() else str(c)) for c in row]
        cells += [""] * (len(header) - len(cells))
        if not any(cell.startswith("错误") for cell in cells):
            continue
        total += 1
        if len(refused) < limit:
            for i, key in enumerate(keys):
                if key == "id_number":
                    cells[i] = mask_id_number(cells[i].strip())
                elif key == "phone":
                    cells[i] = mask_phone(cells[i].strip())
            refused.append(cells)
    # Row number, name and reason first; then the other columns that hold something.
    first = [i for i, h in enumerate(header) if h == "行号"] + [i for i, k in enumerate(keys) if k == "name"][:1]
    if status_col is not None:
        first.append(status_col)
    rest = [i for i in range(len(header)) if i not in first and header[i] and any(r[i] for r in refused)]
    order = first + rest
    return [header[i] for i in order], [[r[i] for i in order] for r in refused], total


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
