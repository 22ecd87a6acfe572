"""任务分工表: tables whose rows are measures (序号 | 重点任务 | 牵头单位 | 配合单位 | 完成时限).

Plans often carry their division of work as such a table, in the body or as an attachment. Each row becomes a
measure; its responsibility cells are read with the same clause rules as a clause in the text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass
class TaskColumns:
    task: int
    number: int | None = None
    category: int | None = None
    lead: int | None = None
    support: int | None = None
    responsible: int | None = None
    deadline: int | None = None
    width: int = 0


_SPACES = re.compile(r"\s+")
# Header cell -> column role, first match wins.
_ROLES = [
    ("number", re.compile(r"^(?:序号|编号|序)$")),
    ("lead", re.compile(r"牵头|主责|主办")),
    ("support", re.compile(r"配合|协办|参与|协同")),
    ("responsible", re.compile(r"责任(?:单位|部门|处室)|落实单位|承办单位|实施单位")),
    ("deadline", re.compile(r"时限|时间|期限|进度|节点")),
    ("task", re.compile(r"任务|措施|内容|事项|工作|举措")),
    ("category", re.compile(r"类别|分类|领域|方面|板块")),
]


def _role(cell: str) -> str | None:
    c = _SPACES.sub("", cell)
    if not c or len(c) > 14:
        return None
    for role, pattern in _ROLES:
        if pattern.search(c):
            return role
    return None


def read_task_header(cells: list[str]) -> TaskColumns | None:
    roles: dict[str, int] = {}
    for i, cell in enumerate(cells):
        role = _role(cell)
        if role is None:
            return None
        roles.setdefault(role, i)
    if "task" not in roles or not ({"lead", "responsible"} & roles.keys()):
        return None
    return TaskColumns(width=len(cells), **roles)


@dataclass
class TaskRow:
    number: str | None
    category: str | None
    text: str
    clause: str
    index: int  # position of the row in the table (header included), to find its line


def task_rows(rows: list[list[str]] | None, cells: list[str] | None) -> list[TaskRow]:
    """Rows of a 任务分工表 (row form, or flat cells of a whole number of rows); [] for any other table."""
    if rows is None and cells:
        cols = None
        for width in range(3, min(8, len(cells)) + 1):
            cols = read_task_header(cells[:width])
            if cols and read_task_header(cells[: width + 1]) is None:
                break
            cols = None
        if cols is None or (len(cells) - cols.width) % cols.width:
            return []
        rows = [cells[i : i + cols.width] for i in range(0, len(cells), cols.width)]
    if not rows:
        return []
    header_at = next((k for k, row in enumerate(rows[:3]) if read_task_header(row)), None)
    if header_at is None:
        return []
    cols = read_task_header(rows[header_at])
    out: list[TaskRow] = []
    previous: list[str] = []
    for index, row in enumerate(rows[header_at + 1 :], header_at + 1):
        cells_ = list(row)
        if len(cells_) < cols.width and previous:  # leading cells spanned from the row above
            cells_ = previous[: cols.width - len(cells_)] + cells_
        cells_ = (cells_ + [""] * cols.width)[: cols.width]
        previous = cells_
        text = cells_[cols.task].strip()
        if not text:
            continue
        parts = []
        for label, column in (
            ("牵头单位", cols.lead),
            ("责任单位", cols.responsible),
            ("配合单位", cols.support),
            ("完成时限", cols.deadline),
        ):
            if column is not None and cells_[column].strip() not in ("", "/", "—", "-"):
                parts.append(f"{label}:{cells_[column].strip()}")
        number = cells_[cols.number].strip() if cols.number is not None else None
        category = cells_[cols.category].strip() if cols.category is not None else None
        out.append(TaskRow(number or None, category or None, text, ";".join(parts), index))
    return out
