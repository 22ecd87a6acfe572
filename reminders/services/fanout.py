"""Channels besides email: when ``outbox.claim`` claims the reminder emails of a sweep, a 催办 or an
escalation, the same reminders are claimed for the other channels the people concerned set up —

- the agency's work-group robots (企业微信 / 钉钉; ``AgencyRobot``), one row per robot: recipient
  "robot:<id>", the agency's lines only, as markdown (title, counts, up to ``ROBOT_MAX_LINES`` lines with
  links, "另有 N 项", a link to 我的任务), within the vendor's 4096-byte limit. Posted when one of the
  agency's liaisons on the email keeps 群机器人提醒 on, or when the agency has no liaison email at all;
- the liaison's mobile (SMS), when they turned 短信提醒 on and SMS is configured: one row per number, with
  a short set of template variables (≤ 70 characters together).

Each row has its own key, unique per (channel, recipient, kind, period) in the database
(``channel_once_per_period``), so re-running a sweep or a 催办 claims nothing twice on any channel.
"""

from __future__ import annotations

import datetime
import json
from collections import defaultdict

from django.conf import settings
from django.db.models.functions import Lower
from django.utils import translation
from django.utils.translation import gettext as _

from agencies.models import AgencyRobot, Liaison
from ipplan.lib.emails import EMAIL_LANGUAGE

from ..models import ReminderLog, ReminderLogTask
from .channels import ROBOT_MAX_BYTES, sms_enabled
from .compute import Email, TaskLine
from .render import LATE_REASONS, wording

Kind = ReminderLog.Kind
Status = ReminderLog.Status
Channel = ReminderLog.Channel

FANNED_OUT_KINDS = {Kind.DIGEST, Kind.URGE, Kind.ESCALATION}
EXTRA_CHANNELS = [Channel.WECOM, Channel.DINGTALK, Channel.SMS]
ROBOT_MAX_LINES = 10
SMS_MAX_VARIABLES = 70  # characters of all template variables together


def claim(emails: list[Email], *, batch: str, now: datetime.datetime) -> list[int]:
    """Claim the extra-channel rows of ``emails`` (inside the caller's transaction, with its ``batch`` id);
    return the ids of those to send now: the rows this claim inserted and rows whose retry is due, as for
    email. Called once by ``outbox.claim``."""
    from .outbox import sending_lease  # outbox imports this module

    emails = [email for email in emails if email.kind in FANNED_OUT_KINDS and email.lines]
    if not emails:
        return []
    with translation.override(EMAIL_LANGUAGE):
        wanted = _messages(emails)
    if not wanted:
        return []
    for message in wanted.values():
        message["row"].batch = batch
        message["row"].next_attempt_at = now + sending_lease()  # the recovery job looks again after this
    ReminderLog.objects.bulk_create(
        [message["row"] for message in wanted.values()], batch_size=500, ignore_conflicts=True
    )
    return _pending_and_link(wanted, batch=batch, now=now)


