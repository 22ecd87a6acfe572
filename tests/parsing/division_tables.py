"""Builders of 任务分工表 files from a plan document and its golden annotation, as a bureau would send them:
an .xlsx with a title row, 填报单位 and date rows, section rows merged across, 牵头单位 merged over the rows that
share it, split over two sheets; and CSV files in a chosen encoding.

Used by the parser's table tests, the import tests, the Chromium test and ``make bench``.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass
from pathlib import Path

PLANS = Path(__file__).resolve().parent / "plans"
HEADER = ["序号", "重点任务", "牵头单位", "配合单位", "完成时限", "备注"]
_LEAD = re.compile(r"牵头单位[:：](.+?)(?=[,，;；]\s*(?:配合单位|完成时限)|$)")
_SUPPORT = re.compile(
    r"配合单位[:：](.+?)(?=[;；]\s*完成时限|[;；](?:每年|持续推进|长期坚持|上半年|\d{4}年)|$)"
)


@dataclass
class DivisionRow:
    section: str
    number: str
    text: str
    lead: str
    support: str
    deadline: str
    responsible: str = ""


def rows_from_plan(stem: str, *, written: bool = True) -> tuple[str, list[DivisionRow]]:
    """(title, rows) of a test plan: texts and deadlines as its document writes them; the agency cells as
    its clauses write them (``written``, for plans labelling 牵头单位/配合单位), else one cell per role from the
    document's parse (a 责任单位 column when the plan has responsible agencies)."""
    from tasks.parsing import parse_file

    document = parse_file(PLANS / f"{stem}.txt")
    golden = json.loads((PLANS / f"{stem}.json").read_text(encoding="utf-8"))
    rows = []
    for measure in document.required_measures:
        by_role = {
            role: "、".join(a.agency for a in measure.assignments if a.role == role)
            for role in ("lead", "support", "responsible")
        }
        if measure.and_others:
            last = "support" if by_role["support"] else "lead"
            by_role[last] += "等部门"
        if written:
            clause = (measure.clause or "").strip().removeprefix("(")
            if clause.count(")") > clause.count("("):  # "(牵头单位:A,配合单位:B)2015年6月底前完成。"
                clause = clause[: clause.rfind(")")]
            lead, support = _LEAD.search(clause), _SUPPORT.search(clause)
            by_role["lead"] = lead.group(1).strip(" ,，;；") if lead else ""
            by_role["support"] = support.group(1).strip(" ,，;；") if support else ""
        rows.append(
            DivisionRow(
                section=measure.path[-1] if measure.path else "",
                number=measure.number,
                text=measure.text,
                lead=by_role["lead"],
                support=by_role["support"],
                deadline=measure.deadline.text if measure.deadline else "",
                responsible=by_role["responsible"],
            )
        )
    return golden["plan"]["title"], rows


def _header(rows: list[DivisionRow]) -> list[str]:
    if any(r.responsible for r in rows):
        return [*HEADER[:4], "责任单位", *HEADER[4:]]
    return list(HEADER)


def _cells(row: DivisionRow, header: list[str]) -> list[object]:
    number = int(row.number) if row.number.isdigit() else row.number
    cells = [number, row.text, row.lead, row.support, row.deadline, ""]
    return [*cells[:4], row.responsible, *cells[4:]] if len(header) > len(HEADER) else cells


def workbook_bytes(
    title: str,
    rows: list[DivisionRow],
    *,
    sheets: int = 2,
    date: str = "2014年3月18日",
    merge_leads: bool = True,
) -> bytes:
    """An .xlsx 分工表: title row merged across, 填报单位 and 日期 rows, then per sheet the header, section rows
    merged across and 牵头单位 merged over consecutive rows with the same lead."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment

    book = Workbook()
    book.remove(book.active)
    per_sheet = -(-len(rows) // sheets)
    header = _header(rows)
    width = len(header)
    for k in range(sheets):
        chunk = rows[k * per_sheet : (k + 1) * per_sheet]
        sheet = book.create_sheet(f"领域{k + 1}")
        sheet.append([title])
        sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=width)
        sheet.append(["填报单位：临江市人民政府办公室", "", "", "", f"日期：{date}"])
        sheet.append(header)
        section = None
        lead_start = None
        for row in chunk:
            if row.section and row.section != section:
                section = row.section
                sheet.append([section])
                sheet.merge_cells(
                    start_row=sheet.max_row, start_column=1, end_row=sheet.max_row, end_column=width
                )
                lead_start = None
            previous_lead = sheet.cell(sheet.max_row, 3).value if lead_start else None
            sheet.append(_cells(row, header))
            at = sheet.max_row
            if merge_leads and lead_start and row.lead and previous_lead == row.lead:
                sheet.cell(at, 3).value = None
                for merged in list(sheet.merged_cells.ranges):
                    if merged.min_col == 3 and merged.min_row == lead_start:
                        sheet.merged_cells.remove(merged)
                sheet.merge_cells(start_row=lead_start, start_column=3, end_row=at, end_column=3)
                sheet.cell(lead_start, 3).alignment = Alignment(vertical="center")
            else:
                lead_start = at
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def csv_bytes(title: str, rows: list[DivisionRow], *, encoding: str = "gbk", bom: bool = False) -> bytes:
    """The same table as Excel saves it as CSV: title row, header, section rows, every cell written out."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    header = _header(rows)
    blank = [""] * (len(header) - 1)
    writer.writerow([title, *blank])
    writer.writerow(header)
    section = None
    for row in rows:
        if row.section and row.section != section:
            section = row.section
            writer.writerow([section, *blank])
        writer.writerow(_cells(row, header))
    data = out.getvalue().encode(encoding)
    return (b"\xef\xbb\xbf" + data) if bom else data


def big_rows(count: int) -> list[DivisionRow]:
    """``count`` distinct tasks over a few agencies and deadline forms (for ``make bench``)."""
    leads = ["市发展改革委", "市科技局", "市市场监管局(知识产权局)", "市财政局", "市教育局"]
    supports = ["市商务局、市公安局", "各区、县(市)人民政府", "市司法局", "有关部门", ""]
    deadlines = ["2022年6月底前", "持续推进", "2023年12月底前完成", "每年", "2022年第三季度末"]
    return [
        DivisionRow(
            section=f"领域{i // 500 + 1}",
            number=str(i + 1),
            text=f"第{i + 1}项重点任务：推进知识产权工作事项{i * 7919 % 100003}，完善配套制度。",
            lead=leads[i % 5],
            support=supports[i % 5],
            deadline=deadlines[i % 5],
        )
        for i in range(count)
    ]
