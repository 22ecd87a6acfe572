"""iCal feeds through the Django view, uncached and cached: one agency with 2,000 tasks (a quarter of them
ongoing, as recurring report deadlines) and one plan of 30,000 tasks (7,500 measures × 4 agencies).

Every task and measure has its history rows (the feed's SEQUENCE counts them), as imports leave them.
Set BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/<db> (the issue's target; flushed first).
"""

from __future__ import annotations

import datetime
import os
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import measured, report, setup_django  # noqa: E402

TASKS = int(os.environ.get("BENCH_FEED_TASKS", "2000"))
PLAN_TASKS = int(os.environ.get("BENCH_PLAN_FEED_TASKS", "30000"))
ROUNDS = 5


def database() -> str:
    from django.db import connection

    if connection.vendor == "postgresql":
        return f"PostgreSQL {connection.settings_dict['NAME']}"
    return f"SQLite {Path(connection.settings_dict['NAME']).name}"


def make_tasks(measures, agencies, rng: random.Random) -> None:
    from simple_history.utils import bulk_create_with_history

    from tasks.models import Task

    tasks = []
    for measure in measures:
        for agency in agencies:
            ongoing = rng.random() < 0.25
            due = datetime.date(2026, 1, 1) + datetime.timedelta(days=rng.randrange(0, 700))
            tasks.append(
                Task(
                    measure=measure,
                    agency=agency,
                    role="lead" if agency is agencies[0] else "support",
                    is_ongoing=ongoing,
                    due_date=None if ongoing else due,
                    next_report_due=due if ongoing else None,
                    status=rng.choice(["not_started", "in_progress", "done"]),
                )
            )
    bulk_create_with_history(tasks, Task, batch_size=5000)


def make_measures(plans, count: int, text: str):
    from simple_history.utils import bulk_create_with_history

    from tasks.models import Measure

    return bulk_create_with_history(
        [
            Measure(
                plan=plans[i % len(plans)],
                number=str(i + 1),
                text=text.format(i=i + 1),
                position=i,
            )
            for i in range(count)
        ],
        Measure,
        batch_size=5000,
    )


def time_feed(url: str) -> dict:
    from django.core.cache import cache
    from django.test import Client

    client = Client()
    client.get(url)  # warm up
    timings, cpu = [], []
    for _ in range(ROUNDS):
        cache.clear()  # cold: the feed is built from the database
        start, started_cpu = time.perf_counter(), time.process_time()
        response = client.get(url)
        timings.append(time.perf_counter() - start)
        cpu.append(time.process_time() - started_cpu)
    cache.clear()
    with measured() as one:
        response = client.get(url)
    with measured() as cached:
        client.get(url)
    assert response.status_code == 200
    return {
        "median": statistics.median(timings),
        "cpu": statistics.median(cpu),
        "cached": cached,
        "queries": one["queries"],
        "bytes": len(response.content),
        "events": response.content.count(b"BEGIN:VEVENT"),
    }


def main() -> None:
    setup_django("calendar")
    from django.contrib.auth import get_user_model
    from django.urls import reverse

    from agencies.models import Agency, Liaison
    from agencies.roles import ensure_role_groups
    from reports.services import liaison_feed, plan_feed
    from tasks.models import Plan

    rng = random.Random(3)
    agency = Agency.objects.create(name="区金融局", jurisdiction="基准区")
    user = get_user_model().objects.create_user("feed-liaison")
    liaison = Liaison.objects.create(user=user, agency=agency, email="feed@example.gov.cn")
    plans = Plan.objects.bulk_create(
        [
            Plan(title=f"基准计划{i}", jurisdiction="基准区", period_start=2025, period_end=2027)
            for i in range(20)
        ]
    )
    measures = make_measures(plans, TASKS, "推进第{i}项知识产权工作,健全机制。")
    make_tasks(measures, [agency], rng)

    city = Plan.objects.create(
        title="基准市知识产权强市建设推进计划(2025-2027年)",
        jurisdiction="基准市",
        period_start=2025,
        period_end=2027,
    )
    city_agencies = Agency.objects.bulk_create(
        [Agency(name=f"市第{i}局", short_name=f"第{i}局", jurisdiction="基准市") for i in range(4)]
    )
    city_measures = make_measures(
        [city],
        PLAN_TASKS // len(city_agencies),
        "{i}. 深入推进知识产权领域改革,健全知识产权综合管理体制,加强统筹协调,确保各项措施落到实处。"
        "按季度报送工作进展,年底前形成总结报告。",
    )
    make_tasks(city_measures, city_agencies, rng)
    lead = get_user_model().objects.create_user("feed-lead", is_staff=True)
    lead.groups.add(ensure_role_groups()[0])

    where = database()
    load = os.getloadavg()[0]
    rows = []
    for title, url, goal in (
        (
            f"iCal feed of one agency with {TASKS:,} tasks",
            reverse("reports:calendar_feed", args=[liaison_feed(liaison=liaison).token]),
            0.1,
        ),
        (
            f"iCal feed of one plan with {PLAN_TASKS:,} tasks (4 agencies)",
            reverse("reports:calendar_feed", args=[plan_feed(user=lead, plan=city).token]),
            2.0,
        ),
    ):
        got = time_feed(url)
        rows.append(
            {
                "benchmark": f"{title} ({where})",
                "result": f"built {got['median'] * 1000:.0f} ms (median of {ROUNDS}, CPU {got['cpu'] * 1000:.0f} ms), "
                f"cached {got['cached']['seconds'] * 1000:.0f} ms; {got['bytes'] / 1024:,.0f} KiB, "
                f"{got['events']:,} events",
                "goal": f"< {goal * 1000:.0f} ms built" if goal < 1 else f"< {goal:.0f} s built",
                "met": got["median"] < goal,
                "queries": got["queries"],
                "note": f"{where}; through the Django view, direct RFC 5545 serialiser from one query; "
                f"ongoing tasks as RRULE series; {got['cached']['queries']} queries cached; "
                f"load average {load:.1f} on {os.cpu_count()} cores",
            }
        )
    report(rows)


if __name__ == "__main__":
    main()
