"""Exporters behind one small interface, and the progress report (进度报表) built from them.

A sheet exporter has an ``identifier``, a ``verbose_name`` (its sheet title), ``columns`` and
``iterate_list()``, which yields the header and then one row per record (as pretix's exporters do). The
report writes them into one workbook in openpyxl's write-only mode and reports progress as it goes; the
summary sheet (汇总) adds native bar and pie charts over its own small tables.

Scope: every row comes from ``Task.objects.for_user(user)`` narrowed by ``tasks.filters.TaskFilter`` with
the same GET parameters as the task list, so a liaison only ever exports their own agencies' tasks.
"""

from __future__ import annotations

import datetime
import re
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from django.conf import settings
from django.db.models import Count, F, OuterRef, Q, QuerySet, Subquery
from django.http import QueryDict
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl import Workbook
from openpyxl.chart import BarChart, PieChart, Reference
from openpyxl.chart.label import DataLabelList
from openpyxl.utils import get_column_letter

from agencies.models import Agency
from tasks.filters import TaskFilter
from tasks.models import Indicator, IndicatorValue, Plan, ProgressUpdate, Task
from tasks.status import Light

from .ledger import LedgerSheet
from .selectors import liaison_agencies, sees_all_tasks
from .xlsx import DATE_FORMAT, PERCENT_FORMAT, CellFactory, FastRows, set_up_printing

ProgressCallback = Callable[[int, int], None]
PROGRESS_EVERY = 1000  # rows between progress reports
CHART_AGENCIES = 30  # agencies shown in the bar chart (the table lists all)


class ReportError(Exception):
    """Bad filter parameters; the message is shown to the user in Chinese."""


@dataclass(frozen=True)
class Column:
    header: str
    width: float
    kind: str = "text"  # text | wrap | date | datetime | int | percent | light


class ReportScope:
    """The tasks one user asked for: their visible tasks, narrowed by the task list's filters."""

    def __init__(self, *, user, params: dict[str, list[str]], today: datetime.date | None = None):
        self.user = user
        self.today = today or timezone.localdate()
        data = QueryDict(mutable=True)
        for key, values in params.items():
            data.setlist(key, values if isinstance(values, list) else [values])
        self.filterset = TaskFilter(data, queryset=Task.objects.for_user(user).current(), user=user)
        if not self.filterset.is_valid():
            errors = "; ".join(
                f"{self.filterset.form.fields[name].label if name in self.filterset.form.fields else name}:"
                f"{' '.join(messages)}"
                for name, messages in self.filterset.form.errors.items()
            )
            raise ReportError(_("筛选条件有误:%(errors)s") % {"errors": errors})
        self.plan: Plan | None = self.filterset.form.cleaned_data.get("plan")
        self.agency: Agency | None = self.filterset.form.cleaned_data.get("agency")
        # One plain queryset of ids: the filters may add DISTINCT, ordering and annotations.
        self.task_ids = self.filterset.qs.order_by().values("pk")

    def tasks(self) -> QuerySet[Task]:
        return Task.objects.filter(pk__in=self.task_ids)

    def ordered_tasks(self) -> QuerySet[Task]:
        return self.tasks().order_by(
            "measure__plan__title", "measure__position", "measure_id", "role", "agency__name"
        )

    def indicators(self) -> QuerySet[Indicator]:
        plans = self.tasks().values("measure__plan_id")
        indicators = Indicator.objects.filter(plan_id__in=plans)
        if not sees_all_tasks(self.user):
            indicators = indicators.filter(agency__in=liaison_agencies(self.user))
        if self.agency is not None:
            indicators = indicators.filter(agency=self.agency)
        return indicators

    def describe_filters(self) -> str:
        """The filters applied beyond the plan, in words ("单位:区金融局;状态:推进中"), for printed headers."""
        parts = []
        form = self.filterset.form
        for name, value in form.cleaned_data.items():
            if name in ("plan", "ordering") or value in (None, "", False, [], ()):
                continue
            field = form.fields[name]
            if hasattr(field, "choices") and not hasattr(value, "pk"):
                value = dict(field.choices).get(value, value)
            elif isinstance(value, datetime.date):
                value = f"{value.year}年{value.month}月{value.day}日"
            elif value is True:
                value = _("是")
            parts.append(f"{field.label}:{value}")
        return ";".join(parts)

    def label(self) -> str:
        if self.plan is not None:
            return self.plan.title
        if self.agency is not None:
            return str(self.agency)
        if not sees_all_tasks(self.user):
            return "、".join(a.name for a in liaison_agencies(self.user)) or _("全部计划")
        return _("全部计划")


