"""Import of resident spreadsheets (台账): .xlsx, .xls, .ods or UTF-8/GBK .csv.

`start_import` checks the upload and the actor, stores an ImportJob and queues
`tasks.import_job`; `run_import` does the work in three steps:

1. read: python-calamine (or csv) into plain lists; the header row is found in the first five
   rows and mapped through a table of common column names;
2. check: every row is cleaned with the same validators as forms and the API
   (registry.services: validators, idnumber; linli.pii) into a plain tuple, ID numbers and phones
   encrypted on the way; big files are split across the CPU cores (fork), the database is not
   touched. Then, in one process: duplicates inside the file, existing residents (prefetched by
   blind index), households (one head each), grids in the importer's scope;
3. write: one transaction; buildings, houses, households and residents created as needed, moves
   recorded as moves, changes written to the audit log; rows inserted in bulk (COPY on
   PostgreSQL, executemany on SQLite) with ids allocated up front.

Mode "atomic" writes nothing when any row is bad (status rejected); mode "valid_rows" writes the
good rows and reports the others. Either way the report (registry.exporter.import_report_xlsx)
lists every row with what happened to it.
"""

from __future__ import annotations

import csv
import datetime as dt
import gc
import io
import itertools
import json
import logging
import operator
import os
import re
import resource
import time
import zipfile
from collections import defaultdict

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import DatabaseError, IntegrityError, connection, connections, transaction
from django.utils import timezone
from django.utils.translation import gettext as _g
from django.utils.translation import gettext_lazy as _

from accounts.access import in_scope
from linli import pii
from linli.db import sqlite_pragmas
from linli.errors import DomainError, Forbidden
from regions.access import home_region
from regions.models import Level, Region

from . import services
from .models import (
    Building,
    CareTag,
    EventKind,
    House,
    Household,
    HouseholdMembership,
    ImportJob,
    ImportMode,
    ImportStatus,
    Relation,
    Resident,
    ResidentEvent,
    ResidentStatus,
    ResidentTag,
)
from .services import idnumber
from .services import validators as v
from .services.pinyin import name_pinyin

log = logging.getLogger("linli.import")

# (field key, Chinese header, required) in template order.
HEADERS: list[tuple[str, str, bool]] = [
    ("name", "姓名", True),
    ("id_number", "身份证号", True),
    ("gender", "性别", False),
    ("birth_date", "出生日期", False),
    ("ethnicity", "民族", False),
    ("phone", "联系电话", False),
    ("residence_type", "户籍类型", False),
    ("political_status", "政治面貌", False),
    ("grid", "网格", False),
    ("estate", "小区", True),
    ("building", "楼栋", True),
    ("unit", "单元", False),
    ("room", "房号", True),
    ("use", "房屋用途", False),
    ("household_number", "户号", False),
    ("relation", "与户主关系", False),
    ("tags", "关爱标签", False),
    ("note", "备注", False),
]
HEADER_LABELS = {key: label for key, label, _req in HEADERS}

# Column names seen in real 台账, normalised (NFKC, no spaces, lower case).
ALIASES: dict[str, str] = {}
for _key, _names in {
    "name": "姓名 名字 居民姓名 人员姓名 name",
    "id_number": "身份证号 身份证号码 公民身份号码 公民身份证号码 证件号码 证件号 身份证 身份证件号码 idnumber",
    "gender": "性别 gender sex",
    "birth_date": "出生日期 出生年月 出生年月日 生日 birthdate",
    "ethnicity": "民族 ethnicity",
    "phone": "联系电话 电话 手机 手机号 手机号码 联系方式 电话号码 联系电话号码 phone",
    "residence_type": "户籍类型 居住类型 人口类型 人员类型 户口类型 residencetype",
    "political_status": "政治面貌 politicalstatus",
    "grid": "网格 所属网格 网格名称 网格编码 网格编号 grid",
    "estate": "小区 小区名称 小区名 小区(街路巷) 街路巷 estate",
    "building": "楼栋 楼号 楼栋号 楼幢 楼幢号 栋 幢 栋号 building",
    "unit": "单元 单元号 unit",
    "room": "房号 室 房间号 室号 门牌号 房间 room",
    "use": "房屋用途 房屋类型 房屋性质 用途 use",
    "household_number": "户号 户编号 家庭户号 household",
    "relation": "与户主关系 关系 与户主的关系 家庭关系 relation",
    "tags": "关爱标签 标签 人员标签 人群标签 特殊人群 人员类别 tags",
    "note": "备注 说明 note",
}.items():
    for _n in _names.split():
        ALIASES[_n.lower()] = _key

REPORT_NEW = "新增"
REPORT_UPDATED = "更新"
REPORT_UNCHANGED = "无变化"
REPORT_ERROR = "错误："
REPORT_ROLLED_BACK = "未导入（整批回滚）"

PROGRESS_EVERY = 1000
# Files with at least this many rows are checked on all CPU cores.
PARALLEL_MIN_ROWS = 20_000
WORKERS = int(os.environ.get("LINLI_IMPORT_WORKERS", "0") or 0) or (os.cpu_count() or 1)

_SPLIT_TAGS = re.compile(r"[,，、;；/\s]+")
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ODS_MIME = b"application/vnd.oasis.opendocument.spreadsheet"
# Files that are certainly not text, whatever their name says (PDF, images, programs, archives).
_BINARY = (b"%PDF", b"\x89PNG", b"GIF8", b"\xff\xd8\xff", b"MZ", b"\x7fELF", b"\x1f\x8b", b"Rar!", b"7z\xbc\xaf")
_CONTROL = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


# Labels the export writes for groups of relations (so an exported sheet imports again).
_RELATION_LABELS = {"孙子女": "孙子", "外孙子女": "外孙", "祖父母": "祖父", "外祖父母": "外祖父", "儿媳/女婿": "儿媳",
                    "儿媳女婿": "儿媳", "子": "儿子", "之子": "儿子", "之女": "女儿", "妻子": "妻子", "其它": "其他"}


class RowError(Exception):
    def __init__(self, text: str):
        self.text = text


# ---------------------------------------------------------------- template

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
    for col, (key, label, required) in enumerate(HEADERS):
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
    for i, (key, label, required) in enumerate(HEADERS, start=1):
        notes.write_string(i, 0, label, wrap)
        notes.write_string(i, 1, "是" if required else ("视情况" if key == "grid" else "否"), wrap)
        notes.write_string(i, 2, explain[key], wrap)
    n = len(HEADERS) + 2
    for line in (
        "标题行可以在表头上方（表头须在前 5 行内）；列的顺序不限，常见的列名写法（如 公民身份号码、手机号、楼号、室）都能识别。",
        "空单元格不会清除已有信息。居民换了房屋再次导入时，记为搬迁（人户关系和迁移记录都会保留）。",
        "“全部或全不”方式：任何一行有错就整批不导入；“只导入正确的行”方式：正确的行导入，错误的行在结果报告中说明原因。",
    ):
        notes.merge_range(n, 0, n, 2, line, wrap)
        n += 1
    wb.close()
    return buf.getvalue()


# ---------------------------------------------------------------- upload

def sniff(head: bytes, data_for_zip, name: str) -> str:
    """'xlsx', 'xls', 'ods' or 'csv' from the content; raises DomainError when it is none of them."""
    ext = os.path.splitext(name or "")[1].lower()
    kind = None
    if head.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(data_for_zip) as z:
                names = set(z.namelist())
                if "xl/workbook.xml" in names or "xl/workbook.bin" in names:
                    kind = "xlsx"
                elif "mimetype" in names and z.read("mimetype").strip() == _ODS_MIME:
                    kind = "ods"
        except zipfile.BadZipFile:
            kind = None
    elif head.startswith(_OLE2):
        kind = "xls"
    elif ext == ".csv" and not head.startswith(_BINARY) and not _CONTROL.search(head):
        try:
            head.decode("utf-8")
            kind = "csv"
        except UnicodeDecodeError as e:
            # A cut in the middle of a character at the end of the sample is fine.
            if e.start >= len(head) - 3 and e.reason == "unexpected end of data":
                kind = "csv"
            else:
                try:
                    head.decode("gb18030")
                    kind = "csv"
                except UnicodeDecodeError:
                    kind = None
    allowed = {"xlsx": {".xlsx", ".xlsm"}, "xls": {".xls"}, "ods": {".ods"}, "csv": {".csv"}}
    if kind is None or ext not in allowed[kind]:
        raise DomainError(
            "import_file_type",
            _("The file is not an Excel workbook (.xlsx, .xls), an OpenDocument sheet (.ods) or a CSV file."),
            field="file",
        )
    return kind


def start_import(actor, upload, *, mode: str = "atomic", region=None) -> ImportJob:
    if actor is None or not actor.has_perm("registry.import"):
        raise Forbidden("forbidden", _("You do not have permission for this."))
    if region is None:
        region = home_region(actor)
    if region is None or not in_scope(actor, region.path):
        raise Forbidden("forbidden", _("That is outside your area."))
    if mode not in ImportMode.values:
        raise DomainError("import_mode", _("Choose how to import: all or nothing, or the valid rows."), field="mode")
    if upload is None:
        raise DomainError("import_file_missing", _("Choose a file to import."), field="file")
    limit = settings.LINLI_MAX_UPLOAD_BYTES
    if upload.size > limit:
        raise DomainError(
            "import_file_too_big", _("The file is larger than %(mb)s MB; split it into smaller files."),
            field="file", mb=limit // (1024 * 1024),
        )
    if upload.size == 0:
        raise DomainError("import_file_empty", _("The file is empty."), field="file")
    data = b"".join(upload.chunks())
    if len(data) > limit:
        raise DomainError(
            "import_file_too_big", _("The file is larger than %(mb)s MB; split it into smaller files."),
            field="file", mb=limit // (1024 * 1024),
        )
    sniff(data[:4096], io.BytesIO(data), upload.name)
    name = os.path.basename(upload.name or "import")[:200]
    job = ImportJob(created_by=actor, mode=mode, status=ImportStatus.PENDING, original_name=name)
    job.set_region(region)
    job.file.save(name, ContentFile(data), save=False)
    job.save()
    from . import tasks

    tasks.import_job(job.id)
    job.refresh_from_db()
    return job


# ---------------------------------------------------------------- reading

def _cell(value):
    """A cell as the validators expect it: integral floats become digit strings."""
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        return repr(value)
    if isinstance(value, bool):
        return "是" if value else "否"
    return value


