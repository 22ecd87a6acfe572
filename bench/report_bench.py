"""Benchmark: the progress report for 100,000 tasks in write-only mode vs a plain openpyxl export.

    .venv/bin/python bench/report_bench.py [--tasks 100000]

Standalone: builds its own database (var/bench/report.sqlite3, or BENCH_DATABASE_URL; reused while it holds
the right number of tasks),
then runs each export in a fresh child process so that peak memory (ru_maxrss) belongs to that export
alone. Goal for the report: under 60 s and under 500 MB.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GOAL_SECONDS, GOAL_MB = 60, 500


def setup_django() -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    os.environ.pop("REDIS_URL", None)
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    from common import setup_django as setup

    setup("report", fresh=False)  # the generated tasks are reused while their number is right


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux


def generate(n_tasks: int) -> None:
    """Plans, agencies, measures (four agencies each), tasks, progress reports and indicators."""
    from django.contrib.auth import get_user_model
    from django.db import transaction
    from django.utils import timezone

    from agencies.models import Agency
    from tasks.models import Indicator, IndicatorValue, Measure, Plan, ProgressUpdate, Task

    if Task.objects.count() == n_tasks:
        return
    print(f"generating {n_tasks:,} tasks …", flush=True)
    with transaction.atomic():
        for model in (ProgressUpdate, Task, IndicatorValue, Indicator, Measure, Plan):
            model.objects.all().delete()
        agencies = Agency.objects.bulk_create(
            [Agency(name=f"区第{i}局", jurisdiction="基准区") for i in range(200)], ignore_conflicts=True
        )
        agencies = list(Agency.objects.filter(jurisdiction="基准区"))
        per_measure = 4
        n_measures = n_tasks // per_measure
        plans = [
            Plan.objects.create(
                title=f"基准区知识产权推进计划({p + 1})",
                jurisdiction="基准区",
                period_start=2024,
                period_end=2026,
            )
            for p in range(10)
        ]
        text = "加强知识产权保护体系建设,完善行政执法和司法保护衔接机制,定期通报工作进展。" * 2
        measures = Measure.objects.bulk_create(
            [
                Measure(
                    plan=plans[i % len(plans)],
                    number=str(i // len(plans) + 1),
                    text=f"{i}. {text}",
                    position=i,
                    is_ongoing=i % 7 == 0,
                    deadline_date=datetime.date(2024 + i % 3, 1 + i % 12, 28),
                )
                for i in range(n_measures)
            ],
            batch_size=2000,
        )
        statuses = [s for s, _ in Task.Status.choices]
        tasks = []
        for i, measure in enumerate(measures):
            for j in range(per_measure):
                k = i * per_measure + j
                tasks.append(
                    Task(
                        measure=measure,
                        agency=agencies[(i + j * 37) % len(agencies)],
                        role=Task.Role.LEAD if j == 0 else Task.Role.SUPPORT,
                        is_ongoing=measure.is_ongoing,
                        due_date=None if measure.is_ongoing else measure.deadline_date,
                        next_report_due=datetime.date(2025, 4, 10) if measure.is_ongoing else None,
                        status=statuses[k % len(statuses)],
                        percent=(k * 13) % 101,
                    )
                )
        Task.objects.bulk_create(tasks, batch_size=5000)
        ids = list(Task.objects.values_list("pk", flat=True)[: n_tasks // 3])
        now = timezone.now()
        ProgressUpdate.objects.bulk_create(
            [
                ProgressUpdate(
                    task_id=pk, text="已召开专题会议部署,正在推进相关工作。", percent=50, created_at=now
                )
                for pk in ids
            ],
            batch_size=5000,
        )
        for plan in plans:
            for n in range(20):
                indicator = Indicator.objects.create(
                    plan=plan, name=f"指标{n}", target="100", agency=agencies[n]
                )
                IndicatorValue.objects.create(indicator=indicator, year=2025, value=str(n * 4))
    User = get_user_model()
    if not User.objects.filter(username="bench").exists():
        User.objects.create_superuser("bench", "bench@example.gov.cn", "bench-password-unused")


def run_child(mode: str, out: Path) -> dict:
    result = subprocess.run(
        [sys.executable, __file__, "--child", mode, "--out", str(out)],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        sys.exit(f"{mode} export failed:\n{result.stderr}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def child(mode: str, out: Path) -> None:
    setup_django()
    from django.contrib.auth import get_user_model
    from openpyxl import Workbook

    from reports.exporters import ProgressReport, TaskDetailSheet
    from reports.xlsx import excel_value
    from tasks.status import Light

    user = get_user_model().objects.get(username="bench")
    report = ProgressReport(user=user, params={}, language="zh-hans")
    baseline = peak_mb()
    started = time.perf_counter()
    if mode == "report":
        report.write(out)
        rows = report.task_count()
    else:
        # The naive way: a normal (in-memory) workbook, one append per row of the same task sheet.
        wb = Workbook()
        ws = wb.active
        rows = 0
        for values in TaskDetailSheet(report.scope).iterate_list():
            ws.append([str(v.label) if isinstance(v, Light) else excel_value(v) for v in values])
            rows += 1
        wb.save(out)
        rows -= 1
    seconds = time.perf_counter() - started
    print(
        json.dumps(
            {
                "seconds": seconds,
                "peak_mb": peak_mb(),
                "baseline_mb": baseline,
                "rows": rows,
                "bytes": out.stat().st_size,
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tasks", type=int, default=100_000)
    parser.add_argument("--child", choices=["report", "plain"])
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.out)
        return
    setup_django()
    generate(args.tasks)
    out_dir = ROOT / "var" / "bench"
    out_dir.mkdir(parents=True, exist_ok=True)
    report = run_child("report", out_dir / "report-write-only.xlsx")
    plain = run_child("plain", out_dir / "plain.xlsx")
    print(f"\nprogress report, {report['rows']:,} tasks")
    print(f"{'':34}{'time (s)':>10}{'peak RSS (MB)':>15}{'file (MB)':>11}")
    for label, r in (
        ("write-only report (5 sheets+charts)", report),
        ("plain openpyxl (task sheet only)", plain),
    ):
        print(f"{label:34}{r['seconds']:>10.1f}{r['peak_mb']:>15.0f}{r['bytes'] / 2**20:>11.1f}")
    print(
        f"ratio plain / write-only: time {plain['seconds'] / report['seconds']:.2f}x, "
        f"memory {plain['peak_mb'] / report['peak_mb']:.2f}x"
    )
    ok = report["seconds"] < GOAL_SECONDS and report["peak_mb"] < GOAL_MB
    print(f"goal (< {GOAL_SECONDS} s, < {GOAL_MB} MB): {'met' if ok else 'MISSED'}")
    from common import report as report_rows

    report_rows(
        [
            {
                "benchmark": f"progress report, {report['rows']:,} tasks (write-only, 5 sheets, charts)",
                "result": f"{report['seconds']:.1f} s, peak {report['peak_mb']:.0f} MB",
                "goal": f"< {GOAL_SECONDS} s, < {GOAL_MB} MB",
                "met": ok,
                "queries": None,
                "note": f"{report['bytes'] / 2**20:.1f} MB file",
            },
            {
                "benchmark": f"plain openpyxl export of the same {plain['rows']:,} task rows",
                "result": f"{plain['seconds']:.1f} s, peak {plain['peak_mb']:.0f} MB",
                "goal": "comparison",
                "met": None,
                "queries": None,
                "note": f"plain/write-only: time {plain['seconds'] / report['seconds']:.2f}x, "
                f"memory {plain['peak_mb'] / report['peak_mb']:.2f}x",
            },
        ]
    )


if __name__ == "__main__":
    main()
