"""``manage.py export_report PLAN_ID --format xlsx|docx [--kind …] [--agency ID] [--period 2026-Q3] --out FILE``:
the leader's paper from a scheduled job. Issuing a document records it (numbered once: running the same
command again the same day, or for the same period, writes the document already issued)."""

from __future__ import annotations

from pathlib import Path

from django.core.management import BaseCommand, CommandError
from django.utils import timezone

from agencies.models import Agency
from agencies.roles import LEADER_GROUP
from tasks.models import Plan

KINDS = ("ledger", "notice", "bulletin")


class SystemReader:
    """The command reads as a 领导 does (every task, writing nothing); it is nobody's account."""

    is_authenticated = True
    is_active = True
    is_staff = True
    is_superuser = False
    pk = None
    username = "export_report"
    # agencies.roles reads a user's groups once into this attribute: the command is in the leaders' group
    _ipplan_group_names = frozenset({LEADER_GROUP})

    def has_perm(self, perm: str, obj=None) -> bool:
        return perm.startswith("tasks.view_")


class Command(BaseCommand):
    help = "导出计划的工作台账(Excel 进度报表)、督办通知单或工作进展情况通报(Word)。"

    def add_arguments(self, parser):
        parser.add_argument("plan_id", type=int, help="计划编号")
        parser.add_argument("--format", choices=["xlsx", "docx"], required=True)
        parser.add_argument(
            "--kind", choices=KINDS, help="xlsx 默认为完整进度报表(首页为工作台账);docx 默认为通报"
        )
        parser.add_argument("--agency", type=int, help="督办通知单的单位编号")
        parser.add_argument("--period", help="通报的考核期,如 2026-Q3(默认本季度)")
        parser.add_argument("--out", required=True, help="输出文件")

    def handle(self, *args, plan_id, format, kind, agency, period, out, **options):
        from reports.documents import render
        from reports.exporters import LedgerReport, ProgressReport
        from reports.scorecard import PeriodError, default_period
        from reports.services import issue_bulletin, issue_notice

        plan = Plan.objects.filter(pk=plan_id).first()
        if plan is None:
            raise CommandError(f"找不到编号为 {plan_id} 的计划。")
        target = Path(out)
        if not target.parent.exists():
            raise CommandError(f"输出目录不存在:{target.parent}")
        if format == "xlsx":
            if kind not in (None, "ledger"):
                raise CommandError("Excel 只能导出工作台账或进度报表;督办通知单和通报请用 --format docx。")
            report_class = LedgerReport if kind == "ledger" else ProgressReport
            report = report_class(user=SystemReader(), params={"plan": [str(plan.pk)]}, language="zh-hans")
            report.write(target)
            self.stdout.write(f"已写入 {target}({report.task_count()} 项任务)")
            return
        kind = kind or "bulletin"
        if kind == "ledger":
            raise CommandError("工作台账是 Excel 表格,请用 --format xlsx。")
        if kind == "notice":
            if agency is None:
                raise CommandError("督办通知单需要 --agency 单位编号。")
            unit = Agency.objects.filter(pk=agency).first()
            if unit is None:
                raise CommandError(f"找不到编号为 {agency} 的单位。")
            document, created = issue_notice(agency=unit, plan=plan, user=None)
        else:
            try:
                period_key = period or default_period(timezone.localdate()).key
                document, created = issue_bulletin(plan=plan, period_key=period_key, user=None)
            except PeriodError as exc:
                raise CommandError(str(exc)) from None
        target.write_bytes(render(document))
        state = "签发" if created else "已签发过,重新导出"
        self.stdout.write(f"{document.doc_number} {document.get_kind_display()}:{state},已写入 {target}")
