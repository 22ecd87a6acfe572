"""End to end with real parts: a `celery -A ipplan worker` subprocess on the real Redis builds a queued export
on the test database, reporting progress, and the owner downloads it over HTTP."""

import io
import os
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

import openpyxl
import pytest
from django.db import connection
from django.urls import reverse

from reports.models import ExportJob

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]
BASE_DIR = Path(__file__).resolve().parents[2]


def database_url() -> str:
    params = connection.settings_dict
    if params["ENGINE"].endswith("sqlite3"):
        return "sqlite:///" + str(params["NAME"])
    auth = quote(params["USER"] or "")
    if params["PASSWORD"]:
        auth += ":" + quote(params["PASSWORD"])
    return f"postgres://{auth}@{params['HOST'] or '127.0.0.1'}:{params['PORT'] or 5432}/{params['NAME']}"


@pytest.fixture
def worker(tmp_path, settings):
    import redis
    from celery import Celery

    # Our own Redis databases (7: SQLite run, 8: PostgreSQL run) so parallel suites don't steal each other's jobs.
    url = f"redis://127.0.0.1:6379/{7 if connection.vendor == 'sqlite' else 8}"
    redis.Redis.from_url(url).flushdb()
    settings.MEDIA_ROOT = tmp_path / "media"
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "REDIS_URL": url,
        "MEDIA_ROOT": str(tmp_path / "media"),
    }
    env.pop("TEST_DATABASE_NAME", None)
    log_path = tmp_path / "worker.log"
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "ipplan", "worker", "--loglevel=INFO", "--concurrency=1",
             "--pool=solo", "--without-gossip", "--without-mingle", "--without-heartbeat",
             "-n", f"reports-tests-{os.getpid()}@%h"],
            cwd=BASE_DIR, env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        client = Celery("reports-tests", broker=url, backend=url)
        client.conf.update(task_serializer="json", accept_content=["json"])
        try:
            deadline = time.monotonic() + 60
            while not client.control.ping(timeout=0.5):
                assert process.poll() is None and time.monotonic() < deadline, log_path.read_text()
            yield client
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            client.close()


def test_a_real_worker_builds_the_report(worker, client, lead, finance_task, science_task):
    # (request_export would build it in this process: without REDIS_URL here, Celery runs eagerly)
    job = ExportJob.objects.create(user=lead, exporter="progress", params={"q": ["投融资"]})
    # what request_export's `transaction.on_commit(build_export.delay)` sends when REDIS_URL is set
    result = worker.send_task("reports.jobs.build_export", args=[str(job.pk)])
    assert result.get(timeout=90) is True
    job.refresh_from_db()
    # rows over all sheets: two tasks in 任务明细, both (due 2021) again in 逾期清单
    assert (job.status, job.progress, job.total_rows) == (ExportJob.Status.DONE, 100, 4)
    client.force_login(lead)
    download = client.get(reverse("reports:export_job_download", args=[job.pk]))
    wb = openpyxl.load_workbook(io.BytesIO(b"".join(download.streaming_content)))
    assert [row[3] for row in wb["任务明细"].iter_rows(min_row=2, values_only=True)] == [
        "区金融局",
        "区科技局",
    ]
    # a redelivered message finds the job already built and does nothing
    assert worker.send_task("reports.jobs.build_export", args=[str(job.pk)]).get(timeout=60) is False
