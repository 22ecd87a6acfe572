"""Lead-bureau pages at city and province scale on PostgreSQL, each beside the Django admin's task changelist.

Two sizes, generated with COPY (psycopg 3 ``cursor.copy``) into BENCH_DATABASE_URL (default: PostgreSQL
database ``ipplan_bench`` on 127.0.0.1, as ``make bench``; created when missing):

- 100,000 tasks: 100 live plans × 250 measures × 4 of 1,000 agencies, statuses evenly spread (the shape of
  the issue's figures). In-process medians (test client, DEBUG off, warm) of the agency's own list, the lead
  bureau's list, its overdue filter, page 500 and the dashboard, and the admin changelist in the same run
  (the ratio shows progress on a shared, noisy machine); then p50/p95 over HTTP (gunicorn, 2 workers,
  BENCH_CONCURRENCY clients).
- 1,000,000 tasks (BENCH_LARGE=0 skips): a province over ten years, 1,000 plans of 2017–2026 (those ended
  before 2025 closed, their tasks mostly done); the same pages in-process.

Every row names the database and the load average; queries per page are counted; the EXPLAIN (ANALYZE,
BUFFERS) of each page's slowest query is printed (and written to var/bench/web-explain.txt).
"""

from __future__ import annotations

import datetime
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
from bench.common import ensure_database, gunicorn, report  # noqa: E402

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/ipplan_bench"  # as `make bench`
URL = os.environ.get("BENCH_DATABASE_URL") or DEFAULT_URL
TASKS = int(os.environ.get("BENCH_TASKS", "100000"))
LARGE = int(os.environ.get("BENCH_LARGE_TASKS", "1000000"))
RUN_LARGE = os.environ.get("BENCH_LARGE", "1") != "0"
AGENCIES = 1000
PER_MEASURE = 4
MEASURES_PER_PLAN = 250
REQUESTS = int(os.environ.get("BENCH_REQUESTS", "200"))
CONCURRENCY = int(os.environ.get("BENCH_CONCURRENCY", "2"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "15"))
TODAY = datetime.date(2026, 12, 2)
EXPLAIN_FILE = Path(__file__).resolve().parent.parent / "var" / "bench" / "web-explain.txt"


def setup() -> str:
    os.environ["DATABASE_URL"] = URL
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ipplan.settings")
    os.environ["DEBUG"] = "0"
    # Persistent database connections, as production runs (docker-compose.yml): in-process and gunicorn alike.
    os.environ.setdefault("DB_CONN_MAX_AGE", "60")
    os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1,testserver")
    os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ["IPPLAN_VAR_DIR"] = str(Path(__file__).resolve().parent.parent / "var" / "bench")
    name = ensure_database(URL) if URL.startswith("postgres") else "sqlite"
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", "--no-input", verbosity=0)
    call_command("collectstatic", "--no-input", verbosity=0)  # DEBUG off: hashed static names
    return f"PostgreSQL {name}" if name != "sqlite" else name


def load_average() -> str:
    return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())


# Data ------------------------------------------------------------------------------------------------


def copy_rows(model, rows) -> None:
    """COPY dicts into ``model``'s table: every concrete column but the id, defaults for the ones left out."""
    from django.db import connection
    from django.utils import timezone

    now = timezone.now()
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    defaults = {}
    for f in fields:
        if f.has_default():
            defaults[f.attname] = f.get_default()
        elif f.attname in ("created_at", "updated_at"):
            defaults[f.attname] = now
        elif f.null:
            defaults[f.attname] = None
        else:
            defaults[f.attname] = ""
    columns = ", ".join(f'"{f.column}"' for f in fields)
    names = [f.attname for f in fields]
    sql = f'COPY "{model._meta.db_table}" ({columns}) FROM STDIN'
    with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
        for row in rows:
            copy.write_row([row.get(n, defaults[n]) for n in names])


