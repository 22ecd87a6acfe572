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
