"""我的设置 (digest preference, calendar subscription) and the buttons that join the workspace to the
exports and the reminders."""

import datetime

import pytest
import time_machine
from django.urls import reverse

from agencies.models import Agency, Liaison
from reminders.models import ReminderLog
from tasks.models import Measure, Task


def test_liaison_changes_digest_frequency(client, alice):
    client.force_login(alice)
    page = client.get(reverse("workspace:profile"))
    liaison = Liaison.objects.get(user=alice)
    assert page.status_code == 200 and "区金融局" in page.text and "日历订阅" in page.text
    response = client.post(reverse("workspace:profile"), {f"digest_{liaison.pk}": "weekly"}, follow=True)
    assert "提醒设置已保存" in response.text
    liaison.refresh_from_db()
    assert liaison.digest_frequency == Liaison.DigestFrequency.WEEKLY


def test_a_liaison_cannot_set_another_liaisons_preference(client, alice, bob):
    other = Liaison.objects.get(user=bob)
    client.force_login(alice)
    client.post(reverse("workspace:profile"), {f"digest_{other.pk}": "off"})
    other.refresh_from_db()
    assert other.digest_frequency == Liaison.DigestFrequency.DAILY


def test_profile_requires_login(client):
    response = client.get(reverse("workspace:profile"))
    assert response.status_code == 302 and reverse("login") in response.url


def test_task_list_links_to_the_export_of_what_is_shown(client, alice, finance_task):
    client.force_login(alice)
    page = client.get(reverse("workspace:task_list"), {"status": "not_started"})
    assert f"{reverse('reports:progress_report')}?status=not_started" in page.text


def test_task_page_offers_calendar_and_lead_bureau_urge(client, alice, lead, finance_task):
    url = reverse("workspace:task_detail", args=[finance_task.pk])
    client.force_login(alice)
    page = client.get(url)
    assert reverse("reports:task_ics", args=[finance_task.pk]) in page.text
    assert reverse("reminders:urge") not in page.text
    client.force_login(lead)
    assert reverse("reminders:urge") in client.get(url).text


@time_machine.travel(datetime.datetime(2022, 1, 10, 2, 0, tzinfo=datetime.UTC), tick=False)
def test_urge_all_overdue_from_the_dashboard_sends_once(
    client, lead, alice, finance_task, science_task, mailoutbox, django_capture_on_commit_callbacks
):
    client.force_login(lead)
    dashboard = client.get(reverse("workspace:dashboard"))
    assert "催办全部逾期任务(2 项)" in dashboard.text
    # The first POST asks for confirmation and sends nothing.
    confirm = client.post(reverse("reminders:urge"), {"scope": "overdue", "next": "/dashboard/"})
    assert confirm.status_code == 200 and "确认催办全部逾期任务(2 项)" in confirm.text
    assert mailoutbox == [] and not ReminderLog.objects.exists()
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                reverse("reminders:urge"),
                {"scope": "overdue", "next": "/dashboard/", "confirm": "yes"},
                follow=True,
            )
        assert response.redirect_chain[-1][0] == "/dashboard/"
    assert [m.to for m in mailoutbox] == [["alice@example.gov.cn"]]
    assert "建立健全重大投融资活动" in mailoutbox[0].body
    assert ReminderLog.objects.filter(recipient="alice@example.gov.cn").count() == 1


def test_only_the_lead_bureau_may_urge(client, leader, alice, finance_task):
    for user in (leader, alice):
        client.force_login(user)
        assert client.post(reverse("reminders:urge"), {"task": finance_task.pk}).status_code == 403


def test_urge_ignores_unsafe_next(client, lead, finance_task):
    client.force_login(lead)
    response = client.post(
        reverse("reminders:urge"), {"task": finance_task.pk, "next": "https://evil.example/"}
    )
    assert response.status_code == 302 and response.url == reverse("workspace:dashboard")


@pytest.fixture
def many_agencies(plan):
    measure = Measure.objects.create(plan=plan, number="9", text="普查。")
    agencies = Agency.objects.bulk_create(
        [Agency(name=f"第{i}街道", jurisdiction="东丽区") for i in range(60)]
    )
    Task.objects.bulk_create([Task(measure=measure, agency=a) for a in agencies])


def test_dashboard_shows_the_worst_fifty_agencies_unless_asked(client, lead, many_agencies):
    client.force_login(lead)
    page = client.get(reverse("workspace:dashboard"))
    assert len(page.context["agencies_shown"]) == 50 and page.context["agencies_hidden"] == 10
    assert "显示全部单位" in page.text
    everything = client.get(reverse("workspace:dashboard"), {"agencies": "all"})
    assert len(everything.context["agencies_shown"]) == 60


@time_machine.travel(datetime.datetime(2026, 11, 22, 2, 0, tzinfo=datetime.UTC), tick=False)
def test_dashboard_warns_when_next_years_holidays_are_missing(client, lead):
    client.force_login(lead)
    assert "还没有 2027 年的法定节假日" in client.get(reverse("workspace:dashboard")).text