# Sheet exporters ----------------------------------------------------------------------------------------


class SheetExporter:
    identifier: str = ""
    verbose_name = ""
    columns: list[Column] = []

    def __init__(self, scope: ReportScope):
        self.scope = scope

    def queryset(self) -> QuerySet:
        raise NotImplementedError

    def count(self) -> int:
        return self.queryset().count()

    def rows(self) -> Iterator[list]:
        raise NotImplementedError

    def iterate_list(self) -> Iterator[list]:
        """The header, then the rows."""
        yield [column.header for column in self.columns]
        yield from self.rows()


def _latest_update(field: str) -> Subquery:
    return Subquery(
        ProgressUpdate.objects.filter(task=OuterRef("pk")).order_by("-created_at", "-pk").values(field)[:1]
    )


class TaskDetailSheet(SheetExporter):
    identifier = "tasks"
    verbose_name = gettext_lazy("任务明细")

    @property
    def columns(self):
        return [
            Column(_("计划"), 28, "wrap"),
            Column(_("序号"), 8),
            Column(_("措施"), 60, "wrap"),
            Column(_("单位"), 18),
            Column(_("角色"), 8),
            Column(_("其他单位"), 30, "wrap"),
            Column(_("截止日期"), 12, "date"),
            Column(_("下次报送"), 12, "date"),
            Column(_("状态"), 10),
            Column(_("进度"), 8, "int"),
            Column(_("灯号"), 8, "light"),
            Column(_("最新进展"), 50, "wrap"),
            Column(_("最近更新"), 17, "datetime"),
        ]

    def queryset(self):
        return self.scope.ordered_tasks()

    def co_agencies(self) -> dict[int, list[tuple[int, str, str]]]:
        """Every agency on the measures in scope (one query; names of other agencies, never their tasks)."""
        measures = self.scope.tasks().values("measure_id")
        result: dict[int, list[tuple[int, str, str]]] = defaultdict(list)
        roles = _labels(Task.Role)
        rows = (
            Task.objects.filter(measure_id__in=measures)
            .order_by("measure_id", "role", "agency__name")
            .values_list("measure_id", "agency_id", "agency__name", "role")
        )
        for measure_id, agency_id, name, role in rows.iterator(chunk_size=5000):
            result[measure_id].append((agency_id, name, roles.get(role, role)))
        return result

    def rows(self):
        today = self.scope.today
        co = self.co_agencies()
        status_labels, role_labels = _labels(Task.Status), _labels(Task.Role)
        ongoing_label = _("持续推进")
        # Tuples, not model instances: a 100,000-row report spends its time here otherwise.
        tasks = (
            self.queryset()
            .with_light(today)
            .annotate(latest_text=_latest_update("text"), latest_at=_latest_update("created_at"))
            .values_list(
                "measure__plan__title",
                "measure__number",
                "measure__text",
                "measure_id",
                "agency_id",
                "agency__name",
                "role",
                "is_ongoing",
                "due_date",
                "report_due",
                "status",
                "percent",
                "light",
                "latest_text",
                "latest_at",
                "updated_at",
            )
        )
        for (
            plan_title,
            number,
            measure_text,
            measure_id,
            agency_id,
            agency_name,
            role,
            is_ongoing,
            due_date,
            next_report_due,
            status,
            percent,
            light,
            latest_text,
            latest_at,
            updated_at,
        ) in tasks.iterator(chunk_size=2000):
            others = "、".join(f"{name}({r})" for a, name, r in co.get(measure_id, ()) if a != agency_id)
            yield [
                plan_title,
                number,
                measure_text,
                agency_name,
                role_labels.get(role, role),
                others,
                ongoing_label if is_ongoing else due_date,
                next_report_due if is_ongoing else None,
                status_labels.get(status, status),
                percent,
                Light(light),
                latest_text or "",
                latest_at or updated_at,
            ]


