"""工作台账: the printable sheet leaders read on paper — one row per measure, sections as merged group rows.

序号 / 重点任务 / 牵头单位 / 配合单位 / 完成时限 / 进展情况 / 完成状态 / 备注, under a title, the "截至" date,
制表单位 and the filter when one was applied. Landscape A4, one page wide, the column header repeated on every
page, thin borders, ``第 &P 页 共 &N 页`` in the footer. Spreadsheet programs (LibreOffice, WPS) do not grow
row heights on their own, so each row's height is estimated from the length of its text and the column
widths; otherwise wrapped text would print over the next row.

Written in openpyxl's write-only mode through public attributes only (row heights via ``row_dimensions``
before the row is appended, merges via ``merged_cells``), so a 5,000-measure plan builds in seconds.
"""

from __future__ import annotations

import datetime
import math
from collections import defaultdict
from copy import copy
from dataclasses import dataclass, field

from django.db.models import OuterRef, Subquery
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Border, Font, NamedStyle, PatternFill, Side
from openpyxl.utils import get_column_letter

from ipplan.lib.safe_cells import set_cell_value
from tasks.models import Measure, ProgressUpdate, Section, Task
from tasks.status import LIGHT_ORDER, Light

from .xlsx import LIGHT_FILLS, set_up_printing

FONT_NAME = "宋体"
BODY_SIZE = 10.5  # 五号
# Sized for Excel and WPS with 宋体: a 五号 line is 14 points, a CJK character two "0" widths (the unit of
# column widths). LibreOffice substitutes narrower CJK fonts, so its rows keep some spare height.
LINE_POINTS = 14.0
ROW_PADDING = 4.0
CJK_UNITS = 2.0
OTHER_UNITS = 1.1


@dataclass(frozen=True)
class LedgerColumn:
    header: str
    width: float
    align: str = "left"


def ledger_columns() -> list[LedgerColumn]:
    return [
        LedgerColumn(_("序号"), 6, "center"),
        LedgerColumn(_("重点任务"), 44),
        LedgerColumn(_("牵头单位"), 14),
        LedgerColumn(_("配合单位"), 18),
        LedgerColumn(_("完成时限"), 12, "center"),
        LedgerColumn(_("进展情况"), 46),
        LedgerColumn(_("完成状态"), 10, "center"),
        LedgerColumn(_("备注"), 14),
    ]


def text_units(text: str) -> float:
    # ASCII is narrow; nearly everything else in these documents (CJK, full-width punctuation) is wide.
    narrow = len(text.encode("ascii", "ignore"))
    return narrow * OTHER_UNITS + (len(text) - narrow) * CJK_UNITS


def line_count(text: str, width: float) -> int:
    """Printed lines of ``text`` wrapped in a column ``width`` characters wide (a little kept for padding)."""
    usable = max(width - 1.5, 1.0)
    return sum(max(1, math.ceil(text_units(part) / usable)) for part in str(text).split("\n"))


def row_height(values: list, columns: list[LedgerColumn], *, size: float = BODY_SIZE) -> float:
    lines = max(
        line_count(v, c.width) if v not in (None, "") else 1 for v, c in zip(values, columns, strict=True)
    )
    return round(lines * LINE_POINTS * size / BODY_SIZE + ROW_PADDING, 1)


@dataclass
class LedgerRow:
    number: str
    text: str
    leads: list[str] = field(default_factory=list)
    supports: list[str] = field(default_factory=list)
    deadline: str = ""
    progress: list[str] = field(default_factory=list)
    light: Light | None = None
    status: str = ""
    notes: list[str] = field(default_factory=list)


def _deadline_text(raw: str, day: datetime.date | None, ongoing: bool) -> str:
    if raw:
        return raw
    if ongoing:
        return _("持续推进")
    return f"{day.year}年{day.month}月{day.day}日" if day else ""


