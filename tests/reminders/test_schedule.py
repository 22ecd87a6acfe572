"""The daily sweep is scheduled in the database (editable in the admin) at 09:00 Shanghai time."""

import datetime
import zoneinfo

from django_celery_beat.models import PeriodicTask
from django_celery_beat.schedulers import DatabaseScheduler

from ipplan.celery import app

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")


def test_the_migration_schedules_the_daily_sweep_at_nine():
    task = PeriodicTask.objects.get(task="reminders.sweep")
    assert task.enabled and task.crontab.hour == "9" and task.crontab.minute == "0"
    assert str(task.crontab.timezone) == "Asia/Shanghai"


def test_beat_runs_it_at_nine_shanghai_time(on_day):
    with on_day("2024-09-30", hour=8):
        schedule = DatabaseScheduler(app=app, lazy=True).all_as_schedule()
        [entry] = [entry for entry in schedule.values() if entry.task == "reminders.sweep"]
        last_run = datetime.datetime(2024, 9, 29, 9, 0, tzinfo=SHANGHAI)  # yesterday's run
        remaining = entry.schedule.remaining_estimate(last_run)
    assert remaining == datetime.timedelta(hours=1)  # 09:00 today
