from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _
from import_export.admin import ExportActionMixin, ExportMixin
from simple_history.admin import SimpleHistoryAdmin

from agencies.admin_policy import PolicyAdminMixin
from ipplan.lib.admin_exports import SafeExportMixin
from ipplan.lib.history import ReadableHistoryAdminMixin
from reminders.admin import TaskReminderInline, urge_tasks
from reports.resources import TaskResource

from .models import ExtensionRequest, Indicator, IndicatorValue, Measure, Plan, ProgressUpdate, Section, Task
from .resources import HEADER_LABELS, DivisionTableResource


class OverdueFilter(admin.SimpleListFilter):
    title = _("是否逾期")
    parameter_name = "overdue"

    def lookups(self, request, model_admin):
        return [("yes", _("已逾期")), ("no", _("未逾期"))]

    def queryset(self, request, queryset):
        overdue = Task.objects.overdue(timezone.localdate()).values("pk")
        if self.value() == "yes":
            return queryset.filter(pk__in=overdue)
        if self.value() == "no":
            return queryset.exclude(pk__in=overdue)
        return queryset


class MeasureInline(PolicyAdminMixin, admin.TabularInline):
    model = Measure
    extra = 0
    fields = ["number", "text", "raw_deadline", "deadline_date", "is_ongoing", "is_removed"]
    show_change_link = True
    classes = ["collapse"]


class IndicatorInline(PolicyAdminMixin, admin.TabularInline):
    model = Indicator
    extra = 0
    fields = [
        "category",
        "name",
        "unit",
        "baseline",
        "baseline_year",
        "target",
        "target_year",
        "attribute",
        "agency",
    ]
    autocomplete_fields = ["agency"]
    classes = ["collapse"]


class TaskInline(PolicyAdminMixin, admin.TabularInline):
    model = Task
    extra = 0
    fields = ["agency", "role", "due_date", "due_date_inferred", "is_ongoing", "status", "percent"]
    autocomplete_fields = ["agency"]
    show_change_link = True


class ReportRecordMixin:
    """Submitted reports are records: nobody edits or adds them here (corrections are new versions, made on
    the task page); only a superuser may delete one, e.g. with its plan."""

    def has_add_permission(self, request, *args):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser


class ProgressUpdateInline(ReportRecordMixin, PolicyAdminMixin, admin.TabularInline):
    model = ProgressUpdate
    extra = 0
    can_delete = False
    fields = ["created_at", "author", "short_text", "percent", "status", "period", "version"]
    readonly_fields = fields
    ordering = ["-created_at"]

    @admin.display(description=_("进展情况"))
    def short_text(self, update: ProgressUpdate) -> str:
        return Truncator(update.text).chars(80)


class ExtensionRequestInline(PolicyAdminMixin, admin.TabularInline):
    """延期申请 are decided in the workspace's review queue; the admin shows them read-only."""

    model = ExtensionRequest
    extra = 0
    can_delete = False
    fields = [
        "requested_at",
        "requested_by",
        "current_due_date",
        "requested_due_date",
        "reason",
        "decision",
        "decided_by",
        "decision_reason",
    ]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


class IndicatorValueInline(PolicyAdminMixin, admin.TabularInline):
    model = IndicatorValue
    extra = 0
    fields = ["year", "value", "note", "reported_by", "reported_at"]
    readonly_fields = ["reported_at"]


