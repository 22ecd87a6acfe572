"""Excel 任务分工表 (division-of-labour tables) out through django-import-export.

A row is one measure: 序号 / 重点任务 / 牵头单位 / 配合单位 / 责任单位 / 完成时限. Tables come in through the plan
import (the table reader, tasks/parsing/tables.py, and the editable preview), never through import-export.
"""

from __future__ import annotations

from import_export import fields, resources

from .models import Measure, Task

HEADER_LABELS = {
    "number": "序号",
    "text": "重点任务",
    "lead": "牵头单位",
    "support": "配合单位",
    "responsible": "责任单位",
    "deadline": "完成时限",
}


class DivisionTableResource(resources.ModelResource):
    number = fields.Field(attribute="number", column_name="number")
    text = fields.Field(attribute="text", column_name="text")
    lead = fields.Field(column_name="lead")
    support = fields.Field(column_name="support")
    responsible = fields.Field(column_name="responsible")
    deadline = fields.Field(attribute="raw_deadline", column_name="deadline")

    class Meta:
        model = Measure
        fields = ("number", "text", "lead", "support", "responsible", "deadline")

    # --- export: the same shape -----------------------------------------------------------------------------

    def get_export_headers(self, selected_fields=None):
        return [HEADER_LABELS[name] for name in self._meta.fields]

    def _agencies(self, measure: Measure, *roles: str) -> str:
        return "、".join(t.agency.name for t in measure.tasks.all() if t.role in roles)

    def dehydrate_lead(self, measure: Measure) -> str:
        return self._agencies(measure, Task.Role.LEAD)

    def dehydrate_support(self, measure: Measure) -> str:
        return self._agencies(measure, Task.Role.SUPPORT)

    def dehydrate_responsible(self, measure: Measure) -> str:
        return self._agencies(measure, Task.Role.RESPONSIBLE)

    def dehydrate_deadline(self, measure: Measure) -> str:
        if measure.raw_deadline:
            return measure.raw_deadline
        return (
            "持续推进"
            if measure.is_ongoing
            else (measure.deadline_date.isoformat() if measure.deadline_date else "")
        )

    def filter_export(self, queryset, **kwargs):
        return queryset.prefetch_related("tasks__agency")
