"""Reading a resident sheet: what kind of file an upload is, its rows as plain lists, and a big
.xlsx cut into parts that the checking processes read at once (SplitSheet)."""

from __future__ import annotations

import csv
import io
import os
import re
import zipfile

from django.utils.translation import gettext_lazy as _

from linli.errors import DomainError

_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ODS_MIME = b"application/vnd.oasis.opendocument.spreadsheet"
# Files that are certainly not text, whatever their name says (PDF, images, programs, archives).
_BINARY = (b"%PDF", b"\x89PNG", b"GIF8", b"\xff\xd8\xff", b"MZ", b"\x7fELF", b"\x1f\x8b", b"Rar!", b"7z\xbc\xaf")
_CONTROL = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


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
    their references, so rows keep their numbers). python-calamine reads one sheet in one thread,
    which a big sheet keeps busy for a while; the parts are read at once by the forked checkers,
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
                name = first_sheet(z)
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


def first_sheet(z: zipfile.ZipFile) -> str | None:
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


def row_filled(row) -> bool:
    """Whether a row holds anything (a blank line or a trailing empty row does not)."""
    for c in row:  # the first cell usually answers; this runs once per row, so a plain loop, no generator
        if c is None or c == "":
            continue
        if c.__class__ is not str or c.strip():
            return True
    return False
