"""The signed 签收 link in headless Chromium: the real sweep mails a digest to a real SMTP server (aiosmtpd);
the link taken from that mail opens, without logging in, a page with the task and a 签收 button; the button
签收s that one task as the liaison, through channel email; pressing it again changes nothing; everything
else still asks for a password."""

import re

import pytest
from django.utils import timezone

from reminders import services
from reminders.workdays import calendar_around, load_package_holidays
from tasks.models import Task
from tests.e2e.conftest import World, screenshot
from workspace.models import ActionLink

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

LINK = re.compile(r"(http://[^\s\"<>]+/a/[A-Za-z0-9_-]{43}/)")


def sweep_day():
    """Today, or the next working day: the sweep sends nothing on a day off. Real time, as the browser's
    cookies go by the wall clock."""
    load_package_holidays()
    today = timezone.localdate()
    calendar = calendar_around(today)
    return today if calendar.is_working_day(today) else calendar.next_working_day(today)


def test_the_signed_link_from_a_digest_acknowledges_in_chromium(browser, site, smtp, world: World, alice):
    services.run_sweep(sweep_day(), dispatch=services.deliver_now)  # after commit: delivers over SMTP
    [digest] = [m for m in smtp.inbox.to("alice@example.gov.cn") if "督办提醒" in m["Subject"]]
    text, html = smtp.inbox.text_of(digest), smtp.inbox.html_of(digest)
    # One link per line not yet 签收ed: the overdue task and the one due soon (签收ed) are both listed.
    assert f"第{world.due_soon.measure.number}项" in text
    urls = LINK.findall(text)
    assert len(urls) == 1 and urls[0] in html
    assert "一键签收(无需登录)" in text and "14 天内有效" in text
    url = urls[0]
    assert url.startswith(site.url)

    context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai")
    page = context.new_page()
    page.set_default_timeout(15_000)
    requests = []
    page.on("request", lambda request: requests.append(request))

    response = page.goto(url)
    assert response.status == 200
    assert response.headers["referrer-policy"] == "strict-origin"
    assert "no-store" in response.headers["cache-control"]
    page.wait_for_selector("h1:has-text('签收任务')")
    assert world.overdue.measure.plan.title in page.inner_text("main")
    assert "区金融局" in page.inner_text("main")
    # Opening changed nothing.
    assert Task.objects.get(pk=world.overdue.pk).acknowledged_at is None
    assert ActionLink.objects.get(task=world.overdue).used_at is None
    screenshot(page, "signlink-open")

    page.click("button:has-text('签收')")
    page.wait_for_selector("text=签收成功")
    assert "任务已签收" in page.inner_text("h1")
    screenshot(page, "signlink-done")
    task = Task.objects.get(pk=world.overdue.pk)
    assert task.acknowledged_by == alice and task.acknowledged_via == Task.AckVia.EMAIL
    when = timezone.localtime(task.acknowledged_at).strftime("%Y-%m-%d %H:%M")
    assert f"{when} alice 通过邮件链接签收" in page.inner_text("main").replace("\n", " ")
    assert "签收" in (task.history.order_by("-history_id").first().history_change_reason or "")

    # Replay: the browser posts again (reload re-submits the form); nothing changes, the page says 已签收.
    page.goto(url)
    assert page.locator("button:has-text('签收')").count() == 0
    assert "已签收" in page.inner_text("main")
    assert Task.objects.get(pk=world.overdue.pk).acknowledged_at == task.acknowledged_at

    # Nobody was logged in: 查看详情 asks for the password.
    page.click("a:has-text('查看详情')")
    page.wait_for_url("**/accounts/login/**")
    assert page.locator("input[name=password]").count() == 1
    # The token never left in a Referer header.
    assert not [r for r in requests if "/a/" in (r.headers.get("referer") or "")]
    context.close()
