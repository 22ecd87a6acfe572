"""考核: a score per agency per period, computed from recorded timestamps only.

Six indicators, each 0–100, weighted by ``ScoreWeights`` (the lead bureau's admin; defaults in the README):

- 签收及时 (acknowledge): per task assigned by the period's end, full marks when 签收 within 2 days, 5 points
  off for each day more; a task not yet acknowledged counts until the as-of day.
- 按期办结率 (on_time): of the dated tasks due in the period (up to the as-of day), the share completed on or
  before their due date.
- 定期报送按时率 (reports): of the periodic reports of ongoing (持续推进) tasks whose deadline fell in the period,
  the share received (a progress report for that period) by the deadline.
- 逾期天数 (overdue): the share of task-days in the period on which the task was not overdue.
- 延期申请 (extensions): 100 less 50 points per task for each extension asked for in the period, and 50 more
  for each granted (floor 0).
- 办结退回 (returned): of the completion requests decided in the period, the share not returned.

An indicator with nothing to judge (no task due, no report expected) is left out and the others are
reweighted. The same data, weights, period and as-of day always give the same scores (no ``now()`` inside),
and every point can be traced to its facts (``Component.facts``) — the page drills down to them.
"""

from __future__ import annotations

import datetime
import re
from collections import defaultdict
from dataclasses import dataclass, field

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from tasks.models import ExtensionRequest, Plan, ProgressUpdate, Task
from tasks.status import Period, next_period, period_by_key, period_of

from .models import SCORE_KEYS

LABELS = {
    "acknowledge": gettext_lazy("签收及时"),
    "on_time": gettext_lazy("按期办结率"),
    "reports": gettext_lazy("定期报送按时率"),
    "overdue": gettext_lazy("逾期天数"),
    "extensions": gettext_lazy("延期申请"),
    "returned": gettext_lazy("办结退回"),
}
ACK_GRACE_DAYS = 2
ACK_POINTS_PER_DAY = 5
EXTENSION_POINTS = 50


class PeriodError(ValueError):
    """A period the user typed that cannot be read; the message is in Chinese."""


PERIOD_FORMATS = (
    (re.compile(r"^\d{4}-Q[1-4]$"), "quarterly"),
    (re.compile(r"^\d{4}-H[12]$"), "half_yearly"),
    (re.compile(r"^\d{4}-(0[1-9]|1[0-2])$"), "monthly"),
    (re.compile(r"^\d{4}$"), "yearly"),
)


def parse_period(text: str) -> Period:
    """``2026-Q3``, ``2026-H1``, ``2026-03`` or ``2026``."""
    text = (text or "").strip().upper()
    for pattern, cycle in PERIOD_FORMATS:
        if pattern.match(text):
            return period_by_key(text, cycle)
    raise PeriodError(
        _("考核期“%(text)s”无法识别,应写作 2026-Q3、2026-H1、2026-03 或 2026。") % {"text": text}
    )


def default_period(today: datetime.date) -> Period:
    return period_of(today, "quarterly")


@dataclass(frozen=True)
class Fact:
    """One recorded fact behind a score: which task, what happened, what it counted for."""

    task_id: int
    measure: str
    text: str
    points: float | None = None


@dataclass
class Component:
    key: str
    score: float | None  # None: nothing to judge in this period
    summary: str
    facts: list[Fact] = field(default_factory=list)

    @property
    def label(self) -> str:
        return str(LABELS[self.key])


@dataclass
class AgencyScore:
    agency_id: int
    name: str
    tasks: int
    components: dict[str, Component]
    total: float = 0.0
    rank: int = 0

    def as_dict(self) -> dict:
        return {
            "agency_id": self.agency_id,
            "name": self.name,
            "rank": self.rank,
            "total": self.total,
            "tasks": self.tasks,
            "components": {key: c.score for key, c in self.components.items()},
        }


def _day(moment: datetime.datetime | None) -> datetime.date | None:
    return timezone.localtime(moment).date() if moment is not None else None


def _measure_label(number: str, text: str) -> str:
    head = text.split("。", 1)[0]
    return f"{number}. {head if len(head) <= 30 else head[:29] + '…'}"


def weighted_total(scores: dict[str, float | None], weights: dict[str, int]) -> float:
    used = [(scores[k], weights.get(k, 0)) for k in SCORE_KEYS if scores.get(k) is not None]
    weight = sum(w for _s, w in used)
    if not weight:
        return 0.0
    return round(sum(s * w for s, w in used) / weight, 1)


