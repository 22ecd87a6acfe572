"""The ways an outbox row reaches a person. Each row names its channel; ``deliver`` (outbox.py) calls
``send`` once it has claimed the row, so a channel never sees the same row twice.

- email: the rendered subject, text and HTML, through Django's mail backend (SMTP or files).
- inbox: the in-app 消息 list reads the rows themselves, so being claimed is being delivered.

A new channel (the delivery issue's SMS or WeChat) adds a value to ``ReminderLog.Channel`` and a function here.
"""

from __future__ import annotations

from collections.abc import Callable

from ipplan.lib.emails import build_message

from ..models import ReminderLog
from .attachments import for_log

Channel = ReminderLog.Channel


def send_email(log: ReminderLog) -> None:
    message = build_message(log.subject, log.body_text, log.body_html, log.recipient)
    attach_files(message, log)
    message.send()


def attach_files(message, log: ReminderLog) -> None:
    """Files made at send time from the row (the escalation's .xlsx of its tasks, attachments.py)."""
    for name, content, mimetype in for_log(log):
        message.attach(name, content, mimetype)


def show_in_inbox(log: ReminderLog) -> None:
    """Nothing to transmit: the inbox lists delivered rows of this channel."""


SENDERS: dict[str, Callable[[ReminderLog], None]] = {
    Channel.EMAIL: send_email,
    Channel.INBOX: show_in_inbox,
}


def send(log: ReminderLog) -> None:
    SENDERS[log.channel](log)
