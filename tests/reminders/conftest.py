"""Reminder scenarios on fixed dates, a real SMTP server (aiosmtpd) and a real Celery worker on Redis.

Around the 2024 National Day: 2024-09-29 (Sunday) is a 调休 working day, 2024-10-01…07 are holidays, so on
Monday 2024-09-30 the next working day is 2024-10-08.
"""

import datetime
import email
import email.policy
import os
import signal
import socket
import subprocess
import sys
import time
import zoneinfo
from pathlib import Path
from urllib.parse import quote

import pytest
import time_machine
from aiosmtpd.controller import Controller
from django.conf import settings

from agencies.models import Liaison
from reminders.workdays import load_package_holidays
from tasks.models import Measure, Task

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
BASE_DIR = Path(settings.BASE_DIR)


def at(day: str, hour: int = 9) -> datetime.datetime:
    return datetime.datetime.combine(datetime.date.fromisoformat(day), datetime.time(hour), tzinfo=SHANGHAI)


@pytest.fixture(autouse=True)
def holidays(db):
    """The seeded 放假安排 (a transactional test's flush removes what the migration loaded)."""
    load_package_holidays()


@pytest.fixture
def on_day():
    """Freeze the clock at 09:00 Shanghai time on a day: ``with on_day("2024-09-30"): ...``."""

    def travel(day: str, hour: int = 9):
        return time_machine.travel(at(day, hour), tick=False)

    return travel


@pytest.fixture
def plan(plan):
    """The plan ran 2020–2021 and these scenarios are set in 2024: the lead bureau extended its periodic
    reports, or no ongoing task would owe one (tasks/status.py)."""
    plan.reports_until = datetime.date(2025, 1, 10)
    plan.save(update_fields=["reports_until"])
    return plan


@pytest.fixture
def make_task(plan):
    """A task on its own measure of ``plan``: make_task(agency, "3", due="2024-09-20", role="support")."""

    def make(
        agency, number, *, due=None, role=Task.Role.RESPONSIBLE, ongoing=False, report_due=None, **fields
    ):
        measure, _ = Measure.objects.get_or_create(
            plan=fields.pop("plan", plan),
            number=number,
            defaults={
                "text": fields.pop("text", f"第{number}项措施:开展知识产权保护工作。"),
                "position": int(number),
            },
        )
        return Task.objects.create(
            measure=measure,
            agency=agency,
            role=role,
            due_date=datetime.date.fromisoformat(due) if due else None,
            is_ongoing=ongoing,
            next_report_due=datetime.date.fromisoformat(report_due) if report_due else None,
            **fields,
        )

    return make


@pytest.fixture
def scenario(plan, make_task, finance, science, market, alice, bob, lead):
    """Seen from Monday 2024-09-30 (plan: remind 7 days before, escalate after 7 days overdue):

    - measure 1: 区金融局 leads, due 09-20 (10 days overdue → escalated); 区科技局 supports, same date.
    - measure 2: 区金融局 due 10-08 (the next working day); measure 3: 区金融局 due 10-05 (holiday week).
    - measure 4: 区科技局 due 09-27 (3 days overdue, not escalated); measure 5: 区科技局 due 12-31 (quiet).
    - measure 6: 区科技局 ongoing, report due 09-10 (missing); 区市场监管局 has no liaison, due 09-25.
    - measure 7: 区金融局 done (never listed).
    """
    tasks = {
        "finance_lead_overdue": make_task(finance, "1", due="2024-09-20", role=Task.Role.LEAD),
        "science_support_overdue": make_task(science, "1", due="2024-09-20", role=Task.Role.SUPPORT),
        "finance_due_next_day": make_task(finance, "2", due="2024-10-08"),
        "finance_due_in_holiday": make_task(finance, "3", due="2024-10-05"),
        "science_overdue": make_task(science, "4", due="2024-09-27"),
        "science_quiet": make_task(science, "5", due="2024-12-31"),
        "science_report_missing": make_task(science, "6", ongoing=True, report_due="2024-09-10"),
        "market_overdue": make_task(market, "6", due="2024-09-25", role=Task.Role.SUPPORT),
        "finance_done": make_task(finance, "7", due="2024-09-01", status=Task.Status.DONE),
    }
    return tasks


# ---------------------------------------------------------------------------------------------------------
# A real SMTP server


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Inbox:
    """Messages the SMTP server accepted, parsed."""

    def __init__(self):
        self.messages: list[email.message.EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        self.messages.append(email.message_from_bytes(envelope.original_content, policy=email.policy.default))
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[email.message.EmailMessage]:
        return [message for message in self.messages if message["To"] == address]

    def recipients(self) -> list[str]:
        return sorted(rcpt for _sender, rcpts in self.envelopes for rcpt in rcpts)

    @staticmethod
    def text_of(message) -> str:
        return message.get_body(preferencelist=("plain",)).get_content()

    @staticmethod
    def html_of(message) -> str:
        return message.get_body(preferencelist=("html",)).get_content()


class SmtpServer:
    def __init__(self, port: int):
        self.port = port
        self.inbox = Inbox()
        self.controller: Controller | None = None

    def start(self):
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self):
        if self.controller:
            self.controller.stop()
            self.controller = None


# ---------------------------------------------------------------------------------------------------------
# A real Celery worker on Redis, on the test database


