"""Large reports are built in the background (Celery, eager without REDIS_URL) with progress and a download."""

import datetime
import io
from pathlib import Path

import openpyxl
import pytest
from django.urls import reverse

from reports.models import ExportJob
from reports.services import request_export, run_export_job


@pytest.fixture(autouse=True)
def small_threshold(settings, tmp_path):
    settings.REPORTS_ASYNC_ROWS = 1  # two tasks already count as "large"
    settings.MEDIA_ROOT = tmp_path


def test_a_large_report_is_queued_built_and_downloaded(
    client, lead, finance_task, science_task, django_capture_on_commit_callbacks
):
    client.force_login(lead)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.get(reverse("reports:progress_report"), {"status": "not_started"})
    assert len(callbacks) == 1
    job = ExportJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("reports:export_job", args=[job.pk])
    assert job.params == {"status": ["not_started"]}

    page = client.get(response["Location"])
    assert "下载报表" in page.content.decode()
    status = client.get(reverse("reports:export_job_status", args=[job.pk])).json()
    assert status["status"] == "done" and status["progress"] == 100 and status["total_rows"] >= 2
    assert status["download_url"] == reverse("reports:export_job_download", args=[job.pk])

    download = client.get(status["download_url"])
    assert download.status_code == 200
    assert "attachment" in download["Content-Disposition"]
    wb = openpyxl.load_workbook(io.BytesIO(b"".join(download.streaming_content)))
    assert [row[3] for row in wb["任务明细"].iter_rows(min_row=2, values_only=True)] == [
        "区金融局",
        "区科技局",
    ]


def test_only_the_requester_sees_the_job(client, lead, leader, finance_task, science_task):
    job = request_export(user=lead, exporter="progress", params={}, language="zh-hans")
    client.force_login(leader)
    for name in ("reports:export_job", "reports:export_job_status", "reports:export_job_download"):
        assert client.get(reverse(name, args=[job.pk])).status_code == 404


def test_asking_again_while_queued_returns_the_same_job(client, lead, finance_task, science_task):
    client.force_login(lead)
    first = client.get(reverse("reports:progress_report"), {"q": "投融资"})
    second = client.get(reverse("reports:progress_report"), {"q": "投融资"})
    assert first["Location"] == second["Location"]
    assert ExportJob.objects.count() == 1
    assert client.get(first["Location"]).status_code == 200
    status = client.get(reverse("reports:export_job_status", args=[ExportJob.objects.get().pk])).json()
    assert (status["status"], status["download_url"]) == ("pending", None)


def test_a_redelivered_job_is_built_once(lead, finance_task):
    job = request_export(user=lead, exporter="progress", params={}, language="zh-hans")
    assert run_export_job(job_id=job.pk) is True
    assert run_export_job(job_id=job.pk) is False
    job.refresh_from_db()
    assert job.status == ExportJob.Status.DONE and job.file.name.endswith(".xlsx")


def test_a_job_that_cannot_be_built_says_why(lead, finance_task):
    job = request_export(user=lead, exporter="progress", params={"plan": ["999999"]}, language="zh-hans")
    assert run_export_job(job_id=job.pk) is False
    job.refresh_from_db()
    assert job.status == ExportJob.Status.FAILED
    assert "筛选条件有误" in job.error
    assert not job.file


def test_a_liaisons_background_report_holds_only_their_agency(alice, finance_task, science_task):
    job = request_export(user=alice, exporter="progress", params={}, language="zh-hans")
    run_export_job(job_id=job.pk)
    job.refresh_from_db()
    with job.file.open("rb") as handle:
        wb = openpyxl.load_workbook(handle)
    assert [row[3] for row in wb["任务明细"].iter_rows(min_row=2, values_only=True)] == ["区金融局"]


def test_a_lost_job_is_given_up_and_a_new_one_queued(lead, finance_task):
    lost = request_export(user=lead, exporter="progress", params={}, language="zh-hans")
    ExportJob.objects.filter(pk=lost.pk).update(created_at=lost.created_at - datetime.timedelta(hours=2))
    fresh = request_export(user=lead, exporter="progress", params={}, language="zh-hans")
    assert fresh.pk != lost.pk
    lost.refresh_from_db()
    assert lost.status == ExportJob.Status.FAILED and "超时" in lost.error


def test_old_exports_are_purged_with_their_files_once(lead, finance_task):
    from django_celery_beat.models import PeriodicTask

    from reports.services import purge_exports

    old = request_export(user=lead, exporter="progress", params={}, language="zh-hans")
    run_export_job(job_id=old.pk)
    old.refresh_from_db()
    path = Path(old.file.path)
    assert path.exists()
    ExportJob.objects.filter(pk=old.pk).update(created_at=old.created_at - datetime.timedelta(days=2))
    recent = request_export(user=lead, exporter="progress", params={"role": ["lead"]}, language="zh-hans")
    run_export_job(job_id=recent.pk)
    assert purge_exports() == 1
    assert purge_exports() == 0
    assert not path.exists()
    assert list(ExportJob.objects.all()) == [recent]
    assert PeriodicTask.objects.get(task="reports.purge_exports").crontab.hour == "3"
