"""The admin's export button (django-import-export) under the rule of ``ipplan/lib/safe_cells.py``.

import-export's own formula escaping strips ``=`` and turns dates into text, tablib names the sheet
"Tablib Dataset", its CSV has no byte-order mark and the file is called ``Task-2026-12-01.csv`` (English, UTC
date). These formats and the admin mixin replace that: string cells that are never formulas, real date
cells, a Chinese sheet and file name with the local date, and a UTF-8 BOM on CSV.
"""

from __future__ import annotations

import csv
import datetime
import io
import re
from email.header import decode_header

from django.utils.http import content_disposition_header
from import_export.formats import base_formats
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from .safe_cells import CSV_BOM, csv_value, excel_value, export_filename, set_cell_value

SHEET_TITLE_FORBIDDEN = str.maketrans({c: "" for c in "[]:*?/\\"})


def _csv_text(value) -> str:
    value = excel_value(value)  # aware datetimes in local time
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        return value.isoformat(sep=" ", timespec="minutes")
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(csv_value(value))


class SafeCSV(base_formats.CSV):
    def export_data(self, dataset, **kwargs):
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow([_csv_text(h) for h in dataset.headers or []])
        for row in dataset:
            writer.writerow([_csv_text(v) for v in row])
        return CSV_BOM + buffer.getvalue()


class SafeXLSX(base_formats.XLSX):
    def export_data(self, dataset, **kwargs):
        wb = Workbook()
        ws = wb.active
        ws.title = ((dataset.title or "").translate(SHEET_TITLE_FORBIDDEN) or "导出")[:31]
        headers = list(dataset.headers or [])
        bold = Font(bold=True)
        for col, header in enumerate(headers, 1):
            set_cell_value(ws.cell(row=1, column=col), header).font = bold
        widths = [max(8, min(40, len(str(h)) * 2 + 2)) for h in headers]
        for row_index, row in enumerate(dataset, 2):
            for col, value in enumerate(row, 1):
                cell = set_cell_value(ws.cell(row=row_index, column=col), value)
                if isinstance(value, datetime.datetime):
                    cell.number_format = "yyyy-mm-dd hh:mm"
                elif isinstance(value, datetime.date):
                    cell.number_format = "yyyy-mm-dd"
        for col, width in enumerate(widths, 1):
            ws.column_dimensions[get_column_letter(col)].width = width
        ws.freeze_panes = "A2"
        if headers:
            ws.auto_filter.ref = f"A1:{get_column_letter(len(headers))}{max(1, len(dataset) + 1)}"
        buffer = io.BytesIO()
        wb.save(buffer)
        return buffer.getvalue()


EXPORT_FORMATS = [SafeXLSX, SafeCSV]


class SafeExportMixin:
    """Mix into an import-export ``ModelAdmin`` before the import-export mixin."""

    @property
    def export_formats(self):
        return EXPORT_FORMATS

    def get_data_for_export(self, request, queryset, **kwargs):
        data = super().get_data_for_export(request, queryset, **kwargs)
        data.title = str(self.model._meta.verbose_name_plural)
        return data

    def get_export_filename(self, request, queryset, file_format):
        return export_filename(str(self.model._meta.verbose_name_plural), file_format.get_extension())

    # import-export writes ``filename="任务-….xlsx"`` raw, which Django then MIME-encodes (=?utf-8?b?…?=) and
    # browsers save under a garbled name; rewrite it as RFC 6266 ``filename*=UTF-8''…``.
    def export_action(self, request):
        return _readable_filename(super().export_action(request))

    def export_admin_action(self, request, queryset):
        return _readable_filename(super().export_admin_action(request, queryset))


def _readable_filename(response):
    header = response.get("Content-Disposition") if hasattr(response, "get") else None
    if not header:
        return response
    text = "".join(
        part.decode(charset or "ascii") if isinstance(part, bytes) else part
        for part, charset in decode_header(header)
    )
    match = re.search(r'filename="(.+)"', text)
    if match:
        response["Content-Disposition"] = content_disposition_header(True, match.group(1))
    return response
