"""In headless Chromium: a liaison filters to overdue, opens a task, reports progress and asks to close it;
the lead bureau approves; the liaison sees it done. Also the task list on a phone-sized screen."""

import datetime

import pytest
from django.utils import timezone

from tasks.models import Task
from tests.conftest import PASSWORD
from tests.e2e.conftest import log_in, screenshot

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def overdue_task(finance_task, science_task):
    """Real time (the browser's cookies expire by the wall clock): finance's task is three days late."""
    today = timezone.localdate()
    finance_task.due_date = today - datetime.timedelta(days=3)
    finance_task.save()
    science_task.due_date = today + datetime.timedelta(days=60)
    science_task.save()
    return finance_task


def test_report_ask_to_close_approve_and_see_it_done(browser, live_server, alice, lead, overdue_task):
    liaison = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai").new_page()
    log_in(liaison, live_server, "alice", PASSWORD)
    liaison.wait_for_selector("h1:has-text('我的任务')")
    liaison.click("summary:has-text('筛选与排序')")
    liaison.check("input[name=overdue]")
    liaison.click("button:has-text('筛选')")
    liaison.wait_for_url("**/tasks/?*overdue=on*")
    assert liaison.locator("tbody tr").count() == 1
    liaison.click("text=建立健全重大投融资活动知识产权评议工作机制")

    liaison.wait_for_selector("h2:has-text('报送进展')")
    liaison.fill("textarea[name=text]", "评议办法已经区政府常务会审议通过并印发。")
    liaison.fill("input[name=percent]", "100")
    liaison.check("input[name=status][value=completion_requested]")
    liaison.click("button:has-text('提交')")
    liaison.wait_for_selector("text=已申请办结,等待督办人员审核。")
    screenshot(liaison, "workspace-task-completion-requested")

    supervisor = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai").new_page()
    log_in(supervisor, live_server, "lead", PASSWORD)
    supervisor.wait_for_selector("h1:has-text('督办看板')")
    screenshot(supervisor, "workspace-dashboard")
    supervisor.click("nav >> text=审核")
    supervisor.wait_for_selector("text=评议办法已经区政府常务会审议通过并印发。")
    supervisor.click("button:has-text('同意办结')")
    supervisor.wait_for_selector("text=已同意办结。")

    liaison.reload()
    liaison.wait_for_selector(".review.approved")
    assert "已办结" in liaison.inner_text("aside")
    overdue_task.refresh_from_db()
    assert overdue_task.status == Task.Status.DONE
    assert overdue_task.history.order_by("-history_id").first().history_user == lead
    liaison.context.close()
    supervisor.context.close()


def test_the_task_list_fits_a_phone(phone, live_server, alice, overdue_task):
    log_in(phone, live_server, "alice", PASSWORD)
    phone.wait_for_selector("h1:has-text('我的任务')")
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 390  # no sideways scrolling of the page; the table scrolls inside its box
    screenshot(phone, "workspace-task-list-phone")
    phone.click("text=建立健全重大投融资活动知识产权评议工作机制")
    phone.wait_for_selector("h2:has-text('报送进展')")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(phone, "workspace-task-phone")
