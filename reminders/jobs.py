"""Celery jobs: thin wrappers around reminders.services. Beat runs ``reminders.sweep`` (daily) and
``reminders.recover`` (every 3 minutes); ``reminders.deliver`` sends one outbox row."""

import datetime

from celery import shared_task
from django.conf import settings

from . import services


@shared_task(name="reminders.sweep", acks_late=True)
def sweep(day: str | None = None) -> dict:
    """The daily sweep; ``day`` (YYYY-MM-DD) defaults to today in Asia/Shanghai."""
    when = datetime.date.fromisoformat(day) if day else None
    return services.run_sweep(when, dispatch=services.dispatch_with_celery).as_dict()


@shared_task(name="reminders.recover", acks_late=True)
def recover() -> dict:
    """Resend what a dead worker or a lost job left unsent, retry failures, give up past the window."""
    return services.recover().as_dict()


@shared_task(bind=True, name="reminders.deliver", acks_late=True, ignore_result=True, max_retries=None)
def deliver_reminder(self, log_id: int) -> str:
    """Send one row. A failure is recorded on the row (``next_attempt_at``) and retried at that time; the
    countdown never exceeds the backoff maximum or the lease, both below the broker's visibility timeout
    (settings.py, check reminders.E001), so a waiting job is never handed out twice by Redis."""
    delivery = services.deliver(log_id)
    if delivery.outcome in ("failed", "in_flight") and not self.request.is_eager:
        cap = max(settings.REMINDER_RETRY_BACKOFF_MAX_SECONDS, settings.REMINDER_SENDING_LEASE_SECONDS)
        raise self.retry(countdown=min(delivery.retry_in, cap))
    return delivery.outcome