class Scorecard:
    """Scores of every agency with tasks in ``plan`` (or in every active plan) for ``period``."""

    def __init__(
        self,
        *,
        plan: Plan | None,
        period: Period,
        weights: dict[str, int],
        today: datetime.date | None = None,
    ):
        self.plan = plan
        self.period = period
        self.weights = {key: int(weights.get(key, 0)) for key in SCORE_KEYS}
        today = today or timezone.localdate()
        self.as_of = min(period.end, today)

    def tasks(self):
        if self.plan is not None:
            tasks = Task.objects.filter(measure__is_removed=False, measure__plan=self.plan)
        else:
            tasks = Task.objects.filter(measure__is_removed=False, measure__plan__is_active=True)
        # Tasks assigned by the as-of day take part (a task created later has no history to judge).
        return tasks.filter(created_at__date__lte=self.as_of)

    def scores(self, agency_id: int | None = None) -> list[AgencyScore]:
        tasks = self.tasks()
        if agency_id is not None:
            tasks = tasks.filter(agency_id=agency_id)
        rows = list(
            tasks.select_related("measure__plan", "agency").order_by(
                "agency__name", "measure__position", "pk"
            )
        )
        by_agency: dict[int, list[Task]] = defaultdict(list)
        for task in rows:
            by_agency[task.agency_id].append(task)
        ids = [t.pk for t in rows]
        extensions = defaultdict(list)
        for request in ExtensionRequest.objects.filter(
            task_id__in=ids,
            requested_at__date__gte=self.period.start,
            requested_at__date__lte=self.as_of,
        ).order_by("requested_at", "pk"):
            extensions[request.task_id].append(request)
        updates = defaultdict(list)
        for update in ProgressUpdate.objects.filter(task_id__in=ids).order_by("created_at", "pk"):
            updates[update.task_id].append(update)

        results = []
        for tasks_of in by_agency.values():
            agency = tasks_of[0].agency
            components = {
                "acknowledge": self._acknowledge(tasks_of),
                "on_time": self._on_time(tasks_of),
                "reports": self._reports(tasks_of, updates),
                "overdue": self._overdue(tasks_of),
                "extensions": self._extensions(tasks_of, extensions),
                "returned": self._returned(tasks_of, updates),
            }
            total = weighted_total({k: c.score for k, c in components.items()}, self.weights)
            results.append(AgencyScore(agency.pk, agency.name, len(tasks_of), components, total))
        results.sort(key=lambda s: (-s.total, s.name))
        rank, previous = 0, None
        for index, score in enumerate(results, 1):
            if score.total != previous:
                rank, previous = index, score.total
            score.rank = rank
        return results

    def _completed(self, task: Task) -> datetime.date | None:
        """The completion day as known on the as-of day (a later completion does not count yet)."""
        day = _day(task.completed_at) if task.status == Task.Status.DONE else None
        return day if day is not None and day <= self.as_of else None

    # The six indicators -------------------------------------------------------------------------------------

    def _acknowledge(self, tasks: list[Task]) -> Component:
        facts, points = [], []
        for task in tasks:
            assigned = _day(task.created_at)
            acknowledged = _day(task.acknowledged_at)
            if acknowledged is not None and acknowledged <= self.as_of:
                days = (acknowledged - assigned).days
                text = _("%(a)s 分派,%(b)s 签收,用时 %(d)d 天") % {
                    "a": assigned,
                    "b": acknowledged,
                    "d": days,
                }
            else:
                days = (self.as_of - assigned).days
                text = _("%(a)s 分派,截至 %(b)s 未签收(%(d)d 天)") % {
                    "a": assigned,
                    "b": self.as_of,
                    "d": days,
                }
            score = float(max(0, 100 - ACK_POINTS_PER_DAY * max(0, days - ACK_GRACE_DAYS)))
            points.append(score)
            facts.append(Fact(task.pk, _measure_label(task.measure.number, task.measure.text), text, score))
        score = round(sum(points) / len(points), 1) if points else None
        return Component("acknowledge", score, _("%(n)d 项任务的签收用时") % {"n": len(points)}, facts)

    def _on_time(self, tasks: list[Task]) -> Component:
        facts, due, on_time = [], 0, 0
        for task in tasks:
            if task.is_ongoing or task.due_date is None:
                continue
            if not (self.period.start <= task.due_date <= self.as_of):
                continue
            due += 1
            completed = self._completed(task)
            ok = completed is not None and completed <= task.due_date
            on_time += ok
            if completed is None:
                text = _("应于 %(d)s 完成,未办结") % {"d": task.due_date}
            else:
                text = _("应于 %(d)s 完成,%(c)s 办结") % {"d": task.due_date, "c": completed}
            facts.append(
                Fact(
                    task.pk,
                    _measure_label(task.measure.number, task.measure.text),
                    text,
                    100.0 if ok else 0.0,
                )
            )
        score = round(100 * on_time / due, 1) if due else None
        return Component(
            "on_time", score, _("本期到期 %(n)d 项,按期办结 %(k)d 项") % {"n": due, "k": on_time}, facts
        )

    def _reports(self, tasks: list[Task], updates) -> Component:
        facts, expected, punctual = [], 0, 0
        for task in tasks:
            if not task.is_ongoing:
                continue
            plan = task.measure.plan
            assigned = _day(task.created_at)
            period = period_of(self.period.start - datetime.timedelta(days=400), plan.reporting_cycle)
            while period.start <= self.as_of:
                deadline = period.report_deadline(plan.report_due_day)
                if self.period.start <= deadline <= self.as_of and deadline > assigned:
                    expected += 1
                    received = [
                        _day(u.created_at)
                        for u in updates.get(task.pk, ())
                        if u.period == period.key
                        or (not u.period and period.start <= _day(u.created_at) <= deadline)
                    ]
                    first = min(received) if received else None
                    ok = first is not None and first <= deadline
                    punctual += ok
                    if first is None:
                        text = _("%(p)s 进展应于 %(d)s 前报送,未报送") % {"p": period.label, "d": deadline}
                    else:
                        text = _("%(p)s 进展应于 %(d)s 前报送,%(r)s 报送") % {
                            "p": period.label,
                            "d": deadline,
                            "r": first,
                        }
                    facts.append(
                        Fact(
                            task.pk,
                            _measure_label(task.measure.number, task.measure.text),
                            text,
                            100.0 if ok else 0.0,
                        )
                    )
                period = next_period(period, plan.reporting_cycle)
        score = round(100 * punctual / expected, 1) if expected else None
        summary = _("应报送 %(n)d 次,按时 %(k)d 次") % {"n": expected, "k": punctual}
        return Component("reports", score, summary, facts)

    def _overdue(self, tasks: list[Task]) -> Component:
        facts, exposure, late = [], 0, 0
        for task in tasks:
            start = max(self.period.start, _day(task.created_at))
            if start > self.as_of:
                continue
            days = (self.as_of - start).days + 1
            exposure += days
            if task.is_ongoing or task.due_date is None:
                continue
            completed = self._completed(task)
            late_from = max(start, task.due_date + datetime.timedelta(days=1))
            late_to = min(self.as_of, completed - datetime.timedelta(days=1) if completed else self.as_of)
            overdue_days = max(0, (late_to - late_from).days + 1)
            if overdue_days:
                late += overdue_days
                text = _("截止 %(d)s,本期逾期 %(n)d 天") % {"d": task.due_date, "n": overdue_days}
                facts.append(
                    Fact(task.pk, _measure_label(task.measure.number, task.measure.text), text, -overdue_days)
                )
        score = round(100 * (1 - late / exposure), 1) if exposure else None
        summary = _("逾期 %(n)d 个任务·天,共 %(t)d 个任务·天") % {"n": late, "t": exposure}
        return Component("overdue", score, summary, facts)

    def _extensions(self, tasks: list[Task], extensions) -> Component:
        facts, deducted = [], 0
        for task in tasks:
            for request in extensions.get(task.pk, ()):
                granted = request.decision == ExtensionRequest.Decision.APPROVED
                minus = EXTENSION_POINTS * (2 if granted else 1)
                deducted += minus
                text = _("%(a)s 申请延至 %(d)s(%(s)s)") % {
                    "a": _day(request.requested_at),
                    "d": request.requested_due_date,
                    "s": request.get_decision_display(),
                }
                facts.append(
                    Fact(task.pk, _measure_label(task.measure.number, task.measure.text), text, -float(minus))
                )
        score = round(max(0.0, 100 - deducted / len(tasks)), 1) if tasks else None
        asked = len(facts)
        granted = sum(
            1
            for t in tasks
            for r in extensions.get(t.pk, ())
            if r.decision == ExtensionRequest.Decision.APPROVED
        )
        return Component(
            "extensions", score, _("申请延期 %(n)d 次,获批 %(k)d 次") % {"n": asked, "k": granted}, facts
        )

    def _returned(self, tasks: list[Task], updates) -> Component:
        facts, decided, returned = [], 0, 0
        for task in tasks:
            for update in updates.get(task.pk, ()):
                if not update.review_decision or update.reviewed_at is None:
                    continue
                day = _day(update.reviewed_at)
                if not (self.period.start <= day <= self.as_of):
                    continue
                decided += 1
                was_returned = update.review_decision == ProgressUpdate.ReviewDecision.RETURNED
                returned += was_returned
                text = _("%(d)s 审核:%(r)s") % {"d": day, "r": update.get_review_decision_display()}
                if update.review_reason:
                    text += f"({update.review_reason})"
                facts.append(
                    Fact(
                        task.pk,
                        _measure_label(task.measure.number, task.measure.text),
                        text,
                        0.0 if was_returned else 100.0,
                    )
                )
        score = round(100 * (1 - returned / decided), 1) if decided else None
        summary = _("审核办结申请 %(n)d 次,退回 %(k)d 次") % {"n": decided, "k": returned}
        return Component("returned", score, summary, facts)
