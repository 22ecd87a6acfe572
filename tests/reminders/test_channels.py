"""企业微信 / 钉钉 robots and SMS behind the same ledger, against a real local HTTP server that checks the keys,
钉钉's 加签 and the Aliyun signature as the vendors do (tests/reminders/vendors.py). Deliveries run in
process here; tests/reminders/test_channels_worker.py sends through a real Celery worker."""

import datetime
import json

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from agencies.models import AgencyRobot, Liaison
from reminders import services
from reminders.models import ReminderLog
from reminders.services import channels, fanout
from reminders.services.channels import AliyunSms

from .vendors import ALIYUN_SECRET, DINGTALK_SECRET, DINGTALK_TOKEN, WECOM_KEY, VendorServer

WECOM_URL = f"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key={WECOM_KEY}"
DINGTALK_URL = f"https://oapi.dingtalk.com/robot/send?access_token={DINGTALK_TOKEN}"


@pytest.fixture(autouse=True)
def wide_retry_window(settings):
    """The scenario's rows are made on 2024-09-30's frozen clock and sent on today's: without this they would
    be past the retry window (7 days) and end 已放弃 at their first failure."""
    settings.REMINDER_RETRY_WINDOW_DAYS = 36500


@pytest.fixture
def vendor(settings):
    server = VendorServer().start()
    for key, value in server.settings().items():
        setattr(settings, key, value)
    settings.SITE_URL = "https://ipplan.example.gov.cn"
    yield server
    server.stop()


@pytest.fixture
def robots(finance, science, market):
    return {
        "finance": AgencyRobot.objects.create(
            agency=finance, kind="wecom", name="区金融局工作群", webhook_url=WECOM_URL
        ),
        "science": AgencyRobot.objects.create(
            agency=science,
            kind="dingtalk",
            name="区科技局工作群",
            webhook_url=DINGTALK_URL,
            secret=DINGTALK_SECRET,
        ),
        # No liaison: the robot is how 区市场监管局 hears of its overdue task.
        "market": AgencyRobot.objects.create(
            agency=market, kind="wecom", name="区市场监管局工作群", webhook_url=WECOM_URL + "&x=market"
        ),
    }


@pytest.fixture
def alice_sms(alice):
    Liaison.objects.filter(user=alice).update(mobile="13812345678", notify_sms=True)
    return alice


def deliver_all(ids) -> list[str]:
    """Deliver rows in this process; returns each outcome or the error's class name."""
    outcomes = []
    for pk in ids:
        try:
            outcomes.append(services.deliver(pk).outcome)
        except Exception as error:  # noqa: BLE001 — the test looks at which
            outcomes.append(type(error).__name__)
    return outcomes


def rows(channel):
    return list(ReminderLog.objects.filter(channel=channel).order_by("recipient", "kind"))


# ---------------------------------------------------------------------------------------------------------
# Signatures


def test_the_aliyun_signature_matches_the_published_example():
    """Alibaba Cloud's documented example (DescribeRegions, AccessKey testid / testsecret)."""
    params = {
        "TimeStamp": "2016-02-23T12:46:24Z",
        "Format": "XML",
        "AccessKeyId": "testid",
        "Action": "DescribeRegions",
        "SignatureMethod": "HMAC-SHA1",
        "SignatureNonce": "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf",
        "Version": "2014-05-26",
        "SignatureVersion": "1.0",
    }
    assert channels.aliyun_signature("GET", params, "testsecret") == "CT9X0VtwR86fNWSnsc6v8YGOjuE="


def test_the_aliyun_request_is_signed_over_every_field():
    sms = AliyunSms(
        access_key_id="testid",
        access_key_secret="testsecret",
        sign_name="东丽区督办",
        template_code="SMS_1",
        endpoint="https://dysmsapi.aliyuncs.com/",
        region="cn-hangzhou",
    )
    now = datetime.datetime(2026, 12, 2, 1, 2, 3, tzinfo=datetime.UTC)
    form = sms.request("13812345678", {"kind": "催办", "agency": "区金融局"}, now=now, nonce="n1")
    assert form["Timestamp"] == "2026-12-02T01:02:03Z"
    assert form["TemplateParam"] == '{"kind":"催办","agency":"区金融局"}'
    unsigned = {key: value for key, value in form.items() if key != "Signature"}
    assert form["Signature"] == channels.aliyun_signature("POST", unsigned, "testsecret")
    assert form["Signature"] != channels.aliyun_signature(
        "POST", {**unsigned, "PhoneNumbers": "13900000000"}, "testsecret"
    )


