"""Import a plan document (one transaction; re-running changes nothing) and print what changed."""

import json
from pathlib import Path

from django.core.management import BaseCommand, CommandError

from ipplan.lib.uploads import PLAN_KINDS, UploadRefused, check_path, parse_in_sandbox
from tasks.models import Plan
from tasks.services.importing import DecisionDataError, import_plan, name_decisions_from_data


class Command(BaseCommand):
    help = (
        "导入计划文件:创建计划,或识别为已导入计划的修订并显示变更(新增、移除、修改、重新编号)。"
        "未指定 --decisions 时无人值守运行:未知单位名称新建为未确认单位,已导入的计划按内容识别并修订。"
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="计划文件:.txt / .html / .docx,或任务分工表 .xlsx / .xls / .csv")
        parser.add_argument("--jurisdiction", help="行政区划,如 东丽区(默认取自文件)")
        which = parser.add_mutually_exclusive_group()
        which.add_argument("--revision-of", type=int, metavar="ID", help="作为该编号计划的修订导入")
        which.add_argument("--new", action="store_true", help="作为新计划导入(即使内容与已有计划相近)")
        parser.add_argument(
            "--decisions",
            metavar="FILE.json",
            help='单位名称的处理决定,格式同预览:{"names": {"名称": {"kind": "agency", "agency": 17}, …}}',
        )
        parser.add_argument("--dry-run", action="store_true", help="只显示将会导入的变更,不写入数据库")
        parser.add_argument("--json", action="store_true", help="以 JSON 输出结果和变更")

    def handle(self, *args, file: str, **options):
        revision_of = None
        if options["revision_of"] is not None:
            revision_of = Plan.objects.filter(pk=options["revision_of"]).first()
            if revision_of is None:
                raise CommandError(f"找不到编号为 {options['revision_of']} 的计划。")
        try:  # the upload gate, as for the admin's upload: size, kind by content, zip bombs, time limit
            checked = check_path(file, allowed=PLAN_KINDS)
            parsed = parse_in_sandbox(checked)
        except UploadRefused as refusal:
            raise CommandError(" ".join(refusal.messages)) from None
        try:
            jurisdiction = options["jurisdiction"] or parsed.jurisdiction or ""
            decisions = self._decisions(options["decisions"], jurisdiction=jurisdiction)
            result = import_plan(
                parsed=parsed,
                data=checked.data,
                source_name=checked.name,
                jurisdiction=options["jurisdiction"],
                decisions=decisions,
                dry_run=options["dry_run"],
                revision_of=revision_of,
                new_plan=options["new"],
            )
        except DecisionDataError as exc:
            raise CommandError(str(exc)) from None
        if options["json"]:
            self.stdout.write(
                json.dumps({**result.to_dict(), "dry_run": options["dry_run"]}, ensure_ascii=False)
            )
            return
        prefix = "(试运行,未写入)" if options["dry_run"] else ""
        self.stdout.write(prefix + result.summary())
        if result.match and result.match.kind == "revision" and revision_of is None:
            self.stdout.write(
                f"  识别为《{result.plan.title}》的修订(措施重合度 {result.match.overlap:.0%})。"
            )
        if result.diff and not result.created and not result.unchanged:
            for line in result.diff.lines():
                self.stdout.write(f"  {line}")
        for name in result.agencies_created:
            self.stdout.write(f"  新单位(待确认):{name}")
        for warning in result.warnings:
            self.stdout.write(f"  提示:{warning}")

    def _decisions(self, path: str | None, *, jurisdiction: str):
        if not path:
            return None
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except OSError as exc:
            raise CommandError(f"无法读取决定文件 {path}:{exc.strerror or exc}") from None
        except ValueError:
            raise CommandError(f"决定文件 {path} 不是有效的 JSON。") from None
        if not isinstance(data, dict) or not isinstance(data.get("names", {}), dict):
            raise CommandError('决定文件应为 {"names": {…}} 形式的 JSON 对象。')
        if data.get("measures"):
            raise CommandError("命令行不支持逐条修改措施,请在管理后台的导入预览中修改。")
        return name_decisions_from_data(data.get("names", {}), jurisdiction=jurisdiction)
