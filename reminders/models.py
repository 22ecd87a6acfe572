"""The working-day calendar (放假安排) and the reminder outbox: one row per email, claimed before sending."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from agencies.models import Agency
from tasks.models import Task


class Holiday(models.Model):
    """A day that differs from the Monday–Friday rule: a weekday off (放假) or a weekend make-up day (调休上班).

    Seeded from the chinesecalendar package for the years it knows; the lead bureau adds next year's
    arrangement here when the State Council publishes it. A year without rows falls back to Monday–Friday.
    """

    class Source(models.TextChoices):
        PACKAGE = "package", _("chinesecalendar 数据包")
        MANUAL = "manual", _("手工录入")
        # Statutory holidays computed for a year without a published 放假安排 (workdays.py); loading the
        # official arrangement replaces them.
        PRESUMED = "presumed", _("推定(法定节日)")

    date = models.DateField(_("日期"), unique=True)
    is_working_day = models.BooleanField(
        _("调休上班"), default=False, help_text=_("勾选表示该日为调休上班日(通常为周末);不勾选表示放假。")
    )
    name = models.CharField(_("节日名称"), max_length=50, blank=True, help_text=_("如 国庆节、春节。"))
    source = models.CharField(_("来源"), max_length=10, choices=Source.choices, default=Source.MANUAL)

    class Meta:
        verbose_name = _("放假安排")
        verbose_name_plural = _("放假安排")
        ordering = ["-date"]

    def __str__(self) -> str:
        kind = _("调休上班") if self.is_working_day else _("放假")
        return f"{self.date.isoformat()} {self.name} {kind}".replace("  ", " ")


class ReminderLogQuerySet(models.QuerySet):
    def deliverable(self):
        """Rows a send job may still claim (see services.deliver for the lease on 'sending')."""
        return self.filter(status__in=[ReminderLog.Status.PENDING, ReminderLog.Status.FAILED])


class ReminderLog(models.Model):
    """One message on one channel: the outbox row and its log. Its key — (recipient, kind, period) for
    email, (user, kind, period) for the inbox, where ``period`` names the day, week or event — is claimed in
    the database before anything is sent, so re-running or racing sweeps and events never make a second row
    nor start a second send. Delivery is at least once (services/outbox.py): a crash between the server's
    acceptance and the row's "sent" resends it, with the same Message-ID."""

    class Kind(models.TextChoices):
        DIGEST = "digest", _("到期提醒汇总")
        ESCALATION = "escalation", _("逾期上报")
        URGE = "urge", _("催办")
        # Notifications of events (reminders/services/notices.py); each user chooses them per kind.
        EXTENSION_DECIDED = "extension_decided", _("延期申请审核结果")
        COMPLETION_REVIEWED = "completion_reviewed", _("办结申请审核结果")
        DUE_DATE_CHANGED = "due_date_changed", _("截止日期调整")
        REASSIGNED = "reassigned", _("任务改由其他单位承办")
        NEW_REQUEST = "new_request", _("新的办结或延期申请")
        NEW_REPORT = "new_report", _("新的进展报送")
        SUPPORT_REPORT = "support_report", _("配合单位报送进展")
        NOTICE_DIGEST = "notice_digest", _("每日消息汇总")
        # To the 督办人员, once a day when something did not reach its recipient (services/problems.py).
        DELIVERY_SUMMARY = "delivery_summary", _("投递问题日报")

    class Channel(models.TextChoices):
        EMAIL = "email", _("邮件")
        INBOX = "inbox", _("站内消息")
        WECOM = "wecom", _("企业微信群机器人")
        DINGTALK = "dingtalk", _("钉钉群机器人")
        SMS = "sms", _("短信")

    class Status(models.TextChoices):
        PENDING = "pending", _("待发送")
        SENDING = "sending", _("发送中")
        SENT = "sent", _("已发送")
        FAILED = "failed", _("发送失败")
        SKIPPED = "skipped", _("未发送")
        HELD = "held", _("待每日汇总")  # a notification whose recipient chose the daily digest
        DIGESTED = "digested", _("已随每日汇总发送")
        GAVE_UP = "gave_up", _("已放弃")  # retried within the retry window without success
        SUPERSEDED = "superseded", _("已由次日汇总取代")  # a failed digest whose tasks the next one carries

    channel = models.CharField(_("渠道"), max_length=10, choices=Channel.choices, default=Channel.EMAIL)
    recipient = models.CharField(_("收件人"), max_length=254, blank=True)
    kind = models.CharField(_("类型"), max_length=20, choices=Kind.choices)
    period = models.CharField(
        _("周期"),
        max_length=60,
        help_text=_(
            "同一收件人、同一类型、同一周期只生成一条记录(重复运行不会再发),如 2024-09-30、2024-W40。"
        ),
    )
    day = models.DateField(_("提醒日期"), db_index=True)
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.PENDING)
    reason = models.CharField(_("说明"), max_length=300, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("收件用户"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("催办人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    subject = models.CharField(_("主题"), max_length=300, blank=True)
    body_text = models.TextField(_("正文(纯文本)"), blank=True)
    body_html = models.TextField(_("正文(HTML)"), blank=True)
    tasks = models.ManyToManyField(
        Task, verbose_name=_("任务"), through="ReminderLogTask", related_name="reminder_logs", blank=True
    )
    agencies = models.ManyToManyField(
        Agency, verbose_name=_("单位"), related_name="reminder_logs", blank=True
    )
    url = models.CharField(_("链接"), max_length=300, blank=True, help_text=_("消息所指的页面。"))
    read_at = models.DateTimeField(_("已读时间"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("发送次数"), default=0)
    error = models.TextField(_("错误信息"), blank=True)
    created_at = models.DateTimeField(_("生成时间"), auto_now_add=True)
    claimed_at = models.DateTimeField(_("最近发送开始"), null=True, blank=True)
    next_attempt_at = models.DateTimeField(
        _("下次重试"),
        null=True,
        blank=True,
        help_text=_("发送失败后按退避间隔重试;超过重试期限仍未发出则标记为已放弃。"),
    )
    batch = models.CharField(
        _("生成批次"), max_length=32, blank=True, editable=False, help_text=_("生成这条记录的那次运行。")
    )
    sent_at = models.DateTimeField(_("发送时间"), null=True, blank=True)

    objects = ReminderLogQuerySet.as_manager()

    class Meta:
        verbose_name = _("提醒邮件记录")
        verbose_name_plural = _("提醒邮件记录")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "kind", "period"],
                condition=models.Q(channel="email"),
                name="reminder_once_per_period",
            ),
            models.UniqueConstraint(
                fields=["user", "kind", "period"],
                condition=models.Q(channel="inbox"),
                name="inbox_once_per_event",
            ),
            # 企业微信 / 钉钉 robots (recipient "robot:<id>") and SMS (recipient: the mobile number).
            models.UniqueConstraint(
                fields=["channel", "recipient", "kind", "period"],
                condition=models.Q(channel__in=["wecom", "dingtalk", "sms"]),
                name="channel_once_per_period",
            ),
        ]
        indexes = [
            # The sweep re-dispatches unsent rows of the day it runs for.
            models.Index(fields=["day", "status"], name="reminder_day_status"),
            # The navigation's unread count and the 消息 page.
            models.Index(fields=["user", "channel", "read_at"], name="inbox_user_unread"),
            # The recovery job looks for unsent rows whose retry is due.
            models.Index(fields=["status", "next_attempt_at"], name="reminder_retry_due"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.recipient or '—'} · {self.period}"


class NotificationPreference(models.Model):
    """How one user wants one kind of notification (我的设置). No row: email at once and in the inbox."""

    class Email(models.TextChoices):
        INSTANT = "instant", _("即时发送邮件")
        DAILY = "daily", _("每日汇总邮件")
        OFF = "off", _("不发送邮件")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("用户"), on_delete=models.CASCADE, related_name="+"
    )
    kind = models.CharField(_("类型"), max_length=20, choices=ReminderLog.Kind.choices)
    email = models.CharField(_("邮件"), max_length=10, choices=Email.choices, default=Email.INSTANT)
    inbox = models.BooleanField(_("站内消息"), default=True)

    class Meta:
        verbose_name = _("消息设置")
        verbose_name_plural = _("消息设置")
        constraints = [models.UniqueConstraint(fields=["user", "kind"], name="notification_pref_once")]

    def __str__(self) -> str:
        return f"{self.user} · {self.get_kind_display()}"


class ReminderLogTask(models.Model):
    """Which tasks an email listed, and why (the digest section the task appeared in)."""

    class Reason(models.TextChoices):
        OVERDUE = "overdue", _("已逾期")
        DUE_NEXT_DAY = "due_next_day", _("1个工作日内到期")
        DUE_SOON = "due_soon", _("即将到期")
        REPORT_MISSING = "report_missing", _("定期报送逾期")
        REPORT_DUE = "report_due", _("定期报送临近")
        ESCALATED = "escalated", _("逾期超过上报期限")
        SUPPORT_OVERDUE = "support_overdue", _("配合单位逾期")
        URGED = "urged", _("催办")

    log = models.ForeignKey(ReminderLog, verbose_name=_("提醒邮件"), on_delete=models.CASCADE)
    task = models.ForeignKey(Task, verbose_name=_("任务"), on_delete=models.CASCADE)
    reason = models.CharField(_("原因"), max_length=20, choices=Reason.choices)

    class Meta:
        verbose_name = _("提醒邮件所列任务")
        verbose_name_plural = _("提醒邮件所列任务")
        constraints = [models.UniqueConstraint(fields=["log", "task"], name="reminder_task_once_per_log")]

    def __str__(self) -> str:
        return f"{self.log} · {self.task_id}"