def test_the_dingtalk_sign_follows_the_documented_recipe():
    import base64
    import hashlib
    import hmac

    expected = base64.b64encode(
        hmac.new(b"SECabc", b"1700000000000\nSECabc", digestmod=hashlib.sha256).digest()
    ).decode()
    assert channels.dingtalk_sign("SECabc", 1700000000000) == expected


# ---------------------------------------------------------------------------------------------------------
# Configuration


@pytest.mark.parametrize(
    ("kind", "url", "message"),
    [
        (
            "wecom",
            WECOM_URL.replace("https", "http"),
            "应以 https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key= 开头",
        ),
        (
            "wecom",
            "https://evil.example.com/cgi-bin/webhook/send?key=" + WECOM_KEY,
            "应以 https://qyapi.weixin.qq.com",
        ),
        ("wecom", "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=", "缺少有效的 key 参数"),
        ("dingtalk", WECOM_URL, "应以 https://oapi.dingtalk.com/robot/send?access_token= 开头"),
        ("dingtalk", "https://oapi.dingtalk.com/robot/send?token=abc", "缺少有效的 access_token 参数"),
    ],
)
def test_robot_addresses_are_checked_with_a_clear_message(finance, kind, url, message):
    robot = AgencyRobot(agency=finance, kind=kind, name="工作群", webhook_url=url)
    with pytest.raises(ValidationError) as error:
        robot.full_clean()
    assert message in " ".join(error.value.message_dict["webhook_url"])


def test_robot_secrets_are_checked(finance):
    wecom = AgencyRobot(agency=finance, kind="wecom", name="群", webhook_url=WECOM_URL, secret="SECabc")
    with pytest.raises(ValidationError, match="企业微信群机器人没有加签密钥"):
        wecom.full_clean()
    dingtalk = AgencyRobot(agency=finance, kind="dingtalk", name="群", webhook_url=DINGTALK_URL, secret="abc")
    with pytest.raises(ValidationError, match="以 SEC 开头"):
        dingtalk.full_clean()
    dingtalk.secret = DINGTALK_SECRET
    dingtalk.full_clean()
    assert dingtalk.masked_url == "https://oapi.dingtalk.com/robot/send?access_token=6ba1****3f2a"


# ---------------------------------------------------------------------------------------------------------
# Fan-out through the sweep


def test_the_sweep_reaches_robots_and_sms_once_per_channel(
    vendor, scenario, robots, alice_sms, bob, on_day, sweep
):
    with on_day("2024-09-30"):
        result = sweep(datetime.date(2024, 9, 30), dispatch=None)
    # 4 emails as before, plus: 区金融局's robot (digest + escalation of its support agency), 区科技局's robot
    # (digest), 区市场监管局's robot (no liaison: digest), alice's SMS (digest + escalation).
    assert [(row.recipient, row.kind) for row in rows("wecom")] == [
        (f"robot:{robots['finance'].pk}", "digest"),
        (f"robot:{robots['finance'].pk}", "escalation"),
        (f"robot:{robots['market'].pk}", "digest"),
    ]
    assert [(row.recipient, row.kind) for row in rows("dingtalk")] == [
        (f"robot:{robots['science'].pk}", "digest")
    ]
    assert [(row.recipient, row.kind) for row in rows("sms")] == [
        ("13812345678", "digest"),
        ("13812345678", "escalation"),
    ]
    extra = ReminderLog.objects.exclude(channel="email")
    assert set(extra.values_list("pk", flat=True)) <= set(result.dispatched)
    assert len(result.dispatched) == 4 + 6 + 1  # and the 投递问题日报 (区市场监管局 has nobody to tell)

    assert set(deliver_all(extra.values_list("pk", flat=True))) == {"sent"}
    assert len(vendor.delivered("wecom")) == 3
    assert len(vendor.delivered("dingtalk")) == 1
    assert len(vendor.delivered("sms")) == 2

    # 区金融局's digest: its own lines only, with links, the counts and 我的任务.
    [finance_digest] = [
        item
        for item in vendor.delivered("wecom")
        if "到期提醒汇总" in item.body["markdown"]["content"]
        and "区金融局" in item.body["markdown"]["content"]
    ]
    content = finance_digest.body["markdown"]["content"]
    assert content.startswith("### 【到期提醒汇总】2024-09-30 区金融局:3 项任务")
    assert f"https://ipplan.example.gov.cn/tasks/{scenario['finance_lead_overdue'].pk}/" in content
    assert f"/tasks/{scenario['science_overdue'].pk}/" not in content
    assert "**已逾期 10 天(截止日期 2024-09-20)**" in content
    assert content.endswith("[打开“我的任务”](https://ipplan.example.gov.cn/tasks/)")
    [dingtalk] = vendor.delivered("dingtalk")
    assert dingtalk.body["markdown"]["title"] == "【到期提醒汇总】2024-09-30 区科技局:3 项任务"
    sms = sorted(json.loads(item.body["TemplateParam"])["kind"] for item in vendor.delivered("sms"))
    assert sms == ["到期提醒汇总", "逾期上报"]
    assert {item.body["PhoneNumbers"] for item in vendor.delivered("sms")} == {"13812345678"}
    assert {item.body["SignName"] for item in vendor.delivered("sms")} == {"东丽区督办"}

    # Running the sweep again claims nothing new and sends nothing on any channel.
    with on_day("2024-09-30"):
        again = sweep(datetime.date(2024, 9, 30), dispatch=None)
    assert not set(again.dispatched) & set(
        extra.values_list("pk", flat=True)
    )  # (the emails were not sent here)
    assert ReminderLog.objects.exclude(channel="email").count() == 6
    assert len(vendor.received) == 6


