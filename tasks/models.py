"""Plans, their sections and measures, indicators, and the tasks (one agency's share of a measure)."""

import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from agencies.models import Agency
from agencies.roles import sees_all_tasks

from . import sortkey
from .services.imports.match import measure_key
from .status import (
    Light,
    attention_date_expression,
    attention_date_for,
    current_q,
    last_report_due,
    light_expression,
    light_for,
    overdue_days,
    report_due_expression,
    report_due_for,
)
from .storage import PrivateStorage, attachment_path


class PlanQuerySet(models.QuerySet):
    def update(self, **kwargs):
        if not {"title", "period_start"} & kwargs.keys():
            return super().update(**kwargs)
        ids = list(self.values_list("pk", flat=True))
        count = super().update(**kwargs)
        sortkey.refresh(Task.objects.filter(measure__plan_id__in=ids))
        return count


class Plan(models.Model):
    class ReportingCycle(models.TextChoices):
        MONTHLY = "monthly", _("每月")
        QUARTERLY = "quarterly", _("每季度")
        HALF_YEARLY = "half_yearly", _("每半年")
        YEARLY = "yearly", _("每年")

    title = models.CharField(_("计划名称"), max_length=300)
    doc_number = models.CharField(_("文号"), max_length=100, blank=True)
    issuer = models.CharField(_("发文单位"), max_length=200, blank=True)
    jurisdiction = models.CharField(_("行政区划"), max_length=50, blank=True, db_index=True)
    period_start = models.PositiveSmallIntegerField(_("起始年份"), null=True, blank=True)
    period_end = models.PositiveSmallIntegerField(_("截止年份"), null=True, blank=True)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级计划"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="children",
        help_text=_("本计划所落实的上级计划。"),
    )
    source_file = models.FileField(_("原始文件"), upload_to="plans/%Y/", blank=True)
    source_name = models.CharField(_("原始文件名"), max_length=255, blank=True)
    source_sha256 = models.CharField(_("文件摘要(SHA-256)"), max_length=64, blank=True, db_index=True)
    # Digest of the normalised content (tasks/services/imports/match.py: content_fingerprint): the same
    # document as txt in any encoding, html or docx has the same one. The import looks plans up by it.
    content_fingerprint = models.CharField(_("内容指纹"), max_length=64, blank=True, db_index=True)
    reporting_cycle = models.CharField(
        _("持续性任务报送周期"),
        max_length=20,
        choices=ReportingCycle.choices,
        default=ReportingCycle.QUARTERLY,
    )
    report_due_day = models.PositiveSmallIntegerField(
        _("报送截止日"), default=10, help_text=_("持续性任务在下一周期第几日前报送上一周期进展。")
    )
    reports_until = models.DateField(
        _("定期报送延至"),
        null=True,
        blank=True,
        help_text=_(
            "持续推进任务默认报送到计划期满后的第一个报送截止日(如 2021 年末期满、每季度 10 日报送,则到"
            " 2022-01-10 为止)。计划期满后仍需报送的,在此填写最后一次报送的截止日期。"
        ),
    )
    # Derived from reports_until / period_end / report_due_day on save(): stored so that every list, count
    # and sweep compares one date column instead of computing the window per row (tasks/status.py).
    last_report_due = models.DateField(_("最后一次定期报送截止"), null=True, blank=True, editable=False)
    remind_days_before = models.PositiveSmallIntegerField(_("提前提醒天数"), default=7)
    escalate_after_days = models.PositiveSmallIntegerField(_("逾期上报天数"), default=7)
    is_active = models.BooleanField(_("执行中"), default=True)
    imported_at = models.DateTimeField(_("导入时间"), default=timezone.now)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("导入人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    objects = PlanQuerySet.as_manager()

    class Meta:
        verbose_name = _("计划")
        verbose_name_plural = _("计划")
        ordering = ["-period_start", "title"]
        constraints = [
            models.CheckConstraint(
                condition=Q(period_start__isnull=True)
                | Q(period_end__isnull=True)
                | Q(period_end__gte=models.F("period_start")),
                name="plan_period_ordered",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def save(self, *args, **kwargs):
        self.last_report_due = last_report_due(self)
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], "last_report_due"}
        super().save(*args, **kwargs)
        source = getattr(self, "_sort_source", None)
        if source is not None and source != (self.period_start, self.title):
            # The tasks' default order (tasks/sortkey.py) starts with the plan's period and title.
            sortkey.refresh(Task.objects.filter(measure__plan=self))
        self._sort_source = (self.period_start, self.title)

    @classmethod
    def from_db(cls, db, field_names, values):
        plan = super().from_db(db, field_names, values)
        plan._sort_source = (plan.__dict__.get("period_start"), plan.__dict__.get("title"))
        return plan

    @property
    def period_display(self) -> str:
        if self.period_start and self.period_end:
            return f"{self.period_start}—{self.period_end}年"
        return ""

    @property
    def period_end_date(self) -> datetime.date | None:
        return datetime.date(self.period_end, 12, 31) if self.period_end else None


class Section(models.Model):
    plan = models.ForeignKey(Plan, verbose_name=_("计划"), on_delete=models.CASCADE, related_name="sections")
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级章节"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="children",
    )
    heading = models.CharField(_("标题"), max_length=500)
    level = models.PositiveSmallIntegerField(_("层级"), default=1)
    position = models.PositiveIntegerField(_("顺序"), default=0)

    class Meta:
        verbose_name = _("章节")
        verbose_name_plural = _("章节")
        ordering = ["plan", "position"]

    def __str__(self) -> str:
        return self.heading

    @property
    def path(self) -> list[str]:
        chain, node = [], self
        while node is not None:
            chain.append(node.heading)
            node = node.parent
        return chain[::-1]


