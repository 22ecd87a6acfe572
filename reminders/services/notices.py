"""Notifications of events: decisions, new requests and reports, changed due dates, reassignments, 催办.

Each event becomes outbox rows (``ReminderLog``) keyed by the event and the channel: one inbox row per
user (the 消息 page reads them) and one email row per address, so a repeated request, a retried job or a
double click never tells anyone twice. Each user chooses per kind in 我的设置 (``NotificationPreference``):
email at once, in the daily digest (rows wait as "held" until the next sweep) or not at all; inbox or not.
The people who act are never told about their own action.

Workspace services call the ``on_*`` functions inside their transaction; emails go out after commit.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from agencies.models import Liaison
from agencies.roles import LEAD_BUREAU_GROUP
from ipplan.lib.emails import EMAIL_LANGUAGE, render_parts, task_url

from ..models import NotificationPreference, ReminderLog
from .outbox import dispatch_with_celery

Kind = ReminderLog.Kind
Channel = ReminderLog.Channel
Status = ReminderLog.Status
EmailMode = NotificationPreference.Email

# The kinds a user can choose about in 我的设置, by who receives them.
LIAISON_KINDS = [
    Kind.EXTENSION_DECIDED,
    Kind.COMPLETION_REVIEWED,
    Kind.DUE_DATE_CHANGED,
    Kind.REASSIGNED,
    Kind.URGE,
    Kind.SUPPORT_REPORT,
]
LEAD_BUREAU_KINDS = [Kind.NEW_REQUEST, Kind.NEW_REPORT]
# 催办 emails are the lead bureau's instruction and always go out (reminders/services/compute.py); only
# their inbox copy follows the preference.
EMAIL_ALWAYS = {Kind.URGE}


@dataclass(frozen=True)
class Recipient:
    user_id: int
    email: str
    name: str


@dataclass(frozen=True)
class Notice:
    kind: str
    key: str  # unique per event within its kind, e.g. "extension-12-decided"
    title: str
    body: str
    url: str


@dataclass(frozen=True)
class Choice:
    email: str = EmailMode.INSTANT
    inbox: bool = True


def preferences(user_ids: Iterable[int], kind: str) -> dict[int, Choice]:
    rows = NotificationPreference.objects.filter(user_id__in=set(user_ids), kind=kind)
    return {row.user_id: Choice(email=row.email, inbox=row.inbox) for row in rows}


def liaisons_of(agency_ids: Iterable[int]) -> list[Recipient]:
    rows = (
        Liaison.objects.filter(agency_id__in=set(agency_ids), user__is_active=True)
        .order_by("user_id", "pk")
        .values_list("user_id", "email", "user__first_name", "user__username")
    )
    return [Recipient(user_id, email, first or username) for user_id, email, first, username in rows]


def lead_bureau() -> list[Recipient]:
    rows = (
        get_user_model()
        .objects.filter(is_active=True, groups__name=LEAD_BUREAU_GROUP)
        .order_by("pk")
        .values_list("pk", "email", "first_name", "username")
    )
    return [Recipient(pk, email, first or username) for pk, email, first, username in rows]


def notify(
    notice: Notice,
    recipients: Iterable[Recipient],
    *,
    actor=None,
    dispatch: Callable[[list[int]], None] | None = dispatch_with_celery,
) -> list[int]:
    """Claim the notice's rows for every recipient on the channels they chose; send emails after commit.
    Returns the ids of email rows still to send. Call inside the transaction that made the event."""
    actor_id = getattr(actor, "pk", None)
    recipients = [r for r in recipients if r.user_id != actor_id]
    if not recipients:
        return []
    choices = preferences((r.user_id for r in recipients), notice.kind)
    now, day = timezone.now(), timezone.localdate()
    rows, seen_users, seen_emails = [], set(), set()
    for recipient in recipients:
        choice = choices.get(recipient.user_id, Choice())
        if choice.inbox and recipient.user_id not in seen_users:
            seen_users.add(recipient.user_id)
            rows.append(
                ReminderLog(
                    channel=Channel.INBOX,
                    user_id=recipient.user_id,
                    recipient=recipient.name[:254],
                    kind=notice.kind,
                    period=notice.key,
                    day=day,
                    status=Status.SENT,
                    claimed_at=now,
                    sent_at=now,
                    attempts=1,
                    subject=notice.title[:300],
                    body_text=notice.body,
                    url=notice.url[:300],
                )
            )
        address = recipient.email.strip().lower()
        mode = EmailMode.INSTANT if notice.kind in EMAIL_ALWAYS else choice.email
        if not address or mode == EmailMode.OFF or address in seen_emails:
            continue
        seen_emails.add(address)
        subject, text, html = render_parts("notice", {"notice": notice, "recipient": recipient.name})
        rows.append(
            ReminderLog(
                channel=Channel.EMAIL,
                user_id=recipient.user_id,
                recipient=address,
                kind=notice.kind,
                period=notice.key,
                day=day,
                status=Status.HELD if mode == EmailMode.DAILY else Status.PENDING,
                reason=_("每日汇总") if mode == EmailMode.DAILY else "",
                subject=subject[:300],
                body_text=text,
                body_html=html,
                url=notice.url[:300],
            )
        )
    ReminderLog.objects.bulk_create(rows, ignore_conflicts=True)
    pending = list(
        ReminderLog.objects.filter(channel=Channel.EMAIL, kind=notice.kind, period=notice.key)
        .deliverable()
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    if dispatch is not None and pending:
        transaction.on_commit(lambda: dispatch(pending), robust=True)
    return pending


# The daily digest of held notices (run by the sweep) ----------------------------------------------------


def claim_notice_digests(day: datetime.date, *, until: datetime.datetime | None = None) -> list[int]:
    """One 每日消息汇总 email per address with held notices created before ``until`` (the sweep's time);
    the held rows are marked as digested in the same transaction. Returns the digest rows to send."""
    until = until or timezone.now()
    with transaction.atomic():
        held = list(
            ReminderLog.objects.select_for_update()
            .filter(channel=Channel.EMAIL, status=Status.HELD, created_at__lt=until)
            .order_by("recipient", "created_at", "pk")
        )
        by_address: dict[str, list[ReminderLog]] = defaultdict(list)
        for row in held:
            by_address[row.recipient].append(row)
        digests = []
        for address, items in by_address.items():
            user = items[0].user
            name = (user.first_name or user.username) if user else address
            subject, text, html = render_parts(
                "notice_digest", {"rows": items, "recipient": name, "day": day}
            )
            digests.append(
                ReminderLog(
                    channel=Channel.EMAIL,
                    user_id=items[0].user_id,
                    recipient=address,
                    kind=Kind.NOTICE_DIGEST,
                    period=day.isoformat(),
                    day=day,
                    subject=subject[:300],
                    body_text=text,
                    body_html=html,
                    reason=_("%(n)d 条消息") % {"n": len(items)},
                )
            )
        ReminderLog.objects.bulk_create(digests, ignore_conflicts=True)
        ReminderLog.objects.filter(pk__in=[row.pk for row in held]).update(status=Status.DIGESTED)
    return list(
        ReminderLog.objects.filter(channel=Channel.EMAIL, kind=Kind.NOTICE_DIGEST, period=day.isoformat())
        .deliverable()
        .values_list("pk", flat=True)
    )


# Events --------------------------------------------------------------------------------------------------


def _notice(kind: str, key: str, task, title: str, body: str) -> Notice:
    return Notice(kind=kind, key=key, title=title, body=body, url=task_url(task))


def _where(task) -> str:
    measure = task.measure
    return f"{measure.plan.title} · 第{measure.number}项 · {measure.summary}({task.agency})"


def _when(moment: datetime.datetime | None) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M") if moment else ""


def _person(user) -> str:
    if user is None:
        return "—"
    return user.get_full_name() or user.username


def on_extension_requested(extension, *, actor) -> None:
    task = extension.task
    with translation.override(EMAIL_LANGUAGE):
        notice = _notice(
            Kind.NEW_REQUEST,
            f"extension-{extension.pk}-requested",
            task,
            _("【%(kind)s】%(agency)s 申请延至 %(date)s")
            % {
                "kind": extension.kind_label,
                "agency": task.agency.display_name,
                "date": extension.requested_due_date,
            },
            _("%(where)s\n申请人:%(who)s,%(when)s\n原截止日期:%(old)s\n延期理由:%(reason)s")
            % {
                "where": _where(task),
                "who": _person(extension.requested_by),
                "when": _when(extension.requested_at),
                "old": extension.current_due_date,
                "reason": extension.reason,
            },
        )
    notify(notice, lead_bureau(), actor=actor)


def on_extension_decided(extension, *, actor) -> None:
    task = extension.task
    approved = extension.decision == extension.Decision.APPROVED
    with translation.override(EMAIL_LANGUAGE):
        outcome = _("同意延期至 %(d)s") % {"d": extension.requested_due_date} if approved else _("不同意延期")
        body = _("%(where)s\n审核结果:%(outcome)s\n审核人:%(who)s,%(when)s") % {
            "where": _where(task),
            "outcome": outcome,
            "who": _person(extension.decided_by),
            "when": _when(extension.decided_at),
        }
        if extension.decision_reason:
            body += "\n" + _("审核意见:%(r)s") % {"r": extension.decision_reason}
        notice = _notice(
            Kind.EXTENSION_DECIDED,
            f"extension-{extension.pk}-decided",
            task,
            _("【%(kind)s】%(outcome)s") % {"kind": extension.kind_label, "outcome": outcome},
            body,
        )
    notify(notice, liaisons_of([task.agency_id]), actor=actor)


def on_progress_submitted(update, *, actor) -> None:
    """A report or a completion request: the lead bureau hears of it; on a measure the task supports,
    the lead agency's liaisons hear of it too."""
    from tasks.models import Task

    task = update.task
    completion = update.status == Task.Status.COMPLETION_REQUESTED
    with translation.override(EMAIL_LANGUAGE):
        body = _("%(where)s\n报送人:%(who)s,%(when)s\n完成进度:%(percent)d%%\n%(text)s") % {
            "where": _where(task),
            "who": _person(update.author),
            "when": _when(update.created_at),
            "percent": update.percent,
            "text": update.text,
        }
        if completion:
            title = _("【办结申请】%(agency)s 申请办结") % {"agency": task.agency.display_name}
        else:
            title = _("【进展报送】%(agency)s 报送了进展") % {"agency": task.agency.display_name}
        kind = Kind.NEW_REQUEST if completion else Kind.NEW_REPORT
        notify(_notice(kind, f"report-{update.pk}", task, title, body), lead_bureau(), actor=actor)
        if task.role == Task.Role.SUPPORT:
            support_title = _("【配合单位报送】%(agency)s 在您牵头的措施上报送了进展") % {
                "agency": task.agency.display_name
            }
            # Linked to the lead agency's own task: its page shows the supports' reports and attachments.
            for lead_task in Task.objects.filter(measure_id=task.measure_id, role=Task.Role.LEAD):
                notify(
                    _notice(Kind.SUPPORT_REPORT, f"report-{update.pk}", lead_task, support_title, body),
                    liaisons_of([lead_task.agency_id]),
                    actor=actor,
                )


def on_completion_reviewed(update, *, actor) -> None:
    task = update.task
    approved = update.review_decision == update.ReviewDecision.APPROVED
    with translation.override(EMAIL_LANGUAGE):
        outcome = _("同意办结") if approved else _("退回办结申请")
        body = _("%(where)s\n审核结果:%(outcome)s\n审核人:%(who)s,%(when)s") % {
            "where": _where(task),
            "outcome": outcome,
            "who": _person(update.reviewed_by),
            "when": _when(update.reviewed_at),
        }
        if update.review_reason:
            body += "\n" + _("审核意见:%(r)s") % {"r": update.review_reason}
        notice = _notice(
            Kind.COMPLETION_REVIEWED,
            f"report-{update.pk}-reviewed",
            task,
            _("【办结审核】%(outcome)s") % {"outcome": outcome},
            body,
        )
    notify(notice, liaisons_of([task.agency_id]), actor=actor)


def _latest_history_id(task) -> int:
    return task.history.order_by("-history_id").values_list("history_id", flat=True).first() or 0


def on_due_date_changed(task, *, actor, old: datetime.date | None, reason: str) -> None:
    with translation.override(EMAIL_LANGUAGE):
        notice = _notice(
            Kind.DUE_DATE_CHANGED,
            f"task-{task.pk}-change-{_latest_history_id(task)}",
            task,
            _("【截止日期调整】%(old)s → %(new)s") % {"old": old or "—", "new": task.due_date},
            _("%(where)s\n调整人:%(who)s,%(when)s\n调整原因:%(reason)s")
            % {"where": _where(task), "who": _person(actor), "when": _when(timezone.now()), "reason": reason},
        )
    notify(notice, liaisons_of([task.agency_id]), actor=actor)


def on_reassigned(task, *, actor, previous_agency, reason: str) -> None:
    with translation.override(EMAIL_LANGUAGE):
        notice = _notice(
            Kind.REASSIGNED,
            f"task-{task.pk}-change-{_latest_history_id(task)}",
            task,
            _("【任务调整】由 %(old)s 改为 %(new)s 承办") % {"old": previous_agency, "new": task.agency},
            _("%(where)s\n调整人:%(who)s,%(when)s\n调整原因:%(reason)s")
            % {"where": _where(task), "who": _person(actor), "when": _when(timezone.now()), "reason": reason},
        )
    notify(notice, liaisons_of([task.agency_id, previous_agency.pk]), actor=actor)


def on_urged(emails, *, actor) -> None:
    """The inbox copy of a 催办 (its emails went through the sweep's outbox path, keyed the same way)."""
    for email in emails:
        if email.skip_reason or not email.lines:
            continue
        lines = "\n".join(
            f"· {line.plan_title} · 第{line.measure_number}项 · {line.summary}" for line in email.lines
        )
        with translation.override(EMAIL_LANGUAGE):
            notice = Notice(
                kind=Kind.URGE,
                key=email.period,
                title=_("【催办】请尽快办理 %(n)d 项任务") % {"n": len(email.lines)},
                body=lines,
                url=email.lines[0].url if len(email.lines) == 1 else f"{settings.SITE_URL}/tasks/",
            )
        # Inbox only: the email itself is the 催办 row the caller claimed.
        inbox = [Recipient(r.user_id, "", r.name) for r in liaisons_of(email.agency_ids)]
        notify(notice, inbox, actor=actor, dispatch=None)
