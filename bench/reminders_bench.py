"""Benchmark the reminder sweep: 100,000 tasks of 1,000 agencies (generated), each with a liaison.

    .venv/bin/python bench/reminders_bench.py [--tasks 100000] [--agencies 1000] [--fresh]

Uses its own database (bench/common.py: var/bench/reminders.sqlite3, or BENCH_DATABASE_URL), built once and
reused (--fresh rebuilds it). Prints the time to
compute who gets what, to render every email, and the number of queries, at a tenth of the tasks and at all
of them: the number of queries must not grow with the number of tasks. Goal: under 10 s to build all digests.
"""

import argparse
import datetime
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import report, setup_django  # noqa: E402

ARGS = argparse.ArgumentParser(description="Benchmark the reminder sweep.")
ARGS.add_argument("--tasks", type=int, default=100_000)
ARGS.add_argument("--agencies", type=int, default=1_000)
ARGS.add_argument("--fresh", action="store_true", help="rebuild the benchmark database")
OPTIONS = ARGS.parse_args()
# Generating 100,000 tasks takes a minute: keep the database between runs unless --fresh.
setup_django("reminders", fresh=OPTIONS.fresh)

from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from agencies.models import Agency, Liaison  # noqa: E402
from agencies.roles import ensure_role_groups  # noqa: E402
from reminders import services  # noqa: E402
from tasks.models import Measure, Plan, Task  # noqa: E402

DAY = datetime.date(2024, 9, 30)  # a Monday before the National Day holidays
TASKS_PER_MEASURE = 5


def build(total_tasks: int, agencies: int, start_measure: int = 0) -> None:
    """Add measures of TASKS_PER_MEASURE tasks until there are ``total_tasks`` tasks."""
    rng = random.Random(start_measure)
    agency_ids = list(Agency.objects.order_by("pk").values_list("pk", flat=True))
    plans = list(Plan.objects.order_by("pk"))
    have = Task.objects.count()
    measures_needed = (total_tasks - have) // TASKS_PER_MEASURE
    statuses = [Task.Status.NOT_STARTED, Task.Status.IN_PROGRESS, Task.Status.DONE]
    with transaction.atomic():
        measures = Measure.objects.bulk_create(
            [
                Measure(
                    plan=plans[number % len(plans)],
                    number=str(number),
                    position=number,
                    text=f"第{number}项:健全知识产权保护工作机制,加强部门协作。由牵头单位会同配合单位落实。",
                )
                for number in range(start_measure, start_measure + measures_needed)
            ],
            batch_size=2000,
        )
        tasks = []
        for measure in measures:
            ongoing = rng.random() < 0.1
            due = DAY + datetime.timedelta(days=rng.randint(-200, 200))
            for position, agency_id in enumerate(rng.sample(agency_ids, TASKS_PER_MEASURE)):
                tasks.append(
                    Task(
                        measure=measure,
                        agency_id=agency_id,
                        role=Task.Role.LEAD if position == 0 else Task.Role.SUPPORT,
                        due_date=None if ongoing else due,
                        is_ongoing=ongoing,
                        next_report_due=due if ongoing else None,
                        status=rng.choice(statuses),
                    )
                )
        Task.objects.bulk_create(tasks, batch_size=5000)


