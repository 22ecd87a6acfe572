from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from import_export.admin import ExportActionMixin, ExportMixin
from simple_history.admin import SimpleHistoryAdmin

from reminders.admin import TaskReminderInline, urge_tasks
from reports.resources import TaskResource

from .models import ExtensionRequest, Indicator, IndicatorValue, Measure, Plan, ProgressUpdate, Section, Task
from .resources import DivisionTableResource


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


class MeasureInline(admin.TabularInline):
    model = Measure
    extra = 0
    fields = ["number", "text", "raw_deadline", "deadline_date", "is_ongoing", "is_removed"]
    show_change_link = True
    classes = ["collapse"]


class IndicatorInline(admin.TabularInline):
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


class TaskInline(admin.TabularInline):
    model = Task
    extra = 0
    fields = ["agency", "role", "due_date", "due_date_inferred", "is_ongoing", "status", "percent"]
    autocomplete_fields = ["agency"]
    show_change_link = True


class ProgressUpdateInline(admin.TabularInline):
    model = ProgressUpdate
    extra = 0
    fields = ["created_at", "author", "text", "percent", "status", "period"]
    readonly_fields = ["created_at", "author"]


class ExtensionRequestInline(admin.TabularInline):
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


class IndicatorValueInline(admin.TabularInline):
    model = IndicatorValue
    extra = 0
    fields = ["year", "value", "note", "reported_by", "reported_at"]
    readonly_fields = ["reported_at"]


@admin.register(Plan)
class PlanAdmin(admin.ModelAdmin):
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
    readonly_fields = ["source_sha256", "imported_at", "imported_by", "revision_history"]
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
                    "remind_days_before",
                    "escalate_after_days",
                ]
            },
        ),
        (
            _("来源"),
            {"fields": ["source_file", "source_name", "source_sha256", "imported_at", "imported_by"]},
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
            path("import/", guarded(upload_view), name="tasks_plan_import"),
            path("import/<int:draft_id>/", guarded(preview_view), name="tasks_plan_import_preview"),
            path("import/template/", guarded(template_view), name="tasks_plan_import_template"),
            path("todo/", guarded(todo_view, self.has_view_permission), name="tasks_plan_todo_all"),
            path("<int:plan_id>/todo/", guarded(todo_view, self.has_view_permission), name="tasks_plan_todo"),
            *super().get_urls(),
        ]

    @admin.display(description=_("期限"), ordering="period_start")
    def period_display(self, plan: Plan) -> str:
        return plan.period_display

    @admin.display(description=_("措施数"))
    def measure_count(self, plan: Plan) -> int:
        return plan.measures.count()


@admin.register(Section)
class SectionAdmin(admin.ModelAdmin):
    list_display = ["heading", "plan", "level", "position"]
    list_filter = ["plan"]
    search_fields = ["heading"]
    autocomplete_fields = ["plan", "parent"]


@admin.register(Measure)
class MeasureAdmin(ExportMixin, SimpleHistoryAdmin):
    """Measures, with export of the Excel 任务分工表 (tasks/resources.py). A 分工表 is imported as a plan (计划 →
    导入), through the table reader and the editable preview; the old import address points there."""

    resource_classes = [DivisionTableResource]
    list_display = ["number", "summary", "plan", "section", "deadline_display", "task_count", "is_removed"]
    list_filter = ["plan", "is_ongoing", "is_removed", "is_manual"]
    search_fields = ["number", "text", "raw_clause"]
    autocomplete_fields = ["plan", "section"]
    list_select_related = ["plan", "section"]
    inlines = [TaskInline]

    @admin.display(description=_("完成时限"), ordering="deadline_date")
    def deadline_display(self, measure: Measure) -> str:
        if measure.is_ongoing:
            return _("持续推进")
        return measure.deadline_date.isoformat() if measure.deadline_date else "—"

    @admin.display(description=_("单位数"))
    def task_count(self, measure: Measure) -> int:
        return measure.tasks.count()

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
class TaskAdmin(ExportActionMixin, SimpleHistoryAdmin):
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

    @admin.display(description=_("序号"), ordering="measure__position")
    def measure_number(self, task: Task) -> str:
        return task.measure.number

    @admin.display(description=_("措施"))
    def measure_summary(self, task: Task) -> str:
        return task.measure.summary

    @admin.display(description=_("计划"), ordering="measure__plan__title")
    def plan(self, task: Task) -> Plan:
        return task.measure.plan

    @admin.display(description=_("逾期"))
    def overdue_flag(self, task: Task) -> str:
        if task.is_overdue():
            days = (timezone.localdate() - task.due_date).days
            return format_html(
                '<span style="color:#ba2121;font-weight:bold">{}</span>', _("逾期 %(d)d 天") % {"d": days}
            )
        return ""


@admin.register(ProgressUpdate)
class ProgressUpdateAdmin(admin.ModelAdmin):
    list_display = ["task", "author", "created_at", "percent", "status", "period"]
    list_filter = ["status", "task__measure__plan"]
    search_fields = ["text", "task__agency__name", "task__measure__text"]
    autocomplete_fields = ["task"]
    list_select_related = ["task__measure", "task__agency", "author"]


@admin.register(Indicator)
class IndicatorAdmin(admin.ModelAdmin):
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
