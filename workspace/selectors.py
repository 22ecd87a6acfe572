"""Reads of the workspace. Permissions live in the querysets (``Task.objects.for_user``), and list and
dashboard pages use a fixed number of queries whatever the number of tasks."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.core.paginator import Page, Paginator
from django.db.models import Count, Exists, F, Max, Min, OuterRef, Prefetch, Q, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from agencies.models import Agency
from agencies.roles import sees_all_tasks
from ipplan.lib.history import display_value
from reminders.models import ReminderLog
from tasks import changes
from tasks.models import Attachment, ExtensionRequest, Indicator, IndicatorValue, Plan, ProgressUpdate, Task
from tasks.status import Light, light_filters, period_of


def status_light_counts(today: datetime.date) -> dict:
    """The aggregates behind ``Counts``: the total, one per status, and the red and yellow lights by the plain
    column filters of ``light_filters`` (grey is the done count, green the rest)."""
    lights = light_filters(today)
    # COUNT(status), not COUNT(id) (status is never NULL): every column the counts read is in the covering
    # index task_current_cover, which serves them from the live plans' measures without reading a task row.
    return {
        "total": Count("*"),
        **{f"status_{value}": Count("status", filter=Q(status=value)) for value in Task.Status.values},
        **{f"light_{value}": Count("status", filter=lights[value]) for value in (Light.RED, Light.YELLOW)},
    }


# The names of those aggregates, in order.
COUNT_KEYS = (
    "total",
    *(f"status_{value}" for value in Task.Status.values),
    *(f"light_{value}" for value in (Light.RED, Light.YELLOW)),
)


def visible_tasks(user, today: datetime.date) -> QuerySet[Task]:
    """The current tasks (tasks/status.py) the user may see, with their light."""
    return Task.objects.for_user(user).current().with_light(today)


# What a list row shows (workspace_tags.task_rows): read these columns only, not every column of four tables.
LIST_ROW_FIELDS = (
    "status",
    "role",
    "due_date",
    "original_due_date",
    "is_ongoing",
    "next_report_due",
    "acknowledged_at",
    "percent",
    "last_reported_at",
    "measure",
    "measure__number",
    "measure__text",
    "measure__plan",
    "measure__plan__title",
    "agency",
    "agency__name",
    "agency__short_name",
)


def task_list(user, today: datetime.date) -> QuerySet[Task]:
    return visible_tasks(user, today).select_related("measure__plan", "agency").only(*LIST_ROW_FIELDS)


def task_page_of(tasks: QuerySet[Task], total: int, per_page: int, *, number=None, after=None) -> Page:
    """One page of a task list whose size is known already (``total``, from the counts' aggregate).

    In the default order (``Task.Meta.ordering``: sort_key, id, served by the index task_sort) the 下一页 link
    carries the last task's id (``after``): the next page is read by keyset, ``(sort_key, id) > (that task's)``,
    a walk of 50 index entries however deep the page. A page number alone (a bookmarked ``?page=500``, or the
    list sorted by a column) is read by OFFSET, which still walks the index rather than sorting every task.
    A page number past the end shows the last page."""
    paginator = Paginator(tasks, per_page)
    paginator.count = total  # known: spare the paginator its own COUNT
    number = min(_page_number(number, paginator), paginator.num_pages)
    keyset = not tasks.query.order_by and tasks.ordered  # the default order: sort_key, id
    # Two narrow steps, the same two queries for page 1 and page 500: the page's ids (an index walk that
    # reads no joined row it skips), then those 50 tasks with their plan, measure and agency.
    ids = tasks.values_list("pk", flat=True)
    if keyset and after and str(after).isdigit():
        table = Task._meta.db_table
        ids = ids.extra(
            where=[
                f'("{table}"."sort_key", "{table}"."id") > '
                f'(SELECT "sort_key", "id" FROM "{table}" WHERE "id" = %s)'
            ],
            params=[int(after)],
        )[:per_page]
    else:
        start = (number - 1) * per_page
        ids = ids[start : start + per_page]
    ids = list(ids)
    position = {pk: index for index, pk in enumerate(ids)}
    rows = sorted(tasks.order_by().filter(pk__in=ids), key=lambda task: position[task.pk])
    page = Page(rows, number, paginator)
    # The 下一页 link's cursor (None: the link carries the page number alone).
    page.next_after = rows[-1].pk if keyset and rows and page.has_next() else None
    return page


def _page_number(value, paginator: Paginator) -> int:
    try:
        return max(int(value), 1)
    except (TypeError, ValueError):
        return 1 if value != "last" else paginator.num_pages


@dataclass
class Counts:
    total: int
    by_status: list[tuple[str, str, int]]
    by_light: list[tuple[str, str, int]]

    def light(self, value: str) -> int:
        return next(n for key, _label, n in self.by_light if key == value)


def counts(queryset: QuerySet[Task], today: datetime.date, *, cache: bool = True) -> Counts:
    """Counts per status and per light of ``queryset`` (filtered as the list is) in one query, kept in the
    cache by buckets of agencies (tasks/changes.py). ``cache=False`` for a few tasks (an agency's own list):
    counting them costs less than asking the cache."""
    rows = queryset.order_by()
    aggregates = status_light_counts(today)
    if not cache:
        return counts_from_row(rows.aggregate(**aggregates))

    def compute(buckets):
        grouped = (
            changes.in_buckets(rows, buckets)
            .annotate(bucket=F("agency_id") % changes.BUCKETS)
            .values("bucket")
            .annotate(**aggregates)
            .values_list("bucket", *COUNT_KEYS)
        )
        return {bucket: dict(zip(COUNT_KEYS, values, strict=True)) for bucket, *values in grouped}

    return counts_from_row(_summed(changes.cached(rows, f"counts {aggregates!r}", compute).values()))


def _summed(parts) -> dict[str, int]:
    """The sums of ``COUNT_KEYS`` over counted parts (buckets, agencies)."""
    totals = dict.fromkeys(COUNT_KEYS, 0)
    for part in parts:
        for key in COUNT_KEYS:
            totals[key] += part[key]
    return totals


def _as_datetime(value):
    """A raw aggregate's datetime: SQLite answers text (UTC), PostgreSQL a datetime."""
    if isinstance(value, str):
        value = parse_datetime(value)
        if value is not None and timezone.is_naive(value):
            value = timezone.make_aware(value, datetime.UTC)
    return value


def counts_from_row(row: dict) -> Counts:
    red, yellow, done = (
        row[f"light_{Light.RED}"],
        row[f"light_{Light.YELLOW}"],
        row[f"status_{Task.Status.DONE}"],
    )
    lights = {
        Light.RED: red,
        Light.YELLOW: yellow,
        Light.GREY: done,
        Light.GREEN: row["total"] - red - yellow - done,
    }
    return Counts(
        total=row["total"],
        by_status=[(value, label, row[f"status_{value}"]) for value, label in Task.Status.choices],
        by_light=[(value, label, lights[value]) for value, label in Light.choices],
    )


def get_task(user, pk: int, today: datetime.date) -> Task:
    """The task if the user may see it; 404 otherwise (another agency's task does not exist for them)."""
    try:
        # A closed plan's tasks stay readable (their records matter), only lists leave them out.
        return (
            Task.objects.for_user(user)
            .filter(measure__is_removed=False)
            .with_light(today)
            .select_related("measure__plan", "measure__section", "agency")
            .get(pk=pk)
        )
    except Task.DoesNotExist:
        raise Http404 from None


@dataclass
class Sibling:
    task: Task
    latest: ProgressUpdate | None
    reported_this_period: bool
    # Every report with its attachments: for the lead agency's liaisons (and supervisors) only.
    history: list[ProgressUpdate] = field(default_factory=list)


@dataclass
class TaskPage:
    task: Task
    updates: list[ProgressUpdate]
    siblings: list[Sibling]
    period_label: str
    extensions: list[ExtensionRequest]
    history: list[dict] = field(default_factory=list)

    @property
    def pending_extension(self) -> ExtensionRequest | None:
        return next((e for e in self.extensions if e.decision == ExtensionRequest.Decision.PENDING), None)

    @property
    def pending_completion(self) -> ProgressUpdate | None:
        if self.task.status != Task.Status.COMPLETION_REQUESTED:
            return None
        return next(
            (
                u
                for u in self.updates
                if u.status == Task.Status.COMPLETION_REQUESTED and not u.review_decision
            ),
            None,
        )


HISTORY_FIELDS = [
    "status",
    "percent",
    "due_date",
    "original_due_date",
    "agency",
    "role",
    "acknowledged_at",
    "completed_at",
    "next_report_due",
]


def task_history(task: Task) -> list[dict]:
    """Who changed what and when, newest first, computed from simple-history rows in two queries."""
    records = list(task.history.select_related("history_user").order_by("history_id"))
    agency_ids = {r.agency_id for r in records}
    agencies = {a.pk: str(a) for a in Agency.objects.filter(pk__in=agency_ids)}
    fields = {name: Task._meta.get_field(name) for name in HISTORY_FIELDS}

    def show(name, record):
        if name == "agency":
            return agencies.get(record.agency_id, "—")
        return display_value(fields[name], getattr(record, fields[name].attname))

    rows, previous = [], None
    for record in records:
        changes = []
        for name in HISTORY_FIELDS:
            attname = fields[name].attname
            if previous is None or getattr(previous, attname) != getattr(record, attname):
                if previous is None and name not in {"status", "due_date", "agency", "role"}:
                    continue
                changes.append(
                    {
                        "field": fields[name].verbose_name,
                        "old": show(name, previous) if previous else "",
                        "new": show(name, record),
                    }
                )
        rows.append(
            {
                "date": record.history_date,
                "user": record.history_user,
                "type": record.get_history_type_display(),
                "reason": record.history_change_reason or "",
                "changes": changes,
            }
        )
        previous = record
    corrections = correction_history(task)
    if corrections:
        rows = sorted(rows + corrections, key=lambda row: row["date"])
    return rows[::-1]


def correction_history(task: Task) -> list[dict]:
    """Corrected progress reports as 变更记录 rows: who corrected which version, when, why, and what."""
    text_label = ProgressUpdate._meta.get_field("text").verbose_name
    percent_label = ProgressUpdate._meta.get_field("percent").verbose_name
    rows = []
    for update in task.updates.filter(supersedes__isnull=False).select_related("author", "supersedes"):
        old = update.supersedes
        changes = []
        if old.text != update.text:
            changes.append({"field": text_label, "old": old.text, "new": update.text})
        if old.percent != update.percent:
            changes.append({"field": percent_label, "old": f"{old.percent}%", "new": f"{update.percent}%"})
        rows.append(
            {
                "date": update.created_at,
                "user": update.author,
                "type": _("更正进展报送(第 %(v)d 版)") % {"v": update.version},
                "reason": update.correction_reason,
                "changes": changes,
            }
        )
    return rows


def leads_measure(user, task: Task) -> bool:
    """Whether the user is a liaison of an agency leading the task's measure: it then reads its support
    agencies' full report history and attachments on that measure."""
    return (
        user.is_authenticated
        and Task.objects.filter(
            measure_id=task.measure_id, role=Task.Role.LEAD, agency__liaisons__user=user
        ).exists()
    )


def task_page(task: Task, today: datetime.date, viewer=None) -> TaskPage:
    """The task page: its reports (with attachments and reviewers), the other agencies on the measure with
    their latest report and whether they reported this period (汇总) — all their reports for the lead
    agency and supervisors —, extension requests, and history."""
    updates = list(
        task.updates.select_related("author", "reviewed_by")
        .prefetch_related("attachments")
        .order_by("-created_at", "-pk")
    )
    period = period_of(today, task.measure.plan.reporting_cycle)
    others = list(
        Task.objects.filter(measure_id=task.measure_id)
        .exclude(pk=task.pk)
        .with_light(today)
        .select_related("agency")
        .prefetch_related(
            Prefetch(
                "updates",
                queryset=ProgressUpdate.objects.select_related("author", "reviewed_by")
                .prefetch_related("attachments")
                .order_by("-created_at", "-pk"),
                to_attr="recent_updates",
            )
        )
        .order_by("role", "agency__name")
    )
    full = viewer is not None and (sees_all_tasks(viewer) or leads_measure(viewer, task))
    siblings = []
    for other in others:
        latest = other.recent_updates[0] if other.recent_updates else None
        reported = latest is not None and period.start <= latest.created_at.date() <= period.end
        history = other.recent_updates if full else []
        siblings.append(Sibling(task=other, latest=latest, reported_this_period=reported, history=history))
    superseded = {u.supersedes_id for u in updates if u.supersedes_id}
    for update in updates:
        update.superseded = update.pk in superseded
    extensions = list(task.extension_requests.select_related("requested_by", "decided_by"))
    return TaskPage(
        task=task,
        updates=updates,
        siblings=siblings,
        period_label=period.label,
        extensions=extensions,
        history=task_history(task),
    )


def get_update(user, pk: int) -> ProgressUpdate:
    """A progress report of a task the user may see; 404 otherwise."""
    visible = Task.objects.for_user(user).values("pk")
    try:
        return ProgressUpdate.objects.select_related("task__measure", "task__agency", "author").get(
            pk=pk, task__in=visible
        )
    except ProgressUpdate.DoesNotExist:
        raise Http404 from None


def get_attachment(user, pk: int) -> Attachment:
    """An attachment of a task the user may see, or of a task on a measure the user's agency leads;
    404 otherwise."""
    visible = Task.objects.for_user(user).values("pk")
    led = Task.objects.filter(role=Task.Role.LEAD, agency__liaisons__user=user).values("measure_id")
    try:
        return Attachment.objects.select_related("update__task").get(
            Q(update__task__in=visible) | Q(update__task__measure_id__in=led), pk=pk
        )
    except Attachment.DoesNotExist:
        raise Http404 from None


def get_extension(user, pk: int) -> ExtensionRequest:
    visible = Task.objects.for_user(user).values("pk")
    try:
        return ExtensionRequest.objects.select_related("task").get(pk=pk, task__in=visible)
    except ExtensionRequest.DoesNotExist:
        raise Http404 from None


# Dashboard -------------------------------------------------------------------------------------------


@dataclass
class AgencyRow:
    agency_id: int
    name: str
    total: int
    done: int
    overdue: int
    unacknowledged: int
    unacknowledged_since: datetime.datetime | None
    last_report: datetime.datetime | None

    @property
    def completion_rate(self) -> int:
        return round(100 * self.done / self.total) if self.total else 0


def agency_aggregates(today: datetime.date) -> dict:
    """What the dashboard counts per agency: ``Counts``'s aggregates, 未签收 and since when, the last report."""
    unacknowledged = Q(acknowledged_at__isnull=True) & ~Q(status=Task.Status.DONE)
    return {
        **status_light_counts(today),
        "unacknowledged": Count("status", filter=unacknowledged),
        "since": Min("created_at", filter=unacknowledged),
        "last": Max("last_reported_at"),
    }


def _per_agency(rows: QuerySet[Task], aggregates: dict, buckets: list[int] | None) -> dict[int, dict]:
    """The counts of each agency of ``buckets`` (``None``: of every agency), from one aggregate grouped by
    agency id, as ``{bucket: {agency id: counts}}`` (tasks/changes.py)."""
    grouped = (
        changes.in_buckets(rows, buckets)
        .values("agency_id")
        .annotate(**aggregates)
        .values_list("agency_id", *COUNT_KEYS, "unacknowledged", "since", "last")
    )
    per_bucket: dict[int, dict] = {}
    for agency_id, *counted, unacknowledged_n, since, last in grouped:
        row = dict(zip(COUNT_KEYS, counted, strict=True))
        row.update(unacknowledged=unacknowledged_n, since=_as_datetime(since), last=_as_datetime(last))
        per_bucket.setdefault(agency_id % changes.BUCKETS, {})[agency_id] = row
    return per_bucket


def agency_rows_and_counts(queryset: QuerySet[Task], today: datetime.date) -> tuple[list[AgencyRow], Counts]:
    """The dashboard's per-agency rows and its status/light totals from one aggregate grouped by agency id,
    kept in the cache by buckets of agencies (tasks/changes.py): after a liaison's report, only the tasks of
    the agencies in that report's bucket are counted again."""
    rows = queryset.order_by()
    per_agency = {}
    aggregates = agency_aggregates(today)
    for part in changes.cached(
        rows, f"agency rows {aggregates!r}", lambda buckets: _per_agency(rows, aggregates, buckets)
    ).values():
        per_agency.update(part)
    totals = _summed(per_agency.values())
    # The names of a few agencies by id; of many, the whole (small) catalogue rather than a thousand ids.
    agencies = Agency.objects.filter(pk__in=list(per_agency)) if len(per_agency) <= 100 else Agency.objects
    names = {pk: short or name for pk, name, short in agencies.values_list("pk", "name", "short_name")}
    result = [
        AgencyRow(
            agency_id=agency_id,
            name=names.get(agency_id, ""),
            total=row["total"],
            done=row[f"status_{Task.Status.DONE}"],
            overdue=row[f"light_{Light.RED}"],
            unacknowledged=row["unacknowledged"],
            unacknowledged_since=row["since"],
            last_report=row["last"],
        )
        for agency_id, row in per_agency.items()
    ]
    result.sort(key=lambda r: (-r.overdue, -r.unacknowledged, r.completion_rate, r.name))
    return result, counts_from_row(totals)


@dataclass
class IndicatorRow:
    indicator: Indicator
    latest: IndicatorValue | None


def indicator_rows(plan: Plan | None) -> list[IndicatorRow]:
    """Indicators with their latest reported value (two queries)."""
    indicators = Indicator.objects.select_related("plan", "agency").prefetch_related(
        Prefetch("values", queryset=IndicatorValue.objects.order_by("-year"), to_attr="ordered_values")
    )
    indicators = indicators.filter(plan=plan) if plan is not None else indicators.filter(plan__is_active=True)
    return [IndicatorRow(i, i.ordered_values[0] if i.ordered_values else None) for i in indicators]


@dataclass
class Dashboard:
    plan: Plan | None
    plans: list[Plan]
    counts: Counts
    agencies: list[AgencyRow]
    indicators: list[IndicatorRow]
    review_count: int


def dashboard(user, today: datetime.date, plan: Plan | None) -> Dashboard:
    tasks = visible_tasks(user, today)
    if plan is not None:
        tasks = tasks.filter(measure__plan=plan)
    review_count = (
        Task.objects.filter(status=Task.Status.COMPLETION_REQUESTED).count()
        + ExtensionRequest.objects.filter(decision=ExtensionRequest.Decision.PENDING).count()
    )
    agencies, totals = agency_rows_and_counts(tasks, today)
    return Dashboard(
        plan=plan,
        plans=list(
            Plan.objects.filter(is_active=True).order_by("-period_start", "title").only("pk", "title")
        ),
        counts=totals,
        agencies=agencies,
        indicators=indicator_rows(plan),
        review_count=review_count,
    )


# Review queue ----------------------------------------------------------------------------------------


REVIEW_KINDS = {
    "completion": gettext_lazy("办结申请"),
    "extension": gettext_lazy("延期申请"),
    "unacknowledged": gettext_lazy("未签收任务"),
}
REVIEW_PAGE_SIZE = 20


@dataclass
class ReviewQueue:
    """One page per kind (办结申请, 延期申请, 未签收), narrowed by plan and agency, with each kind's count."""

    kind: str  # "" = every kind
    plan: Plan | None
    agency: Agency | None
    counts: dict[str, int]
    completion_page: Page | None
    extension_page: Page | None
    unacknowledged_page: Page | None
    plans: list[Plan]
    agencies: list[Agency]

    @property
    def completions(self) -> list[Task]:
        return list(self.completion_page or [])

    @property
    def extensions(self) -> list[ExtensionRequest]:
        return list(self.extension_page or [])

    @property
    def unacknowledged(self) -> list[Task]:
        return list(self.unacknowledged_page or [])

    @property
    def kinds(self) -> list[tuple[str, str, int]]:
        return [(key, label, self.counts[key]) for key, label in REVIEW_KINDS.items()]


def review_querysets(*, plan: Plan | None = None, agency: Agency | None = None) -> dict[str, QuerySet]:
    """What waits for the lead bureau, by kind (completion requests and extensions of any plan; the
    unacknowledged tasks among current ones)."""
    completions = Task.objects.filter(status=Task.Status.COMPLETION_REQUESTED)
    extensions = ExtensionRequest.objects.filter(decision=ExtensionRequest.Decision.PENDING)
    unacknowledged = (
        Task.objects.current().filter(acknowledged_at__isnull=True).exclude(status=Task.Status.DONE)
    )
    if plan is not None:
        completions = completions.filter(measure__plan=plan)
        extensions = extensions.filter(task__measure__plan=plan)
        unacknowledged = unacknowledged.filter(measure__plan=plan)
    if agency is not None:
        completions = completions.filter(agency=agency)
        extensions = extensions.filter(task__agency=agency)
        unacknowledged = unacknowledged.filter(agency=agency)
    return {"completion": completions, "extension": extensions, "unacknowledged": unacknowledged}


def review_queue(
    today: datetime.date,
    *,
    kind: str = "",
    plan: Plan | None = None,
    agency: Agency | None = None,
    pages: dict[str, str | None] | None = None,
    per_page: int = REVIEW_PAGE_SIZE,
) -> ReviewQueue:
    """A fixed number of queries whatever the queue's length: three counts, and one page of each kind shown."""
    pages = pages or {}
    querysets = review_querysets(plan=plan, agency=agency)
    counts = {key: queryset.count() for key, queryset in querysets.items()}
    latest_request = Prefetch(
        "updates",
        queryset=ProgressUpdate.objects.filter(status=Task.Status.COMPLETION_REQUESTED, review_decision="")
        .select_related("author")
        .prefetch_related("attachments")
        .order_by("-created_at"),
        to_attr="pending_requests",
    )
    ordered = {
        # Oldest request first (index task_status_reported); pk order is creation order for the others.
        "completion": querysets["completion"]
        .select_related("measure__plan", "agency")
        .prefetch_related(latest_request)
        .order_by("last_reported_at", "pk"),
        "extension": querysets["extension"]
        .select_related("task__measure__plan", "task__agency", "requested_by")
        .order_by("pk"),
        "unacknowledged": querysets["unacknowledged"]
        .select_related("measure__plan", "agency")
        .order_by("pk"),
    }
    shown = {}
    for key, queryset in ordered.items():
        if kind and key != kind:
            shown[key] = None
            continue
        paginator = Paginator(queryset, per_page)
        paginator.count = counts[key]  # known already: spare the paginator its own COUNT
        shown[key] = paginator.get_page(pages.get(key))
    return ReviewQueue(
        kind=kind,
        plan=plan,
        agency=agency,
        counts=counts,
        completion_page=shown["completion"],
        extension_page=shown["extension"],
        unacknowledged_page=shown["unacknowledged"],
        plans=list(
            Plan.objects.filter(is_active=True).order_by("-period_start", "title").only("pk", "title")
        ),
        agencies=_agencies_waiting(plan),
    )


def _agencies_waiting(plan: Plan | None) -> list[Agency]:
    """The agencies with a request waiting (the agency filter's choices), one index probe per agency.
    Unacknowledged tasks concern nearly every agency; listing them would scan every current task."""
    querysets = review_querysets(plan=plan)
    completions = querysets["completion"].filter(agency=OuterRef("pk"))
    extensions = querysets["extension"].filter(task__agency=OuterRef("pk"))
    return list(
        Agency.objects.filter(Exists(completions) | Exists(extensions))
        .only("pk", "name", "short_name")
        .order_by("name")
    )


def review_items(kind: str, ids: list[int]) -> list:
    """The pending items a bulk approval names (others — decided meanwhile, unknown — are left out)."""
    if kind == "completion":
        return list(
            Task.objects.filter(pk__in=ids, status=Task.Status.COMPLETION_REQUESTED)
            .select_related("measure__plan", "agency")
            .order_by("pk")
        )
    if kind == "extension":
        return list(
            ExtensionRequest.objects.filter(pk__in=ids, decision=ExtensionRequest.Decision.PENDING)
            .select_related("task__measure__plan", "task__agency", "requested_by")
            .order_by("pk")
        )
    return []


def my_indicators(user) -> list[Indicator]:
    """Indicators whose responsible agency the user reports for, with their values newest first."""
    return list(
        Indicator.objects.filter(agency__liaisons__user=user)
        .distinct()
        .select_related("plan", "agency")
        .prefetch_related(
            Prefetch("values", queryset=IndicatorValue.objects.order_by("-year"), to_attr="ordered_values")
        )
        .order_by("plan", "position")
    )


def get_my_indicator(user, pk: int) -> Indicator:
    try:
        return (
            Indicator.objects.filter(agency__liaisons__user=user)
            .distinct()
            .select_related("plan", "agency")
            .get(pk=pk)
        )
    except Indicator.DoesNotExist:
        raise Http404 from None


# Inbox (消息) ------------------------------------------------------------------------------------------


def inbox(user) -> QuerySet[ReminderLog]:
    """The user's in-app notifications, newest first (rows of the outbox's inbox channel)."""
    return ReminderLog.objects.filter(user=user, channel=ReminderLog.Channel.INBOX).order_by(
        "-created_at", "-pk"
    )


def unread_count(user) -> int:
    if not user.is_authenticated:
        return 0
    return inbox(user).filter(read_at__isnull=True).count()


def get_inbox_item(user, pk: int) -> ReminderLog:
    try:
        return inbox(user).get(pk=pk)
    except ReminderLog.DoesNotExist:
        raise Http404 from None
