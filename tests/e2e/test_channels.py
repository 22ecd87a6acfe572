"""In Chromium, as users do it: the lead bureau adds an agency's 钉钉 robot in the admin (a wrong address is
refused in Chinese), sends a test message that a local vendor server checks (加签 included); a liaison sets
a mobile number and SMS in 我的设置 (a wrong number is refused); the page passes axe in its error state."""

import pytest

from agencies.models import AgencyRobot, Liaison
from tests.conftest import PASSWORD
from tests.reminders.vendors import DINGTALK_SECRET, DINGTALK_TOKEN, VendorServer

from .conftest import log_in, screenshot
from .test_accessibility import AXE_RUN, AXE_TAGS

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def vendor(settings):
    server = VendorServer().start()
    for key, value in server.settings().items():
        setattr(settings, key, value)
    yield server
    server.stop()


def test_the_lead_bureau_adds_a_dingtalk_robot_and_tests_it(browser, live_server, vendor, lead, finance):
    context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai")
    page = context.new_page()
    page.set_default_timeout(15_000)
    log_in(page, live_server, "lead", PASSWORD, admin=True)
    page.goto(f"{live_server.url}/admin/agencies/agencyrobot/add/")
    page.click("#id_agency + .select2 .select2-selection")  # the admin's autocomplete
    page.fill(".select2-search__field", "金融")
    page.click(".select2-results__option:has-text('区金融局')")
    page.select_option("select[name=kind]", "dingtalk")
    page.fill("input[name=name]", "区金融局工作群")
    page.fill("input[name=webhook_url]", f"http://oapi.dingtalk.com/robot/send?access_token={DINGTALK_TOKEN}")
    page.fill("input[name=secret]", DINGTALK_SECRET)
    page.click("input[name=_save]")
    page.wait_for_selector(".errornote")  # the form comes back with its errors
    assert "钉钉群机器人的地址应以 https://oapi.dingtalk.com/robot/send?access_token= 开头" in page.content()

    page.fill(
        "input[name=webhook_url]", f"https://oapi.dingtalk.com/robot/send?access_token={DINGTALK_TOKEN}"
    )
    page.fill("input[name=secret]", DINGTALK_SECRET)  # a password field is not sent back after an error
    page.click("input[name=_save]")
    page.wait_for_selector(".messagelist")
    robot = AgencyRobot.objects.get()
    assert (robot.kind, robot.secret) == ("dingtalk", DINGTALK_SECRET)
    assert DINGTALK_TOKEN not in page.content() and "6ba1****3f2a" in page.content()

    page.check(f"input[name=_selected_action][value='{robot.pk}']")
    page.select_option("select[name=action]", "send_test")
    page.click("button[name=index]")
    page.wait_for_selector(".messagelist")
    text = page.inner_text(".messagelist")
    assert "“区金融局工作群(钉钉群机器人)”测试消息已送达:钉钉群机器人答复 errcode=0:ok" in text
    [received] = vendor.delivered("dingtalk")
    assert received.body["markdown"]["title"] == "督办系统测试消息"
    screenshot(page, "admin-robot-test-message")
    context.close()


def test_a_liaison_turns_on_sms_in_my_settings(browser, live_server, axe_script, vendor, alice):
    context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", bypass_csp=True)
    page = context.new_page()
    page.set_default_timeout(15_000)
    log_in(page, live_server, "alice", PASSWORD)
    page.wait_for_selector("main h1")
    page.goto(f"{live_server.url}/profile/")
    page.fill("#id_mobile", "1381234567")
    page.check("#id_notify_sms")
    page.uncheck("#id_notify_robot")
    page.click("#channels button[type=submit]")
    assert "“1381234567”不是有效的中国大陆手机号码" in page.inner_text("#channels")
    page.add_script_tag(path=str(axe_script))
    assert page.evaluate(AXE_RUN, AXE_TAGS) == []
    assert Liaison.objects.get(user=alice).notify_sms is False

    page.fill("#id_mobile", "138 1234 5678")
    page.click("#channels button[type=submit]")
    page.wait_for_selector("text=短信与工作群设置已保存。")
    assert page.input_value("#id_mobile") == "13812345678"
    assert page.is_checked("#id_notify_sms") and not page.is_checked("#id_notify_robot")
    liaison = Liaison.objects.get(user=alice)
    assert (liaison.mobile, liaison.notify_sms, liaison.notify_robot) == ("13812345678", True, False)
    screenshot(page, "profile-channels")
    context.close()
