"""The lead bureau uploads a plan, maps an unknown agency in the preview, and confirms — in Chromium."""

import pytest
from django.conf import settings
from django.core.management import call_command

from agencies.models import Agency
from tasks.models import Plan, Task
from tests.conftest import PASSWORD
from tests.e2e.conftest import log_in, screenshot

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def catalogue(transactional_db):
    call_command("loaddata", str(settings.BASE_DIR / "fixtures" / "agencies.json"), verbosity=0)


def test_upload_preview_map_unknown_agency_and_confirm(page, live_server, lead, catalogue, tmp_path):
    seed = (settings.BASE_DIR / "seeds" / "dongli-2020-2021-protection-plan.txt").read_text(encoding="utf-8")
    # The bureau's copy spells one agency in a way the catalogue does not know.
    document = tmp_path / "东丽区推进计划.txt"
    document.write_text(seed.replace("区合作交流办", "区合作交流办公室"), encoding="gb18030")

    log_in(page, live_server, "lead", PASSWORD, admin=True)
    page.goto(f"{live_server.url}/admin/tasks/plan/")
    page.click("text=导入计划文件")
    page.set_input_files("input[name=file]", str(document))
    page.click("text=上传并预览")

    page.wait_for_selector("text=单位目录中找不到的名称")
    assert page.locator("h2", has_text="2020-2021年天津市东丽区强化知识产权保护推进计划").count() == 1
    assert "42 条措施" in page.content()
    screenshot(page, "admin-import-preview")
    exchange = Agency.objects.get(jurisdiction="东丽区", name="区合作交流办")
    # The catalogue's name is the start of the bureau's spelling: it is the suggestion, accepted in one click.
    choice = page.locator("form.name:has-text('区合作交流办公室') select[name=choice]")
    assert choice.input_value() == f"agency:{exchange.pk}"
    page.click("button:has-text('全部采纳建议')")
    page.wait_for_selector("text=所有决定都已完成,可以确认导入。")
    page.click("button:has-text('确认导入')")

    page.wait_for_selector("text=已导入《2020-2021年天津市东丽区强化知识产权保护推进计划》")
    screenshot(page, "admin-plan-after-import")
    plan = Plan.objects.get()
    assert plan.measures.count() == 42
    assert Task.objects.filter(measure__plan=plan).count() == 100
    assert Task.objects.filter(agency=exchange).exists()
    assert exchange.aliases.filter(name="区合作交流办公室").exists()


def test_a_bad_file_is_refused_in_chinese(page, live_server, lead, catalogue, tmp_path):
    bad = tmp_path / "plan.docx"
    bad.write_bytes(b"PK\x03\x04" + b"this is not a word document")  # a damaged package
    log_in(page, live_server, "lead", PASSWORD, admin=True)
    page.goto(f"{live_server.url}/admin/tasks/plan/import/")
    page.set_input_files("input[name=file]", str(bad))
    page.click("text=上传并预览")
    error = page.wait_for_selector(".errorlist")
    assert "文件已损坏,无法打开" in error.inner_text()
    assert not Plan.objects.exists()
