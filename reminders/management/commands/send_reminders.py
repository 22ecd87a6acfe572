"""The reminder sweep without Celery (cron, the demo): ``send_reminders [--date YYYY-MM-DD] [--dry-run]``."""

import datetime

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from reminders import services, workdays
from reminders.models import ReminderLog


class Command(BaseCommand):
    help = (
        "发送某日(默认今天)的到期、逾期、定期报送和逾期上报提醒邮件,并补发此前未发出的提醒;"
        "重复运行不会生成第二条记录,已发出的不会再发。"
    )

    def add_arguments(self, parser):
        parser.add_argument("--date", help="提醒日期,格式 YYYY-MM-DD(默认今天)")
        parser.add_argument("--dry-run", action="store_true", help="只列出将发送的邮件,不发送、不记录")

    def handle(self, *args, date=None, dry_run=False, **options):
        day = timezone.localdate()
        if date:
            try:
                day = datetime.date.fromisoformat(date)
            except ValueError:
                raise CommandError(f"日期格式应为 YYYY-MM-DD,如 2024-09-30;收到:{date}") from None
        with workdays.missing_arrangements_reported():  # said below, not logged a second time
            result = services.run_sweep(day, dispatch=None, dry_run=dry_run)
        report = services.deliver_now(result.dispatched)
        # Without Celery there is no beat: this run also retries what earlier runs left unsent.
        recovery = services.recover(dispatch=services.deliver_now) if not dry_run else None
        for year in workdays.missing_arrangement_years(day):
            self.stderr.write(self.style.WARNING(workdays.missing_arrangement_message(year)))
        if not result.is_working_day:
            presumed = workdays.WorkingCalendar(day, day).presumed.get(day)
            why = f"(推定放假:{presumed})" if presumed else ""
            self.stdout.write(f"{day.isoformat()} 不是工作日{why},不发送提醒邮件。")
            return
        for email in result.emails:
            if email.skip_reason:
                state = f"不发送:{email.skip_reason}"
            elif dry_run:
                state = "已发送过" if email.existing_status == ReminderLog.Status.SENT else "将发送"
            else:
                state = ""
            who = email.recipient or "—"
            agencies = "、".join(email.agency_names)
            line = f"[{email.get_kind_label()}] {who} {agencies} {email.period}:{email.reason_summary()}"
            self.stdout.write(f"{line} {state}".rstrip())
        if dry_run:
            self.stdout.write(f"演练:{day.isoformat()} 共 {len(result.emails)} 封,未发送。")
            return
        # Only what THIS run did: mail an overlapping run sent is that run's to count.
        sent, failed = len(report.sent), len(report.failed)
        if recovery and recovery.report:
            sent += len(recovery.report.sent)
            failed += len(recovery.report.failed)
        self.stdout.write(
            f"{day.isoformat()}:本次发送 {sent} 封,失败 {failed} 封,共 {len(result.emails)} 封提醒。"
        )
        if recovery and (recovery.superseded or recovery.gave_up):
            self.stdout.write(
                f"此前未发出的:{recovery.superseded} 封已由次日汇总取代,"
                f"{recovery.gave_up} 封超过 {settings.REMINDER_RETRY_WINDOW_DAYS} 天重试期限,已放弃。"
            )
        if failed:
            raise CommandError(
                f"{failed} 封发送失败,已记录;将按退避间隔自动重试(再次运行本命令或后台补发任务),"
                "已发出的不会再发。"
            )