def setup(total_tasks: int, agencies: int) -> None:
    if Agency.objects.count() >= agencies and Task.objects.count() >= total_tasks:
        return
    print(f"generating {agencies} agencies and {total_tasks} tasks …", flush=True)
    Task.objects.all().delete()
    Measure.objects.all().delete()
    Liaison.objects.all().delete()
    Agency.objects.all().delete()
    Plan.objects.all().delete()
    get_user_model().objects.all().delete()
    User = get_user_model()
    lead_group, _leader = ensure_role_groups()
    with transaction.atomic():
        Agency.objects.bulk_create(
            [Agency(name=f"第{i}局", jurisdiction="基准区") for i in range(agencies)], batch_size=1000
        )
        users = User.objects.bulk_create(
            [User(username=f"liaison{i}", email=f"liaison{i}@example.gov.cn") for i in range(agencies)],
            batch_size=1000,
        )
        frequencies = ["daily"] * 8 + ["weekly", "off"]
        Liaison.objects.bulk_create(
            [
                Liaison(user=user, agency=agency, email=user.email, digest_frequency=frequencies[i % 10])
                for i, (user, agency) in enumerate(zip(users, Agency.objects.order_by("pk"), strict=True))
            ],
            batch_size=1000,
        )
        for i in range(3):
            user = User.objects.create(username=f"lead{i}", email=f"lead{i}@example.gov.cn", is_staff=True)
            user.groups.add(lead_group)
        Plan.objects.bulk_create([Plan(title=f"基准计划{i}", jurisdiction="基准区") for i in range(20)])
    build(total_tasks // 10, agencies)
    build(total_tasks, agencies, start_measure=total_tasks // 10 // TASKS_PER_MEASURE)


def measure(label: str) -> dict:
    wall, cpu = time.perf_counter(), time.process_time()
    with CaptureQueriesContext(connection) as queries:
        emails = services.compute_reminders(DAY)
    compute_wall, compute_cpu = time.perf_counter() - wall, time.process_time() - cpu
    wall, cpu = time.perf_counter(), time.process_time()
    rendered = {}
    for email in emails:
        if not email.skip_reason:
            key = (email.kind, id(email.lines))
            if key not in rendered:  # the sweep renders the lead bureau's shared escalation once
                rendered[key] = services.render(email)
    render_wall, render_cpu = time.perf_counter() - wall, time.process_time() - cpu
    lines = sum(len(email.lines) for email in emails)
    result = {
        "label": label,
        "tasks": Task.objects.filter(measure__is_removed=False).count(),
        "emails": len(emails),
        "lines": lines,
        "compute_s": compute_wall,
        "render_s": render_wall,
        "wall_s": compute_wall + render_wall,
        "cpu_s": compute_cpu + render_cpu,
        "queries": len(queries),
    }
    print(
        f"{label:>6}: {result['tasks']:>7,} tasks → {len(emails):>5,} emails, {lines:>7,} task lines; computed in "
        f"{compute_wall:5.2f} s with {len(queries)} queries, rendered in {render_wall:5.2f} s; "
        f"total {result['wall_s']:5.2f} s ({result['cpu_s']:5.2f} s CPU)",
        flush=True,
    )
    return result


def main() -> None:
    setup(OPTIONS.tasks, OPTIONS.agencies)
    # A tenth of the tasks: the later measures set aside (same agencies and liaisons), then all of them.
    cut = OPTIONS.tasks // 10 // TASKS_PER_MEASURE
    first_later = Measure.objects.order_by("pk").values_list("pk", flat=True)[cut]
    with transaction.atomic():
        Measure.objects.filter(pk__gte=first_later).update(is_removed=True)
        small = measure("tenth")
        transaction.set_rollback(True)
    full = measure("all")
    same = small["queries"] == full["queries"]
    # CPU time decides: on a shared machine the wall clock also counts other processes.
    total = full["cpu_s"]
    print(
        f"queries: {small['queries']} at a tenth, {full['queries']} at all tasks — {'constant' if same else 'GROWING'}"
    )
    print(f"goal: build all digests in under 10 s — {'met' if total < 10 else 'NOT met'} ({total:.2f} s CPU)")
    report(
        [
            {
                "benchmark": f"reminder sweep: build all digests ({full['tasks']:,} tasks, {OPTIONS.agencies:,} agencies)",
                "result": f"{total:.2f} s CPU, {full['wall_s']:.2f} s wall ({full['compute_s']:.2f} s computing, "
                f"{full['render_s']:.2f} s rendering {full['emails']:,} emails, {full['lines']:,} task lines)",
                "goal": "< 10 s; queries constant",
                "met": total < 10 and same,
                "queries": full["queries"],
                "note": f"{small['queries']} queries at {small['tasks']:,} tasks",
            }
        ]
    )


if __name__ == "__main__":
    main()
