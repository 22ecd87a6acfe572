"""Celery jobs: thin wrappers around reminders.services (the beat schedule runs ``reminders.sweep``)."""

import datetime
import smtplib

from celery import shared_task

from . import services


@shared_task(name="reminders.sweep", acks_late=True)
def sweep(day: str | None = None) -> dict:
    """The daily sweep; ``day`` (YYYY-MM-DD) defaults to today in Asia/Shanghai."""
    when = datetime.date.fromisoformat(day) if day else None
    return services.run_sweep(when, dispatch=services.dispatch_with_celery).as_dict()


@shared_task(
    bind=True,
    name="reminders.deliver",
    acks_late=True,
    autoretry_for=(smtplib.SMTPException, OSError),
    retry_backoff=2,
    retry_backoff_max=600,
    retry_jitter=False,
    max_retries=12,
)
def deliver_reminder(self, log_id: int) -> str:
    delivery = services.deliver(log_id)
    if delivery.outcome == "in_flight":  # another worker holds it, or died holding it: look again later
        raise self.retry(countdown=delivery.retry_in)
    return delivery.outcome
