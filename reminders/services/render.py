"""Rendering reminder emails: task lines formatted once in Python (an email can list 150,000 of them), and
the subject / text / HTML of each email through ``ipplan.lib.emails.render_parts``, always in Chinese."""

from __future__ import annotations

import functools
import html
from typing import TYPE_CHECKING

from django.conf import settings
from django.urls import reverse
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
# A digest or 催办 lists at most this many tasks; the rest are counted ("另有 N 项") and linked (我的任务).
MAX_DIGEST_LINES = 50
# An escalation names at most this many agencies nobody could tell; the dashboard's panel lists them all.
MAX_GAPS = 50
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
            "longest": _("最长逾期 %(days)d 天"),
            "not_notified": _("(未能通知该单位)"),
            "roles": {role.value: str(role.label) for role in Task.Role},
        }


def wording() -> dict:
    """The words of task lines, translated once per language (an email may list thousands of lines)."""
    return _wording(translation.get_language() or "zh-hans")


def lines_text_html(lines: list[TaskLine], links: dict[int, str] | None = None) -> tuple[str, SafeString]:
    """Both renderings of the lines, each line formatted once (``links``: one-click 签收 links by task)."""
    words = wording()
    links = links or {}
    text, rows = [], []
    for number, line in enumerate(lines, 1):
        line_text, line_html = line.items(words)
        url = links.get(line.pk)
        text.append(f"{number}. {line_text}" + (f"   {words['sign']}:{url}\n" if url else ""))
        rows.append(
            f"<tr><td {CELL}>{number}.</td><td {CELL}>{line_html}{_sign_html(url, words)}</td></tr>\n"
        )
    return "".join(text), _table("".join(rows))


def _table(rows: str) -> SafeString:
    return mark_safe(f'<table style="border-collapse:collapse;width:100%;font-size:14px">\n{rows}</table>')


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
    return _table(rows)


def render(email: Email) -> tuple[str, str, str]:
    """(subject, text, html) of an email, in Chinese whatever language the caller is in."""
    with translation.override(EMAIL_LANGUAGE):
        return _render(email)


def agency_tasks_url(agency_id: int) -> str:
    """The workspace's task list of one agency, red lights only (where its overdue tasks are)."""
    return f"{settings.SITE_URL}/tasks/?agency={agency_id}&light=red"


def admin_url(name: str, *args) -> str:
    return settings.SITE_URL + reverse(f"admin:{name}", args=args)


def groups_text_html(groups: list[dict]) -> tuple[str, SafeString, str]:
    """An escalation's body by agency with its task lines: (text, html, one-line overview). For a liaison
    told about the support agencies of its measures (a handful); the lead bureau's escalation, which can name
    a thousand agencies, gives counts instead (``counts_text_html``)."""
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


def counts_text_html(groups: list[dict], not_notified: set[int]) -> tuple[str, SafeString]:
    """The lead bureau's escalation: one line per agency (count, longest delay, link to its task list), so
    the mail stays small at a thousand agencies; every task is in the attached workbook."""
    words = wording()
    text, rows = [], []
    for number, group in enumerate(groups, 1):
        agency, url = group["agency"], agency_tasks_url(group["agency_id"])
        count = words["count"] % {"n": group["count"]}
        longest = words["longest"] % {"days": group["max_days"]}
        flag = words["not_notified"] if group["agency_id"] in not_notified else ""
        text.append(f"{number}. {agency}:{count},{longest}{flag}\n   {url}\n")
        flag_html = f' <strong style="color:#c01c28">{escape(flag)}</strong>' if flag else ""
        rows.append(
            f'<tr><td {CELL}>{number}.</td><td {CELL}><a href="{escape(url)}" style="color:#1a5fb4">'
            f"{escape(agency)}</a>{flag_html}</td><td {CELL}>{count}</td><td {CELL}>{longest}</td></tr>\n"
        )
    html = '<table style="border-collapse:collapse;width:100%;font-size:14px">\n' + "".join(rows) + "</table>"
    return "".join(text), mark_safe(html)


def gap_lines(gaps, kind: str) -> list[dict]:
    """Agencies nobody could tell, with the admin page where to fix it."""
    if kind == "memberless":
        return [{"gap": gap, "url": admin_url("agencies_agency_change", gap.pk)} for gap in gaps]
    return [
        {
            "gap": gap,
            "url": f"{admin_url('agencies_liaison_changelist')}?agency__id__exact={gap.pk}"
            if gap.liaisons
            else f"{admin_url('agencies_liaison_add')}?agency={gap.pk}",
        }
        for gap in gaps
    ]


def shown_lines(email: Email, limit: int = MAX_DIGEST_LINES) -> list[TaskLine]:
    """The lines a digest (or 催办) lists, in the order ``capped_sections`` shows them."""
    shown: list[TaskLine] = []
    for section in email.sections():
        shown += section["lines"][: limit - len(shown)]
        if len(shown) >= limit:
            break
    return shown


def capped_sections(email: Email, limit: int) -> tuple[list[dict], int]:
    """The digest's (or 催办's) sections with at most ``limit`` lines in all, and how many were left out."""
    sections, room = [], limit
    for section in email.sections():
        lines = section["lines"][:room]
        room -= len(lines)
        if lines:
            text, html = lines_text_html(lines, email.action_links)
            sections.append(
                {**section, "count": len(section["lines"]), "shown": len(lines), "text": text, "html": html}
            )
    return sections, max(len(email.lines) - limit, 0)


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
        extra = {
            "agency_count": len(groups),
            "overview": "、".join(f"{group['agency']} {group['count']}" for group in groups[:20]),
            "overview_more": max(len(groups) - 20, 0),
            "attachment_name": attachment_name(email.day),
            "not_reached": gap_lines(email.not_reached[:MAX_GAPS], "unreachable"),
            "memberless": gap_lines(
                email.memberless[: max(MAX_GAPS - len(email.not_reached), 0)], "memberless"
            ),
            "gaps_more": max(len(email.not_reached) + len(email.memberless) - MAX_GAPS, 0),
            "dashboard_url": f"{settings.SITE_URL}{reverse('workspace:dashboard')}#delivery-problems",
        }
        if email.agency_names:  # a lead agency's liaison: its support agencies' lines
            text, html, _overview = groups_text_html(groups)
        else:
            not_notified = {gap.pk for gap in [*email.not_reached, *email.memberless]}
            text, html = counts_text_html(groups, not_notified)
        return render_parts("escalation", {**ctx, **extra, "groups_text": text, "groups_html": html})
    sections, more = capped_sections(email, MAX_DIGEST_LINES)
    extra = {
        "sections": sections,
        "more": more,
        "tasks_url": f"{settings.SITE_URL}{reverse('workspace:task_list')}",
        "profile_url": f"{settings.SITE_URL}{reverse('workspace:profile')}",
    }
    if email.kind == Kind.URGE:
        return render_parts("urge", {**ctx, **extra})
    return render_parts("digest", {**ctx, **extra})


def attachment_name(day) -> str:
    return f"逾期上报任务清单-{day:%Y%m%d}.xlsx"
