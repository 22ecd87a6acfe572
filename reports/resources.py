"""django-import-export resources for the admin's export button (xlsx/csv), which honours the admin filters.

Export only: tasks are created by importing plan documents, never from a spreadsheet. Dates are returned
as dates (real date cells in .xlsx); formulas are neutralised by the formats (ipplan/lib/admin_exports.py).
"""

from django.utils import timezone
from django.utils.translation import gettext as _
from import_export import fields, resources

from tasks.models import Task


class TaskResource(resources.ModelResource):
    plan = fields.Field(attribute="measure__plan__title", column_name="计划", readonly=True)
    number = fields.Field(attribute="measure__number", column_name="序号", readonly=True)
    measure = fields.Field(attribute="measure__text", column_name="措施", readonly=True)
    agency = fields.Field(attribute="agency__name", column_name="单位", readonly=True)
    jurisdiction = fields.Field(attribute="agency__jurisdiction", column_name="行政区划", readonly=True)
    role = fields.Field(column_name="角色", readonly=True)
    due = fields.Field(column_name="截止日期", readonly=True)
    next_report_due = fields.Field(column_name="下次报送", readonly=True)
    status = fields.Field(column_name="状态", readonly=True)
    percent = fields.Field(attribute="percent", column_name="进度(%)", readonly=True)
    light = fields.Field(column_name="灯号", readonly=True)
    updated_at = fields.Field(column_name="更新时间", readonly=True)

    class Meta:
        model = Task
        fields = (
            "id",
            "plan",
            "number",
            "measure",
            "agency",
            "jurisdiction",
            "role",
            "due",
            "next_report_due",
            "status",
            "percent",
            "light",
            "updated_at",
        )
        export_order = fields

    def filter_export(self, queryset, **kwargs):
        return queryset.select_related("measure__plan", "agency")

    def dehydrate_role(self, task: Task) -> str:
        return str(task.get_role_display())

    def dehydrate_status(self, task: Task) -> str:
        return str(task.get_status_display())

    def dehydrate_due(self, task: Task):
        return _("持续推进") if task.is_ongoing else task.due_date

    def dehydrate_next_report_due(self, task: Task):
        return task.next_report_due

    def dehydrate_light(self, task: Task) -> str:
        return str(task.get_light(timezone.localdate()).label)

    def dehydrate_updated_at(self, task: Task):
        return timezone.localtime(task.updated_at).replace(tzinfo=None, second=0, microsecond=0)
