"""A leader opens the 考核 scorecard in Chromium and drills down from one score to the facts behind it."""

import datetime

import pytest

from tasks.models import ProgressUpdate, Task
from tests.conftest import PASSWORD
from tests.e2e.conftest import log_in, screenshot

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_a_leader_drills_down_from_a_score_to_its_facts(
    page, live_server, leader, plan, finance_task, science_task, lead
):
    at = lambda *day: datetime.datetime(*day, 2, 0, tzinfo=datetime.UTC)  # noqa: E731
    Task.objects.update(created_at=at(2021, 9, 1))
    Task.objects.filter(pk=finance_task.pk).update(acknowledged_at=at(2021, 9, 13))
    Task.objects.filter(pk=science_task.pk).update(
        acknowledged_at=at(2021, 9, 2), status=Task.Status.DONE, completed_at=at(2021, 12, 20)
    )
    ProgressUpdate.objects.create(
        task=finance_task,
        author=lead,
        text="申请办结。",
        status=Task.Status.COMPLETION_REQUESTED,
        created_at=at(2021, 12, 28),
        review_decision=ProgressUpdate.ReviewDecision.RETURNED,
        reviewed_at=at(2021, 12, 29),
        review_reason="缺少佐证材料。",
        reviewed_by=lead,
    )

    log_in(page, live_server, "leader", PASSWORD)
    page.goto(f"{live_server.url}/dashboard/?plan={plan.pk}")
    page.click("text=考核评分")
    page.fill("input[name=period]", "2021-Q4")
    page.click("button:has-text('查看')")
    page.wait_for_selector("text=2021年第4季度")
    rows = page.locator("tbody tr")
    assert rows.nth(0).locator("td").nth(1).inner_text() == "区科技局"
    assert rows.nth(1).locator("td").nth(1).inner_text() == "区金融局"
    assert rows.nth(0).locator("td").nth(3).inner_text() == "100.0"
    screenshot(page, "scorecard")

    # 区金融局's 签收 score (50: signed on day 12) leads to the task and both timestamps.
    rows.nth(1).locator("a[data-score=acknowledge]").click()
    section = page.locator("section#acknowledge")
    section.wait_for()
    assert "签收及时 · 50.0 分" in section.locator("h2").inner_text()
    fact = section.locator("tbody tr").first
    assert "2021-09-01 分派,2021-09-13 签收,用时 12 天" in fact.inner_text()
    assert fact.locator("td").nth(2).inner_text() == "50"
    assert "退回(缺少佐证材料。)" in page.locator("section#returned").inner_text()
    screenshot(page, "scorecard-drilldown")
    fact.locator("a").click()
    page.wait_for_url(f"**/tasks/{finance_task.pk}/")
