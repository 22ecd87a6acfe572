"""Benchmark the reminder sweep: 100,000 tasks of 1,000 agencies (generated), each with a liaison.

    .venv/bin/python bench/reminders_bench.py [--tasks 100000] [--agencies 1000] [--fresh] [--no-send]

Uses its own database (bench/common.py: var/bench/reminders.sqlite3, or BENCH_DATABASE_URL), built once and
reused (--fresh rebuilds it). Prints the time to
compute who gets what, to render every email, and the number of queries, at a tenth of the tasks and at all
of them: the number of queries must not grow with the number of tasks. Goal: under 10 s to build all digests.

Then the real send path, in a child process of its own so its peak memory is its own: the sweep claims every
email of the day (digests, escalations, the 投递问题日报) and ``deliver_now`` sends each one, with its
attachment, over SMTP to an aiosmtpd server on loopback (a separate process that counts what it receives).
Goal: under 60 s and 300 MB peak RSS; the size of the lead bureau's escalation mail is reported.

The child runs with DEBUG off, as the worker does in production. The server stands in for an MTA: it takes
every byte of each message over SMTP and parses its headers (To, Subject) as a relay does to route it, but
builds no MIME tree (BytesHeaderParser, not a full parse with email.policy.default, which a real MTA does
not do and which competed with the sender for the same two cores); its CPU time is reported.
Send-path rows measured before 2026-12-02 18:00 UTC ran with DEBUG on and the full parse.

``BENCH_PORTS=first-last`` keeps the server on a range of ports (bench/common.py: free_port).
"""

import argparse
import datetime
import json
import os
import random
import resource
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, free_port, report, setup_django  # noqa: E402

ARGS = argparse.ArgumentParser(description="Benchmark the reminder sweep.")
ARGS.add_argument("--tasks", type=int, default=100_000)
ARGS.add_argument("--agencies", type=int, default=1_000)
ARGS.add_argument("--fresh", action="store_true", help="rebuild the benchmark database")
ARGS.add_argument("--no-send", action="store_true", help="skip the send path (SMTP) row")
ARGS.add_argument("--send-path", action="store_true", help=argparse.SUPPRESS)  # the child process
OPTIONS = ARGS.parse_args()
if OPTIONS.send_path:
    # As the beat's worker runs it: DEBUG off. With DEBUG on, Django keeps the text of the last 9,000 queries,
    # among them the sweep's inserts of every rendered body (~150 MB of this process's peak RSS).
    # A fixed key, as a deployment has: the one-click 签收 links of earlier runs stay valid and are reused
    # (a new key every run would issue all of them again).
    os.environ["DEBUG"] = "0"
    os.environ.setdefault("SECRET_KEY", "ipplan-reminders-bench-key-not-a-secret-" + "x" * 20)
# Generating 100,000 tasks takes a minute: keep the database between runs unless --fresh.
setup_django("reminders", fresh=OPTIONS.fresh and not OPTIONS.send_path)

from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection, models, transaction  # noqa: E402
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


SMTP_SERVER = r"""
import sys, time
from email import policy
from email.parser import BytesHeaderParser
from aiosmtpd.controller import Controller

class Count:
    async def handle_DATA(self, server, session, envelope):
        # The headers only, as an MTA reads them to route a message: it does not build the MIME tree.
        message = BytesHeaderParser(policy=policy.default).parsebytes(envelope.original_content)
        with open(sys.argv[2], "a", encoding="utf-8") as out:
            out.write(f"{len(envelope.original_content)}\t{message['To']}\t{message['Subject']}\n")
        return "250 OK"

controller = Controller(Count(), hostname="127.0.0.1", port=int(sys.argv[1]))
controller.start()
print("ready", flush=True)
sys.stdin.read()
controller.stop()
print(f"cpu {time.process_time():.3f}", flush=True)
"""


