from django import forms
from django.contrib import admin, messages
from django.db import transaction
from django.db.models import Count
from django.db.models.functions import ExtractYear
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from agencies.admin_policy import PolicyAdminMixin
from agencies.roles import can_write
from workspace.links import redact_action_links

from .feedback import add_messages, report_messages, resend_messages, urge_messages
from .models import Holiday, ReminderLog, ReminderLogTask
from .selectors import needed_years
from .services import (
    IN_PROCESS_BUDGET_SECONDS,
    dispatch_with_celery,
    message_id,
    prepare_resend,
    send_urge,
)

PRESUMED_NOTE = _(
    "推定:该年缺少放假安排时,系统按《全国年节及纪念日放假办法》推定的法定节日放假日(含周末补假);"
    "调休上班日无法推定,未列入。"
)


class HolidayForm(forms.ModelForm):
    """A date held by a presumed (推定) row may be entered by hand: the entry replaces that row."""

    class Meta:
        model = Holiday
        fields = ["date", "name", "is_working_day"]

    replaces: Holiday | None = None

    def clean(self):
        cleaned = super().clean()
        day = cleaned.get("date")
        if day:
            presumed = Holiday.objects.filter(date=day, source=Holiday.Source.PRESUMED)
            self.replaces = presumed.exclude(pk=self.instance.pk).first()
        return cleaned

    def validate_unique(self):
        if self.replaces is None:  # date is the only unique field; a presumed row there gives way
            super().validate_unique()


@admin.register(Holiday)
class HolidayAdmin(PolicyAdminMixin, admin.ModelAdmin):
    form = HolidayForm
    list_display = ["date", "weekday", "name", "is_working_day", "source_label"]
    list_filter = ["source", "is_working_day", "name"]
    search_fields = ["name", "date"]
    date_hierarchy = "date"
    fields = ["date", "name", "is_working_day", "source", "note"]
    readonly_fields = ["source", "note"]

    @admin.display(description=_("星期"))
    def weekday(self, holiday: Holiday) -> str:
        return "一二三四五六日"[holiday.date.weekday()]

    @admin.display(description=_("来源"), ordering="source")
    def source_label(self, holiday: Holiday):
        if holiday.source == Holiday.Source.PRESUMED:
            return format_html('<strong title="{}">{}</strong>', PRESUMED_NOTE, holiday.get_source_display())
        return holiday.get_source_display()

    @admin.display(description=_("说明"))
    def note(self, holiday: Holiday) -> str:
        if holiday.source == Holiday.Source.PRESUMED:
            return _("%(note)s保存即改为手工录入(确认该日放假)。") % {"note": PRESUMED_NOTE}
        return "—"

    def changelist_view(self, request, extra_context=None):
        # One query for both notes: which years have presumed rows, and which have their 放假安排.
        presumed_years, arranged = set(), set()
        for year, source in (
            Holiday.objects.annotate(year=ExtractYear("date")).values_list("year", "source").distinct()
        ):
            (presumed_years if source == Holiday.Source.PRESUMED else arranged).add(year)
        extra_context = {
            **(extra_context or {}),
            "presumed_years": sorted(presumed_years),
            "missing_years": [year for year in needed_years(timezone.localdate()) if year not in arranged],
            "presumed_note": PRESUMED_NOTE,
        }
        return super().changelist_view(request, extra_context)

    def save_model(self, request, obj, form, change):
        obj.source = Holiday.Source.MANUAL  # edited by hand: a later package load must not overwrite it
        with transaction.atomic():
            if form.replaces is not None:
                form.replaces.delete()
                self.message_user(
                    request, _("已替换 %(day)s 的推定记录。") % {"day": obj.date.isoformat()}, messages.INFO
                )
            super().save_model(request, obj, form, change)
        left = Holiday.objects.filter(source=Holiday.Source.PRESUMED, date__year=obj.date.year).count()
        if left:
            self.message_user(
                request,
                _(
                    "%(year)d 年还有 %(n)d 条推定放假日仍按放假计算。录入完国务院办公厅的放假通知后,"
                    "请逐条核对:与通知一致的打开保存即改为手工录入,不一致的删除。"
                )
                % {"year": obj.date.year, "n": left},
                messages.WARNING,
            )


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
