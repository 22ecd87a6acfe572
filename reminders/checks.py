"""System checks for reminder delivery settings."""

from django.conf import settings
from django.core.checks import Error, register


@register()
def visibility_timeout_above_retry_countdown(app_configs, **kwargs):
    """Redis redelivers a job unacknowledged for longer than its visibility timeout, and a job waiting for
    its retry countdown is unacknowledged: the timeout must exceed every countdown the jobs use."""
    if not settings.CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
        return []
    timeout = (settings.CELERY_BROKER_TRANSPORT_OPTIONS or {}).get("visibility_timeout", 3600)
    countdown = max(settings.REMINDER_RETRY_BACKOFF_MAX_SECONDS, settings.REMINDER_SENDING_LEASE_SECONDS)
    if timeout > countdown:
        return []
    return [
        Error(
            f"CELERY_VISIBILITY_TIMEOUT ({timeout} s) must exceed the longest retry countdown ({countdown} s: "
            "REMINDER_RETRY_BACKOFF_MAX_SECONDS / REMINDER_SENDING_LEASE_SECONDS), or Redis hands waiting "
            "reminder jobs out again in a loop.",
            id="reminders.E001",
        )
    ]
