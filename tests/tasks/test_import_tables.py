"""任务分工表 spreadsheets through the import: the same plan as its document (0 changes), the import commands
accept .xlsx and .csv, and a table that cannot be read writes nothing."""

import io

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from tasks.models import Measure, Plan, Task
from tasks.parsing import parse_bytes
from tasks.services.importing import import_plan
from tests.parsing.division_tables import csv_bytes, rows_from_plan, workbook_bytes

SHIYAN = settings.BASE_DIR / "tests" / "parsing" / "plans" / "shiyan-40.txt"


def load(data: bytes, name: str, **options):
    return import_plan(parsed=parse_bytes(data, name), data=data, source_name=name, **options)


@pytest.fixture(scope="module")
def table():
    return rows_from_plan("shiyan-40")


def test_the_table_of_a_plan_imported_from_its_document_is_the_same_plan(db, table):
    title, rows = table
    first = load(SHIYAN.read_bytes(), "实施意见.txt")
    counts = (Plan.objects.count(), Measure.objects.count(), Task.objects.count())
    for name, data in (("分工表.xlsx", workbook_bytes(title, rows)), ("分工表.csv", csv_bytes(title, rows))):
        result = load(data, name)
        assert result.unchanged and result.plan == first.plan, name
        assert result.diff.is_empty
        assert (Plan.objects.count(), Measure.objects.count(), Task.objects.count()) == counts


def test_the_table_alone_creates_the_plan_the_document_would(db, table):
    title, rows = table
    result = load(workbook_bytes(title, rows), "分工表.xlsx")
    assert result.created and result.plan.title == title
    by_table = sorted(
        Task.objects.values_list("measure__number", "agency__name", "role", "due_date", "is_ongoing")
    )
    assert Measure.objects.filter(plan=result.plan).count() == 40
    Plan.objects.all().delete()
    load(SHIYAN.read_bytes(), "实施意见.txt")
    by_document = sorted(
        Task.objects.values_list("measure__number", "agency__name", "role", "due_date", "is_ongoing")
    )
    assert by_table == by_document


def run(*args) -> str:
    out = io.StringIO()
    call_command("import_plan", *map(str, args), stdout=out)
    return out.getvalue()


@pytest.mark.parametrize("name", ["分工表.xlsx", "分工表.csv"])
def test_import_plan_command_reads_tables(db, tmp_path, table, name):
    title, rows = table
    path = tmp_path / name
    path.write_bytes(workbook_bytes(title, rows) if name.endswith(".xlsx") else csv_bytes(title, rows))
    run(path)
    assert Plan.objects.get().title == title
    assert Measure.objects.count() == 40


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("名称,数量\n苹果,3\n", "前20行中没有找到表头行"),
        ("某某任务分工表\n序号,重点任务,牵头单位\n", "表头下方没有任何任务行"),
    ],
)
def test_an_unusable_table_is_refused_in_chinese_and_writes_nothing(db, tmp_path, content, message):
    path = tmp_path / "分工表.csv"
    path.write_bytes(content.encode("gbk"))
    with pytest.raises(CommandError, match=message):
        run(path)
    assert not Plan.objects.exists() and not Task.objects.exists()


BAD_ROWS = (
    "某区2022年知识产权工作任务分工表,,,,,\n"
    "填报单位：区知识产权局,,,,日期：2022年3月1日,\n"
    "序号,重点任务,牵头单位,配合单位,完成时限,备注\n"
    "1,建设知识产权保护中心。,区市场监管局,区司法局,2022年6月底前,\n"
    "1,开展专项执法行动。,区公安局,,持续推进,\n"
    ",加强知识产权宣传。,区委宣传部,,待定,\n"
)


@pytest.mark.parametrize(("encoding", "prefix"), [("gbk", b""), ("utf-8", b"\xef\xbb\xbf")])
def test_row_problems_are_shown_in_the_preview_and_nothing_is_written(client, lead, encoding, prefix):
    client.force_login(lead)
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.urls import reverse

    data = prefix + BAD_ROWS.encode(encoding)
    response = client.post(
        reverse("admin:tasks_plan_import"),
        {"file": SimpleUploadedFile("分工表.csv", data), "jurisdiction": "东丽区"},
    )
    assert response.status_code == 302, response.context["form"].errors
    page = client.get(response.url).text
    assert "某区2022年知识产权工作任务分工表" in page
    assert "第5行：序号“1”与第4行重复，两行都已保留，此行编为“1-2”，请核对" in page
    assert "第6行：序号为空，已按位置编为“3”" in page
    assert "第6行：无法识别的完成时限“待定”" in page
    assert "Traceback" not in page
    assert not Plan.objects.exists() and not Measure.objects.exists() and not Task.objects.exists()


def test_parse_plan_command_prints_the_contract_of_an_xlsx(db, tmp_path, table, capsys):
    import json

    title, rows = table
    path = tmp_path / "分工表.xlsx"
    path.write_bytes(workbook_bytes(title, rows))
    call_command("parse_plan", str(path), "--json")
    contract = json.loads(capsys.readouterr().out)
    assert contract["plan"]["title"] == title and contract["plan"]["period"] == [2014, 2016]
    assert len(contract["measures"]) == 40
    assert contract["measures"][0]["assignments"][0] == {"agency": "市市场监管局(知识产权局)", "role": "lead"}
    assert not Plan.objects.exists()
