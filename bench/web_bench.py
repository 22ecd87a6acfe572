"""Pages under load at 100,000 tasks: the agency task list, the lead bureau's list and the dashboard.

Generates 100 plans × 250 measures × 4 agencies (1,000 agencies) in a private database, serves it with
gunicorn (production settings) on a loopback port and requests each page from BENCH_CONCURRENCY (default 2, one per core) client threads.
Prints p50/p95 latency, requests per second, and the SQL queries one request makes. Goal: list p95 < 200 ms.
BENCH_TASKS changes the size; BENCH_DATABASE_URL runs it on PostgreSQL.
"""

from __future__ import annotations

import http.client
import os
import random
import secrets
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import gunicorn, report, setup_django  # noqa: E402

TASKS = int(os.environ.get("BENCH_TASKS", "100000"))
AGENCIES = 1000
PER_MEASURE = 4
PLANS = 100
REQUESTS = int(os.environ.get("BENCH_REQUESTS", "200"))
CONCURRENCY = int(os.environ.get("BENCH_CONCURRENCY", "2"))  # one client per core


def generate() -> None:
    import datetime

    from agencies.models import Agency
    from tasks.models import Measure, Plan, Task

    rng = random.Random(7)
    agencies = Agency.objects.bulk_create(
        [Agency(name=f"第{i}局", jurisdiction="基准区") for i in range(AGENCIES)], batch_size=1000
    )
    plans = Plan.objects.bulk_create(
        [
            Plan(title=f"基准计划{i}", jurisdiction="基准区", period_start=2024, period_end=2027)
            for i in range(PLANS)
        ]
    )
    measures_per_plan = TASKS // PER_MEASURE // PLANS
    measures = Measure.objects.bulk_create(
        [
            Measure(plan=plan, number=str(n), text=f"推进第{n}项知识产权工作,健全机制,确保实效。", position=n)
            for plan in plans
            for n in range(1, measures_per_plan + 1)
        ],
        batch_size=2000,
    )
    statuses = [s for s, _ in Task.Status.choices]
    tasks = []
    for measure in measures:
        for index, agency in enumerate(rng.sample(agencies, PER_MEASURE)):
            ongoing = rng.random() < 0.3
            due = datetime.date(2026, 1, 1) + datetime.timedelta(days=rng.randrange(0, 720))
            tasks.append(
                Task(
                    measure=measure,
                    agency=agency,
                    role="lead" if index == 0 else "support",
                    status=rng.choice(statuses),
                    is_ongoing=ongoing,
                    due_date=None if ongoing else due,
                    next_report_due=due if ongoing else None,
                )
            )
    Task.objects.bulk_create(tasks, batch_size=5000)


def session_for(username: str, *, staff: bool, agency=None) -> str:
    from django.contrib.auth import get_user_model
    from django.test import Client

    from agencies.models import Liaison
    from agencies.roles import ensure_role_groups

    user = get_user_model().objects.create_user(username, password=secrets.token_urlsafe(12), is_staff=staff)
    if staff:
        user.groups.add(ensure_role_groups()[0])
    if agency is not None:
        Liaison.objects.create(user=user, agency=agency, email=f"{username}@example.gov.cn")
    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value


def queries_for(path: str, session: str) -> int:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    client.cookies["sessionid"] = session
    with CaptureQueriesContext(connection) as captured:
        response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return len(captured.captured_queries)


def load(port: int, path: str, session: str) -> dict:
    def one(_):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        start = time.perf_counter()
        connection.request("GET", path, headers={"Cookie": f"sessionid={session}", "Host": "127.0.0.1"})
        response = connection.getresponse()
        response.read()
        connection.close()
        if response.status != 200:
            raise RuntimeError(f"{path}: HTTP {response.status}")
        return time.perf_counter() - start

    for _ in range(5):  # warm up
        one(None)
    start = time.perf_counter()
    with ThreadPoolExecutor(CONCURRENCY) as pool:
        latencies = sorted(pool.map(one, range(REQUESTS)))
    elapsed = time.perf_counter() - start
    return {
        "p50": statistics.median(latencies) * 1000,
        "p95": latencies[int(len(latencies) * 0.95) - 1] * 1000,
        "rps": REQUESTS / elapsed,
    }


def main() -> None:
    # One key for this process (which creates the sessions) and the server (which reads them).
    os.environ["SECRET_KEY"] = secrets.token_urlsafe(50)
    setup_django("web")

    from agencies.models import Agency

    started = time.perf_counter()
    generate()
    print(f"  generated {TASKS:,} tasks in {time.perf_counter() - started:.0f} s", flush=True)
    liaison_session = session_for("bench-liaison", staff=False, agency=Agency.objects.order_by("pk").first())
    lead_session = session_for("bench-lead", staff=True)
    pages = [
        ("agency task list (liaison)", "/tasks/", liaison_session, 200),
        ("task list, all tasks (lead bureau)", "/tasks/", lead_session, 200),
        ("task list filtered: overdue (lead bureau)", "/tasks/?overdue=on", lead_session, 200),
        ("dashboard across plans (lead bureau)", "/dashboard/", lead_session, None),
    ]
    queries = {name: queries_for(path, session) for name, path, session, _ in pages}

    with gunicorn(workers=2) as (port, _server):
        rows = []
        for name, path, session, goal in pages:
            numbers = load(port, path, session)
            rows.append(
                {
                    "benchmark": f"{name} at {TASKS:,} tasks",
                    "result": f"p50 {numbers['p50']:.0f} ms, p95 {numbers['p95']:.0f} ms, {numbers['rps']:.1f} req/s",
                    "goal": f"p95 < {goal} ms" if goal else "—",
                    "met": (numbers["p95"] < goal) if goal else None,
                    "queries": queries[name],
                    "note": f"{CONCURRENCY} concurrent clients on loopback, gunicorn 2 workers, {REQUESTS} requests",
                }
            )
    report(rows)


if __name__ == "__main__":
    main()