class MeasureQuerySet(models.QuerySet):
    def current(self):
        """Measures still in the plan (a re-import flags vanished measures instead of deleting them)."""
        return self.filter(is_removed=False)

    # A measure's position and plan are part of its tasks' sort key (tasks/sortkey.py).
    def update(self, **kwargs):
        if not {"position", "plan", "plan_id"} & kwargs.keys():
            return super().update(**kwargs)
        ids = list(self.values_list("pk", flat=True))
        count = super().update(**kwargs)
        sortkey.refresh(Task.objects.filter(measure_id__in=ids))
        return count

    def bulk_update(self, objs, fields, batch_size=None):
        count = super().bulk_update(objs, fields, batch_size=batch_size)
        if {"position", "plan", "plan_id"} & set(fields):
            sortkey.refresh(Task.objects.filter(measure_id__in=[m.pk for m in objs]))
        return count


class Measure(models.Model):
    plan = models.ForeignKey(Plan, verbose_name=_("计划"), on_delete=models.CASCADE, related_name="measures")
    section = models.ForeignKey(
        Section,
        verbose_name=_("章节"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="measures",
    )
    number = models.CharField(_("序号"), max_length=30, help_text=_("文件中印刷的序号,如“2”“(三)”“(六)-1”。"))
    text = models.TextField(_("任务内容"))
    position = models.PositiveIntegerField(_("原文行号"), default=0)
    raw_clause = models.TextField(_("原文责任分工"), blank=True)
    raw_deadline = models.CharField(_("原文完成时限"), max_length=200, blank=True)
    deadline_date = models.DateField(_("完成时限"), null=True, blank=True)
    is_ongoing = models.BooleanField(_("持续推进"), default=False)
    is_yearly = models.BooleanField(_("每年开展"), default=False)
    is_manual = models.BooleanField(_("手工添加"), default=False)
    is_removed = models.BooleanField(
        _("已从新版文件中移除"),
        default=False,
        help_text=_("重新导入时文件中已没有该措施,保留进展记录,待人工处理。"),
    )
    # The opening of the normalised text (match.measure_key): the index the import uses to find the plans
    # that share measures with a new file, without parsing any stored plan. Kept up to date by save().
    match_key = models.CharField(_("匹配键"), max_length=32, blank=True, db_index=True, editable=False)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    objects = MeasureQuerySet.as_manager()
    # History rows are read by measure id only: the model's other indexes would only slow every import.
    history = HistoricalRecords(verbose_name=_("措施历史"), no_db_index=["plan", "section", "match_key"])

    class Meta:
        verbose_name = _("措施")
        verbose_name_plural = _("措施")
        ordering = ["plan", "position", "id"]
        constraints = [
            # Removed measures keep their number (and history); a revision may give the number to a new one.
            models.UniqueConstraint(
                fields=["plan", "number"],
                condition=Q(is_removed=False),
                name="measure_unique_live_number_per_plan",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number}. {self.summary}"

    def save(self, *args, **kwargs):
        self.match_key = measure_key(self.text)
        if kwargs.get("update_fields") is not None and "text" in kwargs["update_fields"]:
            kwargs["update_fields"] = {*kwargs["update_fields"], "match_key"}
        super().save(*args, **kwargs)
        source = getattr(self, "_sort_source", None)
        if source is not None and source != (self.plan_id, self.position):
            sortkey.refresh(Task.objects.filter(measure=self))
        self._sort_source = (self.plan_id, self.position)

    @classmethod
    def from_db(cls, db, field_names, values):
        measure = super().from_db(db, field_names, values)
        measure._sort_source = (measure.__dict__.get("plan_id"), measure.__dict__.get("position"))
        return measure

    @property
    def summary(self) -> str:
        """The measure's title sentence (text up to the first 。), shortened for lists."""
        head = self.text.split("。", 1)[0]
        return head if len(head) <= 40 else head[:39] + "…"


class Indicator(models.Model):
    class Attribute(models.TextChoices):
        EXPECTED = "预期性", _("预期性")
        BINDING = "约束性", _("约束性")

    plan = models.ForeignKey(
        Plan, verbose_name=_("计划"), on_delete=models.CASCADE, related_name="indicators"
    )
    category = models.CharField(_("类别"), max_length=100, blank=True)
    name = models.CharField(_("指标名称"), max_length=200)
    unit = models.CharField(_("单位"), max_length=50, blank=True)
    baseline = models.CharField(_("基期值"), max_length=50, blank=True)
    baseline_year = models.PositiveSmallIntegerField(_("基期年份"), null=True, blank=True)
    target = models.CharField(_("目标值"), max_length=50, blank=True)
    target_year = models.PositiveSmallIntegerField(_("目标年份"), null=True, blank=True)
    attribute = models.CharField(_("属性"), max_length=10, choices=Attribute.choices, blank=True)
    agency = models.ForeignKey(
        Agency,
        verbose_name=_("责任单位"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="indicators",
        help_text=_("该单位的联络员按年度报送指标值。"),
    )
    position = models.PositiveIntegerField(_("顺序"), default=0)

    class Meta:
        verbose_name = _("指标")
        verbose_name_plural = _("指标")
        ordering = ["plan", "position"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "name"], name="indicator_unique_name_per_plan"),
        ]

    def __str__(self) -> str:
        return self.name


class IndicatorValue(models.Model):
    indicator = models.ForeignKey(
        Indicator, verbose_name=_("指标"), on_delete=models.CASCADE, related_name="values"
    )
    year = models.PositiveSmallIntegerField(_("年度"))
    value = models.CharField(_("数值"), max_length=50)
    note = models.CharField(_("说明"), max_length=300, blank=True)
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("报送人"), on_delete=models.SET_NULL, null=True, blank=True
    )
    reported_at = models.DateTimeField(_("报送时间"), auto_now=True)

    class Meta:
        verbose_name = _("指标报送值")
        verbose_name_plural = _("指标报送值")
        ordering = ["indicator", "-year"]
        constraints = [
            models.UniqueConstraint(fields=["indicator", "year"], name="indicator_value_unique_year"),
        ]

    def __str__(self) -> str:
        return f"{self.indicator} {self.year}: {self.value}"


