"""A streaming .xlsx writer for large exports.

XlsxWriter takes far longer per cell, even in constant_memory mode, than a big export can afford
(bench/NOTES.md). Exports need only text and number cells, a bold header, column widths and a
frozen header row, so this writes the sheet XML directly into the zip as rows arrive and keeps
memory flat. Anything richer (templates, formats, several styles) uses XlsxWriter.
"""

import re
import zipfile
from xml.sax.saxutils import escape

_BAD_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _col(n: int) -> str:
    s = ""
    n += 1
    while n:
        n, r = divmod(n - 1, 26)
        s = chr(65 + r) + s
    return s


_SPECIAL = re.compile("[&<>\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _text(value: str) -> str:
    # Most cells hold nothing to escape: one search instead of a substitution and three replaces.
    if _SPECIAL.search(value) is None:
        return value
    return escape(_BAD_XML.sub("", value))


_STYLES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    '<fonts count="3"><font><sz val="11"/><name val="Calibri"/></font><font><b/><sz val="11"/><name val="Calibri"/></font>'
    '<font><sz val="11"/><color rgb="FFC00000"/><name val="Calibri"/></font></fonts>'
    '<fills count="3"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill>'
    '<fill><patternFill patternType="solid"><fgColor rgb="FFDDEBF7"/><bgColor indexed="64"/></patternFill></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="3"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="0" fontId="1" fillId="2" borderId="0" xfId="0" applyFont="1" applyFill="1"/>'
    '<xf numFmtId="0" fontId="2" fillId="0" borderId="0" xfId="0" applyFont="1"/></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
)


HEADER = 1  # bold on light blue
RED = 2  # red text, for refused rows


class Sheet:
    def __init__(self, book: "StreamingWorkbook", index: int, name: str, headers, widths):
        self.name = name
        self.cols = [_col(i) for i in range(len(headers))]
        self.row = 1
        self._out = book._zip.open(f"xl/worksheets/sheet{index}.xml", "w", force_zip64=True)
        cols = "".join(f'<col min="{i + 1}" max="{i + 1}" width="{w}" customWidth="1"/>' for i, w in enumerate(widths))
        self._write(
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
            '<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
            "</sheetView></sheetViews>"
            f"<cols>{cols}</cols><sheetData>"
        )
        self.write_row(headers, style=HEADER)

    def _write(self, s: str):
        self._out.write(s.encode("utf-8"))

    def write_row(self, values, style: int = 0, styles: dict[int, int] | None = None):
        """Strings become inline text cells, ints and floats number cells, None an empty cell.
        `style` applies to the row, `styles` to single columns ({column index: style})."""
        r = self.row
        parts = [f'<row r="{r}">']
        s = f' s="{style}"' if style else ""
        while len(self.cols) < len(values):
            self.cols.append(_col(len(self.cols)))
        for i, (col, v) in enumerate(zip(self.cols, values, strict=False)):
            if styles and i in styles:
                s = f' s="{styles[i]}"'
            elif styles:
                s = f' s="{style}"' if style else ""
            if v is None or v == "":
                continue
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                parts.append(f'<c r="{col}{r}"{s}><v>{v}</v></c>')
            else:
                parts.append(f'<c r="{col}{r}"{s} t="inlineStr"><is><t xml:space="preserve">{_text(str(v))}</t></is></c>')
        parts.append("</row>")
        self._write("".join(parts))
        self.row += 1

    def close(self):
        self._write("</sheetData></worksheet>")
        self._out.close()


class StreamingWorkbook:
    """Sheets are written one after another: finish (close) one before adding the next."""

    def __init__(self, path: str):
        self._zip = zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1)
        self._sheets: list[Sheet] = []

    def add_sheet(self, name: str, headers, widths) -> Sheet:
        if self._sheets:
            self._sheets[-1].close()
        sheet = Sheet(self, len(self._sheets) + 1, name, headers, widths)
        self._sheets.append(sheet)
        return sheet

    def close(self):
        if self._sheets:
            self._sheets[-1].close()
        n = len(self._sheets)
        z = self._zip
        z.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            '<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
            + "".join(
                f'<Override PartName="/xl/worksheets/sheet{i}.xml" '
                'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
                for i in range(1, n + 1)
            )
            + "</Types>",
        )
        z.writestr(
            "_rels/.rels",
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
            "</Relationships>",
        )
        z.writestr(
            "xl/workbook.xml",
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>'
            + "".join(
                f'<sheet name="{_text(s.name)}" sheetId="{i}" r:id="rId{i}"/>' for i, s in enumerate(self._sheets, start=1)
            )
            + "</sheets></workbook>",
        )
        z.writestr(
            "xl/_rels/workbook.xml.rels",
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            + "".join(
                f'<Relationship Id="rId{i}" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
                f'Target="worksheets/sheet{i}.xml"/>'
                for i in range(1, n + 1)
            )
            + f'<Relationship Id="rId{n + 1}" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>'
            "</Relationships>",
        )
        z.writestr("xl/styles.xml", _STYLES)
        z.close()
