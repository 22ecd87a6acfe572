"""Benchmark: the printable 工作台账 of one 5,000-measure plan (four agencies a measure, progress on a third).

    .venv/bin/python bench/ledger_bench.py [--measures 5000]

Own database (var/bench/ledger.sqlite3 or BENCH_DATABASE_URL; reused while it holds the right plan). The
ledger is built in a fresh child process so that its peak memory (ru_maxrss) is its own. Goal: < 10 s and
< 200 MB.
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
GOAL_SECONDS, GOAL_MB = 10, 200
TITLE = "基准区知识产权强保护工作方案"


def setup_django() -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    os.environ.pop("REDIS_URL", None)
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    from common import setup_django as setup

    setup("ledger", fresh=False)


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def generate(n_measures: int) -> None:
    from django.contrib.auth import get_user_model
    from django.db import transaction
    from django.utils import timezone

    from agencies.models import Agency
    from tasks.models import Measure, Plan, ProgressUpdate, Section, Task

    plan = Plan.objects.filter(title=TITLE).first()
    if plan is not None and plan.measures.count() == n_measures:
        return
    print(f"generating a plan of {n_measures:,} measures …", flush=True)
    with transaction.atomic():
        Plan.objects.filter(title=TITLE).delete()
        Agency.objects.bulk_create(
            [Agency(name=f"基准区第{i}局", jurisdiction="基准区") for i in range(60)], ignore_conflicts=True
        )
        agencies = list(Agency.objects.filter(jurisdiction="基准区").order_by("pk"))
        plan = Plan.objects.create(
            title=TITLE,
            issuer="基准区市场监督管理局",
            jurisdiction="基准区",
            period_start=2024,
            period_end=2026,
        )
        sections = Section.objects.bulk_create(
            [
                Section(plan=plan, heading=f"{i + 1}、加强第{i + 1}领域知识产权保护", position=i * 100)
                for i in range(n_measures // 50 + 1)
            ]
        )
        text = "加强知识产权保护体系建设,完善行政执法和司法保护衔接机制,健全快速协同保护工作机制,定期通报工作进展。"
        measures = Measure.objects.bulk_create(
            [
                Measure(
                    plan=plan,
                    section=sections[i // 50],
                    number=str(i + 1),
                    text=text[: 30 + i % 40],
                    raw_deadline="持续推进" if i % 7 == 0 else f"{2024 + i % 3}年{1 + i % 12}月底前",
                    deadline_date=None if i % 7 == 0 else datetime.date(2024 + i % 3, 1 + i % 12, 28),
                    is_ongoing=i % 7 == 0,
                    position=i,
                )
                for i in range(n_measures)
            ],
            batch_size=2000,
        )
        tasks = [
            Task(
                measure=measure,
                agency=agencies[(i * 7 + j * 13) % len(agencies)],
                role=Task.Role.LEAD if j == 0 else Task.Role.SUPPORT,
                is_ongoing=measure.is_ongoing,
                due_date=measure.deadline_date,
                next_report_due=datetime.date(2025, 4, 10) if measure.is_ongoing else None,
                status=Task.Status.values[(i + j) % 4],
            )
            for i, measure in enumerate(measures)
            for j in range(4)
        ]
        Task.objects.bulk_create(tasks, batch_size=5000)
        ids = list(Task.objects.filter(measure__plan=plan).values_list("pk", flat=True)[::3])
        ProgressUpdate.objects.bulk_create(
            [
                ProgressUpdate(
                    task_id=pk,
                    text="已制定工作方案,明确责任分工和时间节点,召开专题推进会议两次,下一步将持续推进。",
                    created_at=timezone.now(),
                )
                for pk in ids
            ],
            batch_size=5000,
        )
    User = get_user_model()
    if not User.objects.filter(username="bench").exists():
        User.objects.create_superuser("bench", "bench@example.gov.cn", "bench-password-unused")


def child(out: Path) -> None:
    setup_django()
    from django.contrib.auth import get_user_model

    from reports.exporters import LedgerReport
    from tasks.models import Plan

    user = get_user_model().objects.get(username="bench")
    plan = Plan.objects.get(title=TITLE)
    started = time.perf_counter()
    report = LedgerReport(user=user, params={"plan": [str(plan.pk)]}, language="zh-hans")
    report.write(out)
    seconds = time.perf_counter() - started
    print(json.dumps({"seconds": seconds, "peak_mb": peak_mb(), "bytes": out.stat().st_size}))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--measures", type=int, default=5000)
    parser.add_argument("--child", action="store_true")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    if args.child:
        child(args.out)
        return
    setup_django()
    generate(args.measures)
    out = ROOT / "var" / "bench" / "ledger.xlsx"
    result = subprocess.run(
        [sys.executable, __file__, "--child", "--out", str(out)], capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        sys.exit(f"ledger failed:\n{result.stderr}")
    measured = json.loads(result.stdout.strip().splitlines()[-1])
    ok = measured["seconds"] < GOAL_SECONDS and measured["peak_mb"] < GOAL_MB
    print(
        f"工作台账, {args.measures:,} measures: {measured['seconds']:.1f} s, peak {measured['peak_mb']:.0f} MB"
    )
    from common import report

    report(
        [
            {
                "benchmark": f"工作台账 of a {args.measures:,}-measure plan (20,000 tasks, write-only, row heights)",
                "result": f"{measured['seconds']:.1f} s, peak {measured['peak_mb']:.0f} MB",
                "goal": f"< {GOAL_SECONDS} s, < {GOAL_MB} MB",
                "met": ok,
                "queries": None,
                "note": f"{measured['bytes'] / 2**20:.1f} MB file; peak RSS includes Django",
            }
        ]
    )


if __name__ == "__main__":
    main()
