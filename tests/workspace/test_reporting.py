import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from tasks.models import Attachment, ProgressUpdate, Task

from .conftest import PDF, PNG


def url(task):
    return reverse("workspace:task_detail", args=[task.pk])


def report(client, task, **fields):
    data = {"text": "已召开专题会议,起草评议办法。", "percent": "40", "status": "in_progress", **fields}
    return client.post(url(task), data)


def test_a_liaison_reports_progress(client, alice, finance_task, frozen):
    client.force_login(alice)
    response = report(client, finance_task)
    assert response.status_code == 302
    finance_task.refresh_from_db()
    assert finance_task.status == Task.Status.IN_PROGRESS
    assert finance_task.percent == 40
    assert finance_task.last_reported_at == datetime.datetime(2021, 6, 15, 2, tzinfo=datetime.UTC)
    assert finance_task.acknowledged_by == alice  # reporting is receipt
    update = finance_task.updates.get()
    assert (update.author, update.text, update.period) == (alice, "已召开专题会议,起草评议办法。", "")
    page = client.get(url(finance_task)).text
    assert "进展已报送" in page and "已召开专题会议" in page


def test_another_agency_gets_404_and_nothing_is_written(client, bob, finance_task, frozen):
    client.force_login(bob)
    assert report(client, finance_task).status_code == 404
    assert not ProgressUpdate.objects.exists()


@pytest.mark.parametrize("actor", ["leader", "lead"])
def test_supervisors_do_not_report_for_an_agency(client, request, finance_task, actor, frozen):
    client.force_login(request.getfixturevalue(actor))
    assert report(client, finance_task).status_code == 403
    assert not ProgressUpdate.objects.exists()


def test_empty_text_or_bad_percent_is_refused_in_chinese(client, alice, finance_task, frozen):
    client.force_login(alice)
    response = report(client, finance_task, text="  ", percent="140")
    assert response.status_code == 400
    assert "这个字段是必填项" in response.text
    assert "确保该值小于或等于100" in response.text
    assert not ProgressUpdate.objects.exists()


def test_an_ongoing_task_report_counts_for_a_period_and_moves_the_next_deadline(
    client, alice, ongoing_task, frozen
):
    client.force_login(alice)
    report(client, ongoing_task)
    ongoing_task.refresh_from_db()
    assert ongoing_task.updates.get().period == "2021-Q2"
    assert ongoing_task.next_report_due == datetime.date(2021, 10, 10)  # Q3's report
    # A second report in the same quarter does not skip a future period.
    report(client, ongoing_task, text="又开展了一次宣传活动")
    ongoing_task.refresh_from_db()
    assert [u.period for u in ongoing_task.updates.all()] == ["2021-Q2", "2021-Q2"]
    assert ongoing_task.next_report_due == datetime.date(2021, 10, 10)


def test_a_late_report_counts_for_the_missed_period(client, alice, ongoing_task, frozen):
    ongoing_task.next_report_due = datetime.date(2021, 4, 10)  # Q1 never reported: red
    ongoing_task.save()
    client.force_login(alice)
    report(client, ongoing_task)
    ongoing_task.refresh_from_db()
    assert ongoing_task.updates.get().period == "2021-Q1"
    assert ongoing_task.next_report_due == datetime.date(2021, 7, 10)
    assert ongoing_task.get_light(datetime.date(2021, 6, 15)) == "green"


def test_asking_to_close_sets_100_percent_and_blocks_further_reports(client, alice, finance_task, frozen):
    client.force_login(alice)
    report(client, finance_task, status="completion_requested", percent="90")
    finance_task.refresh_from_db()
    assert (finance_task.status, finance_task.percent) == (Task.Status.COMPLETION_REQUESTED, 100)
    response = report(client, finance_task)
    assert response.status_code == 400
    assert "正在等待督办人员审核" in response.text
    assert finance_task.updates.count() == 1


def test_attachments_are_stored_and_served_only_to_those_who_may_see_the_task(
    client, alice, bob, leader, finance_task, private_media, frozen
):
    client.force_login(alice)
    files = [
        SimpleUploadedFile("评议办法.pdf", PDF, content_type="application/pdf"),
        SimpleUploadedFile("现场照片.png", PNG, content_type="image/png"),
    ]
    response = report(client, finance_task, attachments=files)
    assert response.status_code == 302
    pdf, png = Attachment.objects.order_by("pk")
    assert (pdf.original_name, pdf.kind, pdf.size) == ("评议办法.pdf", "pdf", len(PDF))
    assert png.kind == "image"
    assert str(private_media) in pdf.file.path
    download = reverse("workspace:attachment", args=[pdf.pk])
    response = client.get(download)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    assert "attachment" in response["Content-Disposition"]
    client.force_login(leader)
    assert client.get(download).status_code == 200
    client.force_login(bob)
    assert client.get(download).status_code == 404


def test_a_file_of_the_wrong_kind_is_refused_whatever_its_name(client, alice, finance_task, frozen):
    client.force_login(alice)
    fake = SimpleUploadedFile("通知.pdf", b"MZ\x90\x00\x03\x00\x00\x00" * 20, content_type="application/pdf")
    response = report(client, finance_task, attachments=[fake])
    assert response.status_code == 400
    assert "不支持的文件类型" in response.text
    assert not ProgressUpdate.objects.exists() and not Attachment.objects.exists()
    finance_task.refresh_from_db()
    assert finance_task.status == Task.Status.NOT_STARTED


def test_a_file_too_large_is_refused(client, alice, finance_task, settings, frozen):
    settings.MAX_UPLOAD_BYTES = 1024
    client.force_login(alice)
    big = SimpleUploadedFile("报告.pdf", PDF + b"0" * 2048, content_type="application/pdf")
    response = report(client, finance_task, attachments=[big])
    assert response.status_code == 400
    assert "超过" in response.text
    assert not ProgressUpdate.objects.exists()


def test_a_done_task_takes_no_more_reports(client, alice, finance_task, frozen):
    finance_task.status = Task.Status.DONE
    finance_task.save()
    client.force_login(alice)
    response = report(client, finance_task)
    assert response.status_code == 400
    assert "任务已办结" in response.text
