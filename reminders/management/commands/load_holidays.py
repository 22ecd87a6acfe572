"""Add the chinesecalendar package's 放假安排 to the holiday table (after upgrading the package); the years it
covers replace their presumed (推定) rows. Years the sweep soon needs and nobody has arranged get their
statutory days written as 推定, with a warning."""

from django.core.management.base import BaseCommand
from django.utils import timezone

from reminders.selectors import missing_holiday_years
from reminders.workdays import (
    load_package_holidays_counted,
    missing_arrangement_message,
    write_presumed_holidays,
)


class Command(BaseCommand):
    help = (
        "从 chinesecalendar 数据包补充放假安排:数据包覆盖的年份替换其推定记录,手工录入的日期保持不变;"
        "仍缺放假安排的年份(当年,11月起含次年)按法定节日写入推定记录并给出警告。"
    )

    def handle(self, *args, **options):
        added, replaced = load_package_holidays_counted()
        line = f"新增放假安排 {added} 条。"
        if replaced:
            line += f"已替换推定记录 {replaced} 条。"
        self.stdout.write(line)
        missing = missing_holiday_years(timezone.localdate())
        written = write_presumed_holidays(missing)
        for year in missing:
            self.stderr.write(self.style.WARNING(missing_arrangement_message(year)))
        if written:
            self.stdout.write(f"已按法定节日写入推定放假日 {written} 条(来源:推定)。")
