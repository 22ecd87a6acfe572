"""Celery tasks of the reports app: thin wrappers around services (autodiscovered as ``jobs``)."""

from celery import shared_task

from . import services


@shared_task(acks_late=True)
def build_export(job_id: str) -> bool:
    return services.run_export_job(job_id=job_id)


@shared_task(name="reports.purge_exports")
def purge_exports() -> int:
    """Daily (beat schedule: reports/migrations/0002_schedule_purge.py)."""
    return services.purge_exports()
