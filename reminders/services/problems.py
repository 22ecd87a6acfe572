"""Delivery problems in view: what did not reach its recipient, and who cannot be reached at all.

One collection (``collect``) feeds the 督办看板's panel and the daily 投递问题日报 to the 督办人员, which the
sweep claims once per day (key: address, kind, day) and only when there is something to report:

- reminders that failed, were given up (已放弃) or are stuck "sending" past their lease, of the last
  ``WINDOW`` days;
- agencies with open tasks and nobody to tell (reach.py decides who is reachable);
- collectives (单位集合) with open tasks and no member agencies;
- whether any 督办人员 has an address at all (if none, escalations and this summary reach nobody: the
  dashboard says so and the sweep logs a warning).

Each item carries the page where to fix it: the ledger row, the ledger filtered, the agency or its liaisons.
"""

from __future__ import annotations

import datetime
import logging
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from ipplan.lib.emails import render_parts

from ..models import ReminderLog
from . import reach
from .outbox import SENDING_LEASE

logger = logging.getLogger(__name__)

Status = ReminderLog.Status
Kind = ReminderLog.Kind
Channel = ReminderLog.Channel

# Rows of the last week: older failures have been retried or given up, and were reported then.
WINDOW = datetime.timedelta(days=7)
# Rows listed per state (the count says how many in all; the ledger link shows the rest).
LISTED = 20
# Agencies listed with their fix-it links, worst first: the daily summary lists up to 50, the dashboard's
# panel the first 10; the admin's 通知对象 filter lists them all.
LISTED_AGENCIES = 50
PANEL_AGENCIES = 10


@dataclass
class RowGroup:
    status: str
    label: str
    count: int
    rows: list[dict]
    ledger_url: str  # the ledger (admin changelist) filtered to these rows

    @property
    def more(self) -> int:
        return max(self.count - len(self.rows), 0)


@dataclass
class Problems:
    day: datetime.date
    groups: list[RowGroup] = field(default_factory=list)
    unreachable: list[reach.AgencyGap] = field(default_factory=list)
    memberless: list[reach.AgencyGap] = field(default_factory=list)
    bureau_addresses: int = 0

    @property
    def row_count(self) -> int:
        return sum(group.count for group in self.groups)

    @property
    def no_bureau_address(self) -> bool:
        return self.bureau_addresses == 0

    @property
    def unreachable_links(self) -> list[dict]:
        return [
            {"gap": gap, "url": liaison_url(gap), "agency_url": agency_url(gap)}
            for gap in self.unreachable[:LISTED_AGENCIES]
        ]

    @property
    def panel_links(self) -> list[dict]:
        return self.unreachable_links[:PANEL_AGENCIES]

    @property
    def panel_more(self) -> int:
        return max(len(self.unreachable) - PANEL_AGENCIES, 0)

    @property
    def unreachable_list_url(self) -> str:
        """Every unreachable agency, in the admin (agencies.admin.ReachFilter)."""
        return reverse("admin:agencies_agency_changelist") + "?reach=unreachable"

    @property
    def memberless_links(self) -> list[dict]:
        return [{"gap": gap, "url": agency_url(gap)} for gap in self.memberless]

    @property
    def has_items(self) -> bool:
        """Something to list (the dashboard's panel); a missing 督办人员 address is said apart."""
        return bool(self.row_count or self.unreachable or self.memberless)

    def __bool__(self) -> bool:
        return self.has_items or self.no_bureau_address


def ledger_url(**filters) -> str:
    query = "&".join(f"{key}={value}" for key, value in filters.items())
    return reverse("admin:reminders_reminderlog_changelist") + (f"?{query}" if query else "")


def row_url(pk: int) -> str:
    return reverse("admin:reminders_reminderlog_change", args=[pk])


def agency_url(gap: reach.AgencyGap) -> str:
    return reverse("admin:agencies_agency_change", args=[gap.pk])


def liaison_url(gap: reach.AgencyGap) -> str:
    """Where to give an agency somebody to tell: its liaisons if it has some (no address or inactive
    account), else a new liaison for it."""
    if gap.liaisons:
        return reverse("admin:agencies_liaison_changelist") + f"?agency__id__exact={gap.pk}"
    return reverse("admin:agencies_liaison_add") + f"?agency={gap.pk}"