def read_rows(path: str, kind: str) -> list[list]:
    if kind == "csv":
        with open(path, "rb") as f:
            raw = f.read()
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            try:
                text = raw.decode("gb18030")
            except UnicodeDecodeError:
                raise DomainError("import_encoding", _("The CSV file is neither UTF-8 nor GBK text."), field="file")
        return [row for row in csv.reader(io.StringIO(text))]
    from python_calamine import CalamineWorkbook

    try:
        wb = CalamineWorkbook.from_path(path)
        sheet = wb.get_sheet_by_index(0)
        return sheet.to_python(skip_empty_area=False)
    except DomainError:
        raise
    except Exception:
        raise DomainError("import_unreadable", _("The file could not be read as a spreadsheet."), field="file")


# A sheet this big (uncompressed XML, about 8,000 rows of the template) is read in parts, one per
# core, by the processes that check its rows (see SplitSheet).
SPLIT_MIN_BYTES = 8_000_000
_SHEET_DATA = re.compile(rb"<sheetData>")
_ROW_NUMBER = re.compile(rb'<row\b[^>]*?\br="(\d+)"')


class SplitSheet:
    """The first worksheet of a big .xlsx cut at row boundaries into parts, each readable on its
    own: a workbook of the same files in which the sheet keeps only that part's rows (cells keep
    their references, so rows keep their numbers). python-calamine reads one sheet in one thread
    (1.4 s for 100,000 rows of 18 columns); the parts are read at once by the forked checkers,
    each of which then checks the rows it read. The cut is a byte search for `<row r="...">`, no
    parsing; a sheet of any other shape (no row numbers, prefixed tags) is read whole."""

    def __init__(self, files: dict[str, bytes], name: str, xml: bytes, start: int, end: int, cuts: list[int]):
        self.files, self.name, self.xml = files, name, xml
        self.bounds = list(zip([start, *cuts], [*cuts, end], strict=True))
        self.start, self.end = start, end

    @classmethod
    def open(cls, path: str, parts: int, first: float | None = None) -> SplitSheet | None:
        """`parts` parts of about equal size, or with `first` the first part that fraction of
        one (the rest equal): a small first part starts the streamed write sooner."""
        if parts < 2:
            return None
        try:
            with zipfile.ZipFile(path) as z:
                name = _first_sheet(z)
                if name is None or z.getinfo(name).file_size < SPLIT_MIN_BYTES:
                    return None
                xml = z.read(name)
                files = {i.filename: z.read(i.filename) for i in z.infolist() if i.filename != name and not i.is_dir()}
        except (zipfile.BadZipFile, KeyError, OSError, RuntimeError, NotImplementedError, EOFError):
            return None
        m = _SHEET_DATA.search(xml)
        end = xml.rfind(b"</sheetData>")
        if m is None or end < m.end():
            return None
        start = m.end()
        cuts = []
        size = end - start
        head = 0 if first is None else int(size / parts * first)
        for k in range(1, parts):
            at = xml.find(b"<row ", start + head + (size - head) * (k - 1) // (parts - 1) if first is not None
                          else start + size * k // parts, end)
            if at < 0 or (cuts and at <= cuts[-1]) or not _ROW_NUMBER.match(xml, at):
                return None
            cuts.append(at)
        return cls(files, name, xml, start, end, cuts)

    def _workbook(self, body: bytes) -> bytes:
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as out:
            for name, data in self.files.items():
                out.writestr(name, data)
            out.writestr(self.name, b"".join((self.xml[:self.start], body, self.xml[self.end:])))
        return buf.getvalue()

    def _rows(self, body: bytes) -> tuple[int, list[list]]:
        """(sheet row number of the first row, the rows) of a workbook holding `body`."""
        from python_calamine import CalamineWorkbook

        sheet = CalamineWorkbook.from_filelike(io.BytesIO(self._workbook(body))).get_sheet_by_index(0)
        rows = sheet.to_python(skip_empty_area=True)
        first_row, first_col = sheet.start or (0, 0)
        if first_col:  # rows as a whole read has them: from column A
            rows = [[""] * first_col + r for r in rows]
        return first_row + 1, rows

    def rows_after(self, skip: int) -> int:
        """Row elements after the first `skip` rows: the best count there is until the parts are read."""
        return max(self.xml.count(b"<row ", self.start, self.end) - skip, 1)

    def head(self) -> list[list]:
        """The sheet's first five rows as read_rows gives them (the header is among them)."""
        stop = self.start
        for _n in range(6):  # past the first rows (five rows with numbers 1-5 at most)
            stop = self.xml.find(b"<row ", stop + 1, self.end)
            if stop < 0:
                stop = self.end
                break
        first, rows = self._rows(self.xml[self.start:stop])
        return ([[]] * (first - 1) + rows)[:5]

    def part(self, k: int) -> list[tuple[int, list]]:
        """(sheet row number, row) of part k's rows."""
        a, b = self.bounds[k]
        first, rows = self._rows(self.xml[a:b])
        return [(first + i, row) for i, row in enumerate(rows)]


def _first_sheet(z: zipfile.ZipFile) -> str | None:
    """The zip member of the workbook's first sheet (the one read_rows reads)."""
    book = z.read("xl/workbook.xml")
    rels = z.read("xl/_rels/workbook.xml.rels")
    sheet = re.search(rb"<sheet\b[^>]*>", book)
    rid = sheet and re.search(rb'\br:id="([^"]+)"', sheet.group(0))
    if not rid:
        return None
    for rel in re.finditer(rb"<Relationship\b[^>]*>", rels):
        if re.search(rb'\bId="' + re.escape(rid.group(1)) + rb'"', rel.group(0)):
            target = re.search(rb'\bTarget="([^"]+)"', rel.group(0))
            if not target:
                return None
            t = target.group(1).decode()
            name = t.lstrip("/") if t.startswith("/") else "xl/" + t
            return name if name in z.namelist() else None
    return None


def _norm_header(value) -> str:
    text = pii.clean_text(value).replace(" ", "").lower()
    text = text.lstrip("*※★")
    text = re.sub(r"\((必填|选填|可选|必须)\)$", "", text)
    return text.rstrip("*:：")


def find_header(rows: list[list]) -> tuple[int, dict[str, int]]:
    """(index of the header row, {field key: column}) from the first five rows."""
    best = (-1, {})
    for i, row in enumerate(rows[:5]):
        mapping: dict[str, int] = {}
        for col, value in enumerate(row):
            key = ALIASES.get(_norm_header(value))
            if key and key not in mapping:
                mapping[key] = col
        if len(mapping) > len(best[1]):
            best = (i, mapping)
    index, mapping = best
    if "name" not in mapping or "id_number" not in mapping:
        raise DomainError(
            "import_no_header",
            _("No header row with 姓名 and 身份证号 in the first five rows; use the template."),
            field="file",
        )
    missing = [HEADER_LABELS[k] for k, _l, req in HEADERS if req and k not in mapping]
    if missing:
        raise DomainError(
            "import_missing_columns", _("The sheet lacks the columns %(cols)s."), field="file", cols="、".join(missing)
        )
    return index, mapping


# ---------------------------------------------------------------- checking one row (no database)

class Context:
    """What row checks need, prefetched: grids in scope, tags, today. Plain data (fork-safe)."""

    def __init__(self, region: Region, mapping: dict[str, int], today: dt.date):
        self.mapping = mapping
        self.today = today
        grids = list(
            Region.objects.filter(path__startswith=region.path, level=Level.GRID, valid_to__isnull=True)
            .values_list("id", "code", "name", "path")
        )
        self.grid_paths = {g[0]: g[3] for g in grids}
        self.grid_names = {g[0]: g[2] for g in grids}
        self.by_code = {g[1]: g[0] for g in grids}
        by_name: dict[str, list[int]] = defaultdict(list)
        for gid, _code, name, _path in grids:
            by_name[pii.clean_text(name).replace(" ", "")].append(gid)
        self.by_name = dict(by_name)
        self.default_grid = region.id if region.level == Level.GRID else (grids[0][0] if len(grids) == 1 else None)
        tags = list(CareTag.objects.filter(active=True).values_list("id", "code", "name", "min_age", "max_age"))
        self.tag_lookup = {}
        self.age_tags = []
        for tid, code, name, lo, hi in tags:
            derived = lo is not None or hi is not None
            self.tag_lookup[code.lower()] = (tid, derived)
            self.tag_lookup[name.lower()] = (tid, derived)
            if derived:
                self.age_tags.append((tid, lo, hi))
        self.parse_birth = _birth(self)
        self.parse_grid = _grid(self)
        self.parse_tags = _tags(self)
        self.check = make_checker(self)


def _msg(e: DomainError, column: str) -> str:
    text = e.text()
    # "身份证号：身份证号校验位不对" says the column twice; name it only when the message does not.
    return text if text.startswith(column) else f"{column}：{text}"


def _get(row, col):
    if col is None or col >= len(row):
        return None
    return row[col]


def _gender(raw):
    try:
        return v.parse_gender(_cell(raw), field="gender")
    except DomainError as e:
        raise RowError(_msg(e, "性别"))


def _birth(ctx):
    def parse(raw):
        try:
            value = raw if isinstance(raw, (dt.date, int, float)) and not isinstance(raw, bool) else _cell(raw)
            return v.parse_date(value, field="birth_date", today=ctx.today)
        except DomainError as e:
            raise RowError(_msg(e, "出生日期"))
    return parse


def _person(raws):
    person = {k: _cell(x) for k, x in zip(("ethnicity", "residence_type", "political_status"), raws, strict=True) if x not in (None, "")}
    if not person:
        return (None, None, None)
    try:
        person = services.clean_person(person, partial=True)
    except DomainError as e:
        raise RowError(_msg(e, HEADER_LABELS.get(e.field, "")))
    return (person.get("ethnicity"), person.get("residence_type"), person.get("political_status"))


def _grid(ctx):
    def parse(raw):
        text = pii.clean_text(_cell(raw)).replace(" ", "")
        if not text:
            if ctx.default_grid is None:
                raise RowError(_g("网格：missing; your area has several grids, so each row needs its grid."))
            return ctx.default_grid
        grid_id = ctx.by_code.get(text)
        if grid_id is None:
            ids = ctx.by_name.get(text, [])
            if len(ids) > 1:
                raise RowError(_g("网格：several grids in your area are called %(v)s; write the grid code instead.") % {"v": text})
            if not ids:
                raise RowError(_g("网格：%(v)s is not a grid in your area.") % {"v": text})
            grid_id = ids[0]
        return grid_id
    return parse


def _estate(raw):
    estate = pii.clean_text(_cell(raw))
    if not estate:
        raise RowError(_g("小区：missing."))
    if len(estate) > 100:
        raise RowError(_g("小区：at most 100 characters."))
    return estate


def _building(raw):
    building = pii.clean_text(_cell(raw)).replace(" ", "")
    for suffix in ("号楼", "栋", "幢", "号", "楼"):
        if building.endswith(suffix) and len(building) > len(suffix):
            building = building[: -len(suffix)]
            break
    if not building:
        raise RowError(_g("楼栋：missing."))
    if len(building) > 20:
        raise RowError(_g("楼栋：at most 20 characters."))
    return building


def _unit(raw):
    text = pii.clean_text(_cell(raw)).replace(" ", "").removesuffix("单元")
    if not text:
        return 1
    if not text.isdigit() or not 1 <= int(text) <= 50:
        raise RowError(_g("单元：%(v)s is not a unit number from 1 to 50.") % {"v": text})
    return int(text)


def _room(raw):
    room = pii.clean_text(_cell(raw)).replace(" ", "").removesuffix("室").removesuffix("号")
    if not room:
        raise RowError(_g("房号：missing."))
    if len(room) > 20:
        raise RowError(_g("房号：at most 20 characters."))
    return room


def _use(raw):
    if raw in (None, ""):
        return None
    try:
        return v.parse_house_use(_cell(raw), field="use")
    except DomainError as e:
        raise RowError(_msg(e, "房屋用途"))


def _hh_number(raw):
    text = pii.clean_text(_cell(raw)).replace(" ", "")
    if len(text) > 30:
        raise RowError(_g("户号：at most 30 characters."))
    return text


def _relation(raw):
    if raw in (None, ""):
        return None
    try:
        raw = _cell(raw)
        return v.parse_relation(_RELATION_LABELS.get(pii.clean_text(raw).replace(" ", ""), raw), field="relation")
    except DomainError as e:
        raise RowError(_msg(e, "与户主关系"))


def _tags(ctx):
    def parse(raw):
        text = pii.clean_text(_cell(raw))
        found = []
        for part in _SPLIT_TAGS.split(text):
            if not part:
                continue
            hit = ctx.tag_lookup.get(part.lower())
            if hit is None:
                raise RowError(_g("关爱标签：%(v)s is not a care tag we know.") % {"v": part})
            if not hit[1] and hit[0] not in found:  # age-derived tags follow the birth date
                found.append(hit[0])
        return tuple(found)
    return parse


class _Refused:
    """A remembered refusal of a repeated cell value."""

    __slots__ = ("text",)

    def __init__(self, text: str):
        self.text = text


_MISS = object()
MEMO_LIMIT = 50_000


def _memo(fn):
    """fn(raw) for a column whose values repeat (grid, estate, relation...), remembered per file
    (successes and refusals alike)."""
    cache: dict = {}

    def parse(raw):
        try:
            hit = cache.get(raw, _MISS)
        except TypeError:  # an unhashable cell value
            return fn(raw)
        if hit is _MISS:
            try:
                hit = fn(raw)
            except RowError as e:
                hit = _Refused(e.text)
            if len(cache) < MEMO_LIMIT:
                cache[raw] = hit
        if hit.__class__ is _Refused:
            raise RowError(hit.text)
        return hit

    parse.cache = cache
    return parse


def _name(raw):
    try:
        name = v.parse_name(_cell(raw))
    except DomainError as e:
        raise RowError(_msg(e, "姓名"))
    return (name, *name_pinyin(name))


def _id_number(today: dt.date):
    """The ID number check of registry.services.idnumber.parse, with a direct path for the common cell (18
    ASCII characters, nothing to clean); anything else goes through idnumber.parse itself, which
    also words the refusal. Returns (number, birth date, gender)."""
    provinces, check, weights, mul = idnumber.PROVINCES, idnumber.CHECK, idnumber.WEIGHTS, operator.mul
    # The check sum from the ASCII codes: each digit d is byte 48 + d, so Σ byte·w = Σ d·w + 48·Σ w.
    offset = 48 * sum(weights)
    births: dict[str, dt.date | None] = {}

    def birth_of(digits: str):
        d = births.get(digits, _MISS)
        if d is _MISS:
            try:
                d = dt.date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))
            except ValueError:
                d = None
            if d is not None and (d > today or d.year < 1890):
                d = None
            if len(births) < MEMO_LIMIT:
                births[digits] = d
        return d

    def parse(raw):
        if raw.__class__ is str and len(raw) == 18 and raw.isascii():
            number = raw if raw[17] != "x" else raw[:17] + "X"
            body, last = number[:17], number[17]
            if body.isdigit() and (last == "X" or last.isdigit()) and number[:2] in provinces:
                birth = birth_of(number[6:14])
                if birth is not None and check[(sum(map(mul, body.encode(), weights)) - offset) % 11] == last:
                    return number, birth, ("M" if int(number[16]) % 2 else "F")
        if isinstance(raw, float) and raw >= 1e16:
            raise RowError(_g("身份证号：the number was stored as a number by Excel and lost its last digits; format the column as text and type it again."))
        try:
            idn = idnumber.parse(_cell(raw), today=today)
        except DomainError as e:
            raise RowError(_msg(e, "身份证号"))
        return idn.number, idn.birth_date, idn.gender

    return parse


