"""In headless Chromium, the whole notification loop: a liaison requests an extension; the lead bureau sees it
in 消息 and refuses it with a reason; the liaison sees who refused it, when and why (on the task page, in its
变更记录 and in 消息). Each notification email reaches a real SMTP server (aiosmtpd) exactly once, also
when the outbox is delivered again."""

import datetime

import pytest
from django.utils import timezone

from reminders.models import ReminderLog
from reminders.services import deliver_now
from tasks.models import ExtensionRequest
from tests.conftest import PASSWORD
from tests.e2e.conftest import log_in, screenshot

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

REASON = "需等待市级评议办法出台后衔接。"
REFUSAL = "市级办法已印发,请按原定时限完成。"


@pytest.fixture
def due_next_month(finance_task):
    """Real time (the browser's cookies expire by the wall clock): the task is due in a month."""
    finance_task.due_date = timezone.localdate() + datetime.timedelta(days=30)
    finance_task.save()
    return finance_task


def context_page(browser):
    return browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai").new_page()


def test_extension_requested_refused_and_told(browser, site, smtp, alice, lead, due_next_month):
    task = due_next_month
    wanted = task.due_date + datetime.timedelta(days=60)

    # The liaison asks for more time.
    liaison = context_page(browser)
    log_in(liaison, site, "alice", PASSWORD)
    liaison.wait_for_selector("h1:has-text('我的任务')")
    liaison.goto(f"{site.url}/tasks/{task.pk}/")
    liaison.click("summary:has-text('申请延期')")
    liaison.fill("input[name=extension-requested_due_date]", wanted.isoformat())
    liaison.fill("textarea[name=extension-reason]", REASON)
    liaison.click("button:has-text('提交延期申请')")
    liaison.wait_for_selector("text=延期申请已提交,等待督办人员审核。")

    # The lead bureau sees it in 消息, with the unread count in the navigation, and refuses it.
    supervisor = context_page(browser)
    log_in(supervisor, site, "lead", PASSWORD)
    supervisor.wait_for_selector("h1:has-text('督办看板')")
    assert supervisor.inner_text("nav a:has-text('消息') .badge") == "1"
    supervisor.click("nav >> text=消息")
    supervisor.wait_for_selector("h1:has-text('消息')")
    item = supervisor.locator("article.inbox-item", has_text="【延期申请】区金融局 申请延至")
    assert item.count() == 1 and REASON in item.inner_text()
    screenshot(supervisor, "notifications-inbox-lead")
    item.locator("button:has-text('查看')").click()
    supervisor.wait_for_url(f"**/tasks/{task.pk}/")
    assert supervisor.locator("nav a:has-text('消息') .badge").count() == 0  # read now
    supervisor.fill("aside textarea[name=reason]", REFUSAL)
    supervisor.click("aside button:has-text('不同意')")
    supervisor.wait_for_selector("text=已不同意延期。")

    # The liaison is told: who refused it, when and why — in 消息, on the task page and in 变更记录.
    extension = ExtensionRequest.objects.get()
    assert (extension.decision, extension.decided_by) == ("refused", lead)
    decided = timezone.localtime(extension.decided_at).strftime("%Y-%m-%d %H:%M")
    liaison.goto(f"{site.url}/tasks/")
    assert liaison.inner_text("nav a:has-text('消息') .badge") == "1"
    liaison.click("nav >> text=消息")
    notice = liaison.locator("article.inbox-item", has_text="【延期申请】不同意延期")
    assert notice.count() == 1
    assert "审核人:lead" in notice.inner_text() and REFUSAL in notice.inner_text()
    notice.locator("button:has-text('查看')").click()
    liaison.wait_for_url(f"**/tasks/{task.pk}/")
    decision = liaison.inner_text("aside .decision")
    assert decision == f"lead 于 {decided} 审核:未同意"
    assert f"审核意见:{REFUSAL}" in liaison.inner_text("aside")
    assert f"不同意延期至 {wanted:%Y-%m-%d}:{REFUSAL}" in liaison.inner_text(".timeline")
    screenshot(liaison, "notifications-refused-extension")

    # Each email once: to the lead bureau about the request, to the liaison about the decision.
    assert smtp.inbox.recipients() == ["alice@example.gov.cn", "lead@example.gov.cn"]
    [to_lead] = smtp.inbox.to("lead@example.gov.cn")
    [to_liaison] = smtp.inbox.to("alice@example.gov.cn")
    assert to_lead["Subject"].startswith("【延期申请】区金融局 申请延至")
    assert to_liaison["Subject"] == "【延期申请】不同意延期"
    assert REFUSAL in smtp.inbox.text_of(to_liaison) and f"/tasks/{task.pk}/" in smtp.inbox.text_of(
        to_liaison
    )
    # Delivering the whole outbox again sends nothing twice.
    deliver_now(list(ReminderLog.objects.values_list("pk", flat=True)))
    assert len(smtp.inbox.messages) == 2
    assert set(ReminderLog.objects.filter(channel="email").values_list("status", flat=True)) == {"sent"}
