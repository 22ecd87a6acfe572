"""Excel 任务分工表 (division-of-labour tables) in and out through django-import-export.

A row is one measure: 序号 / 重点任务 / 牵头单位 / 配合单位 / 责任单位 / 完成时限, under any of the header names
such tables use. Agencies and deadlines go through the same parser functions and catalogue resolution as
plan documents, so a table and a document of the same plan import to the same tasks.
"""

from __future__ import annotations

import re

from django.utils import timezone
from import_export import fields, resources

from agencies.resolution import AgencyResolver

from .models import Measure, Plan, Task
from .parsing import Assignment, ParsedMeasure, parse_deadline, split_agencies
from .services.importing import ImportResult, _sync_tasks

# Canonical column → header names seen in real tables (compared without spaces and brackets' contents).
HEADER_SYNONYMS: dict[str, tuple[str, ...]] = {
    "number": ("序号", "编号", "任务编号", "序", "No"),
    "text": (
        "重点任务",
        "工作任务",
        "任务内容",
        "主要任务",
        "具体任务",
        "工作措施",
        "具体措施",
        "任务措施",
        "工作内容",
        "任务",
    ),
    "lead": ("牵头单位", "牵头部门", "牵头责任单位", "责任单位(牵头)", "主责单位"),
    "support": ("配合单位", "配合部门", "协办单位", "参与单位", "协同单位"),
    "responsible": ("责任单位", "责任部门", "承办单位", "实施单位"),
    "deadline": ("完成时限", "完成时间", "时间节点", "时限要求", "时限", "完成期限", "进度安排"),
}
HEADER_LABELS = {
    "number": "序号",
    "text": "重点任务",
    "lead": "牵头单位",
    "support": "配合单位",
    "responsible": "责任单位",
    "deadline": "完成时限",
}


def _header_key(header: str) -> str | None:
    cleaned = re.sub(r"\s+", "", str(header or "")).replace("（", "(").replace("）", ")")
    for key, names in HEADER_SYNONYMS.items():
        if cleaned in names:
            return key
    bare = re.sub(r"\(.*?\)", "", cleaned)
    for key, names in HEADER_SYNONYMS.items():
        if bare in names:
            return key
    return None


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
        import_id_fields = ("number",)
        skip_unchanged = False
        use_transactions = True
        clean_model_instances = False

    def __init__(self, plan: Plan | None = None, **kwargs):
        super().__init__(**kwargs)
        self.plan = plan
        self.resolver = AgencyResolver(plan.jurisdiction) if plan else None
        self.result = ImportResult(plan=plan) if plan else None
        self.today = timezone.localdate()

    # --- import -------------------------------------------------------------------------------------------

    def before_import(self, dataset, **kwargs):
        if self.plan is None:
            raise ValueError("请选择要导入到的计划。")
        mapping = {header: _header_key(header) for header in dataset.headers}
        dataset.headers = [mapping[h] or str(h) for h in dataset.headers]
        present = set(dataset.headers)
        if "text" not in present:
            raise ValueError("表格中找不到任务内容列(如“重点任务”“工作任务”“任务内容”)。")
        if not present & {"lead", "support", "responsible"}:
            raise ValueError("表格中找不到责任单位列(如“牵头单位”“配合单位”“责任单位”)。")
        for key in ("number", "lead", "support", "responsible", "deadline"):
            if key not in present:
                dataset.append_col([""] * dataset.height, header=key)
        for index, row in enumerate(dataset.dict, start=1):
            if not str(row.get("number") or "").strip():
                dataset[index - 1] = tuple(str(index) if h == "number" else row[h] for h in dataset.headers)

    def get_instance(self, instance_loader, row):
        number = _cell(row, "number")
        return Measure.objects.filter(plan=self.plan, number=number).first()

    def import_instance(self, instance, row, **kwargs):
        text = _cell(row, "text")
        if not text:
            raise ValueError("任务内容为空。")
        deadline = self._deadline(row)
        instance.plan = self.plan
        instance.number = _cell(row, "number")
        instance.text = text
        instance.raw_deadline = _cell(row, "deadline")
        instance.deadline_date = deadline.date if deadline else None
        instance.is_ongoing = bool(deadline and deadline.ongoing)
        instance.is_yearly = bool(deadline and deadline.recurrence == "yearly")
        instance.raw_clause = "；".join(
            f"{HEADER_LABELS[k]}:{_cell(row, k)}" for k in ("lead", "support", "responsible") if _cell(row, k)
        )
        instance.is_removed = False
        if not instance.position:
            instance.position = (
                self.plan.measures.order_by("-position").values_list("position", flat=True).first() or 0
            ) + 1

    def _deadline(self, row):
        text = _cell(row, "deadline")
        if not text:
            return None
        period = (self.plan.period_start, self.plan.period_end) if self.plan.period_end else None
        deadline = parse_deadline(text, period)
        if deadline is None or (deadline.date is None and not deadline.ongoing):
            raise ValueError(f"无法识别完成时限“{text}”。")
        return deadline

    def after_save_instance(self, instance, row, **kwargs):
        assignments = self._assignments(row)
        parsed = ParsedMeasure(
            number=instance.number,
            path=(),
            text=instance.text,
            clause=instance.raw_clause,
            assignments=tuple(assignments),
            deadline=self._deadline(row),
            line=instance.position,
        )
        _sync_tasks(instance, parsed, self.plan, self.resolver, {}, self.today, self.result)

    def _assignments(self, row) -> list[Assignment]:
        leads = split_agencies(_cell(row, "lead"))
        supports = split_agencies(_cell(row, "support"))
        responsible = split_agencies(_cell(row, "responsible"))
        if not (leads or supports or responsible):
            raise ValueError("未填写责任单位。")
        if leads:  # with a lead, everyone else on the row supports it
            others = [n for n in supports + responsible if n not in leads]
            return [Assignment(n, Task.Role.LEAD) for n in leads] + [
                Assignment(n, Task.Role.SUPPORT) for n in others
            ]
        return [Assignment(n, Task.Role.RESPONSIBLE) for n in supports + responsible]

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


def _cell(row, key: str) -> str:
    value = row.get(key)
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()
