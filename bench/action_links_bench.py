"""Benchmark one-click 签收 links: issue one per (liaison, task) for 100,000 tasks of 1,000 agencies, then again
(the next day's digest reuses every link).

    .venv/bin/python bench/action_links_bench.py [--tasks 100000] [--agencies 1000]

Uses its own database (bench/common.py: var/bench/action_links.sqlite3, or BENCH_DATABASE_URL), rebuilt each
run. Goal: issuing stays a bulk insert — a fixed number of queries per 2,000 tasks — and takes under 30 s of CPU
for 100,000 (CPU decides: on a shared machine the wall clock also counts other processes and the database).
"""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import measured, report, setup_django  # noqa: E402

ARGS = argparse.ArgumentParser(description="Benchmark issuing one-click 签收 links.")
ARGS.add_argument("--tasks", type=int, default=100_000)
ARGS.add_argument("--agencies", type=int, default=1_000)
OPTIONS = ARGS.parse_args()
setup_django("action_links")

from django.contrib.auth import get_user_model  # noqa: E402
from django.db import transaction  # noqa: E402

from agencies.models import Agency, Liaison  # noqa: E402
from tasks.models import Measure, Plan, Task  # noqa: E402
from workspace.links import CHUNK, issue_links  # noqa: E402
from workspace.models import ActionLink  # noqa: E402


def build(tasks: int, agencies: int) -> dict[int, list[int]]:
    User = get_user_model()
    with transaction.atomic():
        agency_rows = Agency.objects.bulk_create(
            [Agency(name=f"第{i}局", jurisdiction="基准区") for i in range(agencies)], batch_size=1000
        )
        users = User.objects.bulk_create(
            [User(username=f"liaison{i}", email=f"liaison{i}@example.gov.cn") for i in range(agencies)],
            batch_size=1000,
        )
        Liaison.objects.bulk_create(
            [Liaison(user=u, agency=a, email=u.email) for u, a in zip(users, agency_rows, strict=True)],
            batch_size=1000,
        )
        plan = Plan.objects.create(title="基准计划", jurisdiction="基准区")
        measures = Measure.objects.bulk_create(
            [Measure(plan=plan, number=str(n), position=n, text=f"第{n}项措施。") for n in range(tasks // 5)],
            batch_size=2000,
        )
        rows = [
            Task(measure=m, agency=agency_rows[(i * 5 + k) % agencies])
            for i, m in enumerate(measures)
            for k in range(5)
        ]
        Task.objects.bulk_create(rows, batch_size=5000)
    user_of = {a.pk: u.pk for u, a in zip(users, agency_rows, strict=True)}
    return {pk: [user_of[agency_id]] for pk, agency_id in Task.objects.values_list("pk", "agency_id")}


def main() -> None:
    wanted = build(OPTIONS.tasks, OPTIONS.agencies)
    with measured() as first:
        urls = issue_links(wanted, "email")
    created = ActionLink.objects.count()
    with measured() as again:
        reused = issue_links(wanted, "email")
    assert reused == urls and ActionLink.objects.count() == created
    chunks = -(-len(wanted) // CHUNK)
    print(
        f"{len(wanted):,} tasks: issued {created:,} links in {first['seconds']:.2f} s ({first['cpu']:.2f} s CPU, "
        f"{first['queries']} queries); the next digest reuses them in {again['seconds']:.2f} s "
        f"({again['cpu']:.2f} s CPU, {again['queries']} queries); {chunks} chunks of {CHUNK}"
    )
    met = first["cpu"] < 30 and again["cpu"] < 30
    report(
        [
            {
                "benchmark": f"one-click 签收 links: issue for {len(wanted):,} tasks, then reuse",
                "result": f"issue {created:,} links: {first['cpu']:.2f} s CPU, {first['seconds']:.2f} s wall; "
                f"reuse them: {again['cpu']:.2f} s CPU, {again['seconds']:.2f} s wall",
                "goal": "< 30 s CPU each; bulk insert",
                "met": met,
                "queries": first["queries"],
                "note": f"{again['queries']} queries when reusing; {chunks} chunks of {CHUNK} tasks",
            }
        ]
    )


if __name__ == "__main__":
    main()
