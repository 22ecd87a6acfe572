"""A small, fast writer of one-sheet .xlsx files of plain values, for files made in bulk.

The daily sweep attaches a workbook to every escalation mail (the lead bureau's lists every escalated task,
and each lead agency's its support agencies' ones): a thousand workbooks a day. openpyxl spends about 10 ms
setting up and saving each workbook and ~10 µs per cell; this writer streams the sheet's XML straight into
the zip (a few hundred µs per file and ~1 µs per cell). It writes what the attachments need and nothing
else: one sheet, a header row kept in view (frozen), text, numbers and dates (``yyyy-mm-dd``).

Text is always written as text (an inline string, never a formula): the rule of ``ipplan.lib.safe_cells`` holds
by construction, ``=HYPERLINK(…)`` typed into a measure stays those characters. Characters XML cannot carry
(control characters other than tab and line breaks) are dropped; a cell keeps at most 32,767 characters,
Excel's limit.
"""

from __future__ import annotations

import datetime
import io
import re
import zipfile
from collections.abc import Iterable, Sequence
from xml.sax.saxutils import escape

MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_CELL_CHARS = 32_767
# Rows turned into XML and written to the zip at a time: a 30,000-row sheet is never held whole.
ROWS_PER_WRITE = 1_000

_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_EPOCH = datetime.date(1899, 12, 30)  # Excel's day 0 (for the dates after February 1900 it is used for)
_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
_DOC_RELS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'

_CONTENT_TYPES = (
    _HEAD + '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/styles.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
    "</Types>"
)
_PACKAGE_RELS = (
    _HEAD + f'<Relationships xmlns="{_RELS}">'
    f'<Relationship Id="rId1" Type="{_DOC_RELS}/officeDocument" Target="xl/workbook.xml"/>'
    "</Relationships>"
)
_WORKBOOK_RELS = (
    _HEAD + f'<Relationships xmlns="{_RELS}">'
    f'<Relationship Id="rId1" Type="{_DOC_RELS}/worksheet" Target="worksheets/sheet1.xml"/>'
    f'<Relationship Id="rId2" Type="{_DOC_RELS}/styles" Target="styles.xml"/>'
    "</Relationships>"
)
# Style 0: the default; style 1: a date shown as yyyy-mm-dd.
_STYLES = (
    _HEAD + f'<styleSheet xmlns="{_MAIN}">'
    '<numFmts count="1"><numFmt numFmtId="164" formatCode="yyyy-mm-dd"/></numFmts>'
    '<fonts count="1"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
)


def column_letter(index: int) -> str:
    """A, B, … Z, AA, … for the 0-based column ``index``."""
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


def _text(value: str) -> str:
    if len(value) > MAX_CELL_CHARS:
        value = value[:MAX_CELL_CHARS]
    value = escape(_ILLEGAL.sub("", value))
    if value[:1].isspace() or value[-1:].isspace():
        return f'<t xml:space="preserve">{value}</t>'
    return f"<t>{value}</t>"


def _cell(ref: str, value) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        return f'<c r="{ref}" t="inlineStr"><is>{_text(value)}</is></c>'
    if isinstance(value, bool):
        return f'<c r="{ref}" t="b"><v>{int(value)}</v></c>'
    if isinstance(value, int | float):
        return f'<c r="{ref}"><v>{value!r}</v></c>'
    if isinstance(value, datetime.datetime):
        if value.tzinfo is not None:
            raise ValueError("xlsx cells take naive datetimes (local time): Excel has no time zones")
        midnight = datetime.datetime.combine(value.date(), datetime.time())
        serial = (value.date() - _EPOCH).days + (value - midnight).total_seconds() / 86_400
        return f'<c r="{ref}" s="1"><v>{serial!r}</v></c>'
    if isinstance(value, datetime.date):
        return f'<c r="{ref}" s="1"><v>{(value - _EPOCH).days}</v></c>'
    return f'<c r="{ref}" t="inlineStr"><is>{_text(str(value))}</is></c>'


def write_sheet(title: str, header: Sequence[str], rows: Iterable[Sequence]) -> bytes:
    """An .xlsx of one sheet named ``title``: ``header`` in the first row (frozen), then ``rows``."""
    columns = [column_letter(index) for index in range(max(len(header), 1))]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as package:
        package.writestr("[Content_Types].xml", _CONTENT_TYPES)
        package.writestr("_rels/.rels", _PACKAGE_RELS)
        package.writestr(
            "xl/workbook.xml",
            _HEAD + f'<workbook xmlns="{_MAIN}" xmlns:r="{_DOC_RELS}"><sheets>'
            f'<sheet name="{escape(_ILLEGAL.sub("", title)[:31], {chr(34): "&quot;"})}" sheetId="1" r:id="rId1"/>'
            "</sheets></workbook>",
        )
        package.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        package.writestr("xl/styles.xml", _STYLES)
        with package.open("xl/worksheets/sheet1.xml", "w") as sheet:
            sheet.write(
                (
                    _HEAD + f'<worksheet xmlns="{_MAIN}"><sheetViews><sheetView workbookViewId="0">'
                    '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
                    '<selection pane="bottomLeft" activeCell="A2" sqref="A2"/>'
                    "</sheetView></sheetViews><sheetData>"
                ).encode()
            )
            chunk = [_row(1, header, columns)]
            for number, row in enumerate(rows, 2):
                if len(row) > len(columns):
                    columns += [column_letter(index) for index in range(len(columns), len(row))]
                chunk.append(_row(number, row, columns))
                if len(chunk) >= ROWS_PER_WRITE:
                    sheet.write("".join(chunk).encode())
                    chunk = []
            chunk.append("</sheetData></worksheet>")
            sheet.write("".join(chunk).encode())
    return buffer.getvalue()


def _row(number: int, values: Sequence, columns: list[str]) -> str:
    cells = "".join(_cell(f"{column}{number}", value) for column, value in zip(columns, values, strict=False))
    return f'<row r="{number}">{cells}</row>'
