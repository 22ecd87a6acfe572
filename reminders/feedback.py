"""What a send (催办, the admin's resend, 立即发送) actually did, in words for the page's messages.

Never more than what happened: queued is not sent, and a broker that cannot be reached is said so."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from .models import ReminderLog
from .services import DispatchReport, Resend


def _who(log_ids: list[int], *, with_error: bool = False) -> str:
    rows = ReminderLog.objects.filter(pk__in=log_ids).order_by("recipient").values_list("recipient", "error")
    names = []
    for recipient, error in rows:
        name = recipient or "—"
        if with_error and error:
            name += f"({error.splitlines()[0][:120]})"
        names.append(name)
    return "、".join(names)


IN_FLIGHT = gettext_lazy("%(n)d 封正在发送,未重复提交:%(who)s。")
# What one dispatch did, per outcome: (DispatchReport field, level, words). The words name the recipients.
REPORTED = [
    ("queued", messages.SUCCESS, gettext_lazy("已提交后台发送 %(n)d 封:%(who)s。发送结果见提醒邮件记录。")),
    ("sent", messages.SUCCESS, gettext_lazy("已发出 %(n)d 封:%(who)s。")),
    (
        "failed",
        messages.ERROR,
        gettext_lazy(
            "%(n)d 封发送失败,收件人尚未收到:%(who)s。系统将自动重试,%(days)d 天内仍未发出的标记为已放弃。"
        ),
    ),
    ("left", messages.ERROR, gettext_lazy("%(n)d 封尚未发出,收件人尚未收到:%(who)s。后台恢复后将自动补发。")),
    ("in_flight", messages.INFO, IN_FLIGHT),
]
# What a resend left alone, and why: (Resend field, level, words).
LEFT_ALONE = [
    ("in_flight", messages.INFO, IN_FLIGHT),
    ("sent", messages.INFO, gettext_lazy("%(n)d 封已发送过,未重复发送:%(who)s。")),
    (
        "unsendable",
        messages.WARNING,
        gettext_lazy("%(n)d 条无需或无法发送(无收件人、站内消息或待每日汇总)。"),
    ),
]


def _outcomes(source, table) -> list[tuple[int, str]]:
    out = []
    for field_name, level, words in table:
        if ids := getattr(source, field_name):
            who = _who(ids, with_error=field_name == "failed") if "%(who)s" in str(words) else ""
            values = {"n": len(ids), "who": who, "days": settings.REMINDER_RETRY_WINDOW_DAYS}
            out.append((level, str(words) % values))
    return out


def report_messages(report: DispatchReport | None, count: int) -> list[tuple[int, str]]:
    """(level, text) pairs for ``messages`` describing one dispatch of ``count`` rows."""
    if report is None:
        return [(messages.INFO, _("已记录 %(n)d 封,将在保存后发送。") % {"n": count})]
    out = []
    if report.broker_error:
        out.append((messages.WARNING, _("消息队列暂时无法连接,已改为由本服务器直接发送。")))
    return out + _outcomes(report, REPORTED)


def resend_messages(again: Resend | None) -> list[tuple[int, str]]:
    """The selected rows a resend left alone, and why."""
    return [] if again is None else _outcomes(again, LEFT_ALONE)


def add_messages(request, pairs: list[tuple[int, str]]) -> None:
    for level, text in pairs:
        messages.add_message(request, level, text)


def urge_messages(result, task_count: int) -> list[tuple[int, str]]:
    """The whole story of one 催办: what went out, what did not and who cannot be reached."""
    out = []
    if result.dispatched:
        out.append(
            (
                messages.INFO,
                _("催办 %(tasks)d 项任务,涉及 %(n)d 封催办邮件:")
                % {"tasks": task_count, "n": len(result.dispatched)},
            )
        )
        out += report_messages(result.report, len(result.dispatched))
    out += resend_messages(result.again)
    for email in result.skipped:
        out.append(
            (
                messages.WARNING,
                _("%(agency)s:%(reason)s,未发送。")
                % {"agency": "、".join(email.agency_names), "reason": email.skip_reason},
            )
        )
    if not result.emails:
        out.append((messages.WARNING, _("所选任务均已办结,无需催办。")))
    return out
