"""Print what the parser reads from a plan document (the JSON contract with --json)."""

import json
import sys

from django.core.management import BaseCommand, CommandError

from ipplan.lib.uploads import PLAN_KINDS, UploadRefused, check_path, parse_in_sandbox


class Command(BaseCommand):
    help = "解析计划文件并输出措施、责任单位、时限和指标(--json 输出约定格式)。"

    def add_arguments(self, parser):
        parser.add_argument("file", help="计划文件:.txt / .html / .docx,或任务分工表 .xlsx / .xls / .csv")
        parser.add_argument("--json", action="store_true", help="输出 JSON(UTF-8)")

    def handle(self, *args, file: str, json: bool = False, **options):
        try:  # the upload gate: size, kind by content, zip bombs, and the parse under a time limit
            plan = parse_in_sandbox(check_path(file, allowed=PLAN_KINDS))
        except UploadRefused as refusal:
            raise CommandError(" ".join(" ".join(refusal.messages).split())) from None
        if json:
            sys.stdout.write(_dumps(plan.to_contract()) + "\n")
            return
        self.stdout.write(f"《{plan.title}》 {plan.doc_number or ''} {plan.period or ''}")
        for measure in plan.required_measures:
            agencies = "、".join(f"{a.agency}({a.role})" for a in measure.assignments) or "—"
            deadline = measure.deadline.text if measure.deadline else "—"
            self.stdout.write(f"  {measure.number:>8}  {measure.text[:30]}…  [{agencies}]  {deadline}")
        self.stdout.write(f"措施 {len(plan.required_measures)} 条,指标 {len(plan.indicators)} 项。")
        for warning in plan.warnings:
            self.stderr.write(f"  提示:{warning}")


def _dumps(payload) -> str:
    return json.dumps(payload, ensure_ascii=False, indent=1)