def _labels(choices) -> dict[str, str]:
    """Choice labels translated once, not once per row."""
    return {value: str(label) for value, label in choices.choices}


class OverdueSheet(SheetExporter):
    identifier = "overdue"
    verbose_name = gettext_lazy("逾期清单")

    @property
    def columns(self):
        return [
            Column(_("单位"), 18),
            Column(_("计划"), 28, "wrap"),
            Column(_("序号"), 8),
            Column(_("措施"), 60, "wrap"),
            Column(_("角色"), 8),
            Column(_("类型"), 10),
            Column(_("应完成日期"), 12, "date"),
            Column(_("逾期天数"), 10, "int"),
            Column(_("状态"), 10),
            Column(_("最新进展"), 50, "wrap"),
        ]

    def queryset(self):
        # Red light = past the attention date: a missed due date, or a missed periodic report.
        return (
            self.scope.tasks()
            .with_light(self.scope.today)
            .filter(light=Light.RED)
            .order_by("agency__name", "attention_date", "measure__position")
        )

    def rows(self):
        today = self.scope.today
        status_labels, role_labels = _labels(Task.Status), _labels(Task.Role)
        kinds = {True: _("报送逾期"), False: _("截止逾期")}
        tasks = (
            self.queryset()
            .annotate(latest_text=_latest_update("text"))
            .values_list(
                "agency__name",
                "measure__plan__title",
                "measure__number",
                "measure__text",
                "role",
                "is_ongoing",
                "attention_date",
                "status",
                "latest_text",
            )
        )
        for agency, plan_title, number, text, role, is_ongoing, attention, status, latest in tasks.iterator(
            chunk_size=2000
        ):
            yield [
                agency,
                plan_title,
                number,
                text,
                role_labels.get(role, role),
                kinds[is_ongoing],
                attention,
                (today - attention).days,
                status_labels.get(status, status),
                latest or "",
            ]


NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


def _number(text: str) -> float | None:
    match = NUMBER.search((text or "").replace(",", ""))
    return float(match.group()) if match else None


class IndicatorSheet(SheetExporter):
    identifier = "indicators"
    verbose_name = gettext_lazy("指标进展")

    @property
    def columns(self):
        return [
            Column(_("计划"), 28, "wrap"),
            Column(_("类别"), 14, "wrap"),
            Column(_("指标"), 36, "wrap"),
            Column(_("单位"), 8),
            Column(_("基期值"), 10),
            Column(_("基期年份"), 9, "int"),
            Column(_("目标值"), 10),
            Column(_("目标年份"), 9, "int"),
            Column(_("属性"), 8),
            Column(_("责任单位"), 18),
            Column(_("最新值"), 10),
            Column(_("最新年度"), 9, "int"),
            Column(_("完成目标"), 10, "percent"),
        ]

    def queryset(self):
        latest = IndicatorValue.objects.filter(indicator=OuterRef("pk")).order_by("-year")
        return (
            self.scope.indicators()
            .select_related("plan", "agency")
            .annotate(
                latest_value=Subquery(latest.values("value")[:1]),
                latest_year=Subquery(latest.values("year")[:1]),
            )
            .order_by("plan__title", "position", "pk")
        )

    def rows(self):
        for indicator in self.queryset().iterator(chunk_size=2000):
            target, latest = _number(indicator.target), _number(indicator.latest_value or "")
            share = latest / target if target and latest is not None else None
            yield [
                indicator.plan.title,
                indicator.category,
                indicator.name,
                indicator.unit,
                indicator.baseline,
                indicator.baseline_year,
                indicator.target,
                indicator.target_year,
                indicator.get_attribute_display(),
                indicator.agency.name if indicator.agency else "",
                indicator.latest_value or "",
                indicator.latest_year,
                share,
            ]


