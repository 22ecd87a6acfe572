"""The lead bureau's preview: who will be reminded on the next working day and why, nothing sent."""

import pytest
from django.core import mail
from django.urls import reverse

from reminders.models import ReminderLog

URL = reverse("reminders:preview")


def test_it_shows_who_will_be_reminded_and_why(client, lead, scenario, on_day):
    client.force_login(lead)
    with on_day("2024-09-27", hour=18):  # Friday evening: the next working day is Sunday 09-29 (调休)
        page = client.get(URL)
    assert page.status_code == 200
    assert page.context["day"].isoformat() == "2024-09-29"
    text = page.text
    assert "alice@example.gov.cn" in text and "bob@example.gov.cn" in text and "lead@example.gov.cn" in text
    assert "已逾期" in text and "将发送" in text and "该单位没有设置联络员邮箱" in text
    assert f"/tasks/{scenario['finance_lead_overdue'].pk}/" in text
    assert mail.outbox == [] and not ReminderLog.objects.exists()


def test_a_holiday_points_to_the_next_working_day(client, lead, scenario):
    client.force_login(lead)
    page = client.get(URL, {"date": "2024-10-01"})
    assert "2024-10-01 不是工作日" in page.text and "2024-10-08" in page.text


def test_a_bad_date_is_explained(client, lead, scenario, on_day):
    client.force_login(lead)
    with on_day("2024-09-30"):
        page = client.get(URL, {"date": "2024-9-31x"})
    assert page.status_code == 200 and "日期格式应为 YYYY-MM-DD" in page.text


def test_it_warns_when_the_coming_years_holidays_are_missing(client, lead, on_day):
    client.force_login(lead)
    with on_day("2026-11-23"):
        page = client.get(URL)
    assert "2027年放假安排尚未录入" in page.text


@pytest.mark.django_db(transaction=True)
def test_the_lead_bureau_sends_todays_reminders_once(client, lead, scenario, on_day):
    client.force_login(lead)
    with on_day("2024-09-30"):
        assert "立即发送" in client.get(URL, {"date": "2024-09-30"}).text
        page = client.post(URL, follow=True)
        again = client.post(URL, follow=True)
    # Without Redis the page sends in-process and says what went out, to whom: 4 reminders and the
    # 投递问题日报 to the lead bureau (区市场监管局 has nobody to tell).
    assert (
        "已发出 5 封:alice@example.gov.cn、alice@example.gov.cn、bob@example.gov.cn、lead@example.gov.cn、"
        "lead@example.gov.cn" in (page.text)
    )
    assert "均已发送或正在发送,没有新的需要发送" in again.text
    assert len(mail.outbox) == 5
    assert "已发送" in page.text


def test_leaders_see_the_preview_but_cannot_send(client, leader, scenario, on_day):
    client.force_login(leader)
    with on_day("2024-09-30"):
        assert client.get(URL).status_code == 200
        assert client.post(URL).status_code == 403
    assert mail.outbox == []


def test_liaisons_and_outsiders_are_refused(client, alice, charlie):
    client.force_login(alice)
    assert client.get(URL).status_code == 403
    client.force_login(charlie)
    assert client.get(URL).status_code == 403
    client.logout()
    assert client.get(URL).status_code == 302
