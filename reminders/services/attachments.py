"""Files attached to a message at send time (channels.send_email calls ``for_log``).

The escalation's body gives counts per agency; the tasks themselves travel as an .xlsx made from the row's
linked tasks when the mail is sent, so the outbox row stays small and a resend carries the current list.
Written by ipplan.lib.xlsx (a thousand workbooks a sweep: one per lead agency's escalation, and the lead
bureau's), where every text cell is text: a measure typed as ``=…`` is never a formula (safe_cells' rule).
"""

from __future__ import annotations

import functools

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _

from ipplan.lib.emails import EMAIL_LANGUAGE
from ipplan.lib.xlsx import MIMETYPE as XLSX
from ipplan.lib.xlsx import write_sheet
from tasks.models import Task

from ..models import ReminderLog, ReminderLogTask
from .render import attachment_name

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


# Lists longer than this are read a chunk at a time (a server-side cursor on PostgreSQL, which costs round
# trips of its own: a lead agency's few dozen tasks are read in one go).
STREAM_ABOVE = 5000


@functools.cache
def _rows_query():
    """The workbook's query, but for the tasks it lists: built once (its annotations take
    milliseconds to set up, and a sweep's escalations make a thousand workbooks)."""
    return (
        Task.objects.with_attention()
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
    )


def escalation_workbook(log: ReminderLog, task_ids: list[int]) -> bytes:
    """One row per linked task (``task_ids``), most overdue first within each agency, agencies by name."""
    with translation.override(EMAIL_LANGUAGE):
        roles = {role.value: str(role.label) for role in Task.Role}
        statuses = {status.value: str(status.label) for status in Task.Status}
        title = _("逾期上报任务")
    rows = _rows_query().filter(pk__in=task_ids)
    if len(task_ids) > STREAM_ABOVE:  # the lead bureau's list: streamed, never all rows at once
        rows = rows.iterator(chunk_size=STREAM_ABOVE)
    day = log.day
    site = settings.SITE_URL
    return write_sheet(
        title,
        HEADERS,
        (
            # Text as it was typed: the writer makes every text cell text, never a formula (safe_cells).
            [
                number,
                agency,
                plan,
                measure_number,
                text,
                roles.get(role, role),
                attention,
                (day - attention).days if attention and attention < day else 0,
                statuses.get(status, status),
                f"{site}/tasks/{pk}/",
            ]
            for number, (pk, agency, plan, measure_number, text, role, attention, status) in enumerate(
                rows, 1
            )
        ),
    )