def _phone(raw) -> str:
    if raw.__class__ is str and len(raw) == 11 and raw.isascii() and raw.isdigit() and raw[0] == "1" and raw[1] in "3456789":
        return raw
    try:
        return v.parse_phone(_cell(raw))
    except DomainError as e:
        raise RowError(_msg(e, "联系电话"))


def make_checker(ctx: Context):
    """check(row) -> the clean tuple below, or raises RowError with the message for the report.

    The same checks as the forms and the API (registry.services: validators, idnumber; linli.pii),
    arranged for a file of many rows: the columns are located once, values that repeat in a
    file (grid, estate, building, unit, room, relation, gender, birth date, names...) are checked
    once, and a refusal's message is only worded for a refused row."""
    m = ctx.mapping
    width = max(m.values()) + 1
    c_name, c_id = m["name"], m["id_number"]
    c_gender, c_birth, c_phone = m.get("gender"), m.get("birth_date"), m.get("phone")
    c_person = (m.get("ethnicity"), m.get("residence_type"), m.get("political_status"))
    c_grid, c_estate, c_building, c_unit, c_room = m.get("grid"), m["estate"], m["building"], m.get("unit"), m["room"]
    c_use, c_hh, c_relation, c_tags, c_note = (m.get("use"), m.get("household_number"), m.get("relation"), m.get("tags"),
                                              m.get("note"))
    spare = width  # a column that is always empty: where a column the sheet lacks is read from
    name_of = _memo(_name)
    id_of = _id_number(ctx.today)
    gender_of = _memo(_gender)
    birth_of = _memo(ctx.parse_birth)
    person_of = _memo(_person)
    grid_of = _memo(ctx.parse_grid)
    estate_of = _memo(_estate)
    building_of = _memo(_building)
    unit_of = _memo(_unit)
    room_of = _memo(_room)
    use_of = _memo(_use)
    hh_of = _memo(_hh_number)
    relation_of = _memo(_relation)
    tags_of = _memo(ctx.parse_tags)
    bidx_id, bidx_phone = pii.blind_indexer("id_number"), pii.blind_indexer("phone")
    enc_id, enc_phone = pii.encryptor(Resident.AAD_ID), pii.encryptor(Resident.AAD_PHONE)
    mask_id, mask_phone = pii.mask_id_number, pii.mask_phone
    col = lambda c: spare if c is None else c  # noqa: E731
    c_gender, c_birth, c_phone, c_grid, c_unit, c_use, c_hh, c_relation, c_tags, c_note = map(
        col, (c_gender, c_birth, c_phone, c_grid, c_unit, c_use, c_hh, c_relation, c_tags, c_note))
    c_eth, c_res, c_pol = map(col, c_person)
    pad = [""] * (width + 1)
    person_get, grid_get, estate_get, building_get = (person_of.cache.get, grid_of.cache.get, estate_of.cache.get,
                                                      building_of.cache.get)
    unit_get, room_get, use_get, hh_get, relation_get = (unit_of.cache.get, room_of.cache.get, use_of.cache.get,
                                                         hh_of.cache.get, relation_of.cache.get)
    name_get = name_of.cache.get

    # check() runs once per row (100,000 times for a large sheet), so each column's cache lookup
    # is written out inline: a cache hit costs a dict.get, a miss calls the memoised parser.
    def check(row):
        if len(row) <= width:
            row = list(row) + pad[: width + 1 - len(row)]
        raw = row[c_name]
        x = name_get(raw, _MISS)
        name, py, initials = x if x is not _MISS and x.__class__ is not _Refused else name_of(raw)
        number, birth, gender = id_of(row[c_id])
        raw = row[c_gender]
        if raw is not None and raw != "":
            given = gender_of(raw)
            if given != gender:
                raise RowError(_g("性别：%(given)s does not match the ID number (%(id)s).") % {
                    "given": "男" if given == "M" else "女", "id": "男" if gender == "M" else "女"})
        raw = row[c_birth]
        if raw is not None and raw != "":
            given = birth_of(raw)
            if given != birth:
                raise RowError(_g("出生日期：%(given)s does not match the ID number (%(id)s).") % {
                    "given": given.isoformat(), "id": birth.isoformat()})
        raw = row[c_phone]
        if raw is not None and raw != "":
            phone = _phone(raw)
            phone_t = (bidx_phone(phone), enc_phone(phone), mask_phone(phone)) if phone else None
        else:
            phone_t = None
        # The repeating columns: a dictionary hit in line, the checker itself on a miss or a refusal.
        raw = (row[c_eth], row[c_res], row[c_pol])
        x = person_get(raw, _MISS)
        ethnicity, residence, political = x if x is not _MISS and x.__class__ is not _Refused else person_of(raw)
        raw = row[c_grid]
        grid_id = grid_get(raw, _MISS)
        if grid_id is _MISS or grid_id.__class__ is _Refused:
            grid_id = grid_of(raw)
        raw = row[c_estate]
        estate = estate_get(raw, _MISS)
        if estate is _MISS or estate.__class__ is _Refused:
            estate = estate_of(raw)
        raw = row[c_building]
        building = building_get(raw, _MISS)
        if building is _MISS or building.__class__ is _Refused:
            building = building_of(raw)
        raw = row[c_unit]
        unit = unit_get(raw, _MISS)
        if unit is _MISS or unit.__class__ is _Refused:
            unit = unit_of(raw)
        raw = row[c_room]
        room = room_get(raw, _MISS)
        if room is _MISS or room.__class__ is _Refused:
            room = room_of(raw)
        raw = row[c_use]
        use = use_get(raw, _MISS)
        if use is _MISS or use.__class__ is _Refused:
            use = use_of(raw)
        raw = row[c_hh]
        hh_number = hh_get(raw, _MISS)
        if hh_number is _MISS or hh_number.__class__ is _Refused:
            hh_number = hh_of(raw)
        raw = row[c_relation]
        relation = relation_get(raw, _MISS)
        if relation is _MISS or relation.__class__ is _Refused:
            relation = relation_of(raw)
        raw = row[c_tags]
        tag_ids = tags_of(raw) if raw is not None and raw != "" else ()
        raw = row[c_note]
        note = pii.clean_text(_cell(raw))[:500] if raw is not None and raw != "" else ""
        return (
            name, py, initials, bidx_id(number), enc_id(number), mask_id(number),
            gender, birth, phone_t, ethnicity, residence, political,
            grid_id, estate, building, unit, room, use, hh_number, relation, tag_ids, note,
        )

    return check


