"""One-click 签收 / 查看 links for messages (email today; 企业微信, 钉钉 and SMS use the same call).

A message that lists a task its liaison has not 签收ed yet carries a link ``{SITE_URL}/a/<token>/``:

- Opening it (GET/HEAD, no login) shows the task and a 签收 button and changes nothing: mail scanners and
  link previews open links.
- The button (POST, with the CSRF token of that page) 签收s that one task as the link's user through
  ``services.acknowledge`` and records the channel (``Task.acknowledged_via``, history "签收(通过邮件链接)").
  It does not log anybody in; a second POST finds the task 签收ed and says so. Every other action needs a login.
- A link expires after ``ACTION_LINK_DAYS`` (14) days and is revoked when the liaison leaves the agency or is
  deactivated, when the task is reassigned or done, or by hand in the admin (一键签收链接).

Tokens are never stored. Each link has a random 128-bit salt; its token is HMAC-SHA256(SECRET_KEY, salt) in
base64url (43 characters), and the row keeps SHA-256(token), looked up through a unique index. Because the
token can be computed again from the salt, a still-valid link for the same (user, task, channel) is put in
the next message instead of a new one every day; a row whose hash no longer matches (SECRET_KEY rotated) is
left to expire and a new link is issued. A database dump alone gives no working link.

For channel senders::

    from workspace.links import issue_links
    urls = issue_links({task_id: [user_id, ...], ...}, channel="wecom")  # {(user_id, task_id): url}

Pairs that cannot 签收 (task 签收ed or done, user inactive or not a liaison of the task's agency) get no
link. A fixed number of queries per 2,000 tasks, and one bulk insert: call it once per batch of messages
(at claim time), never per line.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import re
import secrets
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac

from .models import MESSAGE_CHANNELS, ActionLink

Channel = ActionLink.Channel
Revoked = ActionLink.Revoked

KEY_SALT = "ipplan.workspace.links.ActionLink"
TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{43}$")
CHUNK = 2000


def ttl() -> datetime.timedelta:
    return datetime.timedelta(days=settings.ACTION_LINK_DAYS)


def reuse_margin() -> datetime.timedelta:
    """A link is put in a new message only while it has at least this long to live (half its life)."""
    return ttl() / 2


def token_for(salt: str) -> str:
    digest = salted_hmac(KEY_SALT, salt, algorithm="sha256").digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def url_for(token: str) -> str:
    return f"{settings.SITE_URL}/a/{token}/"


def new_salt_and_token() -> tuple[str, str]:
    salt = secrets.token_urlsafe(16)  # 128 bits
    return salt, token_for(salt)


def create_link(user, task, channel: str) -> tuple[ActionLink, str]:
    """One new link (tests, the admin's tools); messages use ``issue_links``. Returns (row, token)."""
    salt, token = new_salt_and_token()
    now = timezone.now()
    link = ActionLink.objects.create(
        token_hash=hash_token(token),
        salt=salt,
        user=user,
        task=task,
        channel=channel,
        created_at=now,
        expires_at=now + ttl(),
    )
    return link, token


INSERT_COLUMNS = (
    "token_hash",
    "salt",
    "user_id",
    "task_id",
    "channel",
    "created_at",
    "expires_at",
    "revoked_reason",
)


def _insert(rows: list[tuple], now: datetime.datetime) -> None:
    """Insert (token_hash, salt, user_id, task_id, channel) rows, one multi-row INSERT per thousand rows (per a
    few hundred on SQLite, which takes fewer parameters). Plain SQL rather than ``bulk_create``: at 100,000
    links the ORM's per-object work was most of the time, and every row shares its two datetimes, adapted
    once here; and one statement per batch rather than one per row (``executemany``)."""
    if not rows:
        return
    quote = connection.ops.quote_name
    fields = [ActionLink._meta.get_field(column.removesuffix("_id")) for column in INSERT_COLUMNS]
    per_statement = min(1000, connection.ops.bulk_batch_size(fields, rows))
    row_sql = "({})".format(", ".join(["%s"] * len(INSERT_COLUMNS)))

    def statement(count: int) -> str:
        return "INSERT INTO {} ({}) VALUES {}".format(
            quote(ActionLink._meta.db_table),
            ", ".join(quote(column) for column in INSERT_COLUMNS),
            ", ".join([row_sql] * count),
        )

    created = connection.ops.adapt_datetimefield_value(now)
    expires = connection.ops.adapt_datetimefield_value(now + ttl())
    full = statement(per_statement)
    with connection.cursor() as cursor:
        for start in range(0, len(rows), per_statement):
            part = rows[start : start + per_statement]
            cursor.execute(
                full if len(part) == per_statement else statement(len(part)),
                [value for row in part for value in (*row, created, expires, "")],
            )


def issue_links(
    user_ids_by_task: Mapping[int, Iterable[int]], channel: str, *, now: datetime.datetime | None = None
) -> dict[tuple[int, int], str]:
    """The link for each (user, task) that may be 签收ed through one: {(user_id, task_id): url}.

    Reuses a link of the same (user, task, channel) that is unused, unrevoked and has at least half its life
    left; inserts the others in one bulk insert."""
    from agencies.models import Liaison
    from tasks.models import Task

    if channel not in dict(MESSAGE_CHANNELS):
        raise ValueError(f"unknown channel {channel!r}")
    now = now or timezone.now()
    wanted = {task_id: set(user_ids) for task_id, user_ids in user_ids_by_task.items() if user_ids}
    if not wanted:
        return {}
    users = set().union(*wanted.values())
    agencies_of: dict[int, set[int]] = defaultdict(set)
    for user_id, agency_id in Liaison.objects.filter(user_id__in=users, user__is_active=True).values_list(
        "user_id", "agency_id"
    ):
        agencies_of[user_id].add(agency_id)

    urls: dict[tuple[int, int], str] = {}
    new_rows: list[tuple] = []
    task_ids = sorted(wanted)
    for start in range(0, len(task_ids), CHUNK):
        chunk = task_ids[start : start + CHUNK]
        open_tasks = dict(
            Task.objects.filter(pk__in=chunk, acknowledged_at__isnull=True)
            .exclude(status=Task.Status.DONE)
            .values_list("pk", "agency_id")
        )
        existing = (
            ActionLink.objects.filter(
                task_id__in=list(open_tasks),
                channel=channel,
                revoked_at__isnull=True,
                used_at__isnull=True,
                expires_at__gt=now + reuse_margin(),
            )
            .order_by("expires_at")  # the freshest last: it wins below
            .values_list("user_id", "task_id", "salt", "token_hash")
        )
        reusable = {}
        for user_id, task_id, salt, stored_hash in existing:
            token = token_for(salt)
            if secrets.compare_digest(hash_token(token), stored_hash):
                reusable[(user_id, task_id)] = token
        for task_id in chunk:
            agency_id = open_tasks.get(task_id)
            if agency_id is None:
                continue
            for user_id in sorted(wanted[task_id]):
                if agency_id not in agencies_of.get(user_id, ()):
                    continue
                token = reusable.get((user_id, task_id))
                if token is None:
                    salt, token = new_salt_and_token()
                    new_rows.append((hash_token(token), salt, user_id, task_id, channel))
                urls[(user_id, task_id)] = url_for(token)
    _insert(new_rows, now)
    return urls


# Opening and using a link ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Opened:
    """What a link leads to. ``problem`` (Chinese) is set when it no longer works."""

    link: ActionLink | None
    problem: str = ""
    gone: bool = False  # known but no longer valid (410), as opposed to unknown (404)

    @property
    def task(self):
        return self.link.task if self.link else None


def find(token: str) -> ActionLink | None:
    """The link of a token, or None (malformed or unknown). Read only."""
    if not TOKEN_RE.match(token or ""):
        return None
    return (
        ActionLink.objects.select_related(
            "user", "task__measure__plan", "task__agency", "task__acknowledged_by"
        )
        .filter(token_hash=hash_token(token))
        .first()
    )


def _still_allowed(link: ActionLink) -> str:
    """Why the link's user may no longer 签收 the task ('' if they may), checked live on every use: a revocation
    the system could not write (a bulk update, an edit outside the services) still takes effect."""
    from agencies.models import Liaison
    from tasks.models import Task

    if not link.user.is_active:
        return str(Revoked.USER_INACTIVE.label)
    if not Liaison.objects.filter(user=link.user, agency_id=link.task.agency_id).exists():
        return str(Revoked.LEFT_AGENCY.label)
    if link.task.status == Task.Status.DONE and link.task.acknowledged_at is None:
        return str(Revoked.DONE.label)
    return ""


def open_link(token: str, now: datetime.datetime | None = None) -> Opened:
    """Look a token up and say whether it still works. Writes nothing (GET and HEAD call only this)."""
    from django.utils.translation import gettext as _

    now = now or timezone.now()
    link = find(token)
    if link is None:
        return Opened(None, _("链接无效:请检查是否完整复制了消息中的链接。"))
    if link.revoked_at is not None:
        return Opened(
            link, _("链接已撤销(%(why)s)。") % {"why": link.get_revoked_reason_display() or "—"}, True
        )
    if link.expires_at <= now:
        return Opened(link, _("链接已过期(有效期至 %(d)s)。") % {"d": _local(link.expires_at)}, True)
    problem = _still_allowed(link)
    if problem:
        return Opened(link, _("链接已失效(%(why)s)。") % {"why": problem}, True)
    return Opened(link)


def _local(moment: datetime.datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


def acknowledge_with(token: str) -> Opened:
    """The button: 签收 the link's task as its user, recording the channel. Harmless when repeated: the task
    keeps its first 签收 and the link its first use."""
    from . import services

    opened = open_link(token)
    if opened.problem:
        return opened
    link = opened.link
    with transaction.atomic():
        task = services.acknowledge(task=link.task, user=link.user, via=link.channel)
        ActionLink.objects.filter(pk=link.pk, used_at__isnull=True).update(used_at=timezone.now())
    link.task = task
    return Opened(link)


def revoke(
    *,
    reason: str,
    links: Iterable[int] | None = None,
    tasks: Iterable[int] | None = None,
    users: Iterable[int] | None = None,
    agency_id: int | None = None,
) -> int:
    """Revoke the unrevoked links that match every filter given; returns how many."""
    rows = ActionLink.objects.filter(revoked_at__isnull=True)
    if links is not None:
        rows = rows.filter(pk__in=list(links))
    if tasks is not None:
        rows = rows.filter(task_id__in=list(tasks))
    if users is not None:
        rows = rows.filter(user_id__in=list(users))
    if agency_id is not None:
        rows = rows.filter(task__agency_id=agency_id)
    return rows.update(revoked_at=timezone.now(), revoked_reason=reason)


# Keeping links in step with who may 签收 (connected in WorkspaceConfig.ready) -----------------------------


def on_liaison_saved(sender, instance, **kwargs) -> None:
    """A liaison row moved to another user or agency: the old pair's links go."""
    previous = getattr(instance, "_links_previous", None)
    if previous and previous != (instance.user_id, instance.agency_id):
        revoke(users=[previous[0]], agency_id=previous[1], reason=Revoked.LEFT_AGENCY)


def on_liaison_pre_save(sender, instance, **kwargs) -> None:
    if instance.pk:
        instance._links_previous = (
            sender.objects.filter(pk=instance.pk).values_list("user_id", "agency_id").first()
        )


def on_liaison_deleted(sender, instance, **kwargs) -> None:
    revoke(users=[instance.user_id], agency_id=instance.agency_id, reason=Revoked.LEFT_AGENCY)


def on_user_saved(sender, instance, **kwargs) -> None:
    if not instance.is_active:
        revoke(users=[instance.pk], reason=Revoked.USER_INACTIVE)


LINK_IN_TEXT = re.compile(r"/a/[A-Za-z0-9_-]{43}/")


def redact_action_links(text: str) -> str:
    """A message body with its one-click links masked (the admin's view of sent mail)."""
    return LINK_IN_TEXT.sub("/a/……(已隐去)/", text)
