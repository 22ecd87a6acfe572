"""Spreadsheet cells for openpyxl's write-only mode: safe values, and styles built once and reused.

Write-only worksheets stream rows to disk, so a 100,000-row report stays small in memory; in exchange, column
widths and frozen panes must be set before the first row, the auto-filter may be set at any time, and styled
cells are ``WriteOnlyCell`` objects. Plain values are passed through as they are (fast path).
"""

from __future__ import annotations

import datetime
from copy import copy
from xml.sax.saxutils import escape

from lxml.etree import fromstring
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils.datetime import to_excel

from ipplan.lib.safe_cells import excel_value, set_cell_value
from tasks.status import Light

__all__ = ["excel_value", "CellFactory", "FastRows"]
DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
PERCENT_FORMAT = "0.0%"

LIGHT_FILLS = {
    Light.RED: PatternFill("solid", start_color="F8CBAD", end_color="F8CBAD"),
    Light.YELLOW: PatternFill("solid", start_color="FFE699", end_color="FFE699"),
    Light.GREEN: PatternFill("solid", start_color="C6EFCE", end_color="C6EFCE"),
    Light.GREY: PatternFill("solid", start_color="E7E6E6", end_color="E7E6E6"),
}
HEADER_FILL = PatternFill("solid", start_color="305496", end_color="305496")
HEADER_FONT = Font(bold=True, color="FFFFFF")
THIN = Side(style="thin", color="BFBFBF")
HEADER_BORDER = Border(bottom=THIN)


class CellFactory:
    """Makes styled ``WriteOnlyCell``s for one worksheet. Each distinct style is assigned through openpyxl's
    public attributes once; later cells copy the resulting style ids, which keeps 100,000 rows fast."""

    def __init__(self, ws):
        self.ws = ws
        self._styles: dict[tuple, object] = {}

    def _style(self, key: tuple):
        if key not in self._styles:
            number_format, wrap, fill, header = key
            proto = WriteOnlyCell(self.ws)
            if number_format:
                proto.number_format = number_format
            if wrap:
                proto.alignment = Alignment(wrap_text=True, vertical="top")
            else:
                proto.alignment = Alignment(vertical="top")
            if fill is not None:
                proto.fill = LIGHT_FILLS.get(fill, fill)
            if header:
                proto.font = HEADER_FONT
                proto.fill = HEADER_FILL
                proto.border = HEADER_BORDER
                proto.alignment = Alignment(wrap_text=True, vertical="center", horizontal="center")
            self._styles[key] = proto._style
        return self._styles[key]

    def cell(self, value, *, number_format: str = "", wrap: bool = False, fill=None, header: bool = False):
        cell = set_cell_value(WriteOnlyCell(self.ws), value)  # text stays text (ipplan/lib/safe_cells.py)
        cell._style = copy(self._style((number_format, wrap, fill, header)))
        return cell

    def header(self, value):
        return self.cell(value, header=True)


class FastRows:
    """Streams the data rows of a write-only worksheet as XML elements built in one go.

    openpyxl's write-only mode keeps memory flat, but it turns every value into a cell object and writes it
    through several Python context managers (~25 µs a cell); a 100,000-task report has over two million cells.
    This writer plugs into the same stream (``WriteOnlyWorksheet`` looks up ``_values_to_row`` and its writer's
    ``write_row`` per row, openpyxl 3.1) and emits the identical markup — inline strings, numbers, date serials
    and style ids registered through openpyxl's public ``style_id`` — several times faster. Charts, panes,
    widths and the auto-filter are untouched. Install it after the (styled) header row has been appended.
    These are private openpyxl internals: pyproject.toml pins openpyxl to 3.1.x, the version this was tested
    with (tests/reports/test_progress_report.py reads the result back); re-test before widening the pin.
    Strings are inline strings, never formulas, so "=…" text needs no apostrophe (ipplan/lib/safe_cells.py).

    ``kinds`` gives each column's kind: text, wrap, date, datetime, int, percent or light.
    """

    def __init__(self, ws, kinds: list[str]):
        from openpyxl.utils import get_column_letter

        self.ws = ws
        self.kinds = kinds
        self.letters = [get_column_letter(i) for i in range(1, len(kinds) + 1)]
        factory = CellFactory(ws)

        def style_id(**style) -> str:
            proto = WriteOnlyCell(ws)
            proto._style = copy(
                factory._style(
                    (style.get("number_format", ""), style.get("wrap", False), style.get("fill"), False)
                )
            )
            return str(proto.style_id)

        self.plain = style_id()
        self.styles = {
            "text": self.plain,
            "int": self.plain,
            "wrap": style_id(wrap=True),
            "date": style_id(number_format=DATE_FORMAT),
            "datetime": style_id(number_format=DATETIME_FORMAT),
            "percent": style_id(number_format=PERCENT_FORMAT),
        }
        self.light_styles = {light: style_id(fill=light) for light in LIGHT_FILLS}
        self.light_labels = {light: str(light.label) for light in LIGHT_FILLS}
        ws._get_writer()
        ws._values_to_row = lambda values, row_idx: values  # rows arrive as plain lists
        ws._writer.write_row = self.write_row

    def write_row(self, xf, values, row_idx: int) -> None:
        # One string per row, parsed once by lxml: far cheaper than an element per cell built from Python.
        number = str(row_idx)
        parts = [f'<row r="{number}">']
        for letter, kind, value in zip(self.letters, self.kinds, values, strict=True):
            if value is None or value == "":
                continue
            if kind == "light":
                style, value = self.light_styles[value], self.light_labels[value]
            else:
                style = self.styles[kind]
            ref = letter + number
            if isinstance(value, str):
                # An inline string is never a formula: "=…" is shown as typed (ipplan/lib/safe_cells.py).
                value = escape(ILLEGAL_CHARACTERS_RE.sub("", value))
                space = ' xml:space="preserve"' if value != value.strip() else ""
                if kind == "date":  # "持续推进" in a date column
                    style = self.plain
                parts.append(f'<c r="{ref}" s="{style}" t="inlineStr"><is><t{space}>{value}</t></is></c>')
            elif isinstance(value, bool):
                parts.append(f'<c r="{ref}" s="{style}" t="b"><v>{int(value)}</v></c>')
            elif isinstance(value, datetime.date):
                parts.append(f'<c r="{ref}" s="{style}" t="n"><v>{to_excel(excel_value(value))!r}</v></c>')
            else:
                parts.append(f'<c r="{ref}" s="{style}" t="n"><v>{value!r}</v></c>')
        parts.append("</row>")
        xf.write(fromstring("".join(parts)))


# Printing ----------------------------------------------------------------------------------------------------

PAGE_FOOTER = "第 &P 页 共 &N 页"


def set_up_printing(ws, *, title_rows: str | None = None, landscape: bool = True) -> None:
    """A4, fit to one page wide (as many pages tall as needed), ``title_rows`` (e.g. "4:4") repeated on
    every page, and the page number in the footer: what a 台账 needs on paper. Public openpyxl API only."""
    ws.page_setup.paperSize = 9  # A4
    ws.page_setup.orientation = "landscape" if landscape else "portrait"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0  # 0 = as many pages tall as the rows need
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.page_margins.left = ws.page_margins.right = 0.5
    ws.page_margins.top = ws.page_margins.bottom = 0.6
    ws.page_margins.header = ws.page_margins.footer = 0.3
    ws.print_options.horizontalCentered = True
    ws.HeaderFooter.oddFooter.center.text = PAGE_FOOTER
    ws.HeaderFooter.oddFooter.center.size = 9
    if title_rows:
        ws.print_title_rows = title_rows