def generate(tasks: int, *, province: bool) -> None:
    """Empty the task tables and write ``tasks`` tasks (plans of 250 measures, 4 agencies each) with COPY."""
    from django.db import connection

    from agencies.models import Agency
    from tasks import sortkey
    from tasks.models import Measure, Plan, Task

    plan_count = tasks // PER_MEASURE // MEASURES_PER_PLAN
    if (
        os.environ.get("BENCH_FRESH") != "1"
        and Task.objects.count() == tasks
        and Plan.objects.count() == plan_count
        and Plan.objects.filter(period_start=2017).exists() == province
        and not sortkey.stale_sort_keys(Task.objects.filter(pk__lte=2000))
    ):
        print(f"  reusing the {tasks:,} tasks already generated (BENCH_FRESH=1 regenerates)", flush=True)
        return
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE tasks_task, tasks_historicaltask, tasks_measure, tasks_historicalmeasure, tasks_plan, "
            "agencies_agency RESTART IDENTITY CASCADE"
        )
    rng = random.Random(7)
    agencies = Agency.objects.bulk_create(
        [Agency(name=f"第{i}局", jurisdiction="基准区") for i in range(AGENCIES)], batch_size=1000
    )
    names = {a.pk: a.name for a in agencies}
    plans = []
    for i in range(plan_count):
        start = 2017 + (i * 10 // plan_count) if province else 2024
        plans.append(
            Plan(
                title=f"基准计划{i}",
                jurisdiction="基准区",
                period_start=start,
                period_end=start + 2 if province else 2027,
                is_active=(start + 2 >= 2026) if province else True,
            )
        )
    plans = Plan.objects.bulk_create(plans)
    copy_rows(
        Measure,
        (
            {
                "plan_id": plan.pk,
                "number": str(n),
                "text": f"推进第{n}项知识产权工作,健全机制,确保实效。",
                "position": n,
                "match_key": f"m{n}",
            }
            for plan in plans
            for n in range(1, MEASURES_PER_PLAN + 1)
        ),
    )
    measures = list(Measure.objects.order_by("pk").values_list("pk", "plan_id", "position"))
    by_plan = {p.pk: p for p in plans}
    statuses = [s for s, _ in Task.Status.choices]
    agency_ids = list(names)

    def task_rows():
        for measure_id, plan_id, position in measures:
            plan = by_plan[plan_id]
            for index, agency_id in enumerate(rng.sample(agency_ids, PER_MEASURE)):
                ongoing = rng.random() < 0.3
                if province:
                    first = datetime.date(plan.period_start, 1, 1)
                    due = first + datetime.timedelta(days=rng.randrange(0, 1095))
                    status = "done" if not plan.is_active and rng.random() < 0.9 else rng.choice(statuses)
                else:
                    due = datetime.date(2026, 1, 1) + datetime.timedelta(days=rng.randrange(0, 720))
                    status = rng.choice(statuses)
                role = "lead" if index == 0 else "support"
                yield {
                    "measure_id": measure_id,
                    "agency_id": agency_id,
                    "role": role,
                    "status": status,
                    "is_ongoing": ongoing,
                    "due_date": None if ongoing else due,
                    "next_report_due": due if ongoing else None,
                    "sort_key": sortkey.sort_key(
                        period_start=plan.period_start,
                        title=plan.title,
                        plan_id=plan_id,
                        position=position,
                        role=role,
                        agency_name=names[agency_id],
                    ),
                }

    copy_rows(Task, task_rows())
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE tasks_task")
        cursor.execute("VACUUM ANALYZE tasks_measure")
        cursor.execute("VACUUM ANALYZE tasks_plan")
        cursor.execute("VACUUM ANALYZE agencies_agency")
    assert not sortkey.stale_sort_keys(Task.objects.filter(pk__lte=2000)), "generated keys disagree"
    print(f"  generated {tasks:,} tasks with COPY in {time.perf_counter() - started:.0f} s", flush=True)


# Measuring -------------------------------------------------------------------------------------------


def users():
    from django.contrib.auth import get_user_model

    from agencies.models import Agency, Liaison
    from agencies.roles import ensure_role_groups

    User = get_user_model()
    User.objects.filter(username__startswith="bench-").delete()
    liaison = User.objects.create_user("bench-liaison", password=secrets.token_urlsafe(12))
    Liaison.objects.create(
        user=liaison, agency=Agency.objects.order_by("pk").first(), email="bench-liaison@example.gov.cn"
    )
    lead = User.objects.create_user("bench-lead", password=secrets.token_urlsafe(12), is_staff=True)
    lead.groups.add(ensure_role_groups()[0])
    return liaison, lead


def timed_queries(client, path: str) -> tuple[float, list[tuple[float, str, tuple]]]:
    """One request: its wall time and every query with its own time."""
    from django.db import connection

    queries = []

    def record(execute, sql, params, many, context):
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            queries.append((time.perf_counter() - start, sql, params))

    with connection.execute_wrapper(record):
        start = time.perf_counter()
        response = client.get(path)
        if hasattr(response, "streaming_content"):
            b"".join(response.streaming_content)
        elapsed = time.perf_counter() - start
    assert response.status_code == 200, (path, response.status_code)
    return elapsed, queries


def explain(sql: str, params) -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
        return "\n".join(row[0] for row in cursor.fetchall())


def write_task() -> None:
    """A liaison's write to one task (no value changed): the lists count again, the dashboard counts the
    tasks of that agency's bucket again (tasks/changes.py)."""
    from django.db.models import F

    from tasks.models import Task

    Task.objects.filter(pk=Task.objects.order_by("pk").values("pk")[:1]).update(percent=F("percent"))


def write_plan() -> None:
    """A plan changed (no value changed): every aggregate is computed again."""
    from django.db.models import F

    from tasks.models import Plan

    Plan.objects.filter(pk=Plan.objects.order_by("pk").values("pk")[:1]).update(period_end=F("period_end"))


WRITES = {
    "task": (
        write_task,
        "first view after a liaison's write",
        "a liaison's write (one task) before each view",
    ),
    "plan": (
        write_plan,
        "first view after a plan change",
        "a plan changed before each view: all counted again",
    ),
}


def measure_pages(
    pages, label: str, database: str, goal_ms: dict, explain_out: list[str], *, write: str | None = None
) -> list[dict]:
    """In-process medians. The lead bureau's counts are cached until the data under them changes
    (tasks/changes.py): ``write`` (a key of WRITES) measures each view right after such a write."""
    from django.test import Client

    before, when, cache = (
        WRITES[write] if write else (None, "", "no write between views: counts from the cache")
    )
    when = f", {when}" if when else ""
    rows, medians = [], {}
    clients = {}
    for name, path, user in pages:
        client = clients.get(user.pk)
        if client is None:
            client = clients[user.pk] = Client()
            client.force_login(user)
        for _ in range(5):  # warm: the first page of a run also warms the process and the server
            timed_queries(client, path)
        times, slowest = [], None
        for _ in range(ROUNDS):
            if before is not None:
                before()
            elapsed, queries = timed_queries(client, path)
            times.append(elapsed * 1000)
            worst = max(queries, key=lambda q: q[0])
            if slowest is None or worst[0] > slowest[0]:
                slowest = worst
            count = len(queries)
        medians[name] = statistics.median(times)
        plan = explain(slowest[1], slowest[2])
        execution = next((line for line in plan.splitlines() if "Execution Time" in line), "").strip()
        disk = "spills to disk" if ("Disk:" in plan or "external" in plan) else "in memory"
        explain_out.append(f"== {name}{when} at {label} ({path}): slowest query {slowest[0] * 1000:.1f} ms\n")
        explain_out.append(f"{slowest[1] % tuple(repr(p) for p in slowest[2] or ())}\n{plan}\n")
        print(
            f"  {name}: median {medians[name]:.1f} ms, {count} queries; slowest query: {execution}",
            flush=True,
        )
        rows.append(
            {
                "name": name,
                "path": path,
                "median": medians[name],
                "queries": count,
                "explain": f"slowest query {execution.removeprefix('Execution Time: ')}, {disk}",
            }
        )
    admin = medians["admin changelist"]
    load = load_average()
    result = []
    for row in rows:
        # The first view after a plan change counts everything again: the worst case, shown beside the goal.
        goal = None if write == "plan" else goal_ms.get(row["name"])
        ratio = "" if row["name"] == "admin changelist" else f", {row['median'] / admin:.2f}× admin"
        result.append(
            {
                "benchmark": f"{row['name']}{when} at {label} tasks, in-process ({database})",
                "result": f"median {row['median']:.1f} ms{ratio}",
                "goal": f"≤ {goal} ms median"
                if goal
                else ("reference" if row["name"] == "admin changelist" else "worst case"),
                "met": (row["median"] <= goal) if goal else None,
                "queries": row["queries"],
                "note": f"{row['path']}; admin changelist {admin:.1f} ms in the same run; {row['explain']}; "
                f"median of {ROUNDS}, DEBUG off, persistent connections; {cache}; {load}",
            }
        )
    return result


def queries_constant(pages, database: str) -> dict:
    """Queries per page at this size (the caller compares two sizes)."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    out = {}
    for name, path, user in pages:
        client = Client()
        client.force_login(user)
        write_plan()  # count the view that computes every aggregate
        with CaptureQueriesContext(connection) as captured:
            assert client.get(path).status_code == 200
        out[name] = len(captured.captured_queries)
    return out


def session_of(user) -> str:
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value


def load(port: int, path: str, session: str, before=None) -> dict:
    """``REQUESTS`` GETs from ``CONCURRENCY`` clients; ``before()`` runs (untimed) ahead of each."""

    def one(_):
        if before is not None:
            before()
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=180)
        start = time.perf_counter()
        connection.request("GET", path, headers={"Cookie": f"sessionid={session}", "Host": "127.0.0.1"})
        response = connection.getresponse()
        response.read()
        connection.close()
        if response.status != 200:
            raise RuntimeError(f"{path}: HTTP {response.status}")
        return time.perf_counter() - start

    for _ in range(5):
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


def page_list(liaison, lead):
    return [
        ("agency's own list (liaison)", "/tasks/", liaison),
        ("task list (lead bureau)", "/tasks/", lead),
        ("task list filtered: overdue (lead bureau)", "/tasks/?overdue=on", lead),
        ("task list page 500 (lead bureau)", "/tasks/?scope=all&page=500", lead),
        ("dashboard (lead bureau)", "/dashboard/", lead),
        ("admin changelist", "/admin/tasks/task/", lead),
    ]


def dashboard_and_admin(pages):
    return [page for page in pages if page[0].startswith(("dashboard", "admin"))]


def http_rows(pages, database: str, counted: dict, rows: list[dict]) -> None:
    """The same pages over HTTP: gunicorn with production settings, CONCURRENCY clients; admin first."""
    # Workers boot slowly on a loaded machine: a longer timeout than gunicorn's 30 s default.
    with gunicorn(workers=2, extra_env={"DATABASE_URL": URL}, extra_args=("--timeout", "120")) as (
        port,
        _server,
    ):
        admin_http = None
        lead_pages = [page for page in pages if "(lead bureau)" in page[0]]
        dashboard = [page for page in pages if page[0].startswith("dashboard")]
        runs = [
            *((page, None) for page in [*pages[-1:], *pages[:-1]]),
            *((page, "task") for page in lead_pages),
            *((page, "plan") for page in dashboard),
        ]
        for (name, path, user), write in runs:
            numbers = load(port, path, session_of(user), before=WRITES[write][0] if write else None)
            goal = None if name == "admin changelist" or write == "plan" else 150
            if goal is None:
                admin_http = numbers
            when = f", {WRITES[write][1]}" if write else ""
            rows.append(
                {
                    "benchmark": f"{name}{when} at {TASKS:,} tasks, over HTTP ({database})",
                    "result": f"p50 {numbers['p50']:.0f} ms, p95 {numbers['p95']:.0f} ms, "
                    f"{numbers['rps']:.1f} req/s"
                    + ("" if goal is None else f", p95 {numbers['p95'] / admin_http['p95']:.2f}× admin"),
                    "goal": ("worst case" if write == "plan" else "reference")
                    if goal is None
                    else f"p95 ≤ {goal} ms",
                    "met": None if goal is None else numbers["p95"] <= goal,
                    "queries": counted[name],
                    "note": f"{path}; gunicorn 2 workers (DB_CONN_MAX_AGE=60), {CONCURRENCY} clients, {REQUESTS} requests; "
                    f"admin changelist p95 {admin_http['p95']:.0f} ms in the same run; "
                    f"{WRITES[write][2] + '; ' if write else ''}{load_average()}",
                }
            )


def main() -> None:
    os.environ["SECRET_KEY"] = secrets.token_urlsafe(50)  # shared with the gunicorn it starts
    database = setup()
    explain_out: list[str] = []
    rows: list[dict] = []
    goals = {
        "agency's own list (liaison)": 30,
        "task list (lead bureau)": 100,
        "task list filtered: overdue (lead bureau)": 100,
        "task list page 500 (lead bureau)": 150,
        "dashboard (lead bureau)": 100,
    }
    counted: dict = {}
    if os.environ.get("BENCH_ONLY_LARGE") != "1":
        generate(TASKS, province=False)
        liaison, lead = users()
        pages = page_list(liaison, lead)
        rows += measure_pages(pages, f"{TASKS:,}", database, goals, explain_out)
        rows += measure_pages(pages, f"{TASKS:,}", database, goals, explain_out, write="task")
        rows += measure_pages(
            dashboard_and_admin(pages), f"{TASKS:,}", database, goals, explain_out, write="plan"
        )
        counted = queries_constant(pages, database)
        if os.environ.get("BENCH_HTTP", "1") != "0":
            http_rows(pages, database, counted, rows)

    if RUN_LARGE:
        generate(LARGE, province=True)
        liaison, lead = users()
        pages = page_list(liaison, lead)
        large_goals = {name: 300 for name in goals}
        rows += measure_pages(pages, f"{LARGE:,}", database, large_goals, explain_out)
        rows += measure_pages(pages, f"{LARGE:,}", database, large_goals, explain_out, write="task")
        rows += measure_pages(
            dashboard_and_admin(pages), f"{LARGE:,}", database, large_goals, explain_out, write="plan"
        )
        counted_large = queries_constant(pages, database)
        if counted:
            rows.append(
                {
                    "benchmark": f"queries per page at {TASKS:,} and {LARGE:,} tasks ({database})",
                    "result": "; ".join(f"{name} {counted[name]}/{counted_large[name]}" for name in counted),
                    "goal": "the same at both sizes",
                    "met": all(counted[name] == counted_large[name] for name in counted),
                    "queries": None,
                    "note": "tests/workspace/test_list_queries.py asserts it with django_assert_num_queries",
                }
            )

    EXPLAIN_FILE.parent.mkdir(parents=True, exist_ok=True)
    EXPLAIN_FILE.write_text("".join(explain_out), encoding="utf-8")
    print("\nEXPLAIN (ANALYZE, BUFFERS) of each page's slowest query:\n" + "".join(explain_out), flush=True)
    report(rows)


if __name__ == "__main__":
    main()
