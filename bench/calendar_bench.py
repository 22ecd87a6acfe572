"""The iCal feed of one agency with 2,000 tasks (a quarter of them ongoing, as recurring report deadlines).

Measures one feed request through Django (view + icalendar serialisation) and the SQL queries it makes.
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


def main() -> None:
    setup_django("calendar")
    from django.contrib.auth import get_user_model
    from django.core.cache import cache
    from django.test import Client
    from django.urls import reverse

    from agencies.models import Agency, Liaison
    from reports.services import liaison_feed
    from tasks.models import Measure, Plan, Task

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
    measures = Measure.objects.bulk_create(
        [
            Measure(
                plan=plans[i % len(plans)],
                number=str(i),
                text=f"推进第{i}项知识产权工作,健全机制。",
                position=i,
            )
            for i in range(TASKS)
        ]
    )
    tasks = []
    for measure in measures:
        ongoing = rng.random() < 0.25
        due = datetime.date(2026, 1, 1) + datetime.timedelta(days=rng.randrange(0, 700))
        tasks.append(
            Task(
                measure=measure,
                agency=agency,
                role="lead",
                is_ongoing=ongoing,
                due_date=None if ongoing else due,
                next_report_due=due if ongoing else None,
            )
        )
    Task.objects.bulk_create(tasks, batch_size=2000)
    url = reverse("reports:calendar_feed", args=[liaison_feed(liaison=liaison).token])
    client = Client()
    client.get(url)  # warm up
    timings = []
    for _ in range(3):
        cache.clear()  # cold: the feed is built from the database
        start = time.perf_counter()
        response = client.get(url)
        timings.append(time.perf_counter() - start)
    cache.clear()
    with measured() as one:
        response = client.get(url)
    with measured() as cached:
        client.get(url)
    assert response.status_code == 200
    events = response.content.count(b"BEGIN:VEVENT")
    median = statistics.median(timings) * 1000
    report(
        [
            {
                "benchmark": f"iCal feed of one agency with {TASKS:,} tasks",
                "result": f"built {median:.0f} ms (median), cached {cached['seconds'] * 1000:.0f} ms; "
                f"{len(response.content) / 1024:.0f} KiB, {events:,} events",
                "goal": "—",
                "met": None,
                "queries": one["queries"],
                "note": f"through the Django view; ongoing tasks as RRULE series; {cached['queries']} queries cached",
            }
        ]
    )


if __name__ == "__main__":
    main()