def send_path() -> None:
    """The child: sweep and deliver the day's mail over SMTP; prints one JSON line."""
    from django.conf import settings

    from reminders.models import ReminderLog

    port = free_port()
    received = ROOT / "var" / "bench" / f"smtp-{os.getpid()}.tsv"
    received.parent.mkdir(parents=True, exist_ok=True)
    received.unlink(missing_ok=True)
    server = subprocess.Popen(
        [sys.executable, "-c", SMTP_SERVER, str(port), str(received)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout.readline().strip() == "ready"
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", port, 30
        # The outbox of earlier runs: this run sends everything again. Primary keys only: loading 2,000 rendered
        # bodies to delete them would count ~200 MB into this process's peak RSS before the send path starts.
        ReminderLog.objects.only("pk").delete()
        wall, cpu = time.perf_counter(), time.process_time()
        result = services.run_sweep(DAY, dispatch=None)
        claimed = time.perf_counter() - wall
        services.deliver_now(result.dispatched)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        statuses = dict(
            ReminderLog.objects.values_list("status")
            .annotate(n=models.Count("pk"))
            .values_list("status", "n")
        )
    finally:
        server_out, _ = server.communicate("", timeout=30)
    server_cpu = float(server_out.split()[-1]) if server_out.startswith("cpu ") else None
    lines = [line.split("\t", 2) for line in received.read_text(encoding="utf-8").splitlines()]
    received.unlink(missing_ok=True)
    escalation = max(
        (int(size) for size, to, subject in lines if to.startswith("lead") and "逾期上报" in subject),
        default=0,
    )
    bureau = ReminderLog.objects.filter(kind="escalation", recipient="lead0@example.gov.cn").first()
    print(
        "SEND-RESULT "
        + json.dumps(
            {
                "wall_s": wall,
                "cpu_s": cpu,
                "claim_s": claimed,
                "server_cpu_s": server_cpu,
                "peak_mb": peak_mb,
                "mails": len(lines),
                "bytes": sum(int(size) for size, _to, _subject in lines),
                "escalation_bytes": escalation,
                "escalation_body_bytes": len(bureau.body_text.encode()) + len(bureau.body_html.encode())
                if bureau
                else 0,
                "escalation_tasks": bureau.tasks.count() if bureau else 0,
                "statuses": statuses,
                "tasks": Task.objects.filter(measure__is_removed=False).count(),
            },
            ensure_ascii=False,
        ),
        flush=True,
    )


def measure_send_path() -> dict:
    process = subprocess.run(
        [
            sys.executable,
            __file__,
            "--send-path",
            "--tasks",
            str(OPTIONS.tasks),
            "--agencies",
            str(OPTIONS.agencies),
        ],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        check=True,
    )
    for line in process.stdout.splitlines():
        if line.startswith("SEND-RESULT "):
            return json.loads(line.removeprefix("SEND-RESULT "))
    raise RuntimeError("the send path printed no result")


def server_cpu(sent: dict) -> str:
    return "CPU not reported" if sent.get("server_cpu_s") is None else f"{sent['server_cpu_s']:.1f} s CPU"


def database_name() -> str:
    vendor = connection.vendor
    name = connection.settings_dict["NAME"]
    return f"{'PostgreSQL' if vendor == 'postgresql' else vendor} {Path(str(name)).name}"


def main() -> None:
    if OPTIONS.send_path:
        send_path()
        return
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
    rows = []
    if not OPTIONS.no_send:
        sent = measure_send_path()
        load = os.getloadavg()
        met = sent["wall_s"] < 60 and sent["peak_mb"] < 300
        print(
            f"send path: {sent['mails']:,} mails ({sent['bytes'] / 1e6:.1f} MB) sent over SMTP in {sent['wall_s']:.1f} s "
            f"({sent['cpu_s']:.1f} s CPU, sweep {sent['claim_s']:.1f} s), peak RSS {sent['peak_mb']:.0f} MB; "
            f"escalation mail {sent['escalation_bytes'] / 1e6:.2f} MB (body {sent['escalation_body_bytes'] / 1e6:.2f} MB, "
            f"{sent['escalation_tasks']:,} tasks); statuses {sent['statuses']}; SMTP server {server_cpu(sent)}; "
            f"load average {load[0]:.1f}",
            flush=True,
        )
        rows.append(
            {
                "benchmark": f"reminder send path: sweep + SMTP to aiosmtpd on loopback ({sent['tasks']:,} tasks, "
                f"{OPTIONS.agencies:,} agencies, {database_name()})",
                "result": f"{sent['wall_s']:.1f} s wall ({sent['cpu_s']:.1f} s CPU), peak RSS {sent['peak_mb']:.0f} MB, "
                f"{sent['mails']:,} mails; escalation mail {sent['escalation_bytes'] / 1e6:.2f} MB "
                f"(body {sent['escalation_body_bytes'] / 1e6:.2f} MB text+HTML, .xlsx of {sent['escalation_tasks']:,} tasks)",
                "goal": "< 60 s, < 300 MB peak",
                "met": met,
                "queries": None,
                "note": f"sweep {sent['claim_s']:.1f} s of it; DEBUG off; the aiosmtpd server parses headers "
                f"only ({server_cpu(sent)}); load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} "
                f"(2 shared cores)",
            }
        )
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
            },
            *rows,
        ]
    )


if __name__ == "__main__":
    main()