def check_row(row: list, ctx: Context):
    """A plain tuple of clean values, or raises RowError with the message for the report."""
    return ctx.check(row)


# Indexes into the tuple above.
(NAME, PINYIN, INITIALS, ID_BIDX, ID_ENC, ID_MASKED, GENDER, BIRTH, PHONE, ETHNICITY, RESIDENCE, POLITICAL, GRID,
 ESTATE, BUILDING, UNIT, ROOM, USE, HH_NUMBER, RELATION, TAGS, NOTE) = range(22)

_WORK: dict = {}


def _check_range(bounds):
    start, end = bounds
    rows, check = _WORK["rows"], _WORK["ctx"].check
    out = []
    append = out.append
    for i in range(start, end):
        try:
            append(check(rows[i]))
        except RowError as e:
            append(e.text)
    return out


def _filled(row) -> bool:
    for c in row:  # the first cell usually answers (once per row: a generator cost 0.3 s for 100,000)
        if c is None or c == "":
            continue
        if c.__class__ is not str or c.strip():
            return True
    return False


def _no_rows() -> DomainError:
    return DomainError("import_empty", _("The sheet has a header but no rows."), field="file")


def _started(job: ImportJob, total: int):
    if total == 0:
        raise _no_rows()
    ImportJob.objects.filter(pk=job.pk).update(total_rows=total, processed_rows=0)


def _read_part(k: int, progress=None) -> tuple[list[int], list]:
    """Read part k of the split sheet and check its rows: (sheet row numbers, checked), the
    header (rows up to _WORK["skip"]) and empty rows left out."""
    split, check, skip = _WORK["split"], _WORK["ctx"].check, _WORK["skip"]
    rownos: list[int] = []
    out: list = []
    for n, row in split.part(k):
        if n <= skip or not _filled(row):
            continue
        rownos.append(n)
        try:
            out.append(check(row))
        except RowError as e:
            out.append(e.text)
        if progress and len(out) % PROGRESS_EVERY == 0:
            progress(len(out))
    return rownos, out


def _read_and_check(split: SplitSheet, skip: int, ctx: Context, job: ImportJob) -> tuple[list[int], list]:
    """The rows of a split sheet read and checked on all cores: forked processes take the later
    parts while this one reads and checks the first (and reports progress). Returns (sheet row
    numbers, checked rows) in sheet order."""
    import multiprocessing

    _started(job, split.rows_after(skip))
    _WORK["split"], _WORK["ctx"], _WORK["skip"] = split, ctx, skip
    try:
        with multiprocessing.get_context("fork").Pool(len(split.bounds) - 1) as pool:
            pending = [pool.apply_async(_read_part, (k,)) for k in range(1, len(split.bounds))]
            parts = [_read_part(0, lambda n: _progress(job.pk, n))]
            for done in pending:
                parts.append(done.get())  # re-raises a failure in a reader
                _progress(job.pk, sum(len(p[0]) for p in parts))
    finally:
        _WORK.clear()
    rownos = [n for part in parts for n in part[0]]
    checked = [c for part in parts for c in part[1]]
    if not rownos:
        raise _no_rows()
    ImportJob.objects.filter(pk=job.pk).update(total_rows=len(rownos))
    return rownos, checked


class _NotStreamed(Exception):
    """The file is not one the streamed write can take whole: undo its writes, take the one-step path."""


def _lower_priority():
    try:
        os.nice(10)  # the writing process comes first; the checkers take the cycles it leaves
    except OSError:
        pass


# The SQLite page cache of a large import's write (see _run).
WRITE_CACHE_KIB = 256 * 1024
# Rows of the template per MB of sheet XML, about; the streamed write takes parts of this many MB.
STREAM_PART_BYTES = 6_000_000


def _streams(kind: str) -> bool:
    """Whether a big sheet is written part by part as it is checked: when there are cores to
    check beside the writing."""
    return kind == "xlsx" and WORKERS > 1


