"""Seed the 放假安排 table from the chinesecalendar package, and schedule the daily 09:00 sweep (editable in
the admin under Periodic tasks)."""

from django.db import migrations
from django.utils import timezone

SWEEP_NAME = "每日提醒邮件(工作日 09:00)"


def seed_holidays(apps, schema_editor):
    from reminders.workdays import load_package_holidays

    load_package_holidays(apps.get_model("reminders", "Holiday"))


def schedule_sweep(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTasks = apps.get_model("django_celery_beat", "PeriodicTasks")
    crontab, _ = CrontabSchedule.objects.get_or_create(
        minute="0",
        hour="9",
        day_of_week="*",
        day_of_month="*",
        month_of_year="*",
        timezone="Asia/Shanghai",
    )
    PeriodicTask.objects.get_or_create(
        name=SWEEP_NAME,
        defaults={
            "task": "reminders.sweep",
            "crontab": crontab,
            "description": "每天 09:00(北京时间)运行;非工作日(含法定节假日)不发送,调休上班日发送。",
        },
    )
    # Tell a running beat that the schedule changed (what PeriodicTask.save() does outside migrations).
    PeriodicTasks.objects.update_or_create(ident=1, defaults={"last_update": timezone.now()})


def unschedule_sweep(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=SWEEP_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("reminders", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [
        migrations.RunPython(seed_holidays, migrations.RunPython.noop),
        migrations.RunPython(schedule_sweep, unschedule_sweep),
    ]