def collect(
    day: datetime.date | None = None,
    *,
    now: datetime.datetime | None = None,
    open_tasks: dict[int, int] | None = None,
) -> Problems:
    """Everything the panel and the summary show, in a fixed number of queries. ``open_tasks``: current open
    tasks per agency when the caller counted them already (the dashboard's aggregate over every task)."""
    now = now or timezone.now()
    day = day or timezone.localdate(now)
    since = day - WINDOW
    recent = ReminderLog.objects.exclude(channel=Channel.INBOX).filter(day__gte=since)
    stuck = Q(status=Status.SENDING, claimed_at__lt=now - SENDING_LEASE)
    states = [
        (Status.FAILED, Q(status=Status.FAILED), ledger_url(status__exact=Status.FAILED, day__gte=since)),
        (Status.GAVE_UP, Q(status=Status.GAVE_UP), ledger_url(status__exact=Status.GAVE_UP, day__gte=since)),
        (Status.SENDING, stuck, ledger_url(status__exact=Status.SENDING, day__gte=since)),
    ]
    problems = Problems(day=day)
    for status, condition, url in states:
        matching = recent.filter(condition)
        count = matching.count()
        if not count:
            continue
        rows = list(
            matching.order_by("-day", "-pk").values(
                "pk", "kind", "recipient", "day", "attempts", "error", "claimed_at", "subject"
            )[:LISTED]
        )
        for row in rows:
            row["kind_label"] = Kind(row["kind"]).label if row["kind"] in Kind.values else row["kind"]
            row["url"] = row_url(row["pk"])
            row["error"] = (row["error"] or "").splitlines()[0][:200] if row["error"] else ""
        label = {
            Status.FAILED: Status.FAILED.label,
            Status.GAVE_UP: Status.GAVE_UP.label,
            Status.SENDING: _stuck_label(),
        }[status]
        problems.groups.append(RowGroup(status, str(label), count, rows, url))
    if open_tasks is None:
        open_tasks = reach.open_tasks_by_agency()
    problems.unreachable = reach.unreachable_agencies(open_tasks=open_tasks)
    problems.memberless = reach.memberless_collectives(open_tasks=open_tasks)
    problems.bureau_addresses = len(reach.lead_bureau_addresses())
    return problems


def _stuck_label() -> str:
    return _("发送中超时(发送进程可能已中断)")


# The daily summary ------------------------------------------------------------------------------------------


def claim_summary(day: datetime.date) -> list[int]:
    """Claim today's 投递问题日报 for every 督办人员 with an address, if there is anything to report.
    Returns the ids of summary rows still to send. Call inside the sweep's transaction."""
    problems = collect(day)
    bureau = reach.lead_bureau_addresses()
    if not bureau:
        logger.warning(
            "reminder sweep %s: no 督办人员 has an email address; escalations and the delivery summary "
            "reach nobody",
            day,
        )
        return []
    if not problems:
        return []
    subject, text, html = render_parts(
        "delivery_summary", {"problems": problems, "day": day, "site_url": settings.SITE_URL}
    )
    reason = summary_reason(problems)
    ReminderLog.objects.bulk_create(
        [
            ReminderLog(
                channel=Channel.EMAIL,
                recipient=address,
                user_id=user_id,
                kind=Kind.DELIVERY_SUMMARY,
                period=day.isoformat(),
                day=day,
                subject=subject[:300],
                body_text=text,
                body_html=html,
                reason=reason[:300],
                url=reverse("workspace:dashboard") + "#delivery-problems",
            )
            for address, user_id in sorted(bureau.items())
        ],
        ignore_conflicts=True,
    )
    return list(
        ReminderLog.objects.filter(channel=Channel.EMAIL, kind=Kind.DELIVERY_SUMMARY, period=day.isoformat())
        .deliverable()
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def summary_reason(problems: Problems) -> str:
    parts = [f"{group.label} {group.count}" for group in problems.groups]
    if problems.unreachable:
        parts.append(_("无人可通知的单位 %(n)d") % {"n": len(problems.unreachable)})
    if problems.memberless:
        parts.append(_("无成员单位的单位集合 %(n)d") % {"n": len(problems.memberless)})
    return ",".join(parts)
