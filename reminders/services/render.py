"""Rendering reminder emails: task lines formatted once in Python (an email can list 150,000 of them), and
the subject / text / HTML of each email through ``ipplan.lib.emails.render_parts``, always in Chinese."""

from __future__ import annotations

import functools
import html
from typing import TYPE_CHECKING

from django.conf import settings
from django.utils import translation
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from ipplan.lib.emails import EMAIL_LANGUAGE, render_parts
from tasks.models import Task

from ..models import ReminderLog, ReminderLogTask

if TYPE_CHECKING:
    from .compute import Email, TaskLine

Reason = ReminderLogTask.Reason
Kind = ReminderLog.Kind

LATE_REASONS = {Reason.OVERDUE, Reason.REPORT_MISSING, Reason.ESCALATED, Reason.SUPPORT_OVERDUE}
DIGEST_REASONS = [
    Reason.OVERDUE,
    Reason.DUE_NEXT_DAY,
    Reason.DUE_SOON,
    Reason.REPORT_MISSING,
    Reason.REPORT_DUE,
]


# The stdlib's escape (Django's lazy-aware wrapper is slow over 150,000 lines), cached: plan titles, agency
# names and measure summaries repeat from line to line.
escape = functools.lru_cache(maxsize=65536)(html.escape)


@functools.cache
def _wording(language: str) -> dict:
    with translation.override(language):
        return {
            "overdue": _("已逾期 %(days)d 天(截止日期 %(date)s)"),
            "report_missing": _("定期进展报送已逾期 %(days)d 天(应于 %(date)s 前报送)"),
            "report_due": _("请于 %(date)s 前报送本期进展"),
            "urged_ongoing": _("持续推进,下次报送截止 %(date)s"),
            "urged": _("截止日期 %(date)s"),
            "due_today": _("今天到期(%(date)s)"),
            "due": _("%(date)s 到期,还有 %(days)d 天"),
            "count": _("%(n)d 项"),
            "more": _("……另有 %(n)d 项,请在系统中查看。"),
            "sign": _("一键签收(无需登录)"),
            "roles": {role.value: str(role.label) for role in Task.Role},
        }


def wording() -> dict:
    """The words of task lines, translated once per language (an email may list thousands of lines)."""
    return _wording(translation.get_language() or "zh-hans")


def lines_text(lines: list[TaskLine], links: dict[int, str] | None = None) -> str:
    words = wording()
    if links:  # one-click 签收 links are per recipient: added after the shared, cached line
        return "".join(
            f"{number}. {line.items(words)[0]}"
            + (f"   {words['sign']}:{links[line.pk]}\n" if line.pk in links else "")
            for number, line in enumerate(lines, 1)
        )
    return "".join(f"{number}. {line.items(words)[0]}" for number, line in enumerate(lines, 1))


CELL = 'style="border-bottom:1px solid #eee;padding:6px 4px;vertical-align:top"'


def _sign_html(url: str | None, words: dict) -> str:
    if not url:
        return ""
    return f'<br><a href="{escape(url)}" style="color:#1a5fb4;font-weight:bold">{escape(words["sign"])}</a>'


def lines_html(lines: list[TaskLine], links: dict[int, str] | None = None) -> SafeString:
    words = wording()
    links = links or {}
    rows = "".join(
        f"<tr><td {CELL}>{number}.</td><td {CELL}>{line.items(words)[1]}{_sign_html(links.get(line.pk), words)}"
        "</td></tr>\n"
        for number, line in enumerate(lines, 1)
    )
    return mark_safe(f'<table style="border-collapse:collapse;width:100%;font-size:14px">\n{rows}</table>')


def render(email: Email) -> tuple[str, str, str]:
    """(subject, text, html) of an email, in Chinese whatever language the caller is in."""
    with translation.override(EMAIL_LANGUAGE):
        return _render(email)


def groups_text_html(groups: list[dict]) -> tuple[str, SafeString, str]:
    """An escalation's body by agency: (text, html, one-line overview). Formatted in Python, not in a template
    loop: the lead bureau's escalation can list a thousand agencies."""
    words = wording()
    text, html, overview = [], [], []
    for group in groups:
        agency, count = group["agency"], words["count"] % {"n": group["count"]}
        overview.append(f"{agency} {group['count']}")
        more = words["more"] % {"n": group["more"]} if group["more"] else ""
        text.append(f"\n【{agency}】{count}\n{lines_text(group['lines'])}" + (f"{more}\n" if more else ""))
        html.append(
            f'<h3 style="margin:18px 0 6px">{escape(agency)}({count})</h3>\n{lines_html(group["lines"])}\n'
            + (f'<p style="color:#666">{escape(more)}</p>\n' if more else "")
        )
    return "".join(text), mark_safe("".join(html)), "、".join(overview)


def _render(email: Email) -> tuple[str, str, str]:
    ctx = {
        "email": email,
        "day": email.day,
        "agencies": "、".join(email.agency_names),
        "total": len(email.lines),
        "counts": email.counts(),
        "summary": email.reason_summary(),
        "weekly": "-W" in email.period,
        "action_link_days": settings.ACTION_LINK_DAYS,
    }
    if email.kind == Kind.ESCALATION:
        groups = email.agency_groups()
        text, html, overview = groups_text_html(groups)
        return render_parts(
            "escalation",
            {
                **ctx,
                "agency_count": len(groups),
                "groups_text": text,
                "groups_html": html,
                "overview": overview,
            },
        )
    if email.kind == Kind.URGE:
        return render_parts("urge", {**ctx, "sections": email.rendered_sections()})
    return render_parts("digest", {**ctx, "sections": email.rendered_sections()})
