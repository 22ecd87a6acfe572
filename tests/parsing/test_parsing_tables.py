"""任务分工表 as a spreadsheet: the same plan as its document, whatever the format, and row problems named in
Chinese with the row they are on."""

from __future__ import annotations

import io
import json
import subprocess
import sys

import pytest

from tasks.parsing import ParseError, parse_bytes, parse_file
from tests.parsing.division_tables import PLANS, csv_bytes, rows_from_plan, workbook_bytes

GOLDEN = json.loads((PLANS / "shiyan-40.json").read_text(encoding="utf-8"))


def _who(measure) -> set[tuple[str, str, str | None]]:
    return {(a.agency, a.role, a.collective) for a in measure.assignments}


def _due(measure):
    d = measure.deadline
    return (d.date, d.ongoing, d.recurrence) if d else None


def assert_same_plan(document, table):
    doc_measures = document.required_measures
    assert len(table.measures) == len(doc_measures)
    for mine, theirs in zip(table.measures, doc_measures, strict=True):
        assert (mine.number, mine.text) == (theirs.number, theirs.text)
        assert _who(mine) == _who(theirs), mine.number
        assert _due(mine) == _due(theirs), mine.number
        assert mine.and_others == theirs.and_others, mine.number


def assert_golden(table):
    for mine, gold in zip(table.measures, GOLDEN["measures"], strict=True):
        assert mine.number == gold["number"]
        assert mine.text.startswith(gold["text_prefix"])
        assert [(a.agency, a.role) for a in mine.assignments] == [
            (a["agency"], a["role"]) for a in gold["assignments"]
        ]
        if gold["deadline"] is None:
            assert mine.deadline is None
        else:
            date = mine.deadline.date.isoformat() if mine.deadline.date else None
            assert (date, mine.deadline.ongoing) == (gold["deadline"]["date"], gold["deadline"]["ongoing"])


@pytest.fixture(scope="module")
def shiyan():
    title, rows = rows_from_plan("shiyan-40")
    return parse_file(PLANS / "shiyan-40.txt"), title, rows


def test_xlsx_with_title_row_merged_leads_and_two_sheets_is_the_document(shiyan):
    document, title, rows = shiyan
    data = workbook_bytes(title, rows, sheets=2)
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(data))
    assert len(book.sheetnames) == 2
    assert any(r.min_col == 3 and r.max_row > r.min_row for r in book.worksheets[0].merged_cells.ranges)
    table = parse_bytes(data, "分工表.xlsx")
    assert table.title == document.title == GOLDEN["plan"]["title"]
    assert table.period == document.period
    assert_same_plan(document, table)
    assert_golden(table)
    assert table.measures[0].path == ("领域1", "(一)提升知识产权创造质量")  # sheet, then the merged row
    assert table.encoding == "xlsx"


@pytest.mark.parametrize(
    ("encoding", "bom"), [("gbk", False), ("gb18030", False), ("utf-8", True), ("utf-8", False)]
)
def test_csv_in_any_chinese_encoding_is_the_document(shiyan, encoding, bom):
    document, title, rows = shiyan
    table = parse_bytes(csv_bytes(title, rows, encoding=encoding, bom=bom), "分工表.csv")
    assert table.title == document.title
    assert_same_plan(document, table)
    assert_golden(table)


@pytest.mark.parametrize(
    "stem", ["gongzuo-fangan-8", "guobanfa-style-15", "shengzhengfu-11", "gongzuo-yaodian-10"]
)
def test_other_plans_as_tables_score_the_same(stem):
    document = parse_file(PLANS / f"{stem}.txt")
    title, rows = rows_from_plan(stem, written=False)
    for data, name in ((workbook_bytes(title, rows), "t.xlsx"), (csv_bytes(title, rows), "t.csv")):
        table = parse_bytes(data, name)
        assert [(m.number, m.text, _who(m)) for m in table.measures] == [
            (m.number, m.text, _who(m)) for m in document.required_measures
        ]
        assert [m.deadline.date if m.deadline else None for m in table.measures] == [
            m.deadline.date if m.deadline else None for m in document.required_measures
        ]


def test_a_word_file_holding_the_table_reads_the_same(shiyan):
    from docx import Document

    document, title, rows = shiyan
    word = Document()
    word.add_paragraph(title)
    table = word.add_table(rows=1, cols=5)
    for cell, text in zip(
        table.rows[0].cells, ["序号", "重点任务", "牵头单位", "配合单位", "完成时限"], strict=True
    ):
        cell.text = text
    for row in rows:
        cells = table.add_row().cells
        for cell, text in zip(
            cells, [row.number, row.text, row.lead, row.support, row.deadline], strict=True
        ):
            cell.text = text
    word.add_paragraph("2014年3月18日")
    out = io.BytesIO()
    word.save(out)
    parsed = parse_bytes(out.getvalue(), "分工表.docx")
    assert parsed.encoding == "docx" and parsed.title == title
    assert_same_plan(document, parsed)


def _csv(*lines: str, encoding="utf-8") -> bytes:
    return ("\n".join(lines) + "\n").encode(encoding)


HEAD = "序号,工作任务,主要责任单位,协办单位,时间节点,备注"