def test_liaisons_choose_their_channels(vendor, scenario, robots, alice, bob, on_day, sweep):
    Liaison.objects.filter(user=bob).update(notify_robot=False)
    Liaison.objects.filter(user=alice).update(notify_sms=True)  # no mobile: nothing to send to
    with on_day("2024-09-30"):
        sweep(datetime.date(2024, 9, 30), dispatch=None)
    assert not rows("dingtalk")
    assert not rows("sms")
    assert len(rows("wecom")) == 3


def test_no_sms_rows_without_a_provider(vendor, settings, scenario, alice_sms, on_day, sweep):
    settings.SMS_PROVIDER = ""
    with on_day("2024-09-30"):
        sweep(datetime.date(2024, 9, 30), dispatch=None)
    assert not rows("sms")


def test_a_long_digest_stays_within_the_robot_limit(vendor, make_task, finance, alice, robots, on_day, sweep):
    for number in range(1, 41):
        make_task(finance, str(number), due="2024-09-20", text=f"第{number}项措施:" + "加强知识产权保护" * 20)
    with on_day("2024-09-30"):
        sweep(datetime.date(2024, 9, 30), dispatch=None)
    [digest] = ReminderLog.objects.filter(channel="wecom", kind="digest")
    assert len(digest.body_text.encode()) <= 4096
    assert "另有 30 项,请在系统中查看。" in digest.body_text
    assert deliver_all([digest.pk]) == ["sent"]
    assert len(vendor.delivered("wecom")) == 1


def test_urge_reaches_the_agency_robot_once(vendor, scenario, robots, alice, lead):
    tasks = [scenario["finance_lead_overdue"], scenario["finance_due_next_day"]]
    first = services.send_urge(tasks, lead, dispatch=lambda ids: None)
    second = services.send_urge(tasks, lead, dispatch=lambda ids: None)
    [row] = rows("wecom")
    assert row.kind == "urge" and row.requested_by_id == lead.pk
    # The first 催办 queued it; the second finds it queued within its lease and leaves it to that job (the
    # recovery job looks again if the job was lost).
    assert row.pk in first.dispatched and row.pk not in second.dispatched
    assert deliver_all([row.pk, row.pk]) == ["sent", "done"]
    assert len(vendor.delivered("wecom")) == 1
    assert "【催办】" in vendor.delivered("wecom")[0].body["markdown"]["content"]


# ---------------------------------------------------------------------------------------------------------
# Failures: retried when the vendor may recover, explained when it will not


def claim_finance_digest(scenario, on_day, sweep):
    with on_day("2024-09-30"):
        sweep(datetime.date(2024, 9, 30), dispatch=None)
    return ReminderLog.objects.get(
        channel="wecom",
        kind="digest",
        recipient__endswith=str(AgencyRobot.objects.get(agency__name="区金融局").pk),
    )


