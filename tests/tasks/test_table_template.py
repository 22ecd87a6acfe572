"""The downloadable 任务分工表 template: linked on the upload page, read back by openpyxl, read by the table
reader and imported."""

import io

import openpyxl
from django.urls import reverse

from tasks.models import Measure, Task
from tasks.parsing import parse_bytes
from tasks.services.importing import import_plan
from tasks.services.table_template import DEADLINE_FORMS, HEADER, division_table_template


def test_the_template_reads_back_with_title_header_example_and_notes():
    book = openpyxl.load_workbook(io.BytesIO(division_table_template()))
    assert book.sheetnames == ["任务分工表", "填写说明"]
    sheet = book["任务分工表"]
    assert sheet["A1"].value == "××市××工作任务分工表"
    assert "A1:F1" in {str(r) for r in sheet.merged_cells.ranges}
    assert [c.value for c in sheet[3]] == list(HEADER)
    assert sheet["B4"].value.startswith("建设知识产权保护中心") and sheet["E4"].value == "2022年6月底前"
    assert all(form in sheet["E3"].comment.text for form in DEADLINE_FORMS)
    notes = " ".join(str(c.value) for row in book["填写说明"].iter_rows() for c in row)
    assert "持续推进" in notes and "2022年6月底前" in notes and "前20行" in notes


def test_the_template_is_read_and_imported(db):
    data = division_table_template()
    parsed = parse_bytes(data, "任务分工表模板.xlsx")
    assert parsed.title == "××市××工作任务分工表" and parsed.warnings == ()
    (measure,) = parsed.measures
    assert [(a.agency, a.role, a.collective) for a in measure.assignments] == [
        ("市市场监管局", "lead", None),
        ("市司法局", "support", None),
        ("各区人民政府", "support", "named"),
    ]
    assert measure.deadline.date.isoformat() == "2022-06-30"
    result = import_plan(parsed=parsed, data=data, source_name="任务分工表模板.xlsx", jurisdiction="东丽区")
    assert result.created and Measure.objects.get().number == "1"
    assert Task.objects.filter(measure__plan=result.plan).count() == 3


def test_the_upload_page_links_the_template_download(client, superuser):
    client.force_login(superuser)
    page = client.get(reverse("admin:tasks_plan_import"))
    url = reverse("admin:tasks_plan_import_template")
    assert url in page.text and "下载任务分工表模板" in page.text
    response = client.get(url)
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"] and ".xlsx" in response["Content-Disposition"]
    data = b"".join(response.streaming_content)
    assert openpyxl.load_workbook(io.BytesIO(data)).sheetnames[0] == "任务分工表"