@admin.register(Plan)
class PlanAdmin(PolicyAdminMixin, admin.ModelAdmin):
    change_list_template = "admin/tasks/plan/change_list.html"
    list_display = [
        "title",
        "doc_number",
        "jurisdiction",
        "period_display",
        "measure_count",
        "is_active",
        "imported_at",
    ]
    list_filter = ["jurisdiction", "is_active", "reporting_cycle"]
    search_fields = ["title", "doc_number", "issuer"]
    readonly_fields = ["source_link", "source_sha256", "imported_at", "imported_by", "revision_history"]
    autocomplete_fields = ["parent"]
    inlines = [MeasureInline, IndicatorInline]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "title",
                    "doc_number",
                    "issuer",
                    "jurisdiction",
                    "period_start",
                    "period_end",
                    "parent",
                ]
            },
        ),
        (
            _("督办设置"),
            {
                "fields": [
                    "is_active",
                    "reporting_cycle",
                    "report_due_day",
                    "reports_until",
                    "remind_days_before",
                    "escalate_after_days",
                ]
            },
        ),
        (
            _("来源"),
            {"fields": ["source_link", "source_name", "source_sha256", "imported_at", "imported_by"]},
        ),
        (_("修订记录"), {"fields": ["revision_history"]}),
    ]

    @admin.display(description=_("每次导入的文件、确认人和变更"))
    def revision_history(self, plan: Plan) -> str:
        if plan.pk is None:
            return "—"
        revisions = plan.revisions.select_related("created_by").order_by("-number")
        return render_to_string("admin/tasks/plan/revisions.html", {"revisions": revisions})

    def get_urls(self):
        from django.urls import path

        from .admin_import import preview_view, template_view, todo_view, upload_view

        def guarded(view, permission=self.has_add_permission):
            def wrapper(request, *args, **kwargs):
                if not permission(request):
                    raise PermissionDenied
                return view(self, request, *args, **kwargs)

            return self.admin_site.admin_view(wrapper)

        return [
            path(
                "<int:plan_id>/source/",
                self.admin_site.admin_view(self.source_view),
                name="tasks_plan_source",
            ),
            path("import/", guarded(upload_view), name="tasks_plan_import"),
            path("import/<int:draft_id>/", guarded(preview_view), name="tasks_plan_import_preview"),
            path("import/template/", guarded(template_view), name="tasks_plan_import_template"),
            path("todo/", guarded(todo_view, self.has_view_permission), name="tasks_plan_todo_all"),
            path("<int:plan_id>/todo/", guarded(todo_view, self.has_view_permission), name="tasks_plan_todo"),
            *super().get_urls(),
        ]

    def source_view(self, request, plan_id: int):
        """The plan's original document, for those who may see the plan (MEDIA_ROOT is never served)."""
        plan = get_object_or_404(Plan, pk=plan_id)
        if not self.has_view_permission(request, plan) or not plan.source_file:
            raise Http404
        try:
            handle = plan.source_file.open("rb")
        except FileNotFoundError:
            raise Http404 from None
        name = plan.source_name or plan.source_file.name.rsplit("/", 1)[-1]
        response = FileResponse(handle, as_attachment=True, filename=name)
        response["X-Content-Type-Options"] = "nosniff"
        return response

    @admin.display(description=_("原始文件"))
    def source_link(self, plan: Plan) -> str:
        if not plan.source_file:
            return "—"
        url = reverse("admin:tasks_plan_source", args=[plan.pk])
        return format_html('<a href="{}">{}</a>', url, plan.source_name or _("下载"))

    @admin.display(description=_("期限"), ordering="period_start")
    def period_display(self, plan: Plan) -> str:
        return plan.period_display

    @admin.display(description=_("措施数"))
    def measure_count(self, plan: Plan) -> int:
        return plan.measures.count()


@admin.register(Section)
class SectionAdmin(PolicyAdminMixin, admin.ModelAdmin):
    list_display = ["heading", "plan", "level", "position"]
    list_filter = ["plan"]
    search_fields = ["heading"]
    autocomplete_fields = ["plan", "parent"]


@admin.register(Measure)
class MeasureAdmin(
    PolicyAdminMixin, ReadableHistoryAdminMixin, SafeExportMixin, ExportMixin, SimpleHistoryAdmin
):
    """Measures, with export of the Excel 任务分工表 (tasks/resources.py). A 分工表 is imported as a plan (计划 →
    导入), through the table reader and the editable preview; the old import address points there."""

    resource_classes = [DivisionTableResource]
    list_display = ["number", "summary", "plan", "section", "deadline_display", "task_count", "is_removed"]
    list_filter = ["plan", "is_ongoing", "is_removed", "is_manual"]
    search_fields = ["number", "text", "raw_clause"]
    autocomplete_fields = ["plan", "section"]
    list_select_related = ["plan", "section"]
    inlines = [TaskInline]

    class Media:
        css = {"all": ["css/ipplan-admin.css"]}

    @admin.display(description=_("完成时限"), ordering="deadline_date")
    def deadline_display(self, measure: Measure) -> str:
        if measure.is_ongoing:
            return _("持续推进")
        return measure.deadline_date.isoformat() if measure.deadline_date else "—"

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(task_total=Count("tasks"))

    @admin.display(description=_("单位数"), ordering="task_total")
    def task_count(self, measure: Measure) -> int:
        return measure.task_total

    # The 任务分工表's columns by their Chinese headers on the import and export pages (the resource keys
    # them by short English names internally).
    def import_action(self, request, *args, **kwargs):
        return self._chinese_columns(super().import_action(request, *args, **kwargs))

    def export_action(self, request, *args, **kwargs):
        return self._chinese_columns(super().export_action(request, *args, **kwargs))

    @staticmethod
    def _chinese_columns(response):
        context = getattr(response, "context_data", None) or {}
        if "fields_list" in context:
            context["fields_list"] = [
                (name, [HEADER_LABELS.get(column, column) for column in columns])
                for name, columns in context["fields_list"]
            ]
        form = context.get("form")
        for field in getattr(form, "fields", {}).values():
            key = str(getattr(field, "label", "")).split(" (")[0].lower()
            if key in HEADER_LABELS:
                field.label = HEADER_LABELS[key]
        return response

    def get_urls(self):
        from django.urls import path
        from django.views.generic import RedirectView

        moved = RedirectView.as_view(pattern_name="admin:tasks_plan_import", permanent=False)
        return [
            path("import/", self.admin_site.admin_view(moved), name="tasks_measure_import"),
            *super().get_urls(),
        ]

    def save_model(self, request, obj, form, change):
        if not change:
            obj.is_manual = True
        super().save_model(request, obj, form, change)


