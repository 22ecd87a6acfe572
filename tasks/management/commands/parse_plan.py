"""Print what the parser reads from a plan document (the JSON contract with --json)."""

import json
import sys
from pathlib import Path

from django.core.management import BaseCommand, CommandError

from tasks.parsing import ParseError, parse_file


class Command(BaseCommand):
    help = "解析计划文件并输出措施、责任单位、时限和指标(--json 输出约定格式)。"

    def add_arguments(self, parser):
        parser.add_argument("file", help="计划文件:.txt / .html / .docx")
        parser.add_argument("--json", action="store_true", help="输出 JSON(UTF-8)")

    def handle(self, *args, file: str, json: bool = False, **options):
        if not Path(file).is_file():
            raise CommandError(f"文件不存在:{file}")
        try:
            plan = parse_file(file)
        except (ParseError, OSError) as exc:
            raise CommandError(_one_line(exc)) from None
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


def _one_line(exc: Exception) -> str:
    text = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
    if isinstance(exc, OSError) and exc.filename:
        text = f"无法读取文件 {exc.filename}:{text}"
    return " ".join(text.split())
