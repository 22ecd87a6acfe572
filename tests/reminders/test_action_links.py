"""One-click 签收 links in reminder emails: one per task line not yet 签收ed, in digests and 催办, issued at
claim time in bulk and reused by the next day's digest; none in escalations, previews or dry runs."""

import datetime
import re

import pytest
from django.core import mail
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from agencies.models import Liaison
from reminders import services
from reminders.models import ReminderLog
from tasks.models import Task
from workspace import services as workspace_services
from workspace.links import hash_token
from workspace.models import ActionLink

DAY = datetime.date(2024, 9, 30)
NEXT_DAY = datetime.date(2024, 10, 8)  # the next working day after the National Day holidays
LINK = re.compile(r"http://[^\s\"<>]+/a/([A-Za-z0-9_-]{43})/")


@pytest.fixture
def send(sweep):
    """Run the day's sweep; the messages it sent, by (address, subject)."""

    def run(day=DAY):
        mail.outbox.clear()
        sweep(day)
        return {(message.to[0], message.subject): message for message in mail.outbox}

    return run


def mail_to(messages, address, word):
    found = [m for (to, subject), m in messages.items() if to == address and word in subject]
    assert len(found) == 1, (address, word, list(messages))
    return found[0]


def html(message) -> str:
    return message.alternatives[0][0]


def test_the_digest_carries_a_link_per_task_not_yet_acknowledged(scenario, alice, on_day, send):
    workspace_services.acknowledge(task=scenario["finance_due_next_day"], user=alice)
    with on_day("2024-09-30"):
        messages = send()
    digest = mail_to(messages, "alice@example.gov.cn", "提醒")
    tokens = LINK.findall(digest.body)
    assert len(tokens) == 2  # 3 lines, one already 签收ed
    assert "一键签收(无需登录):" in digest.body and "链接 14 天内有效" in digest.body
    assert set(LINK.findall(html(digest))) == set(tokens)
    rows = ActionLink.objects.filter(user=alice, channel=ActionLink.Channel.EMAIL)
    assert set(rows.values_list("task_id", flat=True)) == {
        scenario["finance_lead_overdue"].pk,
        scenario["finance_due_in_holiday"].pk,
    }
    # each link sits under its own task's line
    for number, line in enumerate(digest.body.split("\n")):
        for token in LINK.findall(line):
            task = ActionLink.objects.get(token_hash=hash_token(token)).task
            assert f"第{task.measure.number}项" in digest.body.split("\n")[number - 3]
    # escalations (lead bureau, lead agency) carry none
    escalation = mail_to(messages, "lead@example.gov.cn", "逾期")
    assert not LINK.findall(escalation.body) and not LINK.findall(html(escalation))


def test_the_next_digest_reuses_the_links_and_a_sweep_again_adds_none(settings, scenario, on_day, send):
    settings.ACTION_LINK_DAYS = (
        30  # reused while 15 days are left; the holidays make the next digest 8 days on
    )
    with on_day("2024-09-30"):
        first = send()
        count = ActionLink.objects.count()
        again = send()  # the same day again: nothing new is sent, nothing new is issued
    assert not again and ActionLink.objects.count() == count
    with on_day("2024-10-08"):
        second = send(NEXT_DAY)
    old = set(LINK.findall(mail_to(first, "bob@example.gov.cn", "提醒").body))
    new = set(LINK.findall(mail_to(second, "bob@example.gov.cn", "提醒").body))
    assert old and old <= new
    assert ActionLink.objects.count() == count + len(new - old)


def test_a_link_from_the_digest_acknowledges_with_channel_email(scenario, bob, on_day, send):
    with on_day("2024-09-30"):
        digest = mail_to(send(), "bob@example.gov.cn", "提醒")
        token = LINK.findall(digest.body)[0]
        link = ActionLink.objects.get(token_hash=hash_token(token))
        assert link.user == bob
        client = Client()
        assert client.get(reverse("workspace:action_link", args=[token])).status_code == 200
        assert client.post(reverse("workspace:action_link", args=[token])).status_code == 200
    task = Task.objects.get(pk=link.task_id)
    assert task.acknowledged_by == bob and task.acknowledged_via == Task.AckVia.EMAIL


def test_urge_carries_links(scenario, lead, on_day, django_capture_on_commit_callbacks):
    with on_day("2024-09-30"), django_capture_on_commit_callbacks(execute=True):
        mail.outbox.clear()
        services.send_urge(
            [scenario["science_overdue"], scenario["finance_due_next_day"]],
            lead,
            dispatch=services.deliver_now,
        )
    to_bob = [m for m in mail.outbox if m.to == ["bob@example.gov.cn"]]
    assert len(to_bob) == 1 and len(LINK.findall(to_bob[0].body)) == 1
    assert ActionLink.objects.get(user__username="bob").task_id == scenario["science_overdue"].pk


def test_two_liaisons_sharing_an_address_each_sign_their_own_agency(
    scenario, alice, bob, science, on_day, send
):
    Liaison.objects.filter(user=bob, agency=science).update(email="alice@example.gov.cn")
    with on_day("2024-09-30"):
        send()
    users = dict(ActionLink.objects.values_list("task_id", "user_id"))
    assert users[scenario["science_overdue"].pk] == bob.pk
    assert users[scenario["finance_lead_overdue"].pk] == alice.pk


def test_preview_and_dry_run_issue_no_link(scenario, on_day):
    with on_day("2024-09-30"):
        services.run_sweep(DAY, dry_run=True)
        emails = services.compute_reminders(DAY)
        for email in emails:
            if not email.skip_reason:
                services.render(email)
    assert not ActionLink.objects.exists()


def test_the_admin_masks_the_links_of_sent_mail(scenario, lead, client, on_day, send):
    with on_day("2024-09-30"):
        send()
    log = ReminderLog.objects.get(recipient="bob@example.gov.cn", kind=ReminderLog.Kind.DIGEST)
    token = LINK.findall(log.body_text)[0]
    client.force_login(lead)
    page = client.get(reverse("admin:reminders_reminderlog_change", args=[log.pk])).content.decode()
    assert token not in page and "(已隐去)" in page


def test_claiming_links_stays_a_fixed_number_of_queries(plan, make_task, finance, alice, on_day):
    """Ten or forty lines: the same queries (no query per line)."""

    def claim(count, start):
        tasks = [make_task(finance, str(n), due="2024-09-20") for n in range(start, start + count)]
        emails = services.compute_urge(tasks, None, DAY)
        with CaptureQueriesContext(connection) as queries:
            services.claim(emails)
        links = ActionLink.objects.filter(task__in=tasks).count()
        return len(queries), links

    with on_day("2024-09-30"):
        few, few_links = claim(10, 100)
        many, many_links = claim(40, 200)
    assert (few_links, many_links) == (10, 40)
    assert few == many
