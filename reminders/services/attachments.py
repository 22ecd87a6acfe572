"""Files attached to a message at send time (channels.send_email calls ``for_log``).

The escalation's body gives counts per agency; the tasks themselves travel as an .xlsx made from the row's
linked tasks when the mail is sent, so the outbox row stays small and a resend carries the current list.
Every text cell goes through ipplan.lib.safe_cells: a measure typed as ``=…`` is never a formula.
"""

from __future__ import annotations

import io

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ERROR_CODES

from ipplan.lib.emails import EMAIL_LANGUAGE
from ipplan.lib.safe_cells import is_formula_like, set_cell_value
from tasks.models import Task

from ..models import ReminderLog, ReminderLogTask
from .render import attachment_name

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# The lead bureau's escalation goes to every 督办人员 with the same tasks: build the workbook once.
_last: dict[tuple, bytes] = {}


def for_log(log: ReminderLog) -> list[tuple[str, bytes, str]]:
    """(file name, content, MIME type) of each file to attach to this row's email."""
    if log.kind != ReminderLog.Kind.ESCALATION:
        return []
    task_ids = list(
        ReminderLogTask.objects.filter(log=log).order_by("task_id").values_list("task_id", flat=True)
    )
    if not task_ids:
        return []
    key = (log.day, hash(tuple(task_ids)))
    content = _last.get(key)
    if content is None:
        content = escalation_workbook(log, task_ids)
        _last.clear()
        _last[key] = content
    return [(attachment_name(log.day), content, XLSX)]


HEADERS = [
    "序号",
    "单位",
    "计划",
    "措施序号",
    "措施内容",
    "角色",
    "截止/应报日期",
    "逾期天数",
    "状态",
    "链接",
]


def escalation_workbook(log: ReminderLog, task_ids: list[int]) -> bytes:
    """One row per linked task, most overdue first within each agency, agencies by name."""
    with translation.override(EMAIL_LANGUAGE):
        roles = {role.value: str(role.label) for role in Task.Role}
        statuses = {status.value: str(status.label) for status in Task.Status}
        title = _("逾期上报任务")
    rows = (
        Task.objects.filter(pk__in=task_ids)
        .with_attention()
        .order_by("agency__name", "attention_date", "pk")
        .values_list(
            "pk",
            "agency__name",
            "measure__plan__title",
            "measure__number",
            "measure__text",
            "role",
            "attention_date",
            "status",
        )
        .iterator(chunk_size=5000)
    )
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title)
    ws.freeze_panes = "A2"
    ws.append([set_cell_value(WriteOnlyCell(ws), header) for header in HEADERS])
    day = log.day
    site = settings.SITE_URL
    for number, (pk, agency, plan, measure_number, text, role, attention, status) in enumerate(rows, 1):
        # Plain values: openpyxl writes them through one reused cell, and a date gets yyyy-mm-dd. Only text
        # that could read as a formula needs a cell of its own, typed as text (safe_cells).
        ws.append(
            [
                number,
                _text(ws, agency),
                _text(ws, plan),
                _text(ws, measure_number),
                _text(ws, text),
                roles.get(role, role),
                attention,
                (day - attention).days if attention and attention < day else 0,
                statuses.get(status, status),
                f"{site}/tasks/{pk}/",
            ]
        )
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def _text(ws, value):
    """Text as it was typed: text openpyxl would take for a formula or an error code (``#N/A``) in a cell
    typed as text, anything else as it is."""
    if is_formula_like(value) or value in ERROR_CODES:
        return set_cell_value(WriteOnlyCell(ws), value)
    return value
