"""Calendar subscription tokens and background export jobs."""

import secrets
import uuid

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from agencies.models import Liaison
from tasks.models import Plan


def new_feed_token() -> str:
    """43 URL-safe characters (256 random bits): the whole secret of a subscription URL."""
    return secrets.token_urlsafe(32)


class CalendarFeed(models.Model):
    """A secret calendar URL. A liaison's feed shows their agency's tasks; a plan feed, for lead-bureau staff
    and leaders, shows one plan. The token is the only credential (calendar apps cannot log in), so it can be
    regenerated (the old URL then answers 404) or revoked; a liaison's feed dies with its Liaison row."""

    class Kind(models.TextChoices):
        AGENCY = "agency", _("单位任务日历")
        PLAN = "plan", _("计划任务日历")

    token = models.CharField(_("令牌"), max_length=64, unique=True, default=new_feed_token)
    kind = models.CharField(_("类别"), max_length=10, choices=Kind.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("用户"),
        on_delete=models.CASCADE,
        related_name="calendar_feeds",
    )
    liaison = models.ForeignKey(
        Liaison,
        verbose_name=_("联络员"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="calendar_feeds",
    )
    plan = models.ForeignKey(
        Plan, verbose_name=_("计划"), on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    token_changed_at = models.DateTimeField(_("令牌更新时间"), auto_now_add=True)
    last_fetched_at = models.DateTimeField(_("最近访问时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("日历订阅")
        verbose_name_plural = _("日历订阅")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(kind="agency", liaison__isnull=False, plan__isnull=True))
                | Q(kind="plan", liaison__isnull=True, plan__isnull=False),
                name="calendar_feed_kind_matches_target",
            ),
            models.UniqueConstraint(fields=["liaison"], name="calendar_feed_one_per_liaison"),
            models.UniqueConstraint(fields=["user", "plan"], name="calendar_feed_one_per_user_plan"),
        ]

    def __str__(self) -> str:
        return str(self.liaison.agency if self.kind == self.Kind.AGENCY else self.plan)


def export_upload_to(job: "ExportJob", filename: str) -> str:
    # A random directory per job: even where MEDIA_ROOT is served (DEBUG), nobody can guess the path.
    return f"exports/{job.pk.hex}/{secrets.token_hex(8)}/{filename}"


export_storage = FileSystemStorage()  # MEDIA_ROOT: shared by web and worker containers


class ExportJob(models.Model):
    """A report built in the background (Celery) because it is too large to build during a request."""

    class Status(models.TextChoices):
        PENDING = "pending", _("排队中")
        RUNNING = "running", _("生成中")
        DONE = "done", _("已完成")
        FAILED = "failed", _("失败")

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("申请人"),
        on_delete=models.CASCADE,
        related_name="export_jobs",
    )
    exporter = models.CharField(_("报表类型"), max_length=50)
    params = models.JSONField(_("筛选条件"), default=dict, blank=True)
    language = models.CharField(_("语言"), max_length=10, default="zh-hans")
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.PENDING)
    progress = models.PositiveSmallIntegerField(_("进度(%)"), default=0)
    total_rows = models.PositiveIntegerField(_("行数"), default=0)
    file = models.FileField(_("文件"), storage=export_storage, upload_to=export_upload_to, blank=True)
    filename = models.CharField(_("文件名"), max_length=200, blank=True)
    error = models.TextField(_("错误信息"), blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    started_at = models.DateTimeField(_("开始时间"), null=True, blank=True)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("导出任务")
        verbose_name_plural = _("导出任务")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.filename or self.exporter} · {self.get_status_display()}"

    @property
    def is_finished(self) -> bool:
        return self.status in {self.Status.DONE, self.Status.FAILED}


class ScoreWeights(models.Model):
    """The weights of the 考核 scorecard (reports/scorecard.py), set by the lead bureau in the admin. One row;
    the defaults are those documented in the README. Issued 通报 keep a copy of the weights they used."""

    acknowledge = models.PositiveSmallIntegerField(
        _("签收及时"), default=15, help_text=_("任务分派后 2 天内签收得满分,每超 1 天扣 5 分。")
    )
    on_time = models.PositiveSmallIntegerField(
        _("按期办结率"), default=30, help_text=_("本期到期的任务中,在截止日期前办结的比例。")
    )
    reports = models.PositiveSmallIntegerField(
        _("定期报送按时率"), default=20, help_text=_("持续推进任务本期应报送的进展中,按时报送的比例。")
    )
    overdue = models.PositiveSmallIntegerField(
        _("逾期天数"), default=20, help_text=_("任务·天中未逾期的比例(逾期一天的任务计一个任务·天)。")
    )
    extensions = models.PositiveSmallIntegerField(
        _("延期申请"), default=10, help_text=_("每申请一次延期扣半个任务的分,获批再扣半个。")
    )
    returned = models.PositiveSmallIntegerField(
        _("办结退回"), default=5, help_text=_("申请办结的任务中未被退回的比例。")
    )
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("考核权重")
        verbose_name_plural = _("考核权重")

    def __str__(self) -> str:
        return str(_("考核权重"))

    @classmethod
    def current(cls) -> "ScoreWeights":
        weights = cls.objects.order_by("pk").first()
        return weights if weights is not None else cls.objects.create()

    def as_dict(self) -> dict[str, int]:
        return {key: getattr(self, key) for key in SCORE_KEYS}


SCORE_KEYS = ("acknowledge", "on_time", "reports", "overdue", "extensions", "returned")


class IssuedDocument(models.Model):
    """A numbered document the lead bureau issued (督办〔2026〕N号): what it said is kept as data, so the
    .docx rebuilt later is the one that was sent, whatever changed since."""

    class Kind(models.TextChoices):
        NOTICE = "notice", _("督办通知单")
        BULLETIN = "bulletin", _("工作进展情况通报")

    PREFIXES = {"notice": "督办", "bulletin": "通报"}

    kind = models.CharField(_("类别"), max_length=20, choices=Kind.choices)
    year = models.PositiveSmallIntegerField(_("年份"))
    number = models.PositiveIntegerField(_("序号"))
    plan = models.ForeignKey(
        Plan, verbose_name=_("计划"), on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    agency = models.ForeignKey(
        "agencies.Agency",
        verbose_name=_("单位"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="issued_documents",
    )
    period = models.CharField(_("考核期"), max_length=20, blank=True)
    issued_on = models.DateField(_("成文日期"))
    reply_by = models.DateField(_("反馈期限"), null=True, blank=True)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("签发人"),
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    content = models.JSONField(_("内容"), default=dict)
    weights = models.JSONField(_("考核权重"), default=dict, blank=True)
    scores = models.JSONField(_("考核得分"), default=list, blank=True)

    class Meta:
        verbose_name = _("督办文书")
        verbose_name_plural = _("督办文书")
        ordering = ["-year", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["kind", "year", "number"], name="issued_document_unique_number"),
        ]

    def __str__(self) -> str:
        return f"{self.doc_number} {self.get_kind_display()}"

    @property
    def doc_number(self) -> str:
        return f"{self.PREFIXES[self.kind]}〔{self.year}〕{self.number}号"
