"""Every way a file comes in passes the upload gate: each bad input is refused in Chinese, naming the limit,
with nothing written — through the admin's plan upload, progress attachments, ``import_plan``,
``parse_plan`` and the import-export agency import page. UTF-16 without a BOM is accepted where text is."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from agencies.models import Agency
from ipplan.lib import uploads
from tasks.models import Attachment, ImportDraft, Measure, Plan, ProgressUpdate, Task

from .conftest import EXECUTABLE, PLAN_TEXT, ole_file, zip_bomb


@dataclass
class Outcome:
    refused: bool
    message: str
    written: list[str]  # what was left behind: rows or files
    page: str = ""


def _files(folder: Path) -> list[str]:
    return [str(p) for p in Path(folder).rglob("*") if p.is_file()] if Path(folder).exists() else []


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"
    return tmp_path


@pytest.fixture
def through(client, lead, alice, superuser, finance_task, media, tmp_path, monkeypatch):
    """``through[entry](data, name)`` sends a file in by that entry point and reports what happened."""

    def admin_upload(data: bytes, name: str) -> Outcome:
        client.force_login(lead)
        response = client.post(
            reverse("admin:tasks_plan_import"),
            {"file": SimpleUploadedFile(name, data), "jurisdiction": "东丽区"},
        )
        refused = response.status_code == 200
        message = " ".join(response.context["form"].non_field_errors()) if refused else ""
        written = [f"ImportDraft {d.pk}" for d in ImportDraft.objects.all()] + _files(media / "media")
        return Outcome(refused, message, written)

    def attachment(data: bytes, name: str) -> Outcome:
        client.force_login(alice)
        response = client.post(
            reverse("workspace:task_detail", args=[finance_task.pk]),
            {
                "text": "已召开专题会议。",
                "percent": "40",
                "status": "in_progress",
                "attachments": [SimpleUploadedFile(name, data)],
            },
        )
        refused = response.status_code == 400
        message = " ".join(response.context["form"].non_field_errors()) if refused else ""
        written = [f"ProgressUpdate {u.pk}" for u in ProgressUpdate.objects.all()]
        written += [f"Attachment {a.pk}" for a in Attachment.objects.all()] + _files(media / "private")
        return Outcome(refused, message, written)

    def command(name_of_command: str):
        def run(data: bytes, name: str) -> Outcome:
            path = tmp_path / "cli" / name
            path.parent.mkdir(exist_ok=True)
            path.write_bytes(data)
            try:
                call_command(name_of_command, str(path))
            except CommandError as error:
                refusal = str(error)
            else:
                refusal = None
            written = [f"Plan {p.pk}" for p in Plan.objects.exclude(pk=finance_task.measure.plan_id)]
            return Outcome(refusal is not None, refusal or "", written)

        return run

    def agency_import(data: bytes, name: str) -> Outcome:
        client.force_login(superuser)
        url = reverse("admin:agencies_agency_import")
        page = client.get(url)
        choices = dict((str(label), value) for value, label in page.context["form"].fields["format"].choices)
        chosen = "csv" if name.endswith((".csv", ".txt")) else "xlsx"
        before = Agency.objects.count()
        import_temp = (
            tmp_path / "import-export"
        )  # where import-export keeps a file between preview and confirm
        import_temp.mkdir(exist_ok=True)
        with (
            monkeypatch.context() as patched
        ):  # only around this request: the sandbox's forkserver uses it too
            patched.setattr(tempfile, "tempdir", str(import_temp))
            response = client.post(
                url, {"format": choices[chosen], "import_file": SimpleUploadedFile(name, data)}
            )
        errors = response.context["form"].errors.get("import_file", [])
        written = (
            [f"{Agency.objects.count() - before} new agencies"] if Agency.objects.count() != before else []
        )
        return Outcome(bool(errors), " ".join(errors), written + _files(import_temp), response.text)

    return {
        "admin upload": admin_upload,
        "attachment": attachment,
        "import_plan": command("import_plan"),
        "parse_plan": command("parse_plan"),
        "agency import": agency_import,
    }


ENTRY_POINTS = ["admin upload", "attachment", "import_plan", "parse_plan", "agency import"]
PARSING_ENTRY_POINTS = ["admin upload", "import_plan", "parse_plan"]


@pytest.mark.parametrize("entry", ENTRY_POINTS)
def test_an_oversized_file_is_refused_by_its_size(through, entry, settings):
    settings.MAX_UPLOAD_BYTES = 1024 * 1024
    data = PLAN_TEXT.encode() * (1536 * 1024 // len(PLAN_TEXT.encode()) + 1)
    outcome = through[entry](data, "计划.txt")
    assert outcome.refused and "文件超过 1 MB 上限" in outcome.message
    assert outcome.written == []


@pytest.mark.parametrize("entry", ENTRY_POINTS)
@pytest.mark.parametrize("kind", ["docx", "xlsx"])
def test_a_zip_bomb_is_refused(through, entry, kind, bombs):
    outcome = through[entry](bombs[kind], f"计划.{kind}")
    assert outcome.refused and "压缩包解压后超过 100 MB 上限" in outcome.message
    assert "恶意文件" in outcome.message
    assert outcome.written == []


@pytest.mark.parametrize("entry", ENTRY_POINTS)
def test_a_bomb_whose_headers_lie_is_refused(through, entry, bombs):
    outcome = through[entry](bombs["lying docx"], "计划.docx")
    assert outcome.refused and "压缩包内的文件比它声明的大" in outcome.message
    assert outcome.written == []


@pytest.mark.parametrize("entry", ENTRY_POINTS)
def test_a_small_bomb_is_refused_by_its_ratio(through, entry):
    outcome = through[entry](zip_bomb("xlsx", megabytes=40), "分工表.xlsx")
    assert outcome.refused and "压缩比超过 100 倍上限" in outcome.message
    assert outcome.written == []


@pytest.mark.parametrize("entry", ENTRY_POINTS)
def test_a_word_97_file_renamed_xls_is_refused_as_what_it_is(through, entry):
    document = ole_file({"WordDocument": b"\xec\xa5" + b"\x00" * 5000, "1Table": b"\x00" * 4096})
    outcome = through[entry](document, "分工表.xls")
    assert outcome.refused and "文件内容是Word 97-2003 文档(.doc)" in outcome.message
    assert outcome.written == []


@pytest.mark.parametrize("entry", ENTRY_POINTS)
def test_an_excel_97_file_renamed_doc_is_read_as_a_spreadsheet(through, entry):
    """Its content, not its name, decides: it is never taken for a Word file. Where spreadsheets are not
    accepted it is refused as an .xls; where they are, this one (an empty workbook stream) cannot be read."""
    workbook = ole_file({"Workbook": b"\x00" * 4096})
    outcome = through[entry](workbook, "计划.doc")
    assert outcome.refused and outcome.written == []
    assert "文件内容是Word" not in outcome.message
    assert "(.doc)" not in outcome.message and "（.doc）" not in outcome.message  # the parser's own wording
    if entry in ("attachment", "agency import"):
        assert "文件内容是Excel 97-2003 表格(.xls)" in outcome.message


@pytest.mark.parametrize("entry", ENTRY_POINTS)
@pytest.mark.parametrize("name", ["计划.docx", "通知.pdf", "计划.txt"])
def test_a_renamed_executable_is_refused(through, entry, name):
    outcome = through[entry](EXECUTABLE, name)
    assert outcome.refused and "不支持的文件类型:文件内容是可执行程序" in outcome.message
    assert outcome.written == []


@pytest.mark.parametrize("entry", PARSING_ENTRY_POINTS)
def test_a_parse_that_never_ends_is_stopped_at_the_time_limit(through, entry, settings, monkeypatch):
    settings.PARSE_TIMEOUT_SECONDS = 1
    monkeypatch.setattr(uploads, "PARSE_FUNCTION", "tests.lib.hanging_parser.parse_bytes")
    outcome = through[entry](PLAN_TEXT.encode(), "计划.txt")
    assert outcome.refused and "解析超过 1 秒,已停止" in outcome.message
    assert outcome.written == []


def test_utf16_without_bom_is_accepted_by_the_admin_upload(through):
    outcome = through["admin upload"](PLAN_TEXT.encode("utf-16-le"), "要点.txt")
    assert not outcome.refused
    draft = ImportDraft.objects.get()
    assert draft.original_name == "要点.txt"


@pytest.mark.parametrize("entry", ["import_plan", "parse_plan"])
def test_utf16_without_bom_is_accepted_by_the_commands(through, entry, capsys):
    outcome = through[entry](PLAN_TEXT.encode("utf-16-be"), "要点.txt")
    assert not outcome.refused
    if entry == "import_plan":
        plan = Plan.objects.get(title__contains="工作要点")
        assert Measure.objects.filter(plan=plan).count() == 2
        assert Task.objects.filter(measure__plan=plan).count() == 3
    else:
        assert "建立专利快速预审机制" in capsys.readouterr().out


def test_utf16_without_bom_is_accepted_by_the_agency_import(through, client):
    rows = "单位名称,简称,行政区划\r\n区知识产权保护中心,保护中心,东丽区\r\n"
    outcome = through["agency import"](rows.encode("utf-16-le"), "单位.csv")
    assert not outcome.refused and "区知识产权保护中心" in outcome.page and "保护中心" in outcome.page
    assert not Agency.objects.filter(name="区知识产权保护中心").exists(), "the preview is a dry run"


def test_a_gbk_csv_is_handed_to_the_agency_import_as_utf8(through):
    rows = "单位名称,简称,行政区划\r\n区知识产权保护中心,保护中心,东丽区\r\n"
    outcome = through["agency import"](rows.encode("gbk"), "单位.csv")
    assert not outcome.refused and "区知识产权保护中心" in outcome.page


def test_an_attachment_that_is_a_docx_bomb_leaves_the_task_untouched(through, finance_task, bombs):
    through["attachment"](bombs["docx"], "总结.docx")
    finance_task.refresh_from_db()
    assert finance_task.status == Task.Status.NOT_STARTED and finance_task.last_reported_at is None


@pytest.mark.parametrize("command", ["import_plan", "parse_plan"])
def test_the_commands_exit_non_zero_with_the_refusal_on_stderr(command, bombs, tmp_path, settings):
    path = tmp_path / "计划.docx"
    path.write_bytes(bombs["xlsx"])  # an .xlsx bomb named .docx
    result = subprocess.run(
        [sys.executable, "manage.py", command, str(path)],
        cwd=settings.BASE_DIR,
        env={**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'cli.sqlite3'}"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode != 0
    assert "压缩包解压后超过 100 MB 上限" in result.stderr and "Traceback" not in result.stderr
    assert result.stdout == ""