class ProgressLogSheet(SheetExporter):
    identifier = "updates"
    verbose_name = gettext_lazy("进展记录")

    @property
    def columns(self):
        return [
            Column(_("报送时间"), 17, "datetime"),
            Column(_("计划"), 28, "wrap"),
            Column(_("序号"), 8),
            Column(_("单位"), 18),
            Column(_("报送周期"), 10),
            Column(_("状态"), 10),
            Column(_("进度"), 8, "int"),
            Column(_("进展情况"), 70, "wrap"),
            Column(_("报送人"), 12),
        ]

    def queryset(self):
        return ProgressUpdate.objects.filter(task_id__in=self.scope.task_ids).order_by("-created_at", "-pk")

    def rows(self):
        status_labels = _labels(Task.Status)
        updates = self.queryset().annotate(
            plan_title=F("task__measure__plan__title"),
            number=F("task__measure__number"),
            agency_name=F("task__agency__name"),
            author_name=F("author__username"),
            author_first=F("author__first_name"),
            author_last=F("author__last_name"),
        )
        for update in updates.iterator(chunk_size=2000):
            author = f"{update.author_last or ''}{update.author_first or ''}" or update.author_name or ""
            yield [
                update.created_at,
                update.plan_title,
                update.number,
                update.agency_name,
                update.period,
                status_labels.get(update.status, update.status),
                update.percent,
                update.text,
                author,
            ]


# The summary sheet ---------------------------------------------------------------------------------------


@dataclass
class AgencyLine:
    name: str
    total: int
    done: int
    overdue: int

    @property
    def rate(self) -> float:
        return self.done / self.total if self.total else 0.0


