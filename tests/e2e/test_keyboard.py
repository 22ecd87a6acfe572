"""Without a mouse: a liaison logs in, skips to the content, opens a task, 签收s it, gets the error summary
for a bad report, follows its link to the field and reports; a 督办人员 decides an extension request. Only
``keyboard.press`` and ``keyboard.type``: no clicks, no fills."""

import pytest

from tasks.models import ExtensionRequest, Task
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

FOCUSED = """() => { const e = document.activeElement;
  return {tag: e.tagName, id: e.id, name: e.getAttribute('name') || '', text: (e.innerText || '').trim(),
          value: e.value || ''}; }"""


def tab_to(page, matches, *, limit: int = 120, backwards: bool = False) -> dict:
    """Press Tab until the focused element satisfies ``matches``; fails after ``limit`` presses."""
    for _ in range(limit):
        page.keyboard.press("Shift+Tab" if backwards else "Tab")
        focused = page.evaluate(FOCUSED)
        if matches(focused):
            return focused
    raise AssertionError(f"never reached the element with Tab; last focused: {page.evaluate(FOCUSED)}")


def log_in_by_keyboard(page, live_server, username: str) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    assert page.evaluate(FOCUSED)["id"] == "id_username"  # autofocus
    page.keyboard.type(username)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_selector("main h1")


def test_a_liaison_reports_and_a_supervisor_decides_with_the_keyboard_alone(
    page, browser, live_server, world
):
    log_in_by_keyboard(page, live_server, "alice")
    assert page.inner_text("main h1") == "我的任务"

    # The first Tab reaches the skip link; following it lands in <main>, past the navigation.
    page.keyboard.press("Tab")
    assert page.evaluate(FOCUSED)["text"] == "跳到主要内容"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"

    tab_to(page, lambda f: f["tag"] == "A" and f["text"] == "建立健全重大投融资活动知识产权评议工作机制")
    page.keyboard.press("Enter")
    page.wait_for_selector("h2:has-text('报送进展')")

    tab_to(page, lambda f: f["text"] == "签收任务")
    page.keyboard.press("Enter")
    page.wait_for_selector("text=已签收。")
    world.overdue.refresh_from_db()
    assert world.overdue.acknowledged_at is not None

    # A report with no text and 150 %: the error summary takes focus and links to each field.
    tab_to(page, lambda f: f["name"] == "percent")
    page.keyboard.press("Control+A")
    page.keyboard.type("150")
    tab_to(page, lambda f: f["text"] == "提交")
    page.keyboard.press("Enter")
    page.wait_for_selector("#error-summary")
    assert page.evaluate("document.activeElement.id") == "error-summary"
    summary = page.inner_text("#error-summary")
    assert "进展情况" in summary and "完成进度" in summary
    assert page.inner_text("main").count("小于或等于100") == 2  # once in the summary, once at the field
    page.keyboard.press("Tab")
    assert page.evaluate(FOCUSED)["text"].startswith("进展情况")
    page.keyboard.press("Enter")
    assert page.evaluate(FOCUSED)["id"] == "id_text"  # the link put the cursor in the field

    page.keyboard.type("已起草评议工作办法,正在征求区发改委意见。")
    tab_to(page, lambda f: f["name"] == "percent")
    page.keyboard.press("Control+A")
    page.keyboard.type("60")
    tab_to(page, lambda f: f["text"] == "提交")
    page.keyboard.press("Enter")
    page.wait_for_selector("text=进展已报送。")
    world.overdue.refresh_from_db()
    assert (world.overdue.status, world.overdue.percent) == (Task.Status.IN_PROGRESS, 60)

    supervisor = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai").new_page()
    log_in_by_keyboard(supervisor, live_server, "lead")
    tab_to(supervisor, lambda f: f["tag"] == "A" and f["text"] == "审核")
    supervisor.keyboard.press("Enter")
    supervisor.wait_for_selector("h1:has-text('审核')")
    tab_to(supervisor, lambda f: f["tag"] == "TEXTAREA" and f["id"].startswith("reason--"))
    supervisor.keyboard.type("同意延期,请按新时限推进。")
    tab_to(supervisor, lambda f: f["text"] == "同意延期")
    supervisor.keyboard.press("Enter")
    supervisor.wait_for_selector("text=已同意延期。")
    world.extension.refresh_from_db()
    assert world.extension.decision == ExtensionRequest.Decision.APPROVED
    assert world.extension.decision_reason == "同意延期,请按新时限推进。"
    supervisor.context.close()