class TaskQuerySet(models.QuerySet):
    """The one definition of "current", "overdue" and "next report due" (rules in tasks/status.py)."""

    def current(self):
        """Tasks every list, export, count, reminder and calendar starts from: live plan, measure not removed."""
        return self.filter(current_q())

    def open(self):
        return self.exclude(status=Task.Status.DONE)

    def with_attention(self):
        """Annotate ``report_due`` (the periodic report still owed) and ``attention_date``."""
        if "attention_date" in self.query.annotations:
            return self
        return self.annotate(report_due=report_due_expression(), attention_date=attention_date_expression())

    def overdue(self, today: datetime.date | None = None):
        """Open tasks past their attention date: a missed due date or a missed periodic report (red light)."""
        today = today or timezone.localdate()
        return (
            self.open()
            .with_attention()
            .filter(attention_date__lt=today)
            # Implied by the line above (the attention date is the due date, or the report still owed); said
            # in plain columns so that the partial indexes task_open_due / task_open_report can serve it.
            .filter(Q(is_ongoing=False, due_date__lt=today) | Q(is_ongoing=True, next_report_due__lt=today))
        )

    def with_light(self, today: datetime.date | None = None):
        """Annotate ``attention_date`` and ``light`` (see tasks/status.py) for lists, digests and exports."""
        today = today or timezone.localdate()
        if "light" in self.query.annotations:
            return self
        return self.with_attention().annotate(light=light_expression(today))

    # Writes keep ``sort_key`` (tasks/sortkey.py) in step with the measure, agency and role it is made of.
    def bulk_create(self, objs, *args, **kwargs):
        objs = list(objs)
        self.prepare_bulk_create(objs)
        return super().bulk_create(objs, *args, **kwargs)

    def prepare_bulk_create(self, objs) -> None:
        """What a bulk insert of ``objs`` computes first (also for tasks/services/bulk_history.py's own)."""
        sortkey.fill(objs)

    def update(self, **kwargs):
        if not sortkey.TASK_FIELDS & kwargs.keys():
            return super().update(**kwargs)
        ids = list(self.values_list("pk", flat=True))
        count = super().update(**kwargs)
        sortkey.refresh(Task.objects.filter(pk__in=ids))
        return count

    def bulk_update(self, objs, fields, batch_size=None):
        objs = list(objs)
        count = super().bulk_update(objs, fields, batch_size=batch_size)
        if sortkey.TASK_FIELDS & set(fields):
            sortkey.refresh(Task.objects.filter(pk__in=[t.pk for t in objs]))
        return count

    def for_user(self, user):
        """The tasks a user may see: everything for lead-bureau staff and leaders, else their agencies' tasks."""
        if not user.is_authenticated:
            return self.none()
        if sees_all_tasks(user):
            return self
        # A subquery rather than a join: no DISTINCT, so the index task_agency_sort serves the list's order.
        return self.filter(agency__in=Agency.objects.filter(liaisons__user=user).values("pk"))