class SummarySheet:
    identifier = "summary"
    verbose_name = gettext_lazy("汇总")

    def __init__(self, scope: ReportScope):
        self.scope = scope

    def agency_lines(self) -> list[AgencyLine]:
        rows = (
            self.scope.tasks()
            .with_light(self.scope.today)
            .values("agency_id", "agency__name")
            .annotate(
                total=Count("pk"),
                done=Count("pk", filter=Q(status=Task.Status.DONE)),
                overdue=Count("pk", filter=Q(light=Light.RED)),  # TaskQuerySet.overdue's rule
            )
            .order_by("-total", "agency__name")
        )
        return [AgencyLine(r["agency__name"], r["total"], r["done"], r["overdue"]) for r in rows]

    def status_counts(self) -> list[tuple[str, int]]:
        counts = dict(self.scope.tasks().values_list("status").annotate(n=Count("pk")).order_by())
        return [(str(label), counts.get(value, 0)) for value, label in Task.Status.choices]

    def light_counts(self) -> dict[str, int]:
        rows = (
            self.scope.tasks().with_light(self.scope.today).values("light").annotate(n=Count("pk")).order_by()
        )
        return {row["light"]: row["n"] for row in rows}

    def write(self, wb: Workbook) -> None:
        ws = wb.create_sheet(str(self.verbose_name))
        set_up_printing(ws, landscape=False)  # write-only: before the first row
        cells = CellFactory(ws)
        for letter, width in zip("ABCDE", (30, 12, 12, 12, 12), strict=True):
            ws.column_dimensions[letter].width = width
        lines = self.agency_lines()
        statuses = self.status_counts()
        lights = self.light_counts()
        total = sum(n for _label, n in statuses)
        done = dict(zip(Task.Status.values, (n for _label, n in statuses), strict=True))[Task.Status.DONE]
        overdue = sum(line.overdue for line in lines)

        row = 0

        def append(values) -> int:
            nonlocal row
            ws.append([cells.cell(v) if isinstance(v, str) else v for v in values])
            row += 1
            return row

        append([cells.cell(_("进度报表"), number_format="")])
        append([_("范围"), self.scope.label()])
        append([_("报表日期"), cells.cell(self.scope.today, number_format=DATE_FORMAT)])
        append([])
        append([cells.header(_("总体情况")), cells.header(_("数值"))])
        append([_("任务总数"), total])
        append([_("已办结"), done])
        append([_("逾期未完成"), overdue])
        append([_("完成率"), cells.cell(done / total if total else 0.0, number_format=PERCENT_FORMAT)])
        for light in (Light.RED, Light.YELLOW, Light.GREEN):
            append([cells.cell(str(light.label), fill=light), lights.get(light, 0)])
        append([])

        status_header = append([cells.header(_("状态")), cells.header(_("任务数"))])
        for label, n in statuses:
            append([label, n])
        status_last = row
        append([])

        agency_header = append(
            [cells.header(h) for h in (_("单位"), _("任务数"), _("已办结"), _("逾期"), _("完成率"))]
        )
        for line in lines:
            append(
                [
                    line.name,
                    line.total,
                    line.done,
                    line.overdue,
                    cells.cell(line.rate, number_format=PERCENT_FORMAT),
                ]
            )
        agency_last = row

        pie = PieChart()
        pie.title = _("任务状态分布")
        pie.add_data(
            Reference(ws, min_col=2, min_row=status_header, max_row=status_last), titles_from_data=True
        )
        pie.set_categories(Reference(ws, min_col=1, min_row=status_header + 1, max_row=status_last))
        # Plain labels: the percentage only (LibreOffice otherwise prints "未开始; 任务数; 95; 95%").
        pie.dataLabels = DataLabelList(
            showPercent=True, showVal=False, showCatName=False, showSerName=False, showLegendKey=False
        )
        pie.height, pie.width = 7.5, 12
        ws.add_chart(pie, "G2")

        if lines:
            shown = min(agency_last, agency_header + CHART_AGENCIES)
            bar = BarChart()
            bar.type = "bar"  # horizontal: long Chinese agency names stay readable
            bar.title = _("各单位完成率")
            bar.y_axis.title = _("完成率")
            bar.y_axis.numFmt = "0%"
            bar.y_axis.scaling.min = 0
            bar.y_axis.scaling.max = 1
            bar.add_data(
                Reference(ws, min_col=5, min_row=agency_header, max_row=shown), titles_from_data=True
            )
            bar.set_categories(Reference(ws, min_col=1, min_row=agency_header + 1, max_row=shown))
            bar.legend = None
            bar.x_axis.scaling.orientation = "maxMin"  # the worst agency first, at the top
            bar.x_axis.delete = False  # openpyxl 3.1 hides both axes unless told
            bar.y_axis.delete = False
            bar.height = max(7.5, 0.6 * (shown - agency_header) + 3)
            bar.width = 16
            ws.add_chart(bar, "G18")


class ScorecardSheet:
    """考核评分 of the current quarter for the scope's plan (lead bureau and leaders only: it ranks agencies)."""

    identifier = "scorecard"
    verbose_name = gettext_lazy("考核评分")

    def __init__(self, scope: ReportScope):
        self.scope = scope

    def write(self, wb: Workbook) -> None:
        from .models import ScoreWeights
        from .scorecard import LABELS, Scorecard, default_period

        period = default_period(self.scope.today)
        weights = ScoreWeights.current().as_dict()
        card = Scorecard(plan=self.scope.plan, period=period, weights=weights, today=self.scope.today)
        ws = wb.create_sheet(str(self.verbose_name))
        set_up_printing(ws, title_rows="4:4")
        cells = CellFactory(ws)
        keys = list(LABELS)
        for index, width in enumerate([8, 28, 8, 10] + [12] * len(keys), 1):
            ws.column_dimensions[get_column_letter(index)].width = width
        ws.append([cells.cell(_("考核评分 · %(period)s") % {"period": period.label})])
        ws.append([cells.cell(_("范围")), cells.cell(self.scope.label())])
        ws.append(
            [
                cells.cell(_("权重")),
                cells.cell("、".join(f"{LABELS[k]} {weights[k]}" for k in keys)),
            ]
        )
        ws.append(
            [cells.header(h) for h in (_("排名"), _("单位"), _("任务数"), _("总分"))]
            + [cells.header(str(LABELS[k])) for k in keys]
        )
        for score in card.scores():
            ws.append(
                [score.rank, cells.cell(score.name), score.tasks, score.total]
                + [score.components[k].score for k in keys]
            )


