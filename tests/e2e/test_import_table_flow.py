"""A clerk uploads the 任务分工表 spreadsheet of a plan (title row, merged 牵头单位, two sheets) in the admin, goes
through the editable preview and confirms — in Chromium; a table without a header is refused in Chinese."""

import datetime

import pytest
from django.conf import settings
from django.core.management import call_command

from tasks.models import ImportDraft, Plan, Task
from tests.conftest import PASSWORD
from tests.e2e.conftest import log_in, screenshot
from tests.parsing.division_tables import rows_from_plan, workbook_bytes

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

MARKET = "市市场监管局(知识产权局)"


@pytest.fixture
def catalogue(transactional_db):
    call_command("loaddata", str(settings.BASE_DIR / "fixtures" / "agencies.json"), verbosity=0)


def test_a_clerk_imports_a_division_table_through_the_preview(page, live_server, lead, catalogue, tmp_path):
    title, rows = rows_from_plan("shiyan-40")
    path = tmp_path / "知识产权强市任务分工表.xlsx"
    path.write_bytes(workbook_bytes(title, rows, sheets=2))

    log_in(page, live_server, "lead", PASSWORD, admin=True)
    page.goto(f"{live_server.url}/admin/tasks/plan/")
    page.click("text=导入计划文件")
    assert page.locator("#table-template a").get_attribute("href").endswith("/import/template/")
    page.set_input_files("input[name=file]", str(path))
    page.click("text=上传并预览")

    page.wait_for_selector("text=单位目录中找不到的名称")
    assert title in page.content()
    page.click("button:has-text('全部采纳建议')")
    page.wait_for_selector("text=所有决定都已完成,可以确认导入。")
    screenshot(page, "admin-import-table-preview")
    page.click("button:has-text('确认导入')")
    page.wait_for_selector("text=导入后待办")

    assert ImportDraft.objects.get().confirmed_at is not None
    plan = Plan.objects.get()
    assert plan.title == title and (plan.period_start, plan.period_end) == (2014, 2016)
    assert plan.measures.count() == 40
    assert Task.objects.filter(measure__plan=plan).count() > 40
    item_23 = {t.agency.name: (t.role, t.due_date) for t in Task.objects.filter(measure__number="23")}
    assert item_23 == {
        "市司法局": ("lead", datetime.date(2014, 12, 31)),
        "市中级人民法院": ("support", datetime.date(2014, 12, 31)),
        MARKET: ("support", datetime.date(2014, 12, 31)),
    }
    # the merged 牵头单位 cell (items 21 and 22 share 市商务局) gave both rows their lead
    for number in ("21", "22"):
        assert Task.objects.get(measure__number=number, role="lead").agency.name == "市商务局"


def test_a_table_without_a_header_is_refused_in_chinese(page, live_server, lead, catalogue, tmp_path):
    path = tmp_path / "名单.csv"
    path.write_bytes("名称,数量\n苹果,3\n".encode("gbk"))
    log_in(page, live_server, "lead", PASSWORD, admin=True)
    page.goto(f"{live_server.url}/admin/tasks/plan/import/")
    page.set_input_files("input[name=file]", str(path))
    page.click("text=上传并预览")
    page.wait_for_selector(".errorlist")
    assert "前20行中没有找到表头行" in page.locator(".errorlist").inner_text()
    assert not ImportDraft.objects.exists() and not Plan.objects.exists()
