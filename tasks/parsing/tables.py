"""任务分工表 as a spreadsheet (.xlsx, .xls, .ods, .csv) or a Word file holding only such a table: rows in,
the same ``ParsedPlan`` as a document out.

The header row is looked for in the first 20 rows of each sheet; the rows above it (title, 填报单位, 日期) give
the plan's title and date. Merged cells are filled from their top-left cell; a row merged across the table,
or holding a single short text, is a section heading; several sheets with a header become sections named
after the sheet. Agencies and deadlines are read by the document's rules (``assignments_from_lists``,
``interpret_deadline``). Row problems (duplicate or blank 序号, unreadable deadline, no agency) are warnings
naming the row; a table without a header or without rows is a ``ParseError``.
"""

from __future__ import annotations

import csv
import datetime
import io
import re
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import PurePath

from .agencies import and_others
from .clauses import assignments_from_lists, reset_cache
from .deadlines import deadline_in_body, deadline_in_text, interpret_deadline
from .metadata import DOC_NUMBER, _jurisdiction, period_from_title
from .model import Deadline, ParsedMeasure, ParsedPlan, ParseError
from .reader import clean_line, decode_bytes

HEADER_SCAN = 20  # the header row is looked for in this many rows of each sheet
TABLE_SUFFIXES = {
    ".xlsx": "xlsx",
    ".xlsm": "xlsx",
    ".xls": "xls",
    ".ods": "ods",
    ".csv": "csv",
    ".tsv": "csv",
}
# Header cell (whitespace removed) -> column role; the first pattern that matches wins.
_HEADER = [
    ("number", re.compile(r"^(?:序号|编号|序|项目编号|任务编号)$")),
    ("note", re.compile(r"^备注")),
    ("lead", re.compile(r"牵头|主要责任|主责|主办")),
    ("support", re.compile(r"配合|协办|参与|协同")),
    ("responsible", re.compile(r"责任(?:单位|部门|处室)|落实单位|承办单位|实施单位")),
    ("deadline", re.compile(r"时限|完成时间|时间节点|进度安排|期限|完成日期|时间要求")),
    ("task", re.compile(r"任务|措施|内容|事项|举措|工作")),
    ("category", re.compile(r"类别|分类|领域|方面|板块")),
]
_SPACES = re.compile(r"\s+")
_YEAR = re.compile(r"((?:19|20)\d{2})\s*年")
_ANY_YEAR = re.compile(r"(?<!\d)((?:19|20)\d{2})(?!\d)")
_ABOVE_NOT_TITLE = re.compile(
    r"^(?:附件|附表)\s*\d*$|填报|制表|单位[:：]|日期|时间[:：]|联系人|电话|^\d{4}年\d{1,2}月\d{1,2}日$"
)
_GENERIC_SHEET = re.compile(r"^(?:sheet|工作表|表)\s*\d*$", re.IGNORECASE)
_EMPTY_MARKS = {"", "/", "—", "-", "无", "——"}
_ROLE_LABELS = (("lead", "牵头单位"), ("responsible", "责任单位"), ("support", "配合单位"))


@dataclass
class Sheet:
    """One grid of cell texts, merges already filled in; ``headings`` are the rows merged across the table."""

    name: str
    rows: list[list[str]]
    headings: set[int] = field(default_factory=set)


@dataclass
class _Columns:
    roles: dict[str, int]
    first: int
    last: int

    def cell(self, row: list[str], role: str) -> str:
        index = self.roles.get(role)
        return row[index].strip() if index is not None and index < len(row) else ""


# ---------------------------------------------------------------- reading the grid


def table_kind(data: bytes, filename: str) -> str | None:
    """'xlsx', 'xls', 'ods' or 'csv' for a spreadsheet (by suffix, else by content); None otherwise."""
    kind = TABLE_SUFFIXES.get(PurePath(filename or "").suffix.lower())
    if kind:
        return kind
    if data[:4] == b"PK\x03\x04" and b"xl/workbook.xml" in data[:65536]:
        return "xlsx"
    return None