# The report ----------------------------------------------------------------------------------------------


def _write_sheet(wb: Workbook, sheet: SheetExporter, done: int, total: int, on_progress) -> int:
    ws = wb.create_sheet(str(sheet.verbose_name))
    cells = CellFactory(ws)
    columns = sheet.columns
    for index, column in enumerate(columns, 1):
        ws.column_dimensions[get_column_letter(index)].width = column.width
    ws.freeze_panes = "A2"  # write-only sheets take panes and widths before the first row
    set_up_printing(ws, title_rows="1:1")

    rows = sheet.iterate_list()
    ws.append([cells.header(h) for h in next(rows)])
    FastRows(ws, [column.kind for column in columns])
    written = 1
    for values in rows:
        ws.append(values)
        written += 1
        done += 1
        if on_progress and done % PROGRESS_EVERY == 0:
            on_progress(done, total)
    ws.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{written}"
    return done


class ProgressReport:
    """进度报表: 工作台账 (printable), 汇总, 考核评分 (supervisors), 任务明细, 逾期清单, 指标进展, 进展记录."""

    identifier = "progress"
    verbose_name = gettext_lazy("进度报表")
    sheet_classes = (TaskDetailSheet, OverdueSheet, IndicatorSheet, ProgressLogSheet)

    def __init__(
        self,
        *,
        user,
        params: dict[str, list[str]],
        today: datetime.date | None = None,
        language: str | None = None,
    ):
        self.language = language or settings.LANGUAGE_CODE
        with translation.override(self.language):
            self.scope = ReportScope(user=user, params=params, today=today)

    def task_count(self) -> int:
        return self.scope.tasks().count()

    def filename(self) -> str:
        with translation.override(self.language):
            return self._filename()

    def _filename(self) -> str:
        label = re.sub(r'[\\/:*?"<>|\s]+', "", self.scope.label())[:40]
        return f"{self.verbose_name}-{label}-{self.scope.today:%Y%m%d}.xlsx"

    def write(self, target: str | Path | IO[bytes], on_progress: ProgressCallback | None = None) -> None:
        with translation.override(self.language):
            sheets = [cls(self.scope) for cls in self.sheet_classes]
            total = sum(sheet.count() for sheet in sheets)
            wb = Workbook(write_only=True)
            LedgerSheet(self.scope).write(wb)
            SummarySheet(self.scope).write(wb)
            if sees_all_tasks(self.scope.user):
                ScorecardSheet(self.scope).write(wb)
            done = 0
            for sheet in sheets:
                done = _write_sheet(wb, sheet, done, total, on_progress)
            wb.save(target)
            if on_progress:
                on_progress(total, total)


class LedgerReport(ProgressReport):
    """工作台账 alone: the workbook to print."""

    identifier = "ledger"
    verbose_name = gettext_lazy("工作台账")

    def task_count(self) -> int:
        return self.scope.tasks().count()

    def write(self, target: str | Path | IO[bytes], on_progress: ProgressCallback | None = None) -> None:
        with translation.override(self.language):
            wb = Workbook(write_only=True)
            LedgerSheet(self.scope).write(wb)
            wb.save(target)
            if on_progress:
                total = self.task_count()
                on_progress(total, total)


EXPORTERS = {ProgressReport.identifier: ProgressReport, LedgerReport.identifier: LedgerReport}


def get_exporter(identifier: str, *, user, params: dict, language: str | None = None) -> ProgressReport:
    """The exporter registered under ``identifier`` (background jobs store the identifier)."""
    return EXPORTERS[identifier](user=user, params=params, language=language)