@admin.register(Task)
class TaskAdmin(
    PolicyAdminMixin, ReadableHistoryAdminMixin, SafeExportMixin, ExportActionMixin, SimpleHistoryAdmin
):
    resource_classes = [TaskResource]  # export honours the list filters and search
    list_display = [
        "measure_number",
        "measure_summary",
        "plan",
        "agency",
        "role",
        "due_date",
        "status",
        "overdue_flag",
    ]
    list_filter = [
        "measure__plan",
        "status",
        "role",
        OverdueFilter,
        "is_ongoing",
        "agency__jurisdiction",
        "needs_resolution",
        "dropped_from_plan",
    ]
    search_fields = ["measure__text", "measure__number", "agency__name", "agency__aliases__name"]
    autocomplete_fields = ["measure", "agency"]
    list_select_related = ["measure__plan", "agency"]
    date_hierarchy = "due_date"
    readonly_fields = [
        "created_at",
        "updated_at",
        "acknowledged_at",
        "acknowledged_by",
        "completed_at",
        "last_reported_at",
        "collective",
    ]
    inlines = [ProgressUpdateInline, ExtensionRequestInline, TaskReminderInline]
    actions = [urge_tasks]

    def save_model(self, request, obj, form, change):
        """A status set here goes through the same service as 审核 (completion time, history, 审核人)."""
        from workspace.services import change_status

        new_status = obj.status
        if change and "status" in form.changed_data:
            obj.status = form.initial["status"]
        elif not change:
            obj.status = Task._meta.get_field("status").default
        super().save_model(request, obj, form, change)
        if obj.status != new_status:
            change_status(task=obj, user=request.user, status=new_status, reason=str(_("管理后台")))
            obj.refresh_from_db()

    @admin.display(description=_("序号"), ordering="measure__position")
    def measure_number(self, task: Task) -> str:
        return task.measure.number

    @admin.display(description=_("措施"))
    def measure_summary(self, task: Task) -> str:
        return task.measure.summary

    @admin.display(description=_("计划"), ordering="measure__plan__title")
    def plan(self, task: Task) -> str:
        title = task.measure.plan.title
        return format_html('<span title="{}">{}</span>', title, Truncator(title).chars(18))

    class Media:
        css = {"all": ["css/ipplan-admin.css"]}

    @admin.display(description=_("逾期"))
    def overdue_flag(self, task: Task) -> str:
        days = task.overdue_days()  # the one rule (tasks/status.py), periodic reports included
        if days:
            return format_html(
                '<span style="color:#ba2121;font-weight:bold">{}</span>', _("逾期 %(d)d 天") % {"d": days}
            )
        return ""


@admin.register(ProgressUpdate)
class ProgressUpdateAdmin(ReportRecordMixin, PolicyAdminMixin, admin.ModelAdmin):
    list_display = ["task", "short_text", "author", "created_at", "percent", "status", "period", "version"]
    readonly_fields = [
        "task",
        "author",
        "created_at",
        "text",
        "percent",
        "status",
        "period",
        "version",
        "supersedes",
        "correction_reason",
        "review_decision",
        "review_reason",
        "reviewed_by",
        "reviewed_at",
    ]
    fields = readonly_fields
    list_filter = ["status", "task__measure__plan"]

    @admin.display(description=_("进展情况"))
    def short_text(self, update: ProgressUpdate) -> str:
        return Truncator(update.text).chars(60)

    search_fields = ["text", "task__agency__name", "task__measure__text"]
    list_select_related = ["task__measure", "task__agency", "author"]
    date_hierarchy = "created_at"


@admin.register(Indicator)
class IndicatorAdmin(PolicyAdminMixin, admin.ModelAdmin):
    list_display = [
        "name",
        "plan",
        "category",
        "unit",
        "baseline",
        "baseline_year",
        "target",
        "target_year",
        "attribute",
    ]
    list_filter = ["plan", "attribute", "category"]
    search_fields = ["name", "category"]
    autocomplete_fields = ["plan", "agency"]
    inlines = [IndicatorValueInline]