def cell_text(value: object) -> str:
    """A cell as the parser reads it: integral numbers without '.0', dates in Chinese, text cleaned."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else f"{value:g}"
    if isinstance(value, datetime.datetime):
        value = value.date()
    if isinstance(value, datetime.date):
        return f"{value.year}年{value.month}月{value.day}日"
    if isinstance(value, (datetime.time, datetime.timedelta)):
        return str(value)
    text = str(value)
    if "\n" in text or "\r" in text:
        return "\n".join(c for c in (clean_line(p) for p in text.replace("\r", "\n").split("\n")) if c)
    return clean_line(text)


def read_workbook(data: bytes) -> list[Sheet]:
    """Every visible worksheet of an .xlsx, .xls or .ods (python-calamine), merges filled from their origin."""
    from python_calamine import CalamineWorkbook

    try:
        book = CalamineWorkbook.from_filelike(io.BytesIO(data))
    except Exception as exc:  # calamine raises assorted errors on a damaged or foreign file
        raise ParseError("无法读取文件：Excel 文件已损坏或不是表格文件") from exc
    sheets = []
    for meta in book.sheets_metadata:
        if (
            str(meta.typ).rsplit(".", 1)[-1] != "WorkSheet"
            or str(meta.visible).rsplit(".", 1)[-1] != "Visible"
        ):
            continue
        try:
            sheet = book.get_sheet_by_name(meta.name)
            values = sheet.to_python(skip_empty_area=False)
            merges = sheet.merged_cell_ranges or []
        except Exception as exc:
            raise ParseError(f"无法读取文件：工作表“{meta.name}”已损坏") from exc
        rows = [[cell_text(v) for v in row] for row in values]
        sheets.append(_filled(meta.name, rows, merges))
    return sheets


def _filled(name: str, rows: list[list[str]], merges) -> Sheet:
    width = max((len(r) for r in rows), default=0)
    rows = [r + [""] * (width - len(r)) for r in rows]
    spans: list[tuple[int, int, int, int]] = []
    for (r0, c0), (r1, c1) in merges:
        if r0 >= len(rows) or c0 >= width:
            continue
        r1, c1 = min(r1, len(rows) - 1), min(c1, width - 1)
        origin = rows[r0][c0]
        for r in range(r0, r1 + 1):
            for c in range(c0, c1 + 1):
                rows[r][c] = origin
        spans.append((r0, c0, r1, c1))
    return Sheet(name, rows, headings=_merged_across(rows, spans))


def _merged_across(rows: list[list[str]], spans: list[tuple[int, int, int, int]]) -> set[int]:
    """Rows where one merged cell covers every used column (a section heading or a title)."""
    used = [c for c in range(max((len(r) for r in rows), default=0)) if any(r[c] for r in rows)]
    if len(used) < 2:
        return set()
    return {r for r0, c0, r1, c1 in spans if c0 <= used[0] and c1 >= used[-1] for r in range(r0, r1 + 1)}


def read_csv(data: bytes) -> tuple[list[Sheet], str]:
    """A CSV or TSV in UTF-8 (with or without BOM), GBK/GB18030 or UTF-16: one sheet."""
    text, encoding = decode_bytes(data)
    sample = text[:4096]
    delimiter = "\t" if sample.count("\t") > sample.count(",") else ","
    try:
        rows = [[cell_text(c) for c in row] for row in csv.reader(io.StringIO(text), delimiter=delimiter)]
    except csv.Error as exc:
        raise ParseError(f"无法读取文件：CSV 格式有误（{exc}）") from exc
    width = max((len(r) for r in rows), default=0)
    return [Sheet("", [r + [""] * (width - len(r)) for r in rows])], encoding


def read_docx_tables(data: bytes) -> tuple[list[Sheet], list[str], int] | None:
    """The tables of a .docx (vertical merges filled by python-docx) with the paragraphs above the first one,
    and how many paragraphs there are outside tables. None for a file python-docx cannot open."""
    from docx import Document
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    try:
        document = Document(io.BytesIO(data))
    except Exception:
        return None
    sheets: list[Sheet] = []
    above: list[str] = []
    outside = 0
    for child in document.element.body.iterchildren():
        tag = child.tag.rsplit("}", 1)[-1]
        if tag == "p":
            text = cell_text(Paragraph(child, document).text)
            if text:
                outside += 1
                if not sheets:
                    above.append(text)
        elif tag == "tbl":
            rows, headings = [], set()
            for index, row in enumerate(Table(child, document).rows):
                cells = row.cells
                texts = [cell_text(cell.text) for cell in cells]
                if len(cells) > 1 and len({id(c._tc) for c in cells}) == 1:
                    headings.add(index)
                rows.append(texts)
            width = max((len(r) for r in rows), default=0)
            sheets.append(Sheet("", [r + [""] * (width - len(r)) for r in rows], headings))
    return sheets, above, outside


# ---------------------------------------------------------------- the header


def header_role(cell: str) -> str | None:
    c = _SPACES.sub("", cell)
    if not c or len(c) > 16:
        return None
    for role, pattern in _HEADER:
        if pattern.search(c):
            return role
    return None


def read_header(row: list[str]) -> _Columns | None:
    """The columns of a header row: a task column and a 牵头/责任 column at least; unknown cells ignored."""
    roles: dict[str, int] = {}
    for index, cell in enumerate(row):
        role = header_role(cell)
        if role is not None:
            roles.setdefault(role, index)
    if "task" not in roles or not ({"lead", "responsible"} & roles.keys()):
        return None
    used = [i for i, c in enumerate(row) if c.strip()]
    return _Columns(roles, used[0], used[-1])


def find_header(sheet: Sheet) -> tuple[int, _Columns] | None:
    for index, row in enumerate(sheet.rows[:HEADER_SCAN]):
        columns = read_header(row)
        if columns is not None:
            return index, columns
    return None


# ---------------------------------------------------------------- rows to measures


@dataclass
class _Row:
    sheet: str
    row: int  # 1-based, as the spreadsheet shows it
    number: str
    path: tuple[str, ...]
    text: str
    cells: dict[str, str]
    order: int


def _where(sheet: str, row: int) -> str:
    return f"工作表“{sheet}”第{row}行" if sheet else f"第{row}行"


def parse_sheets(
    sheets: list[Sheet],
    *,
    above: list[str] | None = None,
    known_agencies: Collection[str] | None = None,
    encoding: str,
    fallback_title: str = "",
) -> ParsedPlan:
    """The plan of the sheets that have a header; the others (说明, blank sheets) are left out."""
    found = [(sheet, hit) for sheet in sheets for hit in [find_header(sheet)] if hit is not None]
    if not found:
        raise ParseError(
            "无法读取表格：前20行中没有找到表头行（应含“序号”“重点任务”“牵头单位”“配合单位”“完成时限”等列）"
        )
    reset_cache()
    above = list(above or [])
    for sheet, (header_at, _columns) in found:
        above.extend(" ".join(c for c in dict.fromkeys(r) if c) for r in sheet.rows[:header_at])
    above = [a for a in above if a]
    title = next((a for a in above if not _ABOVE_NOT_TITLE.search(_SPACES.sub("", a))), "") or fallback_title
    doc_number = next((m.group(0) for a in above for m in [DOC_NUMBER.search(a)] if m), None)

    many = len(found) > 1
    rows: list[_Row] = []
    warnings: list[str] = []
    for sheet_index, (sheet, (header_at, columns)) in enumerate(found):
        section = (sheet.name,) if many and sheet.name and not _GENERIC_SHEET.match(sheet.name) else ()
        # rows are named by their sheet when there are several
        label = (sheet.name or f"表{sheet_index + 1}") if many else ""
        rows.extend(_sheet_rows(sheet, label, header_at, columns, section, sheet_index, warnings))
    if not rows:
        raise ParseError("无法读取表格：表头下方没有任何任务行")
    _number(rows, warnings, qualify=many)

    period = period_from_title(title) or _period(above, rows)
    cache: dict[tuple[str, str, str], tuple] = {}  # a 分工表 repeats the same few agency cells on many rows
    measures = [_measure(row, period, known_agencies, warnings, cache) for row in rows]
    return ParsedPlan(
        title=title,
        doc_number=doc_number,
        issuer=None,
        jurisdiction=_jurisdiction(title, None),
        period=period,
        measures=tuple(measures),
        indicators=(),
        warnings=tuple(warnings),
        encoding=encoding,
    )


def _sheet_rows(
    sheet: Sheet,
    label: str,
    header_at: int,
    columns: _Columns,
    section: tuple[str, ...],
    sheet_index: int,
    warnings,
) -> list[_Row]:
    out: list[_Row] = []
    heading: tuple[str, ...] = ()
    for index in range(header_at + 1, len(sheet.rows)):
        raw = sheet.rows[index]
        used = raw[columns.first : columns.last + 1]
        values = [c for c in used if c]
        if not values:
            continue
        if read_header(raw) is not None and index > header_at:  # the header repeated (a printed table)
            continue
        if _is_heading(index, values, raw, sheet, columns):
            heading = (values[0],)
            continue
        cells = {role: columns.cell(raw, role) for role in columns.roles}
        text = cells.get("task", "")
        where = _where(label, index + 1)
        if not text:
            warnings.append(f"{where}：没有填写重点任务，已跳过此行")
            continue
        category = (cells["category"],) if cells.get("category") else ()
        out.append(
            _Row(
                sheet=label,
                row=index + 1,
                number=cells.get("number", ""),
                path=section + heading + category,
                text=text,
                cells=cells,
                order=sheet_index * 1_000_000 + index + 1,
            )
        )
    return out


def _is_heading(index: int, values: list[str], raw: list[str], sheet: Sheet, columns: _Columns) -> bool:
    """A row merged across the table, or one short text alone in its row (a CSV of such a row)."""
    if len(set(values)) != 1:
        return False
    if index in sheet.headings:
        return True
    return (
        len(values) == 1
        and len(values[0]) <= 40
        and "。" not in values[0]
        and not _has_agency_cells(raw, columns)
    )


def _has_agency_cells(raw: list[str], columns: _Columns) -> bool:
    return any(columns.cell(raw, role) for role in ("lead", "support", "responsible", "deadline"))


def _number(rows: list[_Row], warnings: list[str], *, qualify: bool) -> None:
    """Blank 序号 numbered by position, duplicates within a sheet renamed; both flagged with the rows."""
    by_sheet: dict[str, list[_Row]] = {}
    for row in rows:
        by_sheet.setdefault(row.sheet, []).append(row)
    for sheet_rows in by_sheet.values():
        seen: dict[str, _Row] = {}
        taken = {r.number for r in sheet_rows if r.number}
        for position, row in enumerate(sheet_rows, 1):
            where = _where(row.sheet, row.row)
            if not row.number:
                number = str(position)
                while number in taken:
                    number = f"{number}-空"
                row.number = number
                taken.add(number)
                warnings.append(f"{where}：序号为空，已按位置编为“{number}”")
            elif row.number in seen:
                first = seen[row.number]
                number, k = row.number, 2
                while f"{number}-{k}" in taken:
                    k += 1
                warnings.append(
                    f"{where}：序号“{row.number}”与{_where(first.sheet, first.row)}重复，"
                    f"两行都已保留，此行编为“{number}-{k}”，请核对"
                )
                row.number = f"{number}-{k}"
                taken.add(row.number)
            seen.setdefault(row.number, row)
    if qualify and len({r.number for r in rows}) < len(rows):  # sheets numbered each from 1
        sheets = list(by_sheet)
        for row in rows:
            row.number = f"{sheets.index(row.sheet) + 1}.{row.number}"


def _period(above: list[str], rows: list[_Row]) -> tuple[int, int] | None:
    """The plan's years: from the date above the table (or the first deadline year) to the last deadline year."""
    years = [int(y) for row in rows for y in _ANY_YEAR.findall(row.cells.get("deadline", ""))]
    dated = [int(m.group(1)) for a in above for m in [_YEAR.search(a)] if m]
    start = dated[-1] if dated else (min(years) if years else None)
    if start is None:
        return None
    end = max([start, *years])
    return start, end