def _messages(emails: list[Email]) -> dict[tuple, dict]:
    addresses = {email.recipient for email in emails if email.recipient}
    liaisons_by_email: dict[str, list[dict]] = defaultdict(list)
    if addresses:
        for liaison in (
            Liaison.objects.filter(user__is_active=True)
            .annotate(address=Lower("email"))
            .filter(address__in=addresses)
            .values(
                "address",
                "agency_id",
                "agency__name",
                "agency__short_name",
                "user_id",
                "mobile",
                "notify_sms",
                "notify_robot",
            )
            .order_by("pk")
        ):
            liaisons_by_email[liaison["address"]].append(liaison)

    robot_agencies: dict[int, set] = {}  # the email's index → agencies whose robots hear of it
    for index, email in enumerate(emails):
        robot_agencies[index] = set()
        if email.skip_reason:
            # Nobody to email: the agency's robot is its only way to hear. Any other skip (the liaison
            # turned reminders off) holds for every channel.
            if not email.recipient and len(email.agency_ids) == 1:
                robot_agencies[index].add(email.agency_ids[0])
            continue
        for liaison in _liaisons_of(email, liaisons_by_email):
            if liaison["notify_robot"]:
                robot_agencies[index].add(liaison["agency_id"])
    robots_by_agency: dict[int, list[AgencyRobot]] = defaultdict(list)
    agency_ids = set().union(*robot_agencies.values())
    if agency_ids:
        for robot in AgencyRobot.objects.filter(is_active=True, agency_id__in=agency_ids).select_related(
            "agency"
        ):
            robots_by_agency[robot.agency_id].append(robot)

    sms_on = sms_enabled()
    wanted: dict[tuple, dict] = {}
    for index, email in enumerate(emails):
        for agency_id in sorted(robot_agencies[index]):
            lines = email.lines if email.kind == Kind.ESCALATION else _of_agency(email.lines, agency_id)
            for robot in robots_by_agency.get(agency_id, []):
                key = (robot.kind, f"robot:{robot.pk}", email.kind, email.period)
                if key in wanted or not lines:
                    continue
                title, markdown = robot_markdown(email, robot.agency.display_name, lines)
                wanted[key] = _message(email, key, lines, [agency_id], email.user_id, title, markdown)
        if email.skip_reason or not sms_on:
            continue
        for liaison in _liaisons_of(email, liaisons_by_email):
            if not (liaison["notify_sms"] and liaison["mobile"]):
                continue
            key = (Channel.SMS, liaison["mobile"], email.kind, email.period)
            if key in wanted:
                continue
            params = sms_params(email, liaison)
            wanted[key] = _message(
                email,
                key,
                email.lines,
                email.agency_ids,
                liaison["user_id"],
                _("短信提醒:%(kind)s") % {"kind": params["kind"]},
                json.dumps(params, ensure_ascii=False),
            )
    return wanted


def _liaisons_of(email: Email, liaisons_by_email: dict[str, list[dict]]) -> list[dict]:
    """The liaisons behind an email: those of its agencies (an escalation to a lead agency lists its support
    agencies' tasks, so there every liaison with that address)."""
    liaisons = liaisons_by_email.get(email.recipient, [])
    if email.kind == Kind.ESCALATION:
        return liaisons
    return [liaison for liaison in liaisons if liaison["agency_id"] in email.agency_ids]


def _of_agency(lines: list[TaskLine], agency_id: int) -> list[TaskLine]:
    return [line for line in lines if line.agency_id == agency_id]


def _message(email, key, lines, agency_ids, user_id, title, body) -> dict:
    channel, recipient, kind, period = key
    return {
        "email": email,
        "lines": lines,
        "agency_ids": agency_ids,
        "row": ReminderLog(
            channel=channel,
            recipient=recipient,
            kind=kind,
            period=period,
            day=email.day,
            status=Status.PENDING,
            reason=_summary(lines)[:300],
            user_id=user_id,
            requested_by_id=email.requested_by_id,
            subject=title[:300],
            body_text=body,
            url=my_tasks_url(),
        ),
    }


def _pending_and_link(wanted: dict[tuple, dict], *, batch: str, now: datetime.datetime) -> list[int]:
    from .outbox import CLAIM_FIELDS, is_due, sending_lease  # outbox imports this module

    keys = list(wanted)
    rows = ReminderLog.objects.filter(
        channel__in=EXTRA_CHANNELS,
        recipient__in={key[1] for key in keys},
        kind__in={key[2] for key in keys},
        period__in={key[3] for key in keys},
    ).values("channel", *CLAIM_FIELDS)
    lease_start = now - sending_lease()
    pending, links, agency_links = [], [], []
    for row in rows:
        message = wanted.get((row["channel"], row["recipient"], row["kind"], row["period"]))
        if message is None:
            continue
        if (row["batch"] == batch and row["status"] == Status.PENDING) or is_due(row, now, lease_start):
            pending.append(row["pk"])
        if row["day"] != message["email"].day:
            continue  # claimed on an earlier day of its period (a weekly digest): its links stay
        links += [
            ReminderLogTask(log_id=row["pk"], task_id=line.pk, reason=line.reason)
            for line in message["lines"]
        ]
        agency_links += [
            ReminderLog.agencies.through(reminderlog_id=row["pk"], agency_id=agency_id)
            for agency_id in message["agency_ids"]
        ]
    ReminderLogTask.objects.bulk_create(links, batch_size=1000, ignore_conflicts=True)
    ReminderLog.agencies.through.objects.bulk_create(agency_links, batch_size=1000, ignore_conflicts=True)
    return sorted(pending)