def database_url() -> str:
    from django.db import connection

    params = connection.settings_dict
    if params["ENGINE"].endswith("sqlite3"):
        return "sqlite:///" + str(params["NAME"])
    auth = quote(params["USER"] or "")
    if params["PASSWORD"]:
        auth += ":" + quote(params["PASSWORD"])
    return f"postgres://{auth}@{params['HOST'] or '127.0.0.1'}:{params['PORT'] or 5432}/{params['NAME']}"


def redis_url() -> str:
    from django.db import connection

    # Our own Redis databases: 5 for the SQLite run, 6 for PostgreSQL, so both runs may go at once.
    number = os.environ.get("REMINDERS_TEST_REDIS_DB") or ("5" if connection.vendor == "sqlite" else "6")
    return f"redis://127.0.0.1:6379/{number}"


# The worker's delivery timings, shortened so recovery can be watched in seconds (settings.py has the real ones).
WORKER_TIMINGS = {
    "REMINDER_SENDING_LEASE_SECONDS": "4",
    "REMINDER_RETRY_BACKOFF_SECONDS": "2",
    "REMINDER_RETRY_BACKOFF_MAX_SECONDS": "10",
}


class Worker:
    started = 0

    def __init__(
        self,
        smtp_port: int,
        extra_env: dict[str, str] | None = None,
        *,
        flush: bool = True,
        **env_overrides: str,
    ):
        import redis
        from celery import Celery

        self.smtp_port = smtp_port
        self.redis_url = redis_url()
        if flush:
            redis.Redis.from_url(self.redis_url).flushdb()
        self.client = Celery("ipplan-tests", broker=self.redis_url, backend=self.redis_url)
        self.client.conf.update(task_serializer="json", accept_content=["json"], result_serializer="json")
        Worker.started += 1
        self.log_path = BASE_DIR / "var" / f"test-worker-{os.getpid()}-{Worker.started}.log"
        self.name = f"reminders-tests-{os.getpid()}-{Worker.started}@%h"
        env = {
            **os.environ,
            "DATABASE_URL": database_url(),
            "REDIS_URL": self.redis_url,
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": str(smtp_port),
            "EMAIL_TIMEOUT": "5",
            "SITE_URL": "https://ipplan.example.gov.cn",
            "DEBUG": "1",
            **WORKER_TIMINGS,
            **(extra_env or {}),
            **env_overrides,
        }
        env.pop("TEST_DATABASE_NAME", None)
        self.log = open(self.log_path, "w")  # noqa: SIM115 — closed in stop()
        self.process = subprocess.Popen(
            [
                sys.executable, "-m", "celery", "-A", "ipplan", "worker",
                "--loglevel=INFO", "--concurrency=4", "--pool=prefork",
                "--without-gossip", "--without-mingle", "--without-heartbeat", "-n", self.name,
            ],
            cwd=BASE_DIR,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: kill() takes the pool children with it
        )  # fmt: skip
        try:
            self.wait_ready()
        except RuntimeError:
            self.stop()  # a worker that never answered would otherwise live on, taking later tests' jobs
            raise

    def wait_ready(self, timeout: float = 120):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"celery worker exited:\n{self.log_path.read_text()}")
            if self.client.control.ping(timeout=0.5):
                return
        raise RuntimeError(f"celery worker did not answer:\n{self.log_path.read_text()}")

    def sweep(self, day: str):
        return self.client.send_task("reminders.sweep", args=[day])

    def recover(self):
        return self.client.send_task("reminders.recover")

    def kill(self):
        """SIGKILL the worker and its pool, as a power cut would: no job is acknowledged or finished."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()
        self.log.close()
        self.client.close()

    def stop(self):
        if self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()
        self.client.close()
        self.log_path.unlink(missing_ok=True)  # read in the error when the worker fails to start


@pytest.fixture(scope="module")
def smtp_port():
    return free_port()


@pytest.fixture(scope="module")
def worker(django_db_setup, django_db_blocker, smtp_port):
    """A `celery -A ipplan worker` subprocess for this module, sending to 127.0.0.1:<smtp_port>."""
    with django_db_blocker.unblock():
        running = Worker(smtp_port)
    yield running
    running.stop()


@pytest.fixture
def smtp(smtp_port):
    server = SmtpServer(smtp_port)
    server.start()
    yield server
    server.stop()


def _wait_for(predicate, timeout: float = 60, interval: float = 0.2, message: str = ""):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out waiting: {message}")


@pytest.fixture
def wait_for():
    """Poll ``predicate`` until it is truthy (a worker works in real time; dates stay frozen by argument)."""
    return _wait_for


@pytest.fixture
def smtp_down(smtp_port):
    """The SMTP server's address with nothing listening yet; ``.start()`` brings it up."""
    server = SmtpServer(smtp_port)
    yield server
    server.stop()


@pytest.fixture
def weekly(bob):
    Liaison.objects.filter(user=bob).update(digest_frequency=Liaison.DigestFrequency.WEEKLY)
    return bob


@pytest.fixture
def sweep(django_capture_on_commit_callbacks):
    """``services.run_sweep`` with its after-commit dispatch run (the test's transaction never commits)."""
    from reminders import services

    def run(day=None, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return services.run_sweep(day, **kwargs)

    return run