def _stream_parts(path: str) -> int:
    """How many parts _write_while_checking cuts a sheet into: about STREAM_PART_BYTES of XML
    each, at least one per checker."""
    try:
        with zipfile.ZipFile(path) as z:
            name = _first_sheet(z)
            size = z.getinfo(name).file_size if name else 0
    except (zipfile.BadZipFile, KeyError, OSError):
        return WORKERS
    return max(WORKERS, min(64, size // STREAM_PART_BYTES))


def _household_key(c: tuple) -> tuple:
    """The household a checked row names: grid, estate, building, unit, room, household number."""
    return (c[GRID], c[ESTATE], c[BUILDING], c[UNIT], c[ROOM], c[HH_NUMBER])


def _write_while_checking(split: SplitSheet, skip: int, ctx: Context, job: ImportJob, today, got: dict) -> list[str]:
    """Write the sheet part by part as the forked checkers hand the parts over, while they read
    and check the later ones: the writing (one core on SQLite; the client and one server
    process on PostgreSQL) then runs beside the checking instead of after it. Each batch goes through the same Plan.resolve and
    Plan.write as a whole file, and gives the same rows as one step when every row is new and
    valid and no household is shared between batches: a part's last household waits for the
    next part, and buildings and houses made by an earlier batch are completed without an audit
    entry (one step would have made them whole). All batches are one transaction; when one
    breaks this, _NotStreamed is raised once every part is read, undoing every batch written;
    got["rownos"] and got["checked"] then hold every row read for the one-step path."""
    import multiprocessing

    rownos, checked, statuses = got.setdefault("rownos", []), got.setdefault("checked", []), []
    made = {"buildings": set(), "houses": set(), "households": set()}
    held_nos: list[int] = []
    held: list = []

    def write(nos, rows) -> bool:
        if not rows:
            return True
        plan = Plan(job, ctx, today, made=made)
        status = plan.resolve(nos, rows)
        if any(x != REPORT_NEW for x in status):
            return False
        if any((hh := plan._existing_household(key)) is not None and hh["id"] in made["households"]
               for key in plan.groups):
            return False
        plan.write()
        if plan.logged:
            return False
        statuses.extend(status)
        return True

    streamed = True
    progress = _Progress(job)
    keys = _KeysCheckedOnce() if _KeysCheckedOnce.allowed() else None
    _WORK["split"], _WORK["ctx"], _WORK["skip"] = split, ctx, skip
    try:
        # The checkers are forked before the transaction begins.
        with multiprocessing.get_context("fork").Pool(WORKERS, initializer=_lower_priority) as pool, \
                sqlite_pragmas(cache_kib=WRITE_CACHE_KIB), transaction.atomic():
            if keys:
                keys.start()
            for nos, part in pool.imap(_read_part, range(len(split.bounds))):
                rownos.extend(nos)
                checked.extend(part)
                progress(len(rownos))
                if not streamed:
                    continue
                batch_nos, batch = held_nos + nos, held + part
                cut = len(batch)
                if batch and batch[-1].__class__ is not str:  # the last household may go on in the next part
                    last = _household_key(batch[-1])
                    while cut and batch[cut - 1].__class__ is not str and _household_key(batch[cut - 1]) == last:
                        cut -= 1
                held_nos, held = batch_nos[cut:], batch[cut:]
                streamed = write(batch_nos[:cut], batch[:cut])
            if streamed:
                streamed = write(held_nos, held)
            if not rownos:
                raise _no_rows()
            if not streamed:
                raise _NotStreamed  # undoes every batch written
            if keys:
                keys.finish()  # raises IntegrityError, which undoes every batch written
    finally:
        _WORK.clear()
        progress.close()
    return statuses


# Whether PostgreSQL's streamed write may check its foreign keys itself (see _KeysCheckedOnce).
CHECK_KEYS_ONCE = True
_MAX_ID = 2**63 - 1


class _KeysCheckedOnce:
    """PostgreSQL, streamed write: the foreign keys of the rows written are checked once per key
    over all those rows, instead of by a trigger per row and key at the commit.

    A 100,000-row import writes about a million key references (a resident names its grid and
    household; a membership, an event and a tag name their resident...). Each trigger check is a
    query of its own, run one after another in the one server process at the commit: 3.5-4.7 s
    with both cores but one idle. Here the session sets session_replication_role = replica while
    the batches are written, which PostgreSQL allows a superuser or a role granted SET on that
    parameter (PostgreSQL 15+) and nobody else; then, for each foreign key of each table written,
    three statements over the rows above the table's highest id at the start: the distinct values
    named; the rows that were there before among them, locked FOR KEY SHARE as the triggers lock
    them (nobody may delete them before the commit); and the rows this import made among them. A
    value without a row raises IntegrityError, which undoes the import. Unique and check
    constraints are indexes and expressions, not triggers, and hold as always. Every other write
    (the one-step path, an import that falls back to it, a role that may not) keeps the triggers.
    Measured on 100,000 rows into a city of 1,000,000: the checks 3.5-4.7 s -> 1.0-1.3 s."""

    MODELS = ("Building", "House", "Household", "Resident", "HouseholdMembership", "ResidentEvent", "ResidentTag")

    def __init__(self):
        from django.apps import apps

        self.models = [apps.get_model("registry", name) for name in self.MODELS]
        self.floor: dict = {}

    @staticmethod
    def allowed() -> bool:
        if not CHECK_KEYS_ONCE or connection.vendor != "postgresql":
            return False
        with connection.cursor() as c:
            if connection.pg_version >= 150000:
                c.execute("SELECT has_parameter_privilege('session_replication_role', 'SET')")
            else:
                c.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
            row = c.fetchone()
        return bool(row and row[0])

    def start(self):
        """Inside the transaction, before the first batch: the highest id of each table now
        (rows above it are this import's), then the triggers off for this transaction."""
        with connection.cursor() as c:
            for m in self.models:
                c.execute(f'SELECT COALESCE(MAX("id"), 0) FROM "{m._meta.db_table}"')
                self.floor[m] = c.fetchone()[0]
            c.execute("SET LOCAL session_replication_role = replica")

    def finish(self):
        """After the last batch: the triggers on again, then every key of the new rows checked."""
        with connection.cursor() as c:
            c.execute("SET LOCAL session_replication_role = origin")
            for m in self.models:
                table = m._meta.db_table
                for f in m._meta.concrete_fields:
                    if not f.is_relation or not f.many_to_one:
                        continue
                    parent = f.related_model
                    p_table, p_col = parent._meta.db_table, f.target_field.column
                    pf = self.floor.get(parent, _MAX_ID)  # rows of the parent above it are this import's
                    new = f'SELECT "{f.column}" FROM "{table}" WHERE "id" > %s AND "{f.column}" IS NOT NULL'
                    c.execute(f'SELECT count(DISTINCT "{f.column}") FILTER (WHERE "{f.column}" <= %s), '
                              f'count(DISTINCT "{f.column}") FILTER (WHERE "{f.column}" > %s) '
                              f'FROM "{table}" WHERE "id" > %s', [pf, pf, self.floor[m]])
                    old, made = c.fetchone()
                    # The rows referenced that were there before are locked, as the triggers
                    # lock them (nobody may delete them before the commit); the ones this import
                    # made cannot be seen, let alone deleted, by anyone else.
                    c.execute(f'SELECT count(*) FROM (SELECT 1 FROM "{p_table}" p WHERE p."{p_col}" IN '
                              f'({new} AND "{f.column}" <= %s) FOR KEY SHARE OF p) AS x', [self.floor[m], pf])
                    found = c.fetchone()[0]
                    if made:
                        c.execute(f'SELECT count(*) FROM "{p_table}" p WHERE p."{p_col}" > %s AND p."{p_col}" IN '
                                  f'({new} AND "{f.column}" > %s)', [pf, self.floor[m], pf])
                        found += c.fetchone()[0]
                    if found != old + made:
                        raise IntegrityError(
                            f'insert or update on table "{table}" violates foreign key on "{f.column}": '
                            f'{old + made - found} values are not present in table "{p_table}"')


def _check_all(rows: list[list], ctx: Context, progress) -> list:
    """Check every row; returns a list aligned with rows of tuples (good) or str (message).

    A big file is shared out: forked processes (they inherit the rows and the context, and send
    back the checked tuples) take the later shares while this process checks the first one, so
    no core waits."""
    n = len(rows)
    step = PROGRESS_EVERY
    workers = min(WORKERS, -(-n // step)) if n >= PARALLEL_MIN_ROWS else 1
    _WORK["rows"], _WORK["ctx"] = rows, ctx
    try:
        if workers <= 1:
            results: list = []
            for i in range(0, n, step):
                results.extend(_check_range((i, min(i + step, n))))
                progress(len(results))
            return results
        import multiprocessing

        share = -(-n // workers)
        own = [(i, min(i + step, share)) for i in range(0, share, step)]
        theirs = [(i, min(i + step, n)) for i in range(share, n, step)]
        results = [None] * n
        done = [0]

        def arrived(bounds):
            def put(part):
                results[bounds[0]:bounds[1]] = part
                done[0] += bounds[1] - bounds[0]
            return put

        with multiprocessing.get_context("fork").Pool(workers - 1) as pool:
            pending = [pool.apply_async(_check_range, (r,), callback=arrived(r)) for r in theirs]
            mine = 0
            for r in own:
                results[r[0]:r[1]] = _check_range(r)
                mine += r[1] - r[0]
                progress(mine + done[0])
            for job in pending:
                job.get()  # re-raises a failure in a checker
                progress(mine + done[0])
        return results
    finally:
        _WORK.clear()


# ---------------------------------------------------------------- bulk SQL

def _columns(model, names):
    return [model._meta.get_field(n).column for n in names]


def _alloc_ids(model, n: int) -> list[int]:
    if n == 0:
        return []
    table = model._meta.db_table
    with connection.cursor() as c:
        if connection.vendor == "postgresql":
            # n values from the sequence. They are almost always one run (nobody else drew in
            # between), so ask for the run's ends rather than n rows, and name the sequence once
            # rather than per value (100,000 ids: 0.31 -> 0.04 s); a broken run is fetched whole.
            c.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
            seq = c.fetchone()[0]
            c.execute("SELECT min(v), max(v) FROM (SELECT nextval(%s::regclass) AS v FROM generate_series(1, %s)) AS s",
                      [seq, n])
            low, high = c.fetchone()
            if high - low + 1 == n:
                return list(range(low, high + 1))
            c.execute("SELECT nextval(%s::regclass) FROM generate_series(1, %s)", [seq, n])
            return [r[0] for r in c.fetchall()]
        c.execute(f'SELECT COALESCE(MAX("id"), 0) FROM "{table}"')
        top = c.fetchone()[0]
        try:
            c.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
            row = c.fetchone()
            if row and row[0] and row[0] > top:
                top = row[0]
        except Exception:  # no AUTOINCREMENT table yet
            pass
    return list(range(top + 1, top + 1 + n))


# Rows a statement of _insert on SQLite (at most 22 columns: 1,100 values, within SQLite's 32,766).
ROWS_PER_INSERT = 50


def _insert(model, names: list[str], rows: list[tuple]):
    if not rows:
        return
    table = model._meta.db_table
    cols = _columns(model, names)
    with connection.cursor() as c:
        if connection.vendor == "postgresql":
            col_sql = ", ".join(f'"{x}"' for x in cols)
            with connection.wrap_database_errors, c.cursor.copy(f'COPY "{table}" ({col_sql}) FROM STDIN') as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            # Rows come with dates and times already in the database's form and enum members as
            # plain strings (see Plan.write), so they go to sqlite3 itself: Django's cursor
            # rewrites the statement and re-iterates the rows, and sqlite3 adapts a str subclass
            # more slowly than a str (100,000 resident rows: 2.4-2.6 -> 2.1-2.3 s).
            # ROWS_PER_INSERT rows a statement, OR FAIL: a statement that may abort half way keeps
            # a copy of every page it changes to undo itself (its statement journal, on disk past
            # 64 KiB), and one row a statement pays the statement's own costs per row. A failed
            # statement fails the import, whose transaction is then rolled back whole, so what
            # the statement wrote before failing never stays. The same rows replayed into the
            # city of 1,000,000: 3.5-3.6 s one row a statement, 2.4-2.6 s fifty rows OR FAIL.
            col_sql = ", ".join(f'"{x}"' for x in cols)
            one = "(" + ", ".join(["?"] * len(cols)) + ")"
            head = f'INSERT OR FAIL INTO "{table}" ({col_sql}) VALUES '
            raw = connection.connection
            k, width = ROWS_PER_INSERT, ROWS_PER_INSERT * len(cols)
            whole = len(rows) - len(rows) % k
            with connection.wrap_database_errors:  # the driver's errors as Django's, as through a cursor
                if whole:
                    flat = list(itertools.chain.from_iterable(rows[:whole]))
                    raw.executemany(head + ", ".join([one] * k), (flat[i:i + width] for i in range(0, len(flat), width)))
                if whole < len(rows):
                    raw.executemany(head + one, rows[whole:])


def _update(model, set_names: list[str], rows: list[tuple], where: str = "id", open_only: bool = False):
    """rows: (value..., key) executed as UPDATE ... SET a=%s, b=%s WHERE where=%s."""
    if not rows:
        return
    table = model._meta.db_table
    cols = _columns(model, set_names)
    sets = ", ".join(f'"{c}" = %s' for c in cols)
    sql = f'UPDATE "{table}" SET {sets} WHERE "{where}" = %s' + (' AND "end_date" IS NULL' if open_only else "")
    if connection.vendor != "postgresql":
        ops = connection.ops
        rows = [tuple(ops.adapt_datefield_value(x) if isinstance(x, dt.date) and not isinstance(x, dt.datetime)
                      else ops.adapt_datetimefield_value(x) if isinstance(x, dt.datetime) else x for x in r) for r in rows]
    with connection.cursor() as c:
        c.executemany(sql, rows)


def _rows_by_key(model, columns: list[str], key: str, values, also: str = "") -> list[dict]:
    """The rows whose `key` is one of `values` (and `also`, SQL), as dicts of `columns`, in id
    order within each part. One statement on PostgreSQL (= ANY of an array), parts of 2,000 on
    SQLite; plain SQL, because the ORM prepares each value of an `__in` lookup on its own
    (100,000 ID numbers: 0.5 s before the query ran)."""
    table = model._meta.db_table
    col_sql = ", ".join(f'"{c}"' for c in columns)
    out = []
    with connection.cursor() as c:
        if connection.vendor == "postgresql":
            c.execute(f'SELECT {col_sql} FROM "{table}" WHERE "{key}" = ANY(%s){also} ORDER BY "id"', [list(values)])
            out.extend(dict(zip(columns, row, strict=True)) for row in c.fetchall())
        else:
            for part in _chunks(values, 2000):
                c.execute(f'SELECT {col_sql} FROM "{table}" WHERE "{key}" IN ({", ".join(["%s"] * len(part))}){also} '
                          'ORDER BY "id"', part)
                out.extend(dict(zip(columns, row, strict=True)) for row in c.fetchall())
    return out


def _chunks(seq, n=2000):
    seq = list(seq)
    for i in range(0, len(seq), n):
        yield seq[i:i + n]


# ---------------------------------------------------------------- running a job

def _progress(job_id: int, n: int):
    ImportJob.objects.filter(pk=job_id).update(processed_rows=n)


def _side_progress_path(job: ImportJob) -> str:
    return job.file.path + ".progress"


class _Progress:
    """Rows checked so far, told from inside the streamed write's transaction, where an update
    of the job's row would show only at the commit: on PostgreSQL through a connection of its
    own; on SQLite, whose one writer is this transaction, in a small file beside the upload
    (rows_done reads it)."""

    def __init__(self, job: ImportJob):
        self.job = job
        self.side = _side_progress_path(job) if connection.vendor == "sqlite" else None
        self.other = None if self.side else connections.create_connection(connection.alias)

    def __call__(self, n: int):
        if self.side:
            with open(self.side, "w") as f:
                f.write(str(n))
            return
        if self.other is None:
            return
        try:
            with self.other.cursor() as c:
                # Should a caller's own open transaction hold the job's row, wait a moment, not for ever.
                c.execute("SET lock_timeout = '200ms'")
                c.execute(f'UPDATE "{ImportJob._meta.db_table}" SET "processed_rows" = %s WHERE "id" = %s', [n, self.job.pk])
        except DatabaseError:
            log.warning("import job %s: progress not shown", self.job.pk, exc_info=True)
            self.close()
            self.other = None

    def close(self):
        if self.side:
            try:
                os.unlink(self.side)
            except OSError:
                pass
        elif self.other is not None:
            self.other.close()


def rows_done(job: ImportJob) -> int:
    """Rows checked so far (see _Progress)."""
    if job.status == ImportStatus.RUNNING and job.file:
        try:
            with open(_side_progress_path(job)) as f:
                return max(job.processed_rows, int(f.read() or 0))
        except (OSError, ValueError):
            pass
    return job.processed_rows


def run_import(job_id: int) -> ImportJob:
    job = ImportJob.objects.select_related("region", "created_by").get(pk=job_id)
    if job.status not in (ImportStatus.PENDING, ImportStatus.RUNNING):
        return job
    ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.RUNNING)
    # The import makes millions of small objects and no reference cycles to speak of; the cyclic
    # collector would walk the whole heap (the sheet's rows included) again and again, and in the
    # forked checkers it would also copy every page it touches. Off while it runs.
    gc_was_on = gc.isenabled()
    gc.disable()
    try:
        outcome = _run(job)
    except DomainError as e:
        ImportJob.objects.filter(pk=job.pk).update(
            status=ImportStatus.REJECTED, message=e.text(), finished_at=timezone.now()
        )
        job.refresh_from_db()
        return job
    except Exception as e:  # a bug or the database failing: nothing written, say so
        log.exception("import job %s failed", job.pk)
        ImportJob.objects.filter(pk=job.pk).update(
            status=ImportStatus.FAILED, message=_g("The import failed: %(error)s") % {"error": type(e).__name__},
            finished_at=timezone.now(),
        )
        job.refresh_from_db()
        return job
    finally:
        if gc_was_on:
            gc.enable()
    job.refresh_from_db()
    if job.status == ImportStatus.DONE and (job.created_count or job.updated_count):
        from .hooks import area_changed

        area_changed(job.region_path)
    if outcome is not None:
        save_outcome(job, outcome)
        from . import tasks

        tasks.import_report(job.pk)
        job.refresh_from_db()
    return job


def outcome_name(job) -> str:
    return f"imports/results/job-{job.pk}.json"


def save_outcome(job, outcome: dict):
    name = outcome_name(job)
    if default_storage.exists(name):
        default_storage.delete(name)
    default_storage.save(name, ContentFile(json.dumps(outcome, ensure_ascii=False, default=str).encode()))


def load_outcome(job) -> dict | None:
    name = outcome_name(job)
    if not default_storage.exists(name):
        return None
    with default_storage.open(name, "rb") as f:
        return json.loads(f.read().decode())


def _clock() -> tuple[float, float]:
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.perf_counter(), time.process_time() + children.ru_utime + children.ru_stime


def _run(job: ImportJob) -> dict:
    clock = [_clock()]
    seconds: dict[str, float] = {}

    def lap(name):  # wall and CPU seconds (this process and its reaped checkers) of each step
        t = _clock()
        seconds[name] = round(t[0] - clock[0][0], 3)
        seconds[name + "_cpu"] = round(t[1] - clock[0][1], 3)
        clock[0] = t

    path = job.file.path
    with open(path, "rb") as f:
        head = f.read(4096)
    kind = sniff(head, path, job.original_name)
    streams = _streams(kind)
    split = (SplitSheet.open(path, _stream_parts(path), first=0.2) if streams else SplitSheet.open(path, WORKERS)) \
        if kind == "xlsx" else None
    today = timezone.localdate()
    written = False
    if split is not None:
        lap("read")  # the cut; the parts are read by the checkers
        try:
            header_index, mapping = find_header(split.head())
            ctx = Context(job.region, mapping, today)
            lap("prepare")
            if streams:
                got: dict = {}
                _started(job, split.rows_after(header_index + 1))
                try:
                    statuses = _write_while_checking(split, header_index + 1, ctx, job, today, got)
                    written = True
                    lap("write")
                except _NotStreamed:
                    lap("streamed")
                rownos, checked = got["rownos"], got["checked"]
                ImportJob.objects.filter(pk=job.pk).update(total_rows=len(rownos))
            else:
                rownos, checked = _read_and_check(split, header_index + 1, ctx, job)
        except (DomainError, DatabaseError):  # the database refusing the write is no reading problem
            raise
        except Exception:  # a part that does not read: read the file whole, which says what is wrong
            log.warning("import job %s: the split sheet did not read, reading it whole", job.pk, exc_info=True)
            split = None
    if split is None:
        rows = read_rows(path, kind)
        lap("read")
        header_index, mapping = find_header(rows)
        body = rows[header_index + 1:]
        # Keep spreadsheet row numbers; drop empty rows (trailing ones, blank lines).
        numbered = [(header_index + 2 + i, row) for i, row in enumerate(body) if _filled(row)]
        del rows, body
        _started(job, len(numbered))
        ctx = Context(job.region, mapping, today)
        lap("prepare")
        rownos = [n for n, _r in numbered]
        checked = _check_all([r for _n, r in numbered], ctx, lambda n: _progress(job.pk, n))
    del split
    total = len(rownos)
    if not written:
        lap("check")
        plan = Plan(job, ctx, today)
        statuses = plan.resolve(rownos, checked)
        lap("resolve")
    errors = sum(1 for s in statuses if s.startswith(REPORT_ERROR))
    atomic = job.mode == ImportMode.ALL_OR_NOTHING
    if errors and atomic:
        statuses = [s if s.startswith(REPORT_ERROR) else REPORT_ROLLED_BACK for s in statuses]
        ImportJob.objects.filter(pk=job.pk).update(
            status=ImportStatus.REJECTED, error_count=errors, created_count=0, updated_count=0, processed_rows=total,
            message=_g("%(n)s rows have errors; nothing was imported. Correct them and upload the file again.") % {"n": errors},
            finished_at=timezone.now(),
        )
    else:
        # A bigger SQLite page cache for the write. A large import inserts into every index of
        # tables of a million rows at random places; with the connection's usual 64 MB the same
        # index pages are evicted and read back over and over (100,000 rows into a city of
        # 1,000,000: the resident rows took 5.3 s with 64 MB, 3.1 s with 256 MB; 1 GB: no faster).
        if not written:
            with sqlite_pragmas(cache_kib=WRITE_CACHE_KIB), transaction.atomic():  # restored after the commit
                plan.write()
                lap("write")
            lap("commit")
        created = sum(1 for s in statuses if s == REPORT_NEW)
        updated = sum(1 for s in statuses if s == REPORT_UPDATED)
        ImportJob.objects.filter(pk=job.pk).update(
            status=ImportStatus.DONE, error_count=errors, created_count=created, updated_count=updated,
            processed_rows=total, finished_at=timezone.now(),
            message=_g("%(c)s new, %(u)s updated, %(e)s refused.") % {"c": created, "u": updated, "e": errors},
        )
    return {"header_index": header_index, "kind": kind, "rows": rownos, "statuses": statuses,
            "seconds": seconds}


class Plan:
    """Everything the write step does, worked out in memory first."""

    def __init__(self, job: ImportJob, ctx: Context, today: dt.date, made: dict | None = None):
        self.job = job
        self.ctx = ctx
        self.today = today
        self.actor_id = job.created_by_id
        # Ids of the buildings, houses and households earlier batches of this import made
        # (_write_while_checking); they are completed without an audit entry, and the ids this
        # batch makes are added.
        self.made = made if made is not None else {"buildings": set(), "houses": set(), "households": set()}

    # -------------------------------------------------------- resolve
    def resolve(self, rownos: list[int], checked: list) -> list[str]:
        n = len(checked)
        status = [""] * n
        for i, c in enumerate(checked):
            if isinstance(c, str):
                status[i] = REPORT_ERROR + c
        # Duplicates inside the file.
        first_row: dict[str, int] = {}
        for i, c in enumerate(checked):
            if status[i]:
                continue
            seen = first_row.get(c[ID_BIDX])
            if seen is not None:
                status[i] = REPORT_ERROR + _g("身份证号：the same ID number is already in row %(row)s.") % {"row": rownos[seen]}
            else:
                first_row[c[ID_BIDX]] = i
        # Existing residents, by blind index.
        existing: dict[str, dict] = {}
        fields = ["id", "id_number_bidx", "name", "phone_bidx", "phone_masked", "ethnicity", "residence_type",
                  "political_status", "household_id", "relation", "status", "region_id", "region_path"]
        for r in _rows_by_key(Resident, fields, "id_number_bidx", first_row.keys()):
            existing[r["id_number_bidx"]] = r
        for i, c in enumerate(checked):
            if status[i]:
                continue
            r = existing.get(c[ID_BIDX])
            if r is None:
                continue
            if not r["region_path"].startswith(self.job.region_path):
                status[i] = REPORT_ERROR + _g(
                    "身份证号：this person is registered in another area; that area must record the move out first.")
            elif r["status"] == ResidentStatus.DECEASED:
                status[i] = REPORT_ERROR + _g("身份证号：this person is recorded as deceased.")
        # Places known in the grids the file names.
        grid_ids = {c[GRID] for i, c in enumerate(checked) if not status[i]}
        named = {(c[GRID], c[ESTATE], c[BUILDING]) for i, c in enumerate(checked) if not status[i]}
        self.buildings: dict[tuple, dict] = {}
        for b in Building.objects.filter(region_id__in=grid_ids).values("id", "region_id", "estate", "number", "units"):
            self.buildings[(b["region_id"], b["estate"], b["number"])] = b
        self.houses: dict[tuple, dict] = {}
        house_ids = []
        if self.buildings:
            # Houses (and their households) only of the buildings the file names, not of every
            # building in its grids.
            for h in _rows_by_key(House, ["id", "building_id", "unit", "room", "use"], "building_id",
                                  [b["id"] for key, b in self.buildings.items() if key in named]):
                self.houses[(h["building_id"], h["unit"], h["room"])] = h
                house_ids.append(h["id"])
        self.households: dict[tuple, dict] = {}
        by_house: dict[int, list] = defaultdict(list)
        # In id order: the first open household of a house and number is the one a row joins.
        for hh in _rows_by_key(Household, ["id", "house_id", "number", "head_id", "region_id", "region_path"],
                               "house_id", house_ids, also=' AND "dissolved_on" IS NULL'):
            by_house[hh["house_id"]].append(hh)
            self.households.setdefault((hh["house_id"], hh["number"]), hh)
        # A file without 户号 means one household per house: take the house's only household.
        for house_id, hhs in by_house.items():
            if (house_id, "") not in self.households and len(hhs) == 1:
                self.households[(house_id, "")] = hhs[0]
        # Current heads of the households concerned, and who lives where now.
        heads = {hh["head_id"] for hh in self.households.values() if hh["head_id"]}
        head_rows = {r["id"]: r for r in _rows_by_key(Resident, ["id", "name", "household_id", "id_number_bidx", "status"],
                                                      "id", list(heads))}
        # Group rows into households.
        groups: dict[tuple, list[int]] = defaultdict(list)
        for i, c in enumerate(checked):
            if not status[i]:
                groups[_household_key(c)].append(i)
        in_file = {c[ID_BIDX]: i for i, c in enumerate(checked) if not status[i]}
        relation_of = {}
        for key, members in groups.items():
            heads_here = [i for i in members if checked[i][RELATION] == Relation.HEAD]
            unset = [i for i in members if checked[i][RELATION] is None]
            if not heads_here and len(members) == 1 and unset:
                heads_here = unset  # one person alone is the head
            db_hh = self._existing_household(key)
            db_head = head_rows.get(db_hh["head_id"]) if db_hh and db_hh["head_id"] else None
            if db_head and (db_head["household_id"] != db_hh["id"] or db_head["status"] != ResidentStatus.ACTIVE):
                db_head = None
            # The current head stays head unless the file says otherwise about them.
            db_head_stays = db_head is not None and db_head["id_number_bidx"] not in in_file
            if heads_here and heads_here == unset and db_head_stays:
                heads_here = []
            for i in members:
                relation_of[i] = checked[i][RELATION]
            for i in heads_here:
                relation_of[i] = Relation.HEAD
            if len(heads_here) > 1:
                for i in heads_here[1:]:
                    status[i] = REPORT_ERROR + _g("与户主关系：this household already has a head (户主) in row %(row)s.") % {
                        "row": rownos[heads_here[0]]}
                heads_here = heads_here[:1]
            if heads_here and db_head_stays:
                i = heads_here[0]
                status[i] = REPORT_ERROR + _g("与户主关系：this household already has a head, %(name)s.") % {"name": db_head["name"]}
                heads_here = []
            if not heads_here and not db_head_stays:
                for i in members:
                    if not status[i]:
                        status[i] = REPORT_ERROR + _g(
                            "与户主关系：the household at %(place)s has no head (户主); mark one person as 户主.") % {
                            "place": self._place_label(key)}
                continue
            for i in members:
                if not status[i] and relation_of[i] is None:
                    status[i] = REPORT_ERROR + _g("与户主关系：missing; the household has more than one person.")
        # In valid_rows mode a refused head leaves the rest of the household without one.
        changed = True
        while changed:
            changed = False
            for key, members in groups.items():
                live = [i for i in members if not status[i]]
                if not live:
                    continue
                if any(relation_of[i] == Relation.HEAD for i in live):
                    continue
                db_hh = self._existing_household(key)
                db_head = head_rows.get(db_hh["head_id"]) if db_hh and db_hh["head_id"] else None
                if db_head and db_head["household_id"] == db_hh["id"] and db_head["id_number_bidx"] not in in_file:
                    continue
                for i in live:
                    status[i] = REPORT_ERROR + _g(
                        "与户主关系：the household at %(place)s has no head (户主); mark one person as 户主.") % {
                        "place": self._place_label(key)}
                changed = True
        # What each good row does.
        self.rows = []  # (index, checked tuple, relation, existing resident or None)
        plain = {m: m.value for m in Relation}  # relations as plain strings (see _insert)
        for i, c in enumerate(checked):
            if status[i]:
                continue
            r = existing.get(c[ID_BIDX])
            self.rows.append((i, c, plain.get(relation_of[i], relation_of[i]), r))
            status[i] = REPORT_NEW if r is None else "?"
        self.groups = groups
        self.status = status
        self._diff()
        return self.status

    def _existing_household(self, key):
        grid_id, estate, number, unit, room, hh_number = key
        b = self.buildings.get((grid_id, estate, number))
        if b is None:
            return None
        h = self.houses.get((b["id"], unit, room))
        if h is None:
            return None
        return self.households.get((h["id"], hh_number))

    def _place_label(self, key) -> str:
        grid_id, estate, number, unit, room, hh_number = key
        label = f"{estate}{number}{'号楼' if number.isdigit() else ''}{unit}单元{room}室"
        return label + (f"（户号 {hh_number}）" if hh_number else "")

    def _diff(self):
        """For existing residents: what changes (for the report and the audit log)."""
        self.changes = {}
        self.open_tags: dict[int, set] = defaultdict(set)
        existing_ids = [r["id"] for _i, _c, _rel, r in self.rows if r is not None]
        for part in _chunks(existing_ids, 2000):
            for res_id, tag_id in ResidentTag.objects.filter(resident_id__in=part, end_date__isnull=True).values_list(
                    "resident_id", "tag_id"):
                self.open_tags[res_id].add(tag_id)
        for i, c, relation, r in self.rows:
            if r is None:
                continue
            ch = {}
            if c[NAME] != r["name"]:
                ch["name"] = [r["name"], c[NAME]]
            if c[PHONE] is not None and c[PHONE][0] != r["phone_bidx"]:
                ch["phone_masked"] = [r["phone_masked"], c[PHONE][2]]
            for idx, field in ((ETHNICITY, "ethnicity"), (RESIDENCE, "residence_type"), (POLITICAL, "political_status")):
                if c[idx] is not None and c[idx] != r[field]:
                    ch[field] = [r[field], c[idx]]
            if relation != r["relation"]:
                ch["relation"] = [r["relation"], relation]
            target = self._existing_household(_household_key(c))
            if target is None or target["id"] != r["household_id"] or r["status"] != ResidentStatus.ACTIVE:
                ch["household"] = [r["household_id"], None if target is None else target["id"]]
            if r["status"] != ResidentStatus.ACTIVE:
                ch["status"] = [r["status"], ResidentStatus.ACTIVE]
            self.changes[i] = ch
            new_tags = set(c[TAGS]) - self.open_tags.get(r["id"], set())
            self.status[i] = REPORT_UPDATED if (ch or new_tags) else REPORT_UNCHANGED

    # -------------------------------------------------------- write
    def write(self):
        now_obj = timezone.now()
        if connection.vendor == "postgresql":
            now, today, day = now_obj, self.today, (lambda d: d)
        else:  # SQLite takes ISO text; adapt once rather than per row
            now, today, day = connection.ops.adapt_datetimefield_value(now_obj), self.today.isoformat(), dt.date.isoformat
        ctx = self.ctx
        actor_id = self.actor_id
        active, registered = ResidentStatus.ACTIVE.value, EventKind.REGISTERED.value  # plain strings (see _insert)
        logs = []  # (model, pk, repr, changes)
        # Buildings.
        new_b = {}
        max_unit: dict[tuple, int] = defaultdict(int)
        for _i, c, _relation, _r in self.rows:
            bkey = (c[GRID], c[ESTATE], c[BUILDING])
            max_unit[bkey] = max(max_unit[bkey], c[UNIT])
        for bkey, units in max_unit.items():
            b = self.buildings.get(bkey)
            if b is None:
                grid_id, estate, number = bkey
                obj = Building(estate=estate, number=number, units=units, region_id=grid_id, region_path=ctx.grid_paths[grid_id])
                new_b[bkey] = obj
            elif b["units"] < units:
                if b["id"] not in self.made["buildings"]:
                    logs.append((Building, b["id"], f"{b['estate']}{b['number']}", {"units": [str(b["units"]), str(units)]}))
                Building.objects.filter(pk=b["id"]).update(units=units)
                b["units"] = units
        if new_b:
            Building.objects.bulk_create(list(new_b.values()), batch_size=500)
            for bkey, obj in new_b.items():
                self.buildings[bkey] = {"id": obj.pk, "region_id": obj.region_id, "estate": obj.estate,
                                        "number": obj.number, "units": obj.units}
                self.made["buildings"].add(obj.pk)
        # Houses.
        new_h = {}
        use_updates = []
        for _i, c, _relation, _r in self.rows:
            b = self.buildings[(c[GRID], c[ESTATE], c[BUILDING])]
            hkey = (b["id"], c[UNIT], c[ROOM])
            h = self.houses.get(hkey)
            if h is None:
                if hkey not in new_h:
                    new_h[hkey] = [c[GRID], c[USE] or "owner"]
                elif c[USE]:
                    new_h[hkey][1] = c[USE]
            elif c[USE] and c[USE] != h["use"]:
                if h["id"] not in self.made["houses"]:
                    logs.append((House, h["id"], f"{c[ESTATE]}{c[BUILDING]}-{c[UNIT]}-{c[ROOM]}", {"use": [h["use"], c[USE]]}))
                use_updates.append((c[USE], h["id"]))
                h["use"] = c[USE]
        ids = _alloc_ids(House, len(new_h))
        house_rows = []
        for pk, (hkey, (grid_id, use)) in zip(ids, new_h.items(), strict=True):
            b_id, unit, room = hkey
            floor = int(room[:-2]) if room.isdigit() and len(room) >= 3 and int(room[:-2]) < 32000 else None
            house_rows.append((pk, grid_id, ctx.grid_paths[grid_id], b_id, unit, room, floor, use))
            self.houses[hkey] = {"id": pk, "building_id": b_id, "unit": unit, "room": room, "use": use}
            self.made["houses"].add(pk)
        _insert(House, ["id", "region", "region_path", "building", "unit", "room", "floor", "use"], house_rows)
        _update(House, ["use"], use_updates)
        # Residents: ids for the new ones first (households point at their heads).
        # New residents take their ids in pinyin order: the table, its pinyin index and much of
        # its initials index are then written page after page instead of at random places, and
        # so are the resident indexes of memberships, events and tags, written in the same order
        # (100,000 rows into 1,000,000 on SQLite: resident rows 2.1-2.3 -> 1.9 s; on PostgreSQL
        # the COPY 4.0-5.3 -> 2.8-3.2 s, as when only the rows were sorted).
        new_rows = sorted((t for t in self.rows if t[3] is None), key=lambda t: t[1][PINYIN])
        new_ids = _alloc_ids(Resident, len(new_rows))
        rid = {}
        for pk, (i, _c, _relation, _r) in zip(new_ids, new_rows, strict=True):
            rid[i] = pk
        for i, _c, _relation, r in self.rows:
            if r is not None:
                rid[i] = r["id"]
        # Households.
        hh_of = {}
        new_hh = {}
        head_of_group = {}
        for i, c, relation, _r in self.rows:
            gkey = _household_key(c)
            if relation == Relation.HEAD:
                head_of_group[gkey] = rid[i]
            b = self.buildings[(c[GRID], c[ESTATE], c[BUILDING])]
            h = self.houses[(b["id"], c[UNIT], c[ROOM])]
            hh = self.households.get((h["id"], c[HH_NUMBER]))
            if hh is None:
                hh = new_hh.get(gkey)
                if hh is None:
                    hh = new_hh[gkey] = {"id": None, "house_id": h["id"], "number": c[HH_NUMBER], "head_id": None,
                                         "region_id": c[GRID], "region_path": ctx.grid_paths[c[GRID]]}
            hh_of[i] = hh
        for pk, hh in zip(_alloc_ids(Household, len(new_hh)), new_hh.values(), strict=True):
            hh["id"] = pk
            self.households[(hh["house_id"], hh["number"])] = hh
            self.made["households"].add(pk)
        new_hh_ids = {hh["id"] for hh in new_hh.values()}
        # On SQLite a household row naming a head not inserted yet is a pending (deferred)
        # foreign-key violation, and while any is pending SQLite looks up, for every resident row
        # inserted, the rows that point at it (four tables). New heads are therefore set after
        # the residents are in. PostgreSQL checks only the pointing rows, at commit, and an update
        # would write each household row twice there.
        later_heads = set(new_ids) if connection.vendor == "sqlite" else set()
        hh_rows, head_rows = [], []
        for gkey, hh in new_hh.items():
            head = hh["head_id"] = head_of_group.get(gkey)
            if head in later_heads:
                head_rows.append((head, hh["id"]))
                head = None
            hh_rows.append((hh["id"], hh["region_id"], hh["region_path"], hh["house_id"], hh["number"], head, now))
        _insert(Household, ["id", "region", "region_path", "house", "number", "head", "created_at"], hh_rows)
        # New residents.
        res_cols = ["id", "region", "region_path", "name", "pinyin", "initials", "gender", "birth_date", "id_number_enc",
                    "id_number_bidx", "id_number_masked", "phone_enc", "phone_bidx", "phone_masked", "ethnicity",
                    "residence_type", "political_status", "household", "relation", "status", "created_at", "updated_at"]
        res_rows, member_rows, event_rows = [], [], []
        for i, c, relation, _r in new_rows:
            hh = hh_of[i]
            phone = c[PHONE] or ("", "", "")
            res_rows.append((
                rid[i], hh["region_id"], hh["region_path"], c[NAME], c[PINYIN], c[INITIALS], c[GENDER], day(c[BIRTH]),
                c[ID_ENC], c[ID_BIDX], c[ID_MASKED], phone[1], phone[0], phone[2], c[ETHNICITY] or "汉族",
                c[RESIDENCE] or "registered", c[POLITICAL] or "masses", hh["id"], relation, active, now, now,
            ))
            member_rows.append((hh["id"], rid[i], relation, today, None))
            event_rows.append((rid[i], registered, today, None, hh["id"], c[NOTE], actor_id, now))
        _insert(Resident, res_cols, res_rows)
        _update(Household, ["head"], head_rows)
        # Existing residents: changes, moves, relation changes.
        upd_rows = []
        ended = []
        relation_rows = []
        heads_left: list[tuple[int, int]] = []  # (household, resident) where the resident may have been head
        moved_regions = []
        for i, c, relation, r in self.rows:
            if r is None:
                continue
            ch = self.changes[i]
            if not ch:
                continue
            hh = hh_of[i]
            phone = c[PHONE]
            upd_rows.append((
                c[NAME], c[PINYIN], c[INITIALS],
                phone[1] if phone else None, phone[0] if phone else None, phone[2] if phone else None,
                c[ETHNICITY], c[RESIDENCE], c[POLITICAL], hh["id"], relation, active,
                hh["region_id"], hh["region_path"], now, r["id"],
            ))
            if "household" in ch:
                if r["household_id"]:
                    ended.append((today, r["id"]))
                    heads_left.append((r["household_id"], r["id"]))
                member_rows.append((hh["id"], r["id"], relation, today, None))
                kind = (EventKind.MOVE_HOUSE if r["status"] == ResidentStatus.ACTIVE and r["household_id"] else EventKind.MOVE_IN).value
                event_rows.append((r["id"], kind, today, r["household_id"], hh["id"], c[NOTE], actor_id, now))
                if hh["region_path"] != r["region_path"]:
                    moved_regions.append((hh["region_path"], r["id"]))
            elif "relation" in ch:
                relation_rows.append((relation, r["id"]))
                if r["relation"] == Relation.HEAD:
                    heads_left.append((r["household_id"], r["id"]))
            logs.append((Resident, r["id"], c[NAME], {k: [_s(a), _s(b)] for k, (a, b) in ch.items()}))
        if upd_rows:
            table = Resident._meta.db_table
            sql = (f'UPDATE "{table}" SET "name" = %s, "pinyin" = %s, "initials" = %s, '
                   '"phone_enc" = COALESCE(%s, "phone_enc"), "phone_bidx" = COALESCE(%s, "phone_bidx"), '
                   '"phone_masked" = COALESCE(%s, "phone_masked"), "ethnicity" = COALESCE(%s, "ethnicity"), '
                   '"residence_type" = COALESCE(%s, "residence_type"), "political_status" = COALESCE(%s, "political_status"), '
                   '"household_id" = %s, "relation" = %s, "status" = %s, "region_id" = %s, "region_path" = %s, '
                   '"updated_at" = %s WHERE "id" = %s')
            with connection.cursor() as cur:
                cur.executemany(sql, upd_rows)
        # A resident has at most one open membership; ended ones keep their dates.
        _update(HouseholdMembership, ["end_date"], ended, where="resident_id", open_only=True)
        _update(HouseholdMembership, ["relation"], relation_rows, where="resident_id", open_only=True)
        _insert(HouseholdMembership, ["household", "resident", "relation", "start_date", "end_date"], member_rows)
        # Heads of existing households.
        head_updates = []
        for gkey, members in self.groups.items():
            head = head_of_group.get(gkey)
            if head is None:
                continue
            i = next((j for j in members if j in hh_of), None)
            if i is None:
                continue
            hh = hh_of[i]
            if hh["id"] in new_hh_ids:
                continue
            if hh["head_id"] != head:
                logs.append((Household, hh["id"], self._place_label(gkey), {"head": [_s(hh["head_id"]), str(head)]}))
                head_updates.append((head, hh["id"]))
                hh["head_id"] = head
        _update(Household, ["head"], head_updates)
        # A head who moved away or is no longer head leaves the household without one (unless replaced).
        cleared = heads_left  # runs after the head updates, so a replaced head is no longer matched
        if cleared:
            table = Household._meta.db_table
            with connection.cursor() as cur:
                cur.executemany(f'UPDATE "{table}" SET "head_id" = NULL WHERE "id" = %s AND "head_id" = %s', cleared)
        _insert(ResidentEvent, ["resident", "kind", "date", "from_household", "to_household", "note", "created_by",
                                "created_at"], event_rows)
        # Tags: the file's care tags, and age tags from the birth date.
        self._write_tags(rid, moved_regions, hh_of, today)
        # Audit log for changes to existing rows.
        self.logged = len(logs)
        if logs:
            from auditlog.models import LogEntry

            cts = {m: ContentType.objects.get_for_model(m) for m in {x[0] for x in logs}}
            entries = [
                LogEntry(content_type=cts[m], object_pk=str(pk), object_id=pk, object_repr=str(rep)[:200],
                         action=LogEntry.Action.UPDATE, changes=ch, actor_id=actor_id, timestamp=now_obj,
                         additional_data={"import_job": self.job.pk})
                for m, pk, rep, ch in logs
            ]
            LogEntry.objects.bulk_create(entries, batch_size=1000)

    def _write_tags(self, rid, moved_regions, hh_of, today_db):
        today = self.today
        ctx = self.ctx
        wanted: dict[int, set] = {}
        age_ids = {t[0] for t in ctx.age_tags}
        path_of = {}
        for i, c, _relation, _r in self.rows:
            b = c[BIRTH]
            age = today.year - b.year - ((today.month, today.day) < (b.month, b.day))
            tags = set(c[TAGS])
            for tid, lo, hi in ctx.age_tags:
                if (lo is None or age >= lo) and (hi is None or age <= hi):
                    tags.add(tid)
            wanted[rid[i]] = tags
            path_of[rid[i]] = hh_of[i]["region_path"]
        open_tags = self.open_tags
        add, end = [], []
        for res_id, tags in wanted.items():
            have = open_tags.get(res_id, set())
            for t in tags - have:
                add.append((res_id, t, today_db, None, "", path_of[res_id]))
            for t in (have & age_ids) - tags:
                end.append((res_id, t))
        add.sort(key=operator.itemgetter(0))  # in resident order, as the residents were written
        _insert(ResidentTag, ["resident", "tag", "start_date", "end_date", "note", "region_path"], add)
        if end:
            table = ResidentTag._meta.db_table
            d = today_db
            with connection.cursor() as cur:
                cur.executemany(
                    f'UPDATE "{table}" SET "end_date" = %s WHERE "resident_id" = %s AND "tag_id" = %s AND "end_date" IS NULL',
                    [(d, a, b) for a, b in end],
                )
        _update(ResidentTag, ["region_path"], moved_regions, where="resident_id")


def _s(value) -> str | None:
    return None if value is None else str(value)
