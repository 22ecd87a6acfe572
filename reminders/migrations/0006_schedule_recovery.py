"""Schedule the reminder recovery job every 3 minutes (editable in the admin under Periodic tasks): it
resends rows a dead worker left "sending" once their lease ran out, retries failed and lost rows of earlier
days with backoff, and ends them 已放弃 after the retry window (reminders/services/outbox.py)."""

from django.db import migrations
from django.utils import timezone

RECOVERY_NAME = "提醒补发(每 3 分钟)"


def schedule_recovery(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTasks = apps.get_model("django_celery_beat", "PeriodicTasks")
    every, _ = IntervalSchedule.objects.get_or_create(every=3, period="minutes")
    PeriodicTask.objects.get_or_create(
        name=RECOVERY_NAME,
        defaults={
            "task": "reminders.recover",
            "interval": every,
            "description": (
                "补发被中断或发送失败的提醒和消息:发送中断的在租约到期后重发,失败的按退避间隔重试,"
                "超过重试期限(默认 7 天)的标记为已放弃。"
            ),
        },
    )
    # Tell a running beat that the schedule changed (what PeriodicTask.save() does outside migrations).
    PeriodicTasks.objects.update_or_create(ident=1, defaults={"last_update": timezone.now()})


def unschedule_recovery(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=RECOVERY_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("reminders", "0005_retry_schedule_and_batch"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(schedule_recovery, unschedule_recovery)]
