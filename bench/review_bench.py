"""The review queue (审核) with 25,000 pending completion requests and 2,000 extension requests.

Generates the requests in a private database (SQLite under var/bench/, or BENCH_DATABASE_URL), then renders
/review/ in-process as the lead bureau (Django's test client, DEBUG off): the median of BENCH_REVIEW_RUNS
renders (default 15, after one warm-up) and the size of the HTML. Goal: < 300 ms and < 300 KB.
BENCH_REVIEW_REQUESTS changes the size.
"""

from __future__ import annotations

import datetime
import os
import secrets
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import measured, report, setup_django  # noqa: E402

REQUESTS = int(os.environ.get("BENCH_REVIEW_REQUESTS", "25000"))
EXTENSIONS = 2000
AGENCIES = 200
PLANS = 20
RUNS = int(os.environ.get("BENCH_REVIEW_RUNS", "15"))
GOAL_MS = 300
GOAL_KB = 300


def generate() -> None:
    from agencies.models import Agency
    from tasks.models import ExtensionRequest, Measure, Plan, ProgressUpdate, Task

    agencies = Agency.objects.bulk_create(
        [Agency(name=f"第{i}局", jurisdiction="基准区") for i in range(AGENCIES)], batch_size=1000
    )
    plans = Plan.objects.bulk_create(
        [
            Plan(title=f"基准计划{i}", jurisdiction="基准区", period_start=2024, period_end=2027)
            for i in range(PLANS)
        ]
    )
    total = REQUESTS + EXTENSIONS
    measures = Measure.objects.bulk_create(
        [
            Measure(
                plan=plans[n % PLANS],
                number=str(n),
                text=f"推进第{n}项知识产权工作,健全机制,确保实效。",
                position=n,
            )
            for n in range(total)
        ],
        batch_size=5000,
    )
    due = datetime.date(2026, 12, 31)
    tasks = Task.objects.bulk_create(
        [
            Task(
                measure=measure,
                agency=agencies[n % AGENCIES],
                due_date=due,
                status=Task.Status.COMPLETION_REQUESTED if n < REQUESTS else Task.Status.IN_PROGRESS,
                percent=100 if n < REQUESTS else 50,
            )
            for n, measure in enumerate(measures)
        ],
        batch_size=5000,
    )
    ProgressUpdate.objects.bulk_create(
        [
            ProgressUpdate(
                task=task,
                text="已按计划完成全部工作,相关文件已印发。",
                percent=100,
                status=Task.Status.COMPLETION_REQUESTED,
            )
            for task in tasks[:REQUESTS]
        ],
        batch_size=5000,
    )
    ExtensionRequest.objects.bulk_create(
        [
            ExtensionRequest(
                task=task,
                current_due_date=due,
                requested_due_date=due + datetime.timedelta(days=90),
                reason="需等待上级配套政策出台后衔接。",
            )
            for task in tasks[REQUESTS:]
        ],
        batch_size=5000,
    )


def main() -> None:
    os.environ["DEBUG"] = "0"
    os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
    os.environ.setdefault("ALLOWED_HOSTS", "testserver")
    os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
    os.environ["IPPLAN_VAR_DIR"] = str(Path(__file__).resolve().parent.parent / "var" / "bench")
    setup_django("review")
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    from agencies.roles import ensure_role_groups

    call_command("collectstatic", "--no-input", verbosity=0)  # DEBUG off serves hashed static names
    started = time.perf_counter()
    generate()
    print(
        f"  generated {REQUESTS:,} completion and {EXTENSIONS:,} extension requests "
        f"in {time.perf_counter() - started:.0f} s",
        flush=True,
    )
    lead = get_user_model().objects.create_user(
        "bench-lead", password=secrets.token_urlsafe(12), is_staff=True
    )
    lead.groups.add(ensure_role_groups()[0])
    client = Client()
    client.force_login(lead)

    response = client.get("/review/", secure=True)  # warm-up
    assert response.status_code == 200, response.status_code
    timings = []
    for _ in range(RUNS):
        with measured() as numbers:
            response = client.get("/review/", secure=True)
        timings.append(numbers["seconds"] * 1000)
    size_kb = len(response.content) / 1024
    median = statistics.median(timings)
    forms = response.content.count(b"<form")
    database = f"{connection.vendor} ({connection.settings_dict['NAME']})"
    report(
        [
            {
                "benchmark": f"review queue with {REQUESTS:,} completion + {EXTENSIONS:,} extension requests",
                "result": f"median {median:.0f} ms, {size_kb:.0f} KB, {forms} forms",
                "goal": f"< {GOAL_MS} ms and < {GOAL_KB} KB",
                "met": median < GOAL_MS and size_kb < GOAL_KB,
                "queries": numbers["queries"],
                "note": f"{database}; in-process test client, DEBUG off, median of {RUNS} renders; "
                f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores",
            }
        ]
    )


if __name__ == "__main__":
    main()
