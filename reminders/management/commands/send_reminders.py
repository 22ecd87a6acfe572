"""The reminder sweep without Celery (cron, the demo): ``send_reminders [--date YYYY-MM-DD] [--dry-run]``."""

import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from reminders import services, workdays
from reminders.models import ReminderLog


class Command(BaseCommand):
    help = "发送某日(默认今天)的到期、逾期、定期报送和逾期上报提醒邮件;每封邮件只发送一次。"

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
        services.deliver_now(result.dispatched)
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
        sent = ReminderLog.objects.filter(pk__in=result.dispatched, status=ReminderLog.Status.SENT).count()
        failed = ReminderLog.objects.filter(
            pk__in=result.dispatched, status=ReminderLog.Status.FAILED
        ).count()
        self.stdout.write(
            f"{day.isoformat()}:本次发送 {sent} 封,失败 {failed} 封,共 {len(result.emails)} 封提醒。"
        )
        if failed:
            raise CommandError(
                f"{failed} 封邮件发送失败,已记录;再次运行本命令会重试(不会重复发送已发出的邮件)。"
            )
