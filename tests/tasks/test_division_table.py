"""Excel 任务分工表 import/export through django-import-export (tasks/resources.py)."""

import datetime
import io

import openpyxl
import pytest
import tablib
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from agencies.models import Agency
from tasks.models import Measure, Task
from tasks.resources import DivisionTableResource


def workbook(rows, headers=("序号", "重点任务", "牵头单位", "配合单位", "完成时限")) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "任务分工表"
    sheet.append(list(headers))
    for row in rows:
        sheet.append(list(row))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


ROWS = [
    (
        1,
        "建立健全重大投融资活动知识产权评议工作机制。",
        "区金融局",
        "区发改委、区科技局",
        "2021年12月底前完成",
    ),
    (2, "加强知识产权宣传。", "区委宣传部", "区融媒体中心", "持续推进"),
]


@pytest.fixture
def agencies(finance, science, market):
    for name in ("区发改委", "区委宣传部", "区融媒体中心"):
        Agency.objects.create(name=name, jurisdiction="东丽区")


def import_rows(plan, dataset, dry_run=False):
    return DivisionTableResource(plan=plan).import_data(dataset, dry_run=dry_run, raise_errors=False)


def test_rows_become_measures_and_tasks(plan, agencies):
    dataset = tablib.Dataset(*ROWS, headers=["序号", "重点任务", "牵头单位", "配合单位", "完成时限"])
    result = import_rows(plan, dataset)
    assert not result.has_errors() and not result.has_validation_errors()
    first = Measure.objects.get(plan=plan, number="1")
    assert first.deadline_date == datetime.date(2021, 12, 31)
    assert dict(first.tasks.values_list("agency__name", "role")) == {
        "区金融局": "lead",
        "区发改委": "support",
        "区科技局": "support",
    }
    second = Measure.objects.get(plan=plan, number="2")
    assert second.is_ongoing and set(second.tasks.values_list("is_ongoing", flat=True)) == {True}


def test_header_synonyms_and_responsible_only(plan, agencies):
    dataset = tablib.Dataset(
        ("建设知识产权保护中心。", "区市场监管局、区科技局", "2021年6月30日前"),
        headers=["工作任务", "责任单位", "完成时间"],
    )
    result = import_rows(plan, dataset)
    assert not result.has_errors() and not result.has_validation_errors()
    measure = Measure.objects.get(plan=plan)
    assert measure.number == "1" and measure.deadline_date == datetime.date(2021, 6, 30)
    assert set(measure.tasks.values_list("role", flat=True)) == {Task.Role.RESPONSIBLE}


def test_reimport_updates_by_number_without_duplicates(plan, agencies):
    headers = ["序号", "重点任务", "牵头单位", "配合单位", "完成时限"]
    import_rows(plan, tablib.Dataset(*ROWS, headers=headers))
    changed = [ROWS[0][:4] + ("2021年9月底前完成",), ROWS[1]]
    import_rows(plan, tablib.Dataset(*changed, headers=headers))
    assert Measure.objects.filter(plan=plan).count() == 2 and Task.objects.count() == 5
    assert Measure.objects.get(plan=plan, number="1").deadline_date == datetime.date(2021, 9, 30)


def test_bad_rows_are_reported_and_nothing_is_saved(plan, agencies):
    dataset = tablib.Dataset(
        ROWS[0],
        (2, "", "区金融局", "", "2021年底前"),
        (3, "某项任务。", "区金融局", "", "尽快"),
        headers=["序号", "重点任务", "牵头单位", "配合单位", "完成时限"],
    )
    result = import_rows(plan, dataset)
    assert result.has_errors()
    messages = [str(error.error) for row in result.row_errors() for error in row[1]]
    assert any("任务内容为空" in m for m in messages) and any("无法识别完成时限" in m for m in messages)
    assert not Measure.objects.exists() and not Task.objects.exists()


def test_missing_columns_are_explained(plan):
    result = import_rows(plan, tablib.Dataset(("甲",), headers=["备注"]))
    assert result.has_errors()
    assert "找不到任务内容列" in str(result.base_errors[0].error)


def test_export_has_the_same_shape(plan, agencies):
    import_rows(plan, tablib.Dataset(*ROWS, headers=["序号", "重点任务", "牵头单位", "配合单位", "完成时限"]))
    exported = DivisionTableResource().export(Measure.objects.filter(plan=plan))
    assert exported.headers == ["序号", "重点任务", "牵头单位", "配合单位", "责任单位", "完成时限"]
    assert exported.dict[0]["牵头单位"] == "区金融局"
    assert set(exported.dict[0]["配合单位"].split("、")) == {"区发改委", "区科技局"}
    assert exported.dict[1]["完成时限"] == "持续推进"


def test_admin_import_preview_then_confirm(client, superuser, plan, agencies):
    client.force_login(superuser)
    url = reverse("admin:tasks_measure_import")
    page = client.get(url)
    assert page.status_code == 200 and "导入到计划" in page.text
    xlsx_index = next(
        i for i, f in enumerate(page.context["form"].fields["format"].choices) if "xlsx" in str(f[1])
    )
    preview = client.post(
        url,
        {
            "plan": plan.pk,
            "format": page.context["form"].fields["format"].choices[xlsx_index][0],
            "import_file": SimpleUploadedFile("分工表.xlsx", workbook(ROWS)),
        },
    )
    assert preview.status_code == 200
    assert "建立健全重大投融资活动" in preview.text
    assert not Measure.objects.exists(), "the preview is a dry run"
    confirm = preview.context["confirm_form"]
    done = client.post(
        reverse("admin:tasks_measure_process_import"),
        {name: confirm.initial.get(name, "") for name in confirm.fields},
    )
    assert done.status_code == 302
    assert Measure.objects.filter(plan=plan).count() == 2 and Task.objects.count() == 5