def test_header_synonyms_and_rows_above_it():
    data = _csv(
        "某市2022年知识产权工作任务分工表,,,,,",
        "填报单位：市知识产权局,,,,日期：2022年3月1日,",
        ",,,,,",
        HEAD,
        "1,建设知识产权保护中心。,市市场监管局,市财政局、各区人民政府,2022年6月底前,重点",
        "2,开展专项执法行动。,市公安局,,持续推进,",
    )
    plan = parse_bytes(data, "表.csv")
    assert plan.title == "某市2022年知识产权工作任务分工表"
    first, second = plan.measures
    assert [(a.agency, a.role) for a in first.assignments] == [
        ("市市场监管局", "lead"),
        ("市财政局", "support"),
        ("各区人民政府", "support"),
    ]
    assert first.assignments[2].collective == "named"
    assert first.deadline.date.isoformat() == "2022-06-30"
    assert second.deadline.ongoing and second.deadline.date is None
    assert plan.warnings == ()


def test_duplicate_number_keeps_both_rows_and_names_them():
    plan = parse_bytes(
        _csv(HEAD, "1,任务甲。,市科技局,,2022年底前,", "1,任务乙。,市财政局,,2022年底前,"), "t.csv"
    )
    assert [m.number for m in plan.measures] == ["1", "1-2"]
    assert plan.warnings == ("第3行：序号“1”与第2行重复，两行都已保留，此行编为“1-2”，请核对",)


def test_blank_number_is_numbered_by_position_and_flagged():
    plan = parse_bytes(_csv(HEAD, "1,任务甲。,市科技局,,,", ",任务乙。,市财政局,,,"), "t.csv")
    assert [m.number for m in plan.measures] == ["1", "2"]
    assert plan.warnings == ("第3行：序号为空，已按位置编为“2”",)


def test_unreadable_deadline_is_flagged_with_what_was_found():
    plan = parse_bytes(_csv(HEAD, "1,任务甲。,市科技局,,待定,", "2,任务乙。,市科技局,,2022年13月,"), "t.csv")
    assert plan.measures[0].deadline is None
    assert plan.measures[1].deadline.date is None
    assert "第2行：无法识别的完成时限“待定”" in plan.warnings[0]
    assert any("第3行" in w and "2022年13月" in w for w in plan.warnings)


def test_a_row_without_agency_is_flagged():
    plan = parse_bytes(_csv(HEAD, "1,任务甲。,,,2022年底前,"), "t.csv")
    assert plan.warnings == ("第2行：任务“1”没有填写牵头单位或责任单位",)


def test_no_header_is_refused_in_chinese():
    with pytest.raises(ParseError, match="前20行中没有找到表头行"):
        parse_bytes(_csv("名称,数量", "苹果,3"), "t.csv")


def test_header_without_rows_is_refused_in_chinese():
    with pytest.raises(ParseError, match="表头下方没有任何任务行"):
        parse_bytes(_csv("某某任务分工表", HEAD, ",,,,,"), "t.csv")


def test_header_below_row_20_is_not_found():
    with pytest.raises(ParseError, match="前20行"):
        parse_bytes(_csv(*(["说明"] * 20), HEAD, "1,任务甲。,市科技局,,,"), "t.csv")


def test_damaged_xlsx_is_refused_in_chinese():
    with pytest.raises(ParseError, match="^无法读取文件：Excel 文件已损坏"):
        parse_bytes(b"PK\x03\x04 not a workbook", "分工表.xlsx")


def test_date_cells_and_numbers_read_as_written():
    import datetime

    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["序号", "重点任务", "牵头单位", "完成时限"])
    sheet.append([1, "任务甲。", "市科技局", datetime.date(2022, 6, 30)])
    sheet.append([2.0, "任务乙。", "市科技局", 45000])
    out = io.BytesIO()
    book.save(out)
    plan = parse_bytes(out.getvalue(), "t.xlsx")
    assert [m.number for m in plan.measures] == ["1", "2"]
    assert plan.measures[0].deadline.date == datetime.date(2022, 6, 30)
    assert plan.measures[1].deadline.date is None and not plan.measures[1].deadline.ongoing
    assert plan.warnings == ("第3行：无法识别的完成时限“45000”，请改为“2022年6月底前”“持续推进”等写法",)


def test_parse_plan_cli_reads_an_xlsx(tmp_path, shiyan):
    _document, title, rows = shiyan
    path = tmp_path / "分工表.xlsx"
    path.write_bytes(workbook_bytes(title, rows))
    result = subprocess.run(
        [sys.executable, "-m", "tasks.parsing", str(path), "--json"], capture_output=True, timeout=120
    )
    assert result.returncode == 0, result.stderr.decode()
    contract = json.loads(result.stdout)
    assert contract["plan"]["title"] == title and len(contract["measures"]) == 40


@pytest.mark.slow
def test_legacy_xls_written_by_libreoffice_is_the_document(shiyan, tmp_path):
    """The .xlsx saved as Excel 97 (.xls) by LibreOffice: merges, two sheets and the title row survive."""
    import shutil

    office = shutil.which("libreoffice") or shutil.which("soffice")
    if office is None:
        pytest.skip("LibreOffice is not installed")
    document, title, rows = shiyan
    (tmp_path / "分工表.xlsx").write_bytes(workbook_bytes(title, rows, sheets=2))
    subprocess.run(
        [office, "--headless", f"-env:UserInstallation=file://{tmp_path}/profile", "--convert-to", "xls"]
        + ["--outdir", str(tmp_path), str(tmp_path / "分工表.xlsx")],
        check=True,
        capture_output=True,
        timeout=180,
    )
    table = parse_file(tmp_path / "分工表.xls")
    assert table.encoding == "xls" and table.title == title
    assert_same_plan(document, table)
