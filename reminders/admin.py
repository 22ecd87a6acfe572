from django.contrib import admin, messages
from django.db.models import Count
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from agencies.admin_policy import PolicyAdminMixin
from agencies.roles import can_write
from workspace.links import redact_action_links

from .feedback import add_messages, report_messages, resend_messages, urge_messages
from .models import Holiday, ReminderLog, ReminderLogTask
from .services import (
    IN_PROCESS_BUDGET_SECONDS,
    dispatch_with_celery,
    message_id,
    prepare_resend,
    send_urge,
)


@admin.register(Holiday)
class HolidayAdmin(PolicyAdminMixin, admin.ModelAdmin):
    list_display = ["date", "weekday", "name", "is_working_day", "source"]
    list_filter = ["is_working_day", "source", "name"]
    search_fields = ["name", "date"]
    date_hierarchy = "date"
    fields = ["date", "name", "is_working_day", "source"]
    readonly_fields = ["source"]

    @admin.display(description=_("星期"))
    def weekday(self, holiday: Holiday) -> str:
        return "一二三四五六日"[holiday.date.weekday()]

    def save_model(self, request, obj, form, change):
        obj.source = Holiday.Source.MANUAL  # edited by hand: a later package load must not overwrite it
        super().save_model(request, obj, form, change)


class ReminderLogTaskInline(PolicyAdminMixin, admin.TabularInline):
    model = ReminderLogTask
    extra = 0
    fields = ["task", "reason"]
    readonly_fields = ["task", "reason"]
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(ReminderLog)
class ReminderLogAdmin(PolicyAdminMixin, admin.ModelAdmin):
    list_display = [
        "created_at",
        "kind",
        "channel",
        "recipient_display",
        "period",
        "status",
        "task_count",
        "attempts",
        "sent_at",
        "next_attempt_at",
    ]
    list_filter = ["status", "kind", "channel", "day", ("agencies", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["recipient", "subject", "agencies__name", "tasks__measure__text"]
    date_hierarchy = "day"
    inlines = [ReminderLogTaskInline]
    actions = ["resend_unsent", "resend_including_sent"]
    fields = [
        "kind",
        "channel",
        "recipient",
        "period",
        "day",
        "status",
        "reason",
        "user",
        "requested_by",
        "agencies",
        "attempts",
        "error",
        "created_at",
        "claimed_at",
        "next_attempt_at",
        "sent_at",
        "message_id",
        "subject",
        "body_shown",
    ]
    readonly_fields = fields

    @admin.display(description=_("正文"))
    def body_shown(self, log: ReminderLog) -> str:
        """The text body, one-click 签收 links masked: they 签收 as the liaison, who alone should hold them."""
        return redact_action_links(log.body_text)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(task_total=Count("tasks", distinct=True))

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False  # the log is a record: read-only, and never deleted (its key stops a second send)

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="Message-ID")
    def message_id(self, log: ReminderLog) -> str:
        return message_id(log) if log.channel == ReminderLog.Channel.EMAIL else "—"

    @admin.display(description=_("收件人"), ordering="recipient")
    def recipient_display(self, log: ReminderLog) -> str:
        return log.recipient or "—"

    @admin.display(description=_("任务数"), ordering="task_total")
    def task_count(self, log: ReminderLog) -> int:
        return log.task_total

    def has_resend_permission(self, request) -> bool:
        return can_write(request.user)

    @admin.action(
        description=_("重新发送所选中未发出的记录(失败、待发送、中断、已放弃、已取代)"),
        permissions=["resend"],
    )
    def resend_unsent(self, request, queryset):
        self._resend(request, queryset, include_sent=False)

    @admin.action(description=_("再次发送所选记录(包括已发送的)"), permissions=["resend"])
    def resend_including_sent(self, request, queryset):
        self._resend(request, queryset, include_sent=True)

    def _resend(self, request, queryset, *, include_sent: bool) -> None:
        again = prepare_resend(queryset, include_sent=include_sent)
        sent_before = (
            ReminderLog.objects.filter(pk__in=again.ids, sent_at__isnull=False).count() if include_sent else 0
        )
        if again.ids:
            report = dispatch_with_celery(again.ids, budget=IN_PROCESS_BUDGET_SECONDS)
            pairs = report_messages(report, len(again.ids))
            if sent_before:
                pairs.insert(
                    0,
                    (messages.WARNING, _("其中 %(n)d 封此前已发送过,按要求再次发送。") % {"n": sent_before}),
                )
        else:
            pairs = [(messages.INFO, _("所选记录没有需要重新发送的。"))]
        add_messages(request, pairs + resend_messages(again))


class TaskReminderInline(PolicyAdminMixin, admin.TabularInline):
    """On a task's admin page: every reminder email that listed it (tasks/admin.py includes it)."""

    model = ReminderLogTask
    fk_name = "task"
    extra = 0
    verbose_name = _("提醒邮件")
    verbose_name_plural = _("提醒邮件记录")
    fields = ["log_link", "kind", "recipient", "status", "reason", "created_at"]
    readonly_fields = fields
    can_delete = False
    classes = ["collapse"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("log").order_by("-log__created_at")

    def has_add_permission(self, request, obj=None):
        return False

    @admin.display(description=_("提醒邮件"))
    def log_link(self, link: ReminderLogTask):
        url = reverse("admin:reminders_reminderlog_change", args=[link.log_id])
        return format_html('<a href="{}">{}</a>', url, link.log.subject or link.log.period)

    @admin.display(description=_("类型"))
    def kind(self, link: ReminderLogTask) -> str:
        return link.log.get_kind_display()

    @admin.display(description=_("收件人"))
    def recipient(self, link: ReminderLogTask) -> str:
        return link.log.recipient or "—"

    @admin.display(description=_("状态"))
    def status(self, link: ReminderLogTask) -> str:
        return link.log.get_status_display()

    @admin.display(description=_("生成时间"))
    def created_at(self, link: ReminderLogTask):
        return link.log.created_at


@admin.action(description=_("催办:立即向所选任务的单位联络员发送提醒邮件"), permissions=["change"])
def urge_tasks(modeladmin, request, queryset):
    """TaskAdmin action (tasks/admin.py lists it)."""
    result = send_urge(queryset, request.user)
    add_messages(request, urge_messages(result, queryset.count()))
