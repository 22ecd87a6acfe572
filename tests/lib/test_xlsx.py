"""ipplan.lib.xlsx: what it writes reads back, in openpyxl, as written — text always text, dates as dates."""

import datetime
import io
import zipfile

import openpyxl

from ipplan.lib.xlsx import MAX_CELL_CHARS, ROWS_PER_WRITE, column_letter, write_sheet


def read(content: bytes):
    return openpyxl.load_workbook(io.BytesIO(content)).active


def test_values_read_back_as_written_with_their_types():
    sheet = read(
        write_sheet(
            "逾期上报任务",
            ["序号", "单位", "日期", "天数"],
            [
                [1, "区金融局", datetime.date(2024, 9, 20), 10],
                [2, "区科技局 & <配合>", datetime.datetime(2024, 9, 1, 12, 30), 2.5],
                [3, None, "", True],
            ],
        )
    )
    assert sheet.title == "逾期上报任务" and sheet.freeze_panes == "A2"
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("序号", "单位", "日期", "天数")
    assert rows[1] == (1, "区金融局", datetime.datetime(2024, 9, 20), 10)
    assert rows[2] == (2, "区科技局 & <配合>", datetime.datetime(2024, 9, 1, 12, 30), 2.5)
    assert rows[3] == (3, None, None, True)
    assert sheet["C2"].number_format == "yyyy-mm-dd" and sheet["C2"].is_date


def test_text_that_looks_like_a_formula_or_an_error_stays_text():
    values = ['=HYPERLINK("http://evil.example","点我")', "+1", "-2", "@SUM(A1)", "#N/A", "\t=1"]
    sheet = read(write_sheet("t", ["x"] * len(values), [values]))
    cells = list(sheet.iter_rows(min_row=2))[0]
    assert [cell.value for cell in cells] == values
    assert {cell.data_type for cell in cells} == {"s"}


def test_characters_xml_cannot_carry_are_dropped_and_spaces_kept():
    sheet = read(write_sheet("t", ["x", "y", "z"], [["a\x00b\x1fc", "  两端空格  ", "换行\n第二行"]]))
    assert [cell.value for cell in list(sheet.iter_rows(min_row=2))[0]] == [
        "abc",
        "  两端空格  ",
        "换行\n第二行",
    ]


def test_a_long_cell_is_cut_at_excels_limit_and_wide_rows_get_their_columns():
    row = ["长" * (MAX_CELL_CHARS + 10)] + list(range(1, 30))
    sheet = read(write_sheet("t", ["x"], [row]))
    values = list(sheet.iter_rows(min_row=2, values_only=True))[0]
    assert len(values[0]) == MAX_CELL_CHARS and values[1:] == tuple(range(1, 30))
    assert sheet.max_column == 30 and sheet.cell(row=2, column=30).value == 29
    assert [column_letter(index) for index in (0, 25, 26, 701, 702)] == ["A", "Z", "AA", "ZZ", "AAA"]


def test_many_rows_are_streamed_in_order():
    count = ROWS_PER_WRITE * 2 + 7
    content = write_sheet("t", ["序号", "内容"], ([n, f"第{n}项"] for n in range(1, count + 1)))
    assert zipfile.ZipFile(io.BytesIO(content)).testzip() is None
    rows = list(read(content).iter_rows(min_row=2, values_only=True))
    assert len(rows) == count and rows[0] == (1, "第1项") and rows[-1] == (count, f"第{count}项")
