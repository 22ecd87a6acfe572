"""企业微信 / 钉钉 / SMS through a real `celery -A ipplan worker` on Redis, against the local vendor server
(tests/reminders/vendors.py): the vendors fail first (HTTP 5xx, rate-limit errcodes), the job's autoretry
tries again, every message arrives exactly once, and a second sweep sends nothing on any channel."""

import time

import pytest

from agencies.models import AgencyRobot, Liaison
from reminders.models import ReminderLog

from .conftest import Worker
from .vendors import DINGTALK_SECRET, DINGTALK_TOKEN, WECOM_KEY, VendorServer

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture(scope="module")
def vendor_server():
    server = VendorServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def channel_worker(django_db_setup, django_db_blocker, smtp_port, vendor_server):
    with django_db_blocker.unblock():
        # Rows made on 2024-09-30's frozen clock are sent today: keep them inside the retry window.
        running = Worker(smtp_port, extra_env={**vendor_server.env(), "REMINDER_RETRY_WINDOW_DAYS": "36500"})
    yield running
    running.stop()


@pytest.fixture
def vendor(vendor_server):
    vendor_server.clear()
    return vendor_server


@pytest.fixture
def channels_set_up(finance, science, alice, bob):
    AgencyRobot.objects.create(
        agency=finance,
        kind="wecom",
        name="区金融局工作群",
        webhook_url=f"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key={WECOM_KEY}",
    )
    AgencyRobot.objects.create(
        agency=science,
        kind="dingtalk",
        name="区科技局工作群",
        webhook_url=f"https://oapi.dingtalk.com/robot/send?access_token={DINGTALK_TOKEN}",
        secret=DINGTALK_SECRET,
    )
    Liaison.objects.filter(user=alice).update(mobile="13812345678", notify_sms=True)


def extra_rows():
    return ReminderLog.objects.exclude(channel="email")


def all_settled():
    statuses = list(ReminderLog.objects.values_list("status", flat=True))
    return statuses and all(status in ("sent", "skipped") for status in statuses)


def test_failures_are_retried_and_each_channel_gets_each_reminder_once(
    channel_worker, smtp, vendor, scenario, channels_set_up, wait_for
):
    vendor.script["wecom"] = [
        (500, {"errcode": -1, "errmsg": "system busy"}),
        (200, {"errcode": 45009, "errmsg": "api freq out of limit"}),
    ]
    vendor.script["dingtalk"] = [
        (200, {"errcode": 130101, "errmsg": "send too fast, exceed 20 times per minute"})
    ]
    vendor.script["sms"] = [(503, {"Code": "ServiceUnavailable", "Message": "busy"})]

    result = channel_worker.sweep("2024-09-30").get(timeout=60)
    # 4 emails and the 投递问题日报 (区市场监管局 has nobody to tell); 区金融局's robot: digest + escalation;
    # 区科技局's robot: digest; alice's SMS: digest + escalation.
    assert result["dispatched"] == 4 + 1 + 5
    wait_for(all_settled, timeout=90, message="every channel delivered after retries")
    time.sleep(1)  # let any duplicate that was going to arrive arrive

    assert len(vendor.delivered("wecom")) == 2 and len(vendor.calls("wecom")) == 4
    assert len(vendor.delivered("dingtalk")) == 1 and len(vendor.calls("dingtalk")) == 2
    assert len(vendor.delivered("sms")) == 2 and len(vendor.calls("sms")) == 3
    by_channel: dict[str, list[int]] = {}
    for channel, tries in extra_rows().values_list("channel", "attempts"):
        by_channel.setdefault(channel, []).append(tries)
    assert sum(by_channel["wecom"]) == 4 and sum(by_channel["dingtalk"]) == 2 and sum(by_channel["sms"]) == 3
    assert set(extra_rows().values_list("status", "error")) == {("sent", "")}
    assert len(smtp.inbox.messages) == 5

    # The sweep again (beat twice, or someone re-running it): nothing new on any channel.
    assert channel_worker.sweep("2024-09-30").get(timeout=60)["dispatched"] == 0
    time.sleep(2)
    assert len(vendor.received) == 4 + 2 + 3
    assert extra_rows().count() == 5
    assert len(smtp.inbox.messages) == 5


def test_a_rejected_message_fails_once_with_the_reason(
    channel_worker, smtp, vendor, scenario, channels_set_up, wait_for
):
    AgencyRobot.objects.filter(kind="dingtalk").update(secret="SEC" + "e" * 64)
    channel_worker.sweep("2024-09-30").get(timeout=60)
    row = wait_for(
        lambda: ReminderLog.objects.filter(channel="dingtalk", status="gave_up").first(),
        message="dingtalk refused and given up",
    )
    wait_for(
        lambda: len(vendor.delivered("wecom")) == 2 and len(vendor.delivered("sms")) == 2,
        message="others sent",
    )
    time.sleep(3)  # a retry (none is due: the vendor's refusal is final) would have come by now
    assert len(vendor.calls("dingtalk")) == 1
    row.refresh_from_db()
    assert row.attempts == 1
    assert row.error == (
        "已放弃:对方拒绝,重试无益,请检查设置后再次发送。钉钉群机器人答复 errcode=310000:sign not match(请检查群机器人设置)"
    )