def _measure(row: _Row, period, known_agencies, warnings: list[str], cache: dict) -> ParsedMeasure:
    where = _where(row.sheet, row.row)
    cells = row.cells
    lists = {role: cells.get(role, "") for role, _label in _ROLE_LABELS}
    lists = {role: ("" if value in _EMPTY_MARKS else value) for role, value in lists.items()}
    key = (lists["lead"], lists["support"], lists["responsible"])
    if key not in cache:
        cache[key] = assignments_from_lists(*key), any(and_others(v) for v in key if v)
    assignments, others = cache[key]
    clause = ";".join(f"{label}:{lists[role]}" for role, label in _ROLE_LABELS if lists[role]) or None
    if not assignments:
        warnings.append(f"{where}：任务“{row.number}”没有填写牵头单位或责任单位")
    if known_agencies is not None:
        warnings.extend(
            f"{where}：未知单位“{a.agency}”" for a in assignments if a.agency not in known_agencies
        )
    deadline = _deadline(cells.get("deadline", ""), row.text, period, where, warnings)
    return ParsedMeasure(
        number=row.number,
        path=row.path,
        text=row.text,
        clause=clause,
        assignments=assignments,
        deadline=deadline,
        line=row.order,
        and_others=others,
    )


def _deadline(cell: str, text: str, period, where: str, warnings: list[str]) -> Deadline | None:
    if cell in _EMPTY_MARKS:  # none written: the task's text may carry it, as in a document
        deadline, doubt = deadline_in_body(text, period)
        if doubt:
            warnings.append(f"{where}：{doubt}")
        return deadline or deadline_in_text(text)
    deadline, doubt = interpret_deadline(cell, period)
    if deadline is None or (
        deadline.date is None and not deadline.ongoing and doubt and "未写年份" not in doubt
    ):
        warnings.append(f"{where}：无法识别的完成时限“{cell}”，请改为“2022年6月底前”“持续推进”等写法")
    elif doubt:
        warnings.append(f"{where}：{doubt}")
    return deadline


# ---------------------------------------------------------------- entry points


def parse_table_bytes(
    data: bytes, filename: str, kind: str, known_agencies: Collection[str] | None = None
) -> ParsedPlan:
    """A spreadsheet file (``kind`` from ``table_kind``) as a plan."""
    stem = PurePath(filename or "").stem
    if kind == "csv":
        sheets, encoding = read_csv(data)
    else:
        sheets, encoding = read_workbook(data), kind
    return parse_sheets(sheets, known_agencies=known_agencies, encoding=encoding, fallback_title=stem)


def parse_docx_table(
    data: bytes, filename: str, known_agencies: Collection[str] | None = None
) -> ParsedPlan | None:
    """A Word file that is a 任务分工表 (a task table, with no more than a title, 填报单位 and date outside it)
    as a plan; None for a document, which the document reader takes (it reads tables in running text)."""
    read = read_docx_tables(data)
    if read is None:
        return None
    sheets, above, outside = read
    if not sheets or outside > 6 or not any(find_header(s) for s in sheets):
        return None
    return parse_sheets(
        sheets,
        above=above,
        known_agencies=known_agencies,
        encoding="docx",
        fallback_title=PurePath(filename).stem,
    )
