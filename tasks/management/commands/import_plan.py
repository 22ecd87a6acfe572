"""Import a plan document into the database (one transaction; re-running changes nothing)."""

from django.core.management import BaseCommand, CommandError

from ipplan.lib.uploads import PLAN_KINDS, UploadRefused, check_path, parse_in_sandbox
from tasks.services.importing import import_plan


class Command(BaseCommand):
    help = "导入计划文件:创建或更新计划、措施和各单位任务。未知单位名称新建为未确认单位。"

    def add_arguments(self, parser):
        parser.add_argument("file", help="计划文件:.txt / .html / .docx")
        parser.add_argument("--jurisdiction", help="行政区划,如 东丽区(默认取自文件)")
        parser.add_argument("--dry-run", action="store_true", help="只显示将会导入的内容,不写入数据库")

    def handle(self, *args, file: str, jurisdiction: str | None = None, dry_run: bool = False, **options):
        try:  # the upload gate, as for the admin's upload: size, kind by content, zip bombs, time limit
            checked = check_path(file, allowed=PLAN_KINDS)
            parsed = parse_in_sandbox(checked)
        except UploadRefused as refusal:
            raise CommandError(" ".join(refusal.messages)) from None
        result = import_plan(
            parsed=parsed,
            data=checked.data,
            source_name=checked.name,
            jurisdiction=jurisdiction,
            dry_run=dry_run,
        )
        prefix = "(试运行,未写入)" if dry_run else ""
        self.stdout.write(prefix + result.summary())
        for name in result.agencies_created:
            self.stdout.write(f"  新单位(待确认):{name}")
        for warning in result.warnings:
            self.stdout.write(f"  提示:{warning}")
