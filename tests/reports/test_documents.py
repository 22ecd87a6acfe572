"""督办通知单 and 工作进展情况通报: numbered, recorded, in the 公文 layout, opened by python-docx and LibreOffice."""

import datetime
import io

import docx
import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from docx.oxml.ns import qn
from docx.shared import Pt

from agencies.models import Agency
from reports.documents import render
from reports.models import IssuedDocument
from reports.services import issue_bulletin, issue_notice
from tasks.models import ProgressUpdate, Task

TODAY = datetime.date(2022, 3, 1)


def text_of(document: docx.document.Document) -> str:
    parts = [p.text for p in document.paragraphs]
    for table in document.tables:
        parts.extend(cell.text for row in table.rows for cell in row.cells)
    return "\n".join(parts)


def east_asian_fonts(document) -> set[str]:
    return {
        f.get(qn("w:eastAsia")) for f in document.element.body.iter(qn("w:rFonts")) if f.get(qn("w:eastAsia"))
    }


def test_a_notice_lists_the_agencys_red_tasks_and_is_numbered_once_a_day(
    lead, finance, finance_task, ongoing_task, science_task, plan
):
    ProgressUpdate.objects.create(task=finance_task, author=lead, text='=HYPERLINK("x") 已起草。', percent=30)
    notice, created = issue_notice(agency=finance, plan=plan, user=lead, today=TODAY)
    assert created and notice.doc_number == "督办〔2022〕1号" and notice.reply_by == datetime.date(2022, 3, 6)
    assert [row["number"] for row in notice.content["tasks"]] == [
        "5",
        "2",
    ]  # report missed first, then overdue
    again, created = issue_notice(agency=finance, plan=plan, user=lead, today=TODAY)
    assert not created and again.pk == notice.pk
    other, created = issue_notice(
        agency=finance, plan=plan, user=lead, today=TODAY + datetime.timedelta(days=1)
    )
    assert created and other.doc_number == "督办〔2022〕2号"

    document = docx.Document(io.BytesIO(render(notice)))
    text = text_of(document)
    assert "督办通知单" in text and "督办〔2022〕1号" in text and "区金融局:" in text
    assert "2021年12月31日到期,已逾期60天" in text
    assert "请于2022年3月6日前通过督办系统报送办理情况" in text
    assert '=HYPERLINK("x") 已起草。' in text  # Word has no formulas: text as typed
    section = document.sections[0]
    assert (round(section.page_width.mm), round(section.page_height.mm)) == (210, 297)
    assert [
        round(m.mm)
        for m in (section.top_margin, section.bottom_margin, section.left_margin, section.right_margin)
    ] == [37, 35, 28, 26]
    assert {"方正小标宋简体", "仿宋_GB2312"} <= east_asian_fonts(document)
    title = next(p for p in document.paragraphs if p.text == "督办通知单")
    assert title.runs[0].font.size == Pt(22)
    normal = document.styles["Normal"]
    assert normal.font.size == Pt(16)
    assert normal.element.rPr.rFonts.get(qn("w:eastAsia")) == "仿宋_GB2312"


def test_a_notice_can_be_issued_from_the_dashboard_by_the_lead_bureau_only(
    client, lead, leader, finance, finance_task, plan
):
    client.force_login(leader)
    assert client.post(reverse("reports:issue_notice"), {"agency": finance.pk}).status_code == 403
    client.force_login(lead)
    dashboard = client.get(reverse("workspace:dashboard")).content.decode()
    assert reverse("reports:issue_notice") in dashboard
    response = client.post(
        reverse("reports:issue_notice"), {"agency": finance.pk, "plan": plan.pk}, follow=True
    )
    assert "已签发督办" in response.content.decode()
    notice = IssuedDocument.objects.get()
    assert notice.agency == finance and notice.issued_by == lead
    download = client.get(reverse("reports:document_download", args=[notice.pk]))
    assert download["Content-Type"].startswith(
        "application/vnd.openxmlformats-officedocument.wordprocessingml"
    )
    assert "filename*=utf-8''" in download["Content-Disposition"]
    docx.Document(io.BytesIO(download.content))
    client.force_login(leader)
    assert client.get(reverse("reports:documents")).status_code == 200