class Task(models.Model):
    """One agency's share of one measure."""

    class Role(models.TextChoices):
        LEAD = "lead", _("牵头")
        SUPPORT = "support", _("配合")
        RESPONSIBLE = "responsible", _("负责")

    class AckVia(models.TextChoices):
        """How a task was 签收ed: in the system, or through a one-click link sent in a message (the link's
        channel, same values as ``ReminderLog.Channel``; see workspace/links.py)."""

        WEB = "web", _("在系统中")
        EMAIL = "email", _("通过邮件链接")
        WECOM = "wecom", _("通过企业微信链接")
        DINGTALK = "dingtalk", _("通过钉钉链接")
        SMS = "sms", _("通过短信链接")

    class Status(models.TextChoices):
        NOT_STARTED = "not_started", _("未开始")
        IN_PROGRESS = "in_progress", _("推进中")
        COMPLETION_REQUESTED = "completion_requested", _("申请办结")
        DONE = "done", _("已办结")

    # No index of their own: task_unique_agency_per_measure (measure, agency) and task_agency_status
    # (agency, status) start with them and serve the same lookups; a new task then updates two indexes fewer.
    measure = models.ForeignKey(
        Measure, verbose_name=_("措施"), on_delete=models.CASCADE, related_name="tasks", db_index=False
    )
    agency = models.ForeignKey(
        Agency, verbose_name=_("单位"), on_delete=models.PROTECT, related_name="tasks", db_index=False
    )
    role = models.CharField(_("角色"), max_length=20, choices=Role.choices, default=Role.RESPONSIBLE)
    due_date = models.DateField(_("截止日期"), null=True, blank=True, db_index=True)
    due_date_inferred = models.BooleanField(
        _("截止日期为推定"), default=False, help_text=_("文件未写明时限,按计划期末推定。")
    )
    original_due_date = models.DateField(
        _("原截止日期"), null=True, blank=True, help_text=_("延期前的截止日期。")
    )
    is_ongoing = models.BooleanField(_("持续推进"), default=False)
    # Ongoing tasks only: the report deadline of the earliest period not yet reported on. Stored (not
    # derived on the fly) so the list light and the reminder sweep find due rows with one indexed query.
    next_report_due = models.DateField(_("下次报送截止"), null=True, blank=True, db_index=True)
    status = models.CharField(_("状态"), max_length=30, choices=Status.choices, default=Status.NOT_STARTED)
    percent = models.PositiveSmallIntegerField(_("完成进度(%)"), default=0)
    acknowledged_at = models.DateTimeField(_("签收时间"), null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("签收人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    acknowledged_via = models.CharField(
        _("签收方式"), max_length=20, choices=AckVia.choices, blank=True, help_text=_("早期签收未记录方式。")
    )
    completed_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    # Assigned through a collective subject (各区、县（市）): the group the agency belongs to. When members join
    # the group later, the measures whose tasks came through it fan out to them too.
    collective = models.ForeignKey(
        Agency,
        verbose_name=_("经由单位集合"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="collective_tasks",
    )
    needs_resolution = models.BooleanField(  # indexed where true only: task_needs_resolution
        _("待明确承办单位"),
        default=False,
        help_text=_("任务分派给了尚未指定成员单位的集合(如“有关部门”),无人可通知,需牵头部门明确。"),
    )
    dropped_from_plan = models.BooleanField(
        _("新版文件已不再列出"),
        default=False,
        help_text=_("修订后的文件不再列出该单位,因任务已有进展而保留,待牵头部门处理。"),
    )
    last_reported_at = models.DateTimeField(_("最近报送时间"), null=True, blank=True)
    created_at = models.DateTimeField(_("分派时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)
    # The default order (plan, measure position, role, agency name) as one indexed column: tasks/sortkey.py.
    sort_key = models.CharField(_("排序键"), max_length=sortkey.MAX_LENGTH, blank=True, editable=False)

    objects = TaskQuerySet.as_manager()
    # History rows are read by task id only (task pages, notices, reports): the model's other indexes would
    # only slow every import (each new task writes a history row).
    history = HistoricalRecords(
        verbose_name=_("任务历史"),
        excluded_fields=["sort_key"],
        no_db_index=[
            "measure",
            "agency",
            "collective",
            "acknowledged_by",
            "due_date",
            "next_report_due",
            "needs_resolution",
        ],
    )

    class Meta:
        verbose_name = _("任务")
        verbose_name_plural = _("任务")
        # Plan (newest period, title), measure position, role, agency name — stored in sort_key so that the
        # index task_sort serves it and a page reads 50 index entries instead of sorting every task.
        ordering = ["sort_key", "id"]
        constraints = [
            models.UniqueConstraint(fields=["measure", "agency"], name="task_unique_agency_per_measure"),
            models.CheckConstraint(condition=Q(percent__lte=100), name="task_percent_at_most_100"),
        ]
        indexes = [
            models.Index(fields=["sort_key", "id"], name="task_sort"),
            # An agency's own list in the default order.
            models.Index(fields=["agency", "sort_key", "id"], name="task_agency_sort"),
            # Overdue and light filters (TaskQuerySet.overdue / filter_light add these sargable predicates):
            # open dated tasks by due date, open ongoing tasks by the report they owe. Partial, so they hold
            # only open tasks; covering (PostgreSQL) for the counts and the dashboard's aggregate.
            models.Index(
                fields=["due_date"],
                name="task_open_due",
                condition=Q(is_ongoing=False) & ~Q(status="done"),
                include=["measure", "agency", "status"],
            ),
            models.Index(
                fields=["next_report_due"],
                name="task_open_report",
                condition=Q(is_ongoing=True) & ~Q(status="done"),
                include=["measure", "agency", "status"],
            ),
            # The counts of an open list (status and light of every open task, and whether it is current)
            # read from this index alone — a tenth of the table's width at 1,000,000 tasks.
            models.Index(
                fields=["measure"],
                name="task_open_cover",
                condition=~Q(status="done"),
                include=["status", "is_ongoing", "due_date", "next_report_due", "agency"],
            ),
            # The counts of a 全部 list and the dashboard's per-agency aggregate (status, light, 未签收, last report
            # of every current task) read from this index alone, reached from the current measures: at
            # 1,000,000 tasks of which 300,000 current, no scan of the whole table (PostgreSQL; SQLite keeps
            # a plain index on measure).
            models.Index(
                fields=["measure"],
                name="task_current_cover",
                include=[
                    "agency",
                    "status",
                    "is_ongoing",
                    "due_date",
                    "next_report_due",
                    "acknowledged_at",
                    "created_at",
                    "last_reported_at",
                ],
            ),
            models.Index(fields=["agency", "status"], name="task_agency_status"),
            # The few tasks waiting for a collective's members: a new task (almost never flagged) adds no entry.
            models.Index(
                fields=["needs_resolution"], name="task_needs_resolution", condition=Q(needs_resolution=True)
            ),
            # 审核: completion requests oldest first, one page at a time (workspace.selectors.review_queue).
            models.Index(fields=["status", "last_reported_at", "id"], name="task_status_reported"),
        ]

    def __str__(self) -> str:
        return f"{self.measure.number} · {self.agency}"

    def save(self, *args, **kwargs):
        update_fields = kwargs.get("update_fields")
        source = (self.measure_id, self.agency_id, self.role)
        if (update_fields is None or sortkey.TASK_FIELDS & set(update_fields)) and (
            not self.sort_key or getattr(self, "_sort_source", None) != source
        ):
            self.sort_key = self._compute_sort_key()
            if update_fields is not None:
                kwargs["update_fields"] = {*update_fields, "sort_key"}
        super().save(*args, **kwargs)
        self._sort_source = source

    @classmethod
    def from_db(cls, db, field_names, values):
        task = super().from_db(db, field_names, values)
        task._sort_source = (
            task.__dict__.get("measure_id"),
            task.__dict__.get("agency_id"),
            task.__dict__.get("role"),
        )
        return task

    def _compute_sort_key(self) -> str:
        """From the related objects in memory when loaded (their own edits refresh keys), else two queries."""
        measure = self._state.fields_cache.get("measure")
        agency = self._state.fields_cache.get("agency")
        if (
            measure is not None
            and measure.pk == self.measure_id
            and "plan" in measure._state.fields_cache
            and agency is not None
            and agency.pk == self.agency_id
        ):
            return sortkey.sort_key(
                period_start=measure.plan.period_start,
                title=measure.plan.title,
                plan_id=measure.plan_id,
                position=measure.position,
                role=self.role,
                agency_name=agency.name,
            )
        self.sort_key = ""
        sortkey.fill([self])
        return self.sort_key

    @property
    def plan(self) -> Plan:
        return self.measure.plan

    def has_history(self) -> bool:
        """Progress, 签收, an extension request or a reminder sent: a task an import must keep, not delete."""
        return (
            self.status != self.Status.NOT_STARTED
            or self.acknowledged_at is not None
            or self.updates.exists()
            or self.extension_requests.exists()
            or self.reminder_logs.exists()
        )

    def get_attention_date(self) -> datetime.date | None:
        """The date this task must be acted on by (queryset twin: ``with_light()``'s ``attention_date``)."""
        return attention_date_for(self)

    def get_report_due(self) -> datetime.date | None:
        """The periodic report deadline still owed (None once the plan's reporting window is over)."""
        return report_due_for(self)

    def get_light(self, today: datetime.date | None = None) -> Light:
        """The light for a task in memory (queryset twin: ``with_light()``'s ``light``)."""
        return light_for(
            status=self.status, attention_date=self.get_attention_date(), today=today or timezone.localdate()
        )

    def overdue_days(self, today: datetime.date | None = None) -> int:
        """Days overdue (0 when not), by the same rule as ``TaskQuerySet.overdue``."""
        return overdue_days(
            status=self.status, attention_date=self.get_attention_date(), today=today or timezone.localdate()
        )

    def is_overdue(self, today: datetime.date | None = None) -> bool:
        return self.overdue_days(today) > 0


class ReviewDecision(models.TextChoices):
    APPROVED = "approved", _("同意办结")
    RETURNED = "returned", _("退回")


class ProgressUpdateQuerySet(models.QuerySet):
    def current(self):
        """The latest version of each report (a correction supersedes the version it corrects)."""
        return self.filter(superseded_by__isnull=True)


class ProgressUpdate(models.Model):
    """A submitted report is a record: its content is never edited (``save`` refuses). A correction is a new
    version that supersedes it, with its author, time and reason; the old version stays readable."""

    ReviewDecision = ReviewDecision
    # Written once when the report is submitted; only the review fields change afterwards.
    RECORD_FIELDS = (
        "task_id",
        "author_id",
        "created_at",
        "text",
        "percent",
        "status",
        "period",
        "supersedes_id",
        "version",
        "correction_reason",
    )

    task = models.ForeignKey(Task, verbose_name=_("任务"), on_delete=models.CASCADE, related_name="updates")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("报送人"),
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("报送时间"), default=timezone.now, db_index=True)
    text = models.TextField(_("进展情况"))
    percent = models.PositiveSmallIntegerField(_("完成进度(%)"), default=0)
    status = models.CharField(
        _("报送后状态"), max_length=30, choices=Task.Status.choices, default=Task.Status.IN_PROGRESS
    )
    period = models.CharField(
        _("报送周期"), max_length=20, blank=True, help_text=_("持续性任务的报送周期,如 2024-Q1、2024-03。")
    )
    # A completion request (status 申请办结) is reviewed by the lead bureau; the liaison sees the outcome here.
    review_decision = models.CharField(
        _("审核结果"), max_length=20, choices=ReviewDecision.choices, blank=True
    )
    review_reason = models.TextField(_("审核意见"), blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("审核人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    reviewed_at = models.DateTimeField(_("审核时间"), null=True, blank=True)
    supersedes = models.OneToOneField(
        "self",
        verbose_name=_("更正的报送"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="superseded_by",
    )
    version = models.PositiveSmallIntegerField(_("版本"), default=1)
    correction_reason = models.TextField(_("更正原因"), blank=True)

    objects = ProgressUpdateQuerySet.as_manager()

    class Meta:
        verbose_name = _("进展报送")
        verbose_name_plural = _("进展报送")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(percent__lte=100), name="progress_percent_at_most_100"),
        ]

    def __str__(self) -> str:
        return f"{self.task} @ {timezone.localtime(self.created_at):%Y-%m-%d}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not self._state.adding:
            stored = ProgressUpdate.objects.filter(pk=self.pk).values(*self.RECORD_FIELDS).first()
            if stored is not None and any(getattr(self, name) != value for name, value in stored.items()):
                raise ValueError("A submitted progress report is a record: correct it with a new version.")
        super().save(*args, **kwargs)

    @property
    def is_superseded(self) -> bool:
        return hasattr(self, "superseded_by")


def attachment_storage():
    return PrivateStorage()


class Attachment(models.Model):
    """A file sent with a progress report; its kind is sniffed from the content, never taken from the name."""

    update = models.ForeignKey(
        ProgressUpdate, verbose_name=_("进展报送"), on_delete=models.CASCADE, related_name="attachments"
    )
    file = models.FileField(_("文件"), upload_to=attachment_path, storage=attachment_storage, max_length=200)
    original_name = models.CharField(_("原始文件名"), max_length=255)
    size = models.PositiveBigIntegerField(_("大小(字节)"))
    kind = models.CharField(_("类型"), max_length=20)
    uploaded_at = models.DateTimeField(_("上传时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("附件")
        verbose_name_plural = _("附件")
        ordering = ["update", "id"]

    def __str__(self) -> str:
        return self.original_name


class ExtensionRequest(models.Model):
    """延期申请: an agency asks for a later due date before the current one passes — or, once it has passed,
    a 调整时限申请 for a date still ahead; the lead bureau decides either."""

    class Decision(models.TextChoices):
        PENDING = "pending", _("待审核")
        APPROVED = "approved", _("已同意")
        REFUSED = "refused", _("未同意")

    task = models.ForeignKey(
        Task, verbose_name=_("任务"), on_delete=models.CASCADE, related_name="extension_requests"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("申请人"),
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
    )
    requested_at = models.DateTimeField(_("申请时间"), default=timezone.now)
    current_due_date = models.DateField(_("申请时的截止日期"))
    requested_due_date = models.DateField(_("申请延至"))
    reason = models.TextField(_("延期理由"))
    decision = models.CharField(
        _("审核结果"), max_length=20, choices=Decision.choices, default=Decision.PENDING, db_index=True
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("审核人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("审核时间"), null=True, blank=True)
    decision_reason = models.TextField(_("审核意见"), blank=True)

    class Meta:
        verbose_name = _("延期申请")
        verbose_name_plural = _("延期申请")
        ordering = ["-requested_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["task"], condition=Q(decision="pending"), name="extension_one_pending_per_task"
            ),
            models.CheckConstraint(
                condition=Q(requested_due_date__gt=models.F("current_due_date")),
                name="extension_moves_due_date_later",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.task} → {self.requested_due_date:%Y-%m-%d}"

    @property
    def is_adjustment(self) -> bool:
        """调整时限申请: asked after the due date had passed (a 延期申请 is asked before)."""
        return self.current_due_date < timezone.localdate(self.requested_at)

    @property
    def kind_label(self) -> str:
        return str(_("调整时限申请") if self.is_adjustment else _("延期申请"))


class ImportDraft(models.Model):
    """An uploaded plan document waiting for the lead bureau to preview, fix and confirm. Nothing else is
    written until confirmation."""

    file = models.FileField(_("文件"), upload_to="imports/%Y/%m/")
    original_name = models.CharField(_("原始文件名"), max_length=255)
    sha256 = models.CharField(_("文件摘要(SHA-256)"), max_length=64)
    jurisdiction = models.CharField(_("行政区划"), max_length=50, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("上传人"), on_delete=models.CASCADE, related_name="+"
    )
    uploaded_at = models.DateTimeField(_("上传时间"), auto_now_add=True)
    # The clerk's decisions in the preview, as data (see tasks/services/drafts.py for the shape): names mapped,
    # ignored or made collectives, measures edited or excluded, plan fields, and whether this is a revision.
    # Nothing touches plans or tasks before confirmation.
    decisions = models.JSONField(_("预览中的决定"), default=dict, blank=True)
    # Kept after confirmation as the record of the import: which plan it made, when, and the clerk's decisions
    # (corrections, excluded measures) that the plan's to-do list reads.
    updated_at = models.DateTimeField(_("最近修改"), auto_now=True)
    plan = models.ForeignKey(
        Plan,
        verbose_name=_("导入后的计划"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="drafts",
    )
    confirmed_at = models.DateTimeField(_("确认时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("待确认导入")
        verbose_name_plural = _("待确认导入")
        ordering = ["-uploaded_at"]

    def __str__(self) -> str:
        return self.original_name


class PlanRevision(models.Model):
    """One confirmed import of a plan document: which file, when, by whom, and what it changed (the diff as
    data, as the preview and ``import_plan --json`` show it). Also the import's own measure of its goal: the
    clerk's corrections and the minutes from upload to confirmation."""

    class Kind(models.TextChoices):
        CREATED = "created", _("首次导入")
        REVISED = "revised", _("修订")

    plan = models.ForeignKey(Plan, verbose_name=_("计划"), on_delete=models.CASCADE, related_name="revisions")
    number = models.PositiveIntegerField(_("版次"))
    kind = models.CharField(_("类型"), max_length=20, choices=Kind.choices)
    file = models.FileField(_("文件"), upload_to="plans/%Y/", blank=True, max_length=200)
    original_name = models.CharField(_("原始文件名"), max_length=255, blank=True)
    sha256 = models.CharField(_("文件摘要(SHA-256)"), max_length=64, blank=True)
    created_at = models.DateTimeField(_("确认时间"), default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("确认人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    uploaded_at = models.DateTimeField(_("上传时间"), null=True, blank=True)
    corrections = models.PositiveIntegerField(
        _("修正次数"), null=True, blank=True, help_text=_("预览中除接受建议外的决定数;命令行导入为空。")
    )
    diff = models.JSONField(_("变更内容"), default=dict, blank=True)

    class Meta:
        verbose_name = _("计划修订记录")
        verbose_name_plural = _("计划修订记录")
        ordering = ["plan", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "number"], name="plan_revision_unique_number"),
        ]

    def __str__(self) -> str:
        return f"{self.plan} · 第{self.number}版"

    @property
    def minutes_to_confirm(self) -> float | None:
        if self.uploaded_at is None:
            return None
        return round((self.created_at - self.uploaded_at).total_seconds() / 60, 1)