def test_a_server_error_is_retryable_and_then_sent_once(vendor, scenario, robots, alice, on_day, sweep):
    row = claim_finance_digest(scenario, on_day, sweep)
    vendor.script["wecom"] = [
        (500, {"errcode": -1, "errmsg": "internal"}),
        (200, {"errcode": 45009, "errmsg": "api freq out of limit"}),
    ]
    first = services.deliver(row.pk)  # recorded on the row with its next attempt; the job retries then
    row.refresh_from_db()
    assert first.outcome == "failed" and first.retry_in > 0
    assert row.status == "failed" and "HTTP 500" in row.error and row.next_attempt_at is not None
    assert services.deliver(row.pk).outcome == "failed"
    row.refresh_from_db()
    assert "errcode=45009" in row.error
    assert services.deliver(row.pk).outcome == "sent"
    assert services.deliver(row.pk).outcome == "done"
    row.refresh_from_db()
    assert (row.status, row.attempts, row.error) == ("sent", 3, "")
    assert len(vendor.delivered("wecom")) == 1


def test_a_wrong_key_fails_with_the_vendors_answer_and_no_secret(
    vendor, scenario, robots, alice, on_day, sweep
):
    robot = robots["finance"]
    robot.webhook_url = (
        "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=00000000-dead-beef-0000-000000000000"
    )
    robot.save()
    row = claim_finance_digest(scenario, on_day, sweep)
    assert services.deliver(row.pk).outcome == "gave_up"  # a refusal is not retried
    row.refresh_from_db()
    assert row.status == "gave_up" and row.error.startswith("已放弃:对方拒绝")
    assert "企业微信群机器人答复 errcode=93000" in row.error and "请检查群机器人设置" in row.error
    assert "dead-beef" not in row.error


def test_nobody_is_there_to_answer(vendor, settings, scenario, robots, alice, on_day, sweep):
    row = claim_finance_digest(scenario, on_day, sweep)
    vendor.stop()
    delivery = services.deliver(row.pk)
    assert delivery.outcome == "failed" and "无法连接企业微信群机器人" in delivery.error
    assert WECOM_KEY not in ReminderLog.objects.get(pk=row.pk).error
    vendor.start()  # same port again, for the fixture's stop()


def test_a_wrong_dingtalk_secret_is_reported(vendor, scenario, robots, bob, on_day, sweep):
    AgencyRobot.objects.filter(pk=robots["science"].pk).update(secret="SEC" + "f" * 64)
    with on_day("2024-09-30"):
        sweep(datetime.date(2024, 9, 30), dispatch=None)
    row = ReminderLog.objects.get(channel="dingtalk")
    delivery = services.deliver(row.pk)
    assert delivery.outcome == "gave_up" and "errcode=310000:sign not match" in delivery.error
    assert "f" * 20 not in ReminderLog.objects.get(pk=row.pk).error


def test_sms_rate_limit_is_retried_and_bad_credentials_are_not(
    vendor, settings, scenario, alice_sms, on_day, sweep
):
    with on_day("2024-09-30"):
        sweep(datetime.date(2024, 9, 30), dispatch=None)
    digest = ReminderLog.objects.get(channel="sms", kind="digest")
    vendor.script["sms"] = [
        (200, {"Code": "isv.BUSINESS_LIMIT_CONTROL", "Message": "触发分钟级流控Permits:1"})
    ]
    delivery = services.deliver(digest.pk)
    assert delivery.outcome == "failed" and "isv.BUSINESS_LIMIT_CONTROL" in delivery.error
    assert services.deliver(digest.pk).outcome == "sent"

    escalation = ReminderLog.objects.get(channel="sms", kind="escalation")
    settings.ALIYUN_SMS_ACCESS_KEY_SECRET = "wrong-secret-value"
    delivery = services.deliver(escalation.pk)
    assert delivery.outcome == "gave_up" and "SignatureDoesNotMatch" in delivery.error
    escalation.refresh_from_db()
    assert "阿里云短信拒绝发送" in escalation.error and "wrong-secret" not in escalation.error
    assert ALIYUN_SECRET not in escalation.error
    assert len(vendor.delivered("sms")) == 1


def test_a_deleted_robot_fails_clearly(vendor, scenario, robots, alice, on_day, sweep):
    row = claim_finance_digest(scenario, on_day, sweep)
    robots["finance"].delete()
    assert services.deliver(row.pk).outcome == "gave_up"
    row.refresh_from_db()
    assert row.status == "gave_up"
    assert row.error == "已放弃:对方拒绝,重试无益,请检查设置后再次发送。该群机器人设置已被删除,消息未发送"


