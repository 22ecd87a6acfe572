"""Building emails: one ``make_message(name, to, ctx)`` renders three templates per message.

``emails/<name>-subject.txt``, ``emails/<name>-body-text.txt`` and ``emails/<name>-body-html.html``, in
Chinese and Shanghai time whatever the caller's request language, as healthchecks' hc/lib/emails.py does.
"""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import timezone, translation

EMAIL_LANGUAGE = "zh-hans"


def task_url(task) -> str:
    """The absolute link to a task's page in the workspace (anything with a ``pk``)."""
    return f"{settings.SITE_URL}/tasks/{task.pk}/"


def build_message(
    subject: str, text: str, html: str, to: str | list[str], *, message_id: str = ""
) -> EmailMultiAlternatives:
    """``message_id``: a stable id (a ledger row's), so a resend carries the same Message-ID."""
    recipients = [to] if isinstance(to, str) else list(to)
    headers = {"Message-ID": message_id} if message_id else None
    message = EmailMultiAlternatives(subject, text, settings.DEFAULT_FROM_EMAIL, recipients, headers=headers)
    if html:
        message.attach_alternative(html, "text/html")
    return message


def render_parts(template_name: str, ctx: dict) -> tuple[str, str, str]:
    """(subject, text, html) rendered in Chinese and the site's time zone."""
    ctx = {"site_url": settings.SITE_URL, **ctx}
    with translation.override(EMAIL_LANGUAGE), timezone.override(settings.TIME_ZONE):
        subject = render_to_string(f"emails/{template_name}-subject.txt", ctx)
        text = render_to_string(f"emails/{template_name}-body-text.txt", ctx)
        html = render_to_string(f"emails/{template_name}-body-html.html", ctx)
    return " ".join(subject.split()), text.strip() + "\n", html


def make_message(template_name: str, to: str | list[str], ctx: dict) -> EmailMultiAlternatives:
    return build_message(*render_parts(template_name, ctx), to)