def test_documents_are_not_for_liaisons(client, alice, lead, finance, finance_task, plan):
    notice, _created = issue_notice(agency=finance, plan=plan, user=lead, today=TODAY)
    client.force_login(alice)
    assert client.get(reverse("reports:document_download", args=[notice.pk])).status_code == 403
    assert client.post(reverse("reports:issue_notice"), {"agency": finance.pk}).status_code == 403


def test_a_bulletin_ranks_agencies_and_lists_what_is_overdue(lead, plan, finance_task, science_task):
    Task.objects.update(created_at=datetime.datetime(2021, 3, 1, tzinfo=datetime.UTC))  # assigned in 2021
    Task.objects.filter(pk=science_task.pk).update(status=Task.Status.DONE)
    bulletin, _created = issue_bulletin(plan=plan, period_key="2022-Q1", user=lead, today=TODAY)
    document = docx.Document(io.BytesIO(render(bulletin)))
    text = text_of(document)
    assert f"关于{plan.title}工作进展情况的通报" in text
    assert "共分解任务2项,涉及2个责任单位。其中已办结1项,占50%" in text
    assert "逾期未完成1项" in text
    for heading in ("一、总体情况", "二、考核排名", "三、逾期任务", "四、表扬和督促", "五、下一步工作要求"):
        assert heading in text
    ranking = document.tables[0]
    assert [c.text for c in ranking.rows[0].cells[:3]] == ["排名", "单位", "得分"]
    assert {row.cells[1].text for row in ranking.rows[1:]} == {"区金融局", "区科技局"}
    overdue = document.tables[1]
    assert overdue.rows[1].cells[2].text == "区金融局"


def test_export_report_writes_every_kind(tmp_path, lead, dongli):
    agency = Agency.objects.get(name="区市场监管局", jurisdiction="东丽区")
    ledger = tmp_path / "台账.xlsx"
    call_command(
        "export_report", str(dongli.pk), "--format", "xlsx", "--kind", "ledger", "--out", str(ledger)
    )
    import openpyxl

    assert openpyxl.load_workbook(ledger).sheetnames == ["工作台账"]
    workbook = tmp_path / "报表.xlsx"
    call_command("export_report", str(dongli.pk), "--format", "xlsx", "--out", str(workbook))
    assert openpyxl.load_workbook(workbook).sheetnames[0] == "工作台账"
    notice = tmp_path / "督办.docx"
    call_command(
        "export_report",
        str(dongli.pk),
        "--format",
        "docx",
        "--kind",
        "notice",
        "--agency",
        str(agency.pk),
        "--out",
        str(notice),
    )
    assert "督办通知单" in text_of(docx.Document(notice))
    bulletin = tmp_path / "通报.docx"
    for _run in range(2):  # a scheduled job run twice issues one 通报
        call_command(
            "export_report", str(dongli.pk), "--format", "docx", "--period", "2026-Q4", "--out", str(bulletin)
        )
    assert IssuedDocument.objects.filter(kind="bulletin").count() == 1
    assert "工作进展情况的通报" in text_of(docx.Document(bulletin))
    with pytest.raises(CommandError, match="考核期"):
        call_command(
            "export_report", str(dongli.pk), "--format", "docx", "--period", "Q3", "--out", str(bulletin)
        )
    with pytest.raises(CommandError, match="--agency"):
        call_command(
            "export_report", str(dongli.pk), "--format", "docx", "--kind", "notice", "--out", str(notice)
        )
    with pytest.raises(CommandError, match="找不到编号为 999999 的计划"):
        call_command("export_report", "999999", "--format", "xlsx", "--out", str(ledger))