# ---------------------------------------------------------------------------------------------------------
# Rendering


def my_tasks_url() -> str:
    return f"{settings.SITE_URL}/tasks/"


def _kind_label(email: Email) -> str:
    return str(email.get_kind_label())


def _summary(lines: list[TaskLine]) -> str:
    counts: dict[str, int] = defaultdict(int)
    for line in lines:
        counts[line.reason] += 1
    return ",".join(
        _("%(reason)s %(count)d 项") % {"reason": ReminderLogTask.Reason(reason).label, "count": count}
        for reason, count in counts.items()
    )


def _md(text: str) -> str:
    """Text safe inside a markdown link label: no brackets or line breaks to break the link."""
    return " ".join(str(text).split()).replace("[", "【").replace("]", "】")


def robot_markdown(email: Email, agency: str, lines: list[TaskLine]) -> tuple[str, str]:
    """(title, markdown) of a robot message for one agency, at most ``ROBOT_MAX_BYTES`` bytes."""
    words = wording()
    title = _("【%(kind)s】%(day)s %(agency)s:%(n)d 项任务") % {
        "kind": _kind_label(email),
        "day": email.day.isoformat(),
        "agency": agency,
        "n": len(lines),
    }
    head = f"### {_md(title)}\n{_summary(lines)}\n"
    tail = f"\n[打开“我的任务”]({my_tasks_url()})"
    body = []
    used = len((head + tail).encode())
    for number, line in enumerate(lines[:ROBOT_MAX_LINES], 1):
        note = line.note_in(words)
        if line.reason in LATE_REASONS:
            note = f"**{note}**"
        item = (
            f"{number}. [{_md(line.plan_title)} · 第{_md(line.measure_number)}项 · {_md(line.summary)}]"
            f"({line.url})({_md(line.agency_name)})\n> {note}\n"
        )
        more = f"\n另有 {len(lines) - number + 1} 项,请在系统中查看。"
        if used + len(item.encode()) + len(more.encode()) + 64 > ROBOT_MAX_BYTES:
            break
        body.append(item)
        used += len(item.encode())
    rest = len(lines) - len(body)
    more = f"\n另有 {rest} 项,请在系统中查看。" if rest else ""
    return title, head + "".join(body) + more + tail


def sms_params(email: Email, liaison: dict) -> dict[str, str]:
    """The SMS template's variables: ${kind} ${agency} ${total} ${overdue}, ≤ 70 characters together."""
    agencies = {line.agency_id for line in email.lines}
    name = liaison["agency__short_name"] or liaison["agency__name"]
    agency = name if len(agencies) <= 1 else _("%(name)s等%(n)d个单位") % {"name": name, "n": len(agencies)}
    params = {
        "kind": _kind_label(email),
        "agency": agency,
        "total": str(len(email.lines)),
        "overdue": str(sum(1 for line in email.lines if line.reason in LATE_REASONS)),
    }
    room = SMS_MAX_VARIABLES - sum(len(value) for key, value in params.items() if key != "agency")
    if len(params["agency"]) > room:
        params["agency"] = params["agency"][: max(room - 1, 1)] + "…"
    return params