def _date_text(day: datetime.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


MEASURE_STATUS = {
    Light.GREY: gettext_lazy("已完成"),
    Light.RED: gettext_lazy("逾期"),
    Light.YELLOW: gettext_lazy("临近时限"),
    Light.GREEN: gettext_lazy("推进中"),
}


LIGHT_STYLES = {
    Light.RED: "台账红灯",
    Light.YELLOW: "台账黄灯",
    Light.GREEN: "台账绿灯",
    Light.GREY: "台账灰色",
}


def named_styles(wb) -> None:
    """The ledger's cell styles, registered once per workbook under Chinese names (they show in Excel's
    style gallery). Cells take them by name, which costs nothing per cell."""
    existing = set(wb.named_styles)
    thin = Side(style="thin", color="000000")
    framed = Border(left=thin, right=thin, top=thin, bottom=thin)
    body = Font(name=FONT_NAME, size=BODY_SIZE)
    bold = Font(name=FONT_NAME, size=BODY_SIZE, bold=True)
    top_left = Alignment(horizontal="left", vertical="top", wrap_text=True)
    centred = Alignment(horizontal="center", vertical="center", wrap_text=True)

    def fill(color: str) -> PatternFill:
        return PatternFill("solid", start_color=color, end_color=color)

    styles = [
        NamedStyle("台账标题", font=Font(name=FONT_NAME, size=16, bold=True), alignment=centred),
        NamedStyle("台账说明", font=body, alignment=centred),
        NamedStyle("台账筛选", font=body, alignment=top_left),
        NamedStyle("台账表头", font=bold, alignment=centred, border=framed, fill=fill("D9E1F2")),
        NamedStyle("台账分组", font=bold, alignment=top_left, border=framed, fill=fill("F2F2F2")),
        NamedStyle("台账正文", font=body, alignment=top_left, border=framed),
        NamedStyle("台账居中", font=body, alignment=centred, border=framed),
    ] + [
        NamedStyle(name, font=body, alignment=centred, border=framed, fill=copy(LIGHT_FILLS[light]))
        for light, name in LIGHT_STYLES.items()
    ]
    for style in styles:
        if style.name not in existing:
            wb.add_named_style(style)


class LedgerSheet:
    """The 工作台账 sheet for a ``ReportScope`` (reports/exporters.py)."""

    identifier = "ledger"
    verbose_name = gettext_lazy("工作台账")

    def __init__(self, scope):
        self.scope = scope
        self.columns = ledger_columns()

    # Data ---------------------------------------------------------------------------------------------------

    def measures(self):
        ids = self.scope.tasks().values("measure_id")
        return (
            Measure.objects.current()
            .filter(pk__in=ids)
            .order_by("plan__title", "plan_id", "position", "pk")
            .values_list(
                "pk",
                "plan_id",
                "plan__title",
                "section_id",
                "number",
                "text",
                "raw_deadline",
                "deadline_date",
                "is_ongoing",
            )
        )

    def count(self) -> int:
        return self.measures().count()

    def sections(self, plan_ids) -> dict[int, tuple[int | None, str]]:
        rows = Section.objects.filter(plan_id__in=plan_ids).values_list("pk", "parent_id", "heading")
        return {pk: (parent, heading) for pk, parent, heading in rows}

    def section_path(self, sections, section_id) -> str:
        chain = []
        while section_id is not None and section_id in sections and len(chain) < 10:
            parent, heading = sections[section_id]
            chain.append(heading)
            section_id = parent
        return " ".join(reversed(chain))

    def rows(self) -> list[tuple[str, object]]:
        """("plan", title), ("section", heading) and ("measure", LedgerRow) in print order."""
        today = self.scope.today
        measures = list(self.measures())
        measure_ids = [m[0] for m in measures]
        by_measure: dict[int, LedgerRow] = {}
        ongoing_measures = set()
        for pk, _plan, _title, _section, number, text, raw, day, ongoing in measures:
            by_measure[pk] = LedgerRow(number=number, text=text, deadline=_deadline_text(raw, day, ongoing))
            if ongoing:
                ongoing_measures.add(pk)

        # Every agency of each measure by name (names only; a liaison sees only their own tasks' progress).
        everyone = (
            Task.objects.filter(measure_id__in=measure_ids)
            .order_by("measure_id", "role", "agency__name")
            .values_list("measure_id", "agency__name", "role", "original_due_date", "due_date_inferred")
        )
        extended: dict[int, set[str]] = defaultdict(set)
        inferred: set[int] = set()
        for measure_id, name, role, original, was_inferred in everyone.iterator(chunk_size=5000):
            row = by_measure[measure_id]
            (row.supports if role == Task.Role.SUPPORT else row.leads).append(name)
            if original:
                extended[measure_id].add(_date_text(original))
            if was_inferred:
                inferred.add(measure_id)

        latest = ProgressUpdate.objects.filter(task=OuterRef("pk")).order_by("-created_at", "-pk")
        mine = (
            self.scope.tasks()
            .filter(measure_id__in=measure_ids)
            .with_light(today)
            .annotate(latest_text=Subquery(latest.values("text")[:1]))
            .order_by("measure_id", "role", "agency__name")
            .values_list("measure_id", "agency__name", "light", "status", "latest_text")
        )
        started: set[int] = set()
        for measure_id, name, light, status, text in mine.iterator(chunk_size=5000):
            row = by_measure[measure_id]
            light = Light(light)
            if row.light is None or LIGHT_ORDER[light] < LIGHT_ORDER[row.light]:
                row.light = light
            if status != Task.Status.NOT_STARTED:
                started.add(measure_id)
            if text:
                row.progress.append(f"{name}:{' '.join(text.split())}")

        for pk, row in by_measure.items():
            if row.light is not None:
                row.status = str(MEASURE_STATUS[row.light])
                if row.light == Light.GREEN and pk not in started:
                    row.status = _("未开始")
                elif row.light == Light.RED and pk in ongoing_measures:
                    row.status = _("未按期报送")  # 持续推进: a periodic report was missed
            if extended[pk]:
                row.notes.append(
                    _("经批准延期(原时限%(dates)s)") % {"dates": "、".join(sorted(extended[pk]))}
                )
            if pk in inferred:
                row.notes.append(_("文件未写明时限,按计划期末推定"))

        plans = {m[1] for m in measures}
        sections = self.sections(plans)
        many_plans = len(plans) > 1
        out: list[tuple[str, object]] = []
        current_plan, current_section = None, None
        for pk, plan_id, plan_title, section_id, *_rest in measures:
            if many_plans and plan_id != current_plan:
                out.append(("plan", plan_title))
                current_section = None
            current_plan = plan_id
            if section_id != current_section and section_id is not None:
                out.append(("section", self.section_path(sections, section_id)))
            current_section = section_id
            out.append(("measure", by_measure[pk]))
        return out

    # Header lines ---------------------------------------------------------------------------------------------

    def title(self) -> str:
        return f"{self.scope.label()}{_('工作台账')}"

    def maker(self) -> str:
        from .selectors import liaison_agencies, sees_all_tasks

        if not sees_all_tasks(self.scope.user):
            return "、".join(a.name for a in liaison_agencies(self.scope.user))
        if self.scope.plan is not None and self.scope.plan.issuer:
            return self.scope.plan.issuer
        return ""

    # Writing --------------------------------------------------------------------------------------------------

    def write(self, wb) -> None:
        ws = wb.create_sheet(str(self.verbose_name))
        columns = self.columns
        last = get_column_letter(len(columns))
        for index, column in enumerate(columns, 1):
            ws.column_dimensions[get_column_letter(index)].width = column.width
        total_width = sum(c.width for c in columns)

        named_styles(wb)

        def cell(value, style: str = "台账正文"):
            c = set_cell_value(WriteOnlyCell(ws), value)
            c.style = (
                style  # a named style: assigned by name, no per-cell style hashing (5,000 rows in seconds)
            )
            return c

        row_number = 0

        def append(cells, height: float | None = None) -> int:
            nonlocal row_number
            row_number += 1
            if height is not None:
                ws.row_dimensions[row_number].height = height
            ws.append(cells)
            return row_number

        def full_width(text: str, style: str, *, size=BODY_SIZE):
            units = [LedgerColumn("", total_width)]
            height = row_height([text], units, size=size)
            n = append([cell(text, style)] + [cell(None, style) for _ in columns[1:]], height)
            ws.merged_cells.add(f"A{n}:{last}{n}")

        described = self.scope.describe_filters()
        header_row = 4 if described else 3
        ws.freeze_panes = f"A{header_row + 1}"  # write-only: panes and page setup before the first row
        set_up_printing(ws, title_rows=f"{header_row}:{header_row}")
        full_width(self.title(), "台账标题", size=16)
        today = self.scope.today
        line = _("截至%(date)s") % {"date": _date_text(today)}
        maker = self.maker()
        if maker:
            line = _("制表单位:%(maker)s") % {"maker": maker} + "    " + line
        full_width(line, "台账说明")
        if described:
            full_width(_("筛选条件:%(filters)s") % {"filters": described}, "台账筛选")
        append([cell(c.header, "台账表头") for c in columns], 22)

        count = 0
        for kind, item in self.rows():
            if kind in ("plan", "section"):
                full_width(item, "台账分组")
                continue
            count += 1
            values = [
                item.number,
                item.text,
                "、".join(item.leads),
                "、".join(item.supports),
                item.deadline,
                "\n".join(item.progress),
                item.status,
                ";".join(item.notes),
            ]
            styles = ["台账居中" if c.align == "center" else "台账正文" for c in columns]
            if item.light is not None:
                styles[6] = LIGHT_STYLES[item.light]
            cells = [cell(v, style) for v, style in zip(values, styles, strict=True)]
            append(cells, row_height(values, columns))
        if count == 0:
            full_width(_("没有符合条件的任务。"), "台账正文")
