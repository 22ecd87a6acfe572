"""The one rule for values leaving ipplan in a spreadsheet (.xlsx or .csv), used by every export.

Policy text and progress reports are typed by people and copied from documents; a spreadsheet program must
never run them. Text starting with ``= + - @``, a tab or a carriage return is what Excel, WPS and LibreOffice
may read as a formula (OWASP "CSV injection"):

- in .xlsx the value is written as a string cell (``data_type = "s"``): it is shown exactly as typed, with no
  apostrophe, and can never be a formula;
- in .csv there is no cell type, so the value gets a leading apostrophe, which spreadsheet programs hide.

CSV files start with a UTF-8 byte-order mark, without which Excel on Chinese Windows reads them as GBK and
shows garbage. Export file names are Chinese and carry the local (Asia/Shanghai) date.
"""

from __future__ import annotations

import datetime
import re

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
CSV_BOM = "\ufeff"
UNSAFE_FILENAME = re.compile(r'[\\/:*?"<>|\s]+')


def is_formula_like(value) -> bool:
    return isinstance(value, str) and value.startswith(FORMULA_PREFIXES)


def csv_value(value):
    """A value for a CSV cell: formula-like text gets the apostrophe spreadsheet programs hide."""
    if is_formula_like(value):
        return "'" + value
    return value


def excel_value(value):
    """Values openpyxl can store: aware datetimes become local naive ones (Excel has no time zones)."""
    if isinstance(value, datetime.datetime) and value.tzinfo is not None:
        from django.utils import timezone

        return timezone.localtime(value).replace(tzinfo=None)
    return value


def set_cell_value(cell, value):
    """Put ``value`` into an openpyxl cell (normal or write-only) so that text is always text: openpyxl
    itself would turn ``=…`` into a live formula."""
    cell.value = excel_value(value)
    if isinstance(value, str):
        cell.data_type = "s"
    return cell


def export_filename(label: str, extension: str, *, day: datetime.date | None = None) -> str:
    """``任务-2026年12月2日.xlsx``-style names: Chinese label, local date, no characters Windows refuses."""
    if day is None:
        from django.utils import timezone

        day = timezone.localdate()
    clean = UNSAFE_FILENAME.sub("", label)[:60] or "导出"
    return f"{clean}-{day:%Y%m%d}.{extension}"