def test_sms_variables_stay_short(alice):
    from reminders.services.compute import Email

    liaison = {"agency__name": "天津市东丽区人民政府" * 8, "agency__short_name": ""}
    email = Email(
        kind="digest", recipient="a@b.cn", period="2024-09-30", day=datetime.date(2024, 9, 30), lines=[]
    )
    params = fanout.sms_params(email, liaison)
    assert sum(len(value) for value in params.values()) <= 70
    assert params["agency"].endswith("…")


# ---------------------------------------------------------------------------------------------------------
# Admin and 我的设置


def test_the_admin_test_message_reports_what_the_vendor_answered(vendor, client, lead, robots):
    client.force_login(lead)
    url = reverse("admin:agencies_agencyrobot_changelist")
    page = client.get(url)
    assert page.status_code == 200
    assert WECOM_KEY not in page.text and "693a****5aaa" in page.text
    response = client.post(
        url,
        {"action": "send_test", "_selected_action": [robots["finance"].pk, robots["science"].pk]},
        follow=True,
    )
    text = response.text
    assert "“区金融局工作群(企业微信群机器人)”测试消息已送达:企业微信群机器人答复 errcode=0:ok" in text
    assert "“区科技局工作群(钉钉群机器人)”测试消息已送达:钉钉群机器人答复 errcode=0:ok" in text
    assert len(vendor.delivered("wecom")) == 1 and len(vendor.delivered("dingtalk")) == 1

    AgencyRobot.objects.filter(pk=robots["science"].pk).update(secret="SEC" + "0" * 64)
    response = client.post(
        url, {"action": "send_test", "_selected_action": [robots["science"].pk]}, follow=True
    )
    assert "测试消息未送达:钉钉群机器人答复 errcode=310000:sign not match" in response.text
    assert not ReminderLog.objects.exists()  # a test message is not a reminder


def test_the_admin_keeps_the_saved_secret_and_refuses_a_bad_address(client, lead, robots):
    client.force_login(lead)
    robot = robots["science"]
    url = reverse("admin:agencies_agencyrobot_change", args=[robot.pk])
    page = client.get(url)
    assert DINGTALK_SECRET not in page.text
    data = {
        "agency": robot.agency_id,
        "kind": "dingtalk",
        "name": "改名的群",
        "webhook_url": DINGTALK_URL,
        "secret": "",
        "is_active": "on",
    }
    assert client.post(url, data).status_code == 302
    robot.refresh_from_db()
    assert (robot.name, robot.secret) == ("改名的群", DINGTALK_SECRET)
    response = client.post(
        url, {**data, "webhook_url": "http://oapi.dingtalk.com/robot/send?access_token=abc"}
    )
    assert response.status_code == 200
    assert "钉钉群机器人的地址应以 https://oapi.dingtalk.com/robot/send?access_token= 开头" in response.text


def test_a_liaison_sets_mobile_and_channels_in_my_settings(vendor, client, alice):
    client.force_login(alice)
    url = reverse("workspace:profile")
    assert "短信与工作群" in client.get(url).text
    response = client.post(url, {"form": "channels", "mobile": "12345", "notify_sms": "on"})
    assert response.status_code == 400
    assert "“12345”不是有效的中国大陆手机号码" in response.text
    response = client.post(url, {"form": "channels", "mobile": "", "notify_sms": "on"})
    assert "开启短信提醒需要填写手机号码。" in response.text
    assert Liaison.objects.get(user=alice).notify_sms is False

    response = client.post(
        url, {"form": "channels", "mobile": "+86 138-1234-5678", "notify_sms": "on"}, follow=True
    )
    assert "短信与工作群设置已保存。" in response.text
    liaison = Liaison.objects.get(user=alice)
    assert (liaison.mobile, liaison.notify_sms, liaison.notify_robot) == ("13812345678", True, False)


def test_sms_cannot_be_chosen_without_a_provider(settings, client, alice):
    settings.SMS_PROVIDER = ""
    client.force_login(alice)
    url = reverse("workspace:profile")
    assert "本系统尚未开通短信服务。" in client.get(url).text
    client.post(url, {"form": "channels", "mobile": "13812345678", "notify_sms": "on", "notify_robot": "on"})
    liaison = Liaison.objects.get(user=alice)
    assert (liaison.mobile, liaison.notify_sms, liaison.notify_robot) == ("13812345678", False, True)
