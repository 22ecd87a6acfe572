"""One-click 签收 links in reminder emails: digests and 催办 carry one per task line not yet 签收ed.

Called by ``outbox.claim`` before rendering, for the whole batch at once: one query for the liaisons behind
the recipients, then ``workspace.links.issue_links`` (a fixed number of queries per 2,000 tasks and one bulk
insert, reusing the links earlier messages carried). The preview and the dry run do not claim, so they
issue no link. Escalations go to the lead bureau and to lead agencies, who do not 签收 those tasks: none.
Only the lines a mail lists get a link (at most ``MAX_DIGEST_LINES``; the rest are counted, 另有 N 项): a link
nobody receives is never issued.
"""

from __future__ import annotations

from collections import defaultdict

from agencies.models import Liaison
from workspace.links import Channel, issue_links

from ..models import ReminderLog
from .compute import Email
from .render import shown_lines

KINDS_WITH_LINKS = {ReminderLog.Kind.DIGEST, ReminderLog.Kind.URGE}


def attach(emails: list[Email]) -> None:
    """Fill ``email.action_links`` (task id → url) for each digest and 催办 that will be sent."""
    wanted = [
        email
        for email in emails
        if email.kind in KINDS_WITH_LINKS and email.recipient and not email.skip_reason
    ]
    if not wanted:
        return
    shown = {id(email): shown_lines(email) for email in wanted}
    agencies = {line.agency_id for lines in shown.values() for line in lines}
    # The liaison behind each (address, agency): two people sharing an address each 签收 their own agency's tasks.
    user_of: dict[tuple[str, int], int] = {}
    for address, agency_id, user_id in (
        Liaison.objects.filter(agency_id__in=agencies, user__is_active=True)
        .exclude(email="")
        .order_by("pk")
        .values_list("email", "agency_id", "user_id")
    ):
        user_of.setdefault((address.strip().lower(), agency_id), user_id)
    users_by_task: dict[int, set[int]] = defaultdict(set)
    pairs: list[tuple[Email, int, int]] = []
    for email in wanted:
        for line in shown[id(email)]:
            user_id = user_of.get((email.recipient, line.agency_id))
            if user_id is not None:
                users_by_task[line.pk].add(user_id)
                pairs.append((email, user_id, line.pk))
    urls = issue_links(users_by_task, Channel.EMAIL)
    for email, user_id, task_id in pairs:
        url = urls.get((user_id, task_id))
        if url:
            email.action_links[task_id] = url
