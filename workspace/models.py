from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from reminders.models import ReminderLog


class Preferences(models.Model):
    """One user's display settings (我的设置). Read once per session: see ``workspace.display``."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="preferences", verbose_name=_("用户")
    )
    large_text = models.BooleanField(
        _("大字版"), default=False, help_text=_("更大的文字和按钮、更强的对比度(长辈模式)。")
    )

    class Meta:
        verbose_name = _("个人设置")
        verbose_name_plural = _("个人设置")

    def __str__(self) -> str:
        return str(self.user)


# The channels a message with links goes out on: every ReminderLog channel but the in-app inbox.
MESSAGE_CHANNELS = [
    choice for choice in ReminderLog.Channel.choices if choice[0] != ReminderLog.Channel.INBOX
]


class ActionLinkQuerySet(models.QuerySet):
    def usable(self, now=None):
        """Links that still open: neither revoked nor expired (used ones still say 已签收)."""
        return self.filter(revoked_at__isnull=True, expires_at__gt=now or timezone.now())


class ActionLink(models.Model):
    """A one-click 签收 / 查看 link sent to one liaison for one task through one channel (workspace/links.py).

    The database keeps a salt and the SHA-256 of the token, never the token: the token is an HMAC of the salt
    under ``SECRET_KEY``, so the row alone cannot be turned into a working link, and the same link can be
    put in the next day's digest again. Opening the link changes nothing; its button 签收s that one task as
    the link's user, and nothing else. Revoked by hand in the admin, and by the system when the liaison
    leaves the agency or is deactivated, or the task is reassigned or done."""

    Channel = ReminderLog.Channel

    class Revoked(models.TextChoices):
        BY_HAND = "by_hand", _("督办人员撤销")
        LEFT_AGENCY = "left_agency", _("已不是该单位联络员")
        USER_INACTIVE = "user_inactive", _("账号已停用")
        REASSIGNED = "reassigned", _("任务已改由其他单位承办")
        DONE = "done", _("任务已办结")

    token_hash = models.CharField(_("令牌摘要"), max_length=64, unique=True, editable=False)
    salt = models.CharField(_("盐值"), max_length=32, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="action_links",
        verbose_name=_("联络员"),
    )
    task = models.ForeignKey(
        "tasks.Task", on_delete=models.CASCADE, related_name="action_links", verbose_name=_("任务")
    )
    channel = models.CharField(_("发送渠道"), max_length=20, choices=MESSAGE_CHANNELS)
    created_at = models.DateTimeField(_("生成时间"), default=timezone.now)
    expires_at = models.DateTimeField(_("失效时间"))
    used_at = models.DateTimeField(
        _("使用时间"), null=True, blank=True, help_text=_("通过该链接签收的时间。")
    )
    revoked_at = models.DateTimeField(_("撤销时间"), null=True, blank=True)
    revoked_reason = models.CharField(_("撤销原因"), max_length=20, choices=Revoked.choices, blank=True)

    objects = ActionLinkQuerySet.as_manager()

    class Meta:
        verbose_name = _("一键签收链接")
        verbose_name_plural = _("一键签收链接")
        ordering = ["-created_at", "-pk"]
        indexes = [
            # issue_links looks for a link still valid for (user, task, channel) before making one
            models.Index(fields=["task", "user", "channel", "expires_at"], name="actionlink_reuse"),
            models.Index(fields=["user", "revoked_at"], name="actionlink_user_revoked"),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.task_id} · {self.get_channel_display()}"

    def state(self, now=None) -> str:
        """revoked / expired / used / valid."""
        now = now or timezone.now()
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at <= now:
            return "expired"
        if self.used_at is not None:
            return "used"
        return "valid"
