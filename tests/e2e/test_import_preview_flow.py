"""A clerk imports a 40-item plan the system has never seen, fixes it in the preview and confirms — in Chromium.

The goal of the import-trust issue: at most 2 corrections (saved decisions other than accepting a suggestion),
counted from the draft's stored log, and every agency gets the right tasks, roles and deadlines.
"""

import datetime

import pytest
from django.conf import settings
from django.core.management import call_command

from tasks.models import ImportDraft, Plan
from tasks.parsing import parse_file
from tasks.services import drafts
from tests.conftest import PASSWORD
from tests.e2e.conftest import log_in, screenshot

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

PLAN_FILE = settings.BASE_DIR / "tests" / "parsing" / "plans" / "shiyan-40.txt"
MARKET = "市市场监管局(知识产权局)"


@pytest.fixture
def catalogue(transactional_db):
    call_command("loaddata", str(settings.BASE_DIR / "fixtures" / "agencies.json"), verbosity=0)


def tasks_of(plan: Plan, number: str) -> dict[str, tuple[str, datetime.date | None, bool]]:
    measure = plan.measures.get(number=number)
    return {t.agency.name: (t.role, t.due_date, t.is_ongoing) for t in measure.tasks.select_related("agency")}


def test_a_clerk_imports_a_new_plan_with_at_most_two_corrections(page, live_server, lead, catalogue):
    row_30 = next(
        drafts.measure_key(m)
        for m in parse_file(PLAN_FILE).required_measures
        if m.text.startswith("建设知识产权信息服务网点")
    )
    log_in(page, live_server, "lead", PASSWORD, admin=True)
    page.goto(f"{live_server.url}/admin/tasks/plan/")
    page.click("text=导入计划文件")
    page.set_input_files("input[name=file]", str(PLAN_FILE))
    page.click("text=上传并预览")

    page.wait_for_selector("text=单位目录中找不到的名称")
    assert "还有" in page.locator("#status").inner_text()
    page.click("button:has-text('全部采纳建议')")
    page.wait_for_selector("text=所有决定都已完成,可以确认导入。")
    screenshot(page, "admin-import-preview-40")

    # The one correction: 各有关单位 in item 30 is, for this bureau, the industry department. Adding it and
    # removing the vague collective is one save of the row.
    page.click(f"#m-{row_30} >> text=修改")
    editor = page.locator(f"#m-{row_30} form.editor")
    editor.locator("input[name=add_agency]").fill("市工业和信息化局")
    editor.locator("select[name=add_role]").select_option("support")
    chips = editor.locator(".chips-edit > div")
    index = next(i for i in range(chips.count()) if "各有关单位" in chips.nth(i).inner_text())
    editor.locator(f"button[name=remove][value='{index}']").click()
    page.wait_for_selector(f"#m-{row_30} .chip:has-text('市工业和信息化局')")
    screenshot(page, "admin-import-preview-40-corrected")

    page.click("button:has-text('确认导入')")
    page.wait_for_selector("text=导入后待办")
    screenshot(page, "admin-import-todo-40")

    record = ImportDraft.objects.get()
    assert drafts.tally(record.decisions)["corrections"] <= 2
    assert record.decisions["result"]["corrections"] == drafts.tally(record.decisions)["corrections"]
    plan = Plan.objects.get()
    assert plan.title == "临江市人民政府关于加快建设知识产权强市的实施意见"
    assert (plan.period_start, plan.period_end) == (2014, 2016)
    assert plan.measures.count() == len(parse_file(PLAN_FILE).required_measures)
    end = datetime.date(2016, 12, 31)  # 按计划期末
    assert tasks_of(plan, "5") == {
        MARKET: ("lead", None, True),
        "市工业和信息化局": ("support", None, True),
        "市商务局": ("support", None, True),
    }
    assert tasks_of(plan, "23") == {
        "市司法局": ("lead", datetime.date(2014, 12, 31), False),
        "市中级人民法院": ("support", datetime.date(2014, 12, 31), False),
        MARKET: ("support", datetime.date(2014, 12, 31), False),
    }
    assert tasks_of(plan, "25") == {"临江海关": ("lead", end, False), "市商务局": ("support", end, False)}
    assert tasks_of(plan, "30") == {
        "市科技局": ("lead", end, False),
        "市工业和信息化局": ("support", end, False),
    }
    assert tasks_of(plan, "38") == {"市财政局": ("lead", end, False), MARKET: ("support", end, False)}
    assert all(ongoing for _role, _due, ongoing in tasks_of(plan, "17").values())
