"""Add the chinesecalendar package's 放假安排 to the holiday table (after upgrading the package)."""

from django.core.management.base import BaseCommand

from reminders.workdays import load_package_holidays


class Command(BaseCommand):
    help = "从 chinesecalendar 数据包补充放假安排;已有(含手工修改)的日期保持不变。"

    def handle(self, *args, **options):
        added = load_package_holidays()
        self.stdout.write(f"新增放假安排 {added} 条。")
