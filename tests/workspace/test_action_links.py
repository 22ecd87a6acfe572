"""One-click 签收 links (workspace/links.py): what is stored, what a GET may not do, what the button does once,
and when a link stops working."""

import datetime
import hashlib

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from agencies.models import Liaison
from tasks.models import Measure, Task
from workspace import links, services
from workspace.models import ActionLink

Channel = ActionLink.Channel


@pytest.fixture(autouse=True)
def clean_cache():
    cache.clear()  # the failure counter of the link pages lives there
    yield
    cache.clear()


@pytest.fixture
def link(alice, finance_task):
    row, token = links.create_link(alice, finance_task, Channel.EMAIL)
    return row, token


def path(token: str) -> str:
    return reverse("workspace:action_link", args=[token])


def state(task: Task) -> tuple:
    """Everything a GET must leave alone: the task row, its history, the links."""
    task = Task.objects.get(pk=task.pk)
    return (
        (task.acknowledged_at, task.acknowledged_by_id, task.acknowledged_via, task.updated_at),
        task.history.count(),
        list(ActionLink.objects.order_by("pk").values_list()),
    )


# What is stored -----------------------------------------------------------------------------------------


def test_only_a_hash_of_the_token_is_stored(link):
    row, token = link
    assert len(token) == 43  # 256 bits in base64url
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    stored = ActionLink.objects.filter(pk=row.pk).values_list().get()
    assert not any(token in str(value) for value in stored)
    assert len(row.salt) >= 22  # 128 bits of randomness behind each token
    assert row.expires_at - row.created_at == datetime.timedelta(days=14)
    assert links.url_for(token).endswith(f"/a/{token}/")


def test_two_links_never_share_a_token(alice, finance_task):
    tokens = {links.create_link(alice, finance_task, Channel.EMAIL)[1] for _ in range(20)}
    assert len(tokens) == 20


# Opening it: shows, changes nothing ------------------------------------------------------------------------


def test_opening_the_link_shows_the_task_and_changes_nothing(client, link, finance_task):
    row, token = link
    before = state(finance_task)
    response = client.get(path(token))
    assert response.status_code == 200
    page = response.content.decode()
    assert finance_task.measure.plan.title in page and "区金融局" in page and "牵头" in page
    assert "2021-12-31" in page and "签收</button>" in page and "查看详情" in page
    late = finance_task.overdue_days()
    assert (f"已逾期 {late} 天" in page) == (late > 0)
    assert response["Referrer-Policy"] == "strict-origin"
    assert "no-store" in response["Cache-Control"]
    assert response["X-Robots-Tag"] == "noindex, nofollow"
    assert state(finance_task) == before
    row.refresh_from_db()
    assert row.used_at is None


def test_a_mail_scanner_opening_it_again_and_again_changes_nothing(link, finance_task):
    _row, token = link
    before = state(finance_task)
    scanner = Client(HTTP_USER_AGENT="Mozilla/5.0 (compatible; SafeLinks scanner)")
    for _ in range(3):
        assert scanner.head(path(token)).status_code == 200
        assert scanner.get(path(token)).status_code == 200
    assert state(finance_task) == before
    assert Task.objects.get(pk=finance_task.pk).acknowledged_at is None


# The button -----------------------------------------------------------------------------------------------


def test_the_button_acknowledges_as_the_liaison_through_the_channel(link, alice, finance_task):
    row, token = link
    client = Client(enforce_csrf_checks=True)
    page = client.get(path(token))
    csrf = page.context["csrf_token"]
    response = client.post(path(token), {"csrfmiddlewaretoken": str(csrf)})
    assert response.status_code == 200
    assert "签收成功" in response.content.decode()
    task = Task.objects.get(pk=finance_task.pk)
    assert task.acknowledged_by == alice and task.acknowledged_via == Task.AckVia.EMAIL
    assert task.acknowledged_at is not None
    last = task.history.order_by("-history_id").first()
    assert last.history_change_reason == "签收(通过邮件链接)" and last.history_user == alice
    row.refresh_from_db()
    assert row.used_at is not None
    # Nobody was logged in: every other page still asks for a password.
    assert "_auth_user_id" not in client.session
    assert client.get(reverse("workspace:task_detail", args=[task.pk])).url.startswith(reverse("login"))
    assert client.post(
        reverse("workspace:acknowledge", args=[task.pk]), {"csrfmiddlewaretoken": str(csrf)}
    ).url.startswith(reverse("login"))


def test_the_button_needs_the_csrf_token_of_the_page(link, finance_task):
    _row, token = link
    client = Client(enforce_csrf_checks=True)
    assert client.post(path(token)).status_code == 403
    assert Task.objects.get(pk=finance_task.pk).acknowledged_at is None


def test_replay_is_harmless_and_says_it_is_acknowledged(client, link, finance_task):
    row, token = link
    client.post(path(token))
    first = state(finance_task)
    row.refresh_from_db()
    used_at = row.used_at
    for _ in range(2):
        response = client.post(path(token))
        assert response.status_code == 200
        assert "已签收" in response.content.decode() and "签收成功" in response.content.decode()
    assert state(finance_task) == first
    row.refresh_from_db()
    assert row.used_at == used_at
    page = client.get(path(token)).content.decode()
    assert "任务已签收" in page and "通过邮件链接签收" in page and "签收</button>" not in page


def test_a_task_acknowledged_in_the_system_is_not_acknowledged_again(client, link, alice, finance_task):
    _row, token = link
    services.acknowledge(task=finance_task, user=alice)
    before = state(finance_task)
    response = client.post(path(token))
    assert "已签收" in response.content.decode()
    assert state(finance_task)[:2] == before[:2]
    assert Task.objects.get(pk=finance_task.pk).acknowledged_via == Task.AckVia.WEB


def test_the_task_page_says_how_it_was_acknowledged(client, link, alice, finance_task):
    _row, token = link
    client.post(path(token))
    client.force_login(alice)
    page = client.get(reverse("workspace:task_detail", args=[finance_task.pk])).content.decode()
    when = timezone.localtime(Task.objects.get(pk=finance_task.pk).acknowledged_at).strftime("%Y-%m-%d %H:%M")
    assert when in page and "通过邮件链接签收" in page


# When it stops working ------------------------------------------------------------------------------------


def test_unknown_and_malformed_tokens_are_404_with_a_way_to_log_in(client, link):
    _row, token = link
    for bad in ("x" * 43, token[:-1] + ("A" if token[-1] != "A" else "B"), "short", token + "x"):
        response = client.get(path(bad))
        assert response.status_code == 404
        page = response.content.decode()
        assert "链接无效" in page and reverse("login") in page
        assert response["Referrer-Policy"] == "strict-origin"


def test_an_expired_link_is_gone_and_writes_nothing(client, link, finance_task):
    row, token = link
    ActionLink.objects.filter(pk=row.pk).update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    before = state(finance_task)
    for response in (client.get(path(token)), client.post(path(token))):
        assert response.status_code == 410
        assert "链接已过期" in response.content.decode()
    assert state(finance_task) == before


def test_a_revoked_link_is_gone_and_writes_nothing(client, link, finance_task):
    row, token = link
    assert links.revoke(links=[row.pk], reason=ActionLink.Revoked.BY_HAND) == 1
    before = state(finance_task)
    response = client.post(path(token))
    assert response.status_code == 410
    assert "链接已撤销(督办人员撤销)" in response.content.decode()
    assert state(finance_task) == before


def test_leaving_the_agency_revokes(client, link, alice, finance):
    row, token = link
    Liaison.objects.get(user=alice, agency=finance).delete()
    row.refresh_from_db()
    assert row.revoked_reason == ActionLink.Revoked.LEFT_AGENCY
    assert client.get(path(token)).status_code == 410


def test_a_liaison_row_moved_to_another_agency_revokes(link, alice, finance, science):
    row, _token = link
    liaison = Liaison.objects.get(user=alice, agency=finance)
    liaison.agency = science
    liaison.save()
    row.refresh_from_db()
    assert row.revoked_reason == ActionLink.Revoked.LEFT_AGENCY


def test_a_change_the_signals_never_saw_still_stops_the_link(client, link, alice, finance, science):
    """A bulk update bypasses signals: the link is checked live on every use."""
    row, token = link
    Liaison.objects.filter(user=alice).update(agency=science)
    response = client.post(path(token))
    assert response.status_code == 410 and "已不是该单位联络员" in response.content.decode()
    row.refresh_from_db()
    assert row.revoked_at is None and row.used_at is None


def test_deactivating_the_user_revokes(client, link, alice, finance_task):
    row, token = link
    alice.is_active = False
    alice.save()
    row.refresh_from_db()
    assert row.revoked_reason == ActionLink.Revoked.USER_INACTIVE
    assert client.post(path(token)).status_code == 410
    assert Task.objects.get(pk=finance_task.pk).acknowledged_at is None


def test_reassigning_the_task_revokes(client, link, lead, finance_task, market):
    row, token = link
    services.reassign(task=finance_task, user=lead, agency=market, reason="职责调整")
    row.refresh_from_db()
    assert row.revoked_reason == ActionLink.Revoked.REASSIGNED
    assert client.get(path(token)).status_code == 410


def test_finishing_the_task_revokes(link, alice, lead, finance_task):
    row, _token = link
    services.submit_progress(
        task=finance_task, user=alice, text="已完成", percent=100, status="completion_requested"
    )
    services.approve_completion(task=finance_task, user=lead)
    row.refresh_from_db()
    assert row.revoked_reason == ActionLink.Revoked.DONE


def test_a_link_of_another_user_never_acknowledges_for_the_agency_it_is_not_in(client, bob, finance_task):
    """Even a link made by hand for someone outside the agency does nothing."""
    _row, token = links.create_link(bob, finance_task, Channel.EMAIL)
    assert client.post(path(token)).status_code == 410
    assert Task.objects.get(pk=finance_task.pk).acknowledged_at is None


def test_guessing_tokens_is_throttled(settings, client, link):
    settings.ACTION_LINK_FAILURE_LIMIT = 5
    _row, token = link
    for number in range(5):
        assert client.get(path(f"{number:043d}")).status_code == 404
    response = client.get(path(token))
    assert response.status_code == 429
    assert "请求过于频繁" in response.content.decode()
    other = Client(REMOTE_ADDR="192.0.2.7")
    assert other.get(path(token)).status_code == 200


# Issuing links in bulk ------------------------------------------------------------------------------------


def test_issue_links_reuses_a_valid_link_and_skips_what_cannot_be_acknowledged(
    alice, bob, finance_task, science_task, plan, finance
):
    acknowledged = Task.objects.create(
        measure=Measure.objects.create(plan=plan, number="9", text="已签收的任务。", position=9),
        agency=finance,
        due_date=datetime.date(2021, 12, 31),
    )
    services.acknowledge(task=acknowledged, user=alice)
    wanted = {finance_task.pk: [alice.pk, bob.pk], science_task.pk: [bob.pk], acknowledged.pk: [alice.pk]}
    first = links.issue_links(wanted, Channel.EMAIL)
    # bob is no liaison of 区金融局; the acknowledged task needs no link
    assert set(first) == {(alice.pk, finance_task.pk), (bob.pk, science_task.pk)}
    assert ActionLink.objects.count() == 2
    again = links.issue_links(wanted, Channel.EMAIL)
    assert again == first and ActionLink.objects.count() == 2
    # another channel is another link
    wecom = links.issue_links(wanted, Channel.WECOM)
    assert wecom[(alice.pk, finance_task.pk)] != first[(alice.pk, finance_task.pk)]
    assert ActionLink.objects.count() == 4


def test_a_link_past_half_its_life_is_not_reused(alice, finance_task):
    first = links.issue_links({finance_task.pk: [alice.pk]}, Channel.EMAIL)
    later = timezone.now() + datetime.timedelta(days=8)
    second = links.issue_links({finance_task.pk: [alice.pk]}, Channel.EMAIL, now=later)
    assert second != first and ActionLink.objects.count() == 2


def test_a_link_whose_secret_changed_is_not_reused(settings, alice, finance_task):
    first = links.issue_links({finance_task.pk: [alice.pk]}, Channel.EMAIL)
    settings.SECRET_KEY = "another-secret-key-for-this-test-only-0123456789"
    second = links.issue_links({finance_task.pk: [alice.pk]}, Channel.EMAIL)
    assert second != first
    # the old token still opens its link: it is looked up by its hash, not recomputed
    token = first[(alice.pk, finance_task.pk)].rstrip("/").rsplit("/", 1)[1]
    assert links.open_link(token).problem == ""


def test_issue_links_takes_a_fixed_number_of_queries(alice, plan, finance):
    def make(count: int, start: int) -> dict:
        tasks = [
            Task.objects.create(
                measure=Measure.objects.create(plan=plan, number=str(n), text=f"措施{n}。", position=n),
                agency=finance,
            )
            for n in range(start, start + count)
        ]
        return {task.pk: [alice.pk] for task in tasks}

    few, lots = make(1, 100), make(60, 200)
    with CaptureQueriesContext(connection) as one:
        links.issue_links(few, Channel.EMAIL)
    with CaptureQueriesContext(connection) as many:
        assert len(links.issue_links(lots, Channel.EMAIL)) == 60
    assert len(many) == len(one) <= 4


def test_hundreds_of_links_go_in_a_few_multi_row_inserts_and_each_works(alice, plan, finance):
    measures = Measure.objects.bulk_create(
        [Measure(plan=plan, number=str(n), text=f"措施{n}。", position=n) for n in range(1000, 1300)]
    )
    tasks = Task.objects.bulk_create([Task(measure=measure, agency=finance) for measure in measures])
    with CaptureQueriesContext(connection) as queries:
        urls = links.issue_links({task.pk: [alice.pk] for task in tasks}, Channel.EMAIL)
    assert len(urls) == 300 and ActionLink.objects.filter(user=alice).count() == 300
    fields = [ActionLink._meta.get_field(column.removesuffix("_id")) for column in links.INSERT_COLUMNS]
    per_statement = min(1000, connection.ops.bulk_batch_size(fields, tasks))  # 1,000; 124 on SQLite
    inserts = [query for query in queries if query["sql"].startswith("INSERT")]
    assert len(inserts) == -(-300 // per_statement)
    for task in tasks[::299]:  # the first and the last
        link = links.find(urls[(alice.pk, task.pk)].rsplit("/", 2)[-2])
        assert link is not None and link.task_id == task.pk and link.expires_at > timezone.now()


def test_the_admin_lists_links_and_the_lead_bureau_revokes_them(client, link, lead):
    row, token = link
    client.force_login(lead)
    changelist = reverse("admin:workspace_actionlink_changelist")
    page = client.get(changelist)
    assert page.status_code == 200 and "有效" in page.content.decode()
    assert token not in page.content.decode() and row.token_hash not in page.content.decode()
    response = client.post(
        changelist, {"action": "revoke_selected", "_selected_action": [row.pk]}, follow=True
    )
    assert "已撤销 1 个链接" in response.content.decode()
    row.refresh_from_db()
    assert row.revoked_reason == ActionLink.Revoked.BY_HAND


def test_the_leader_may_look_but_not_revoke(client, link, leader):
    row, _token = link
    client.force_login(leader)
    changelist = reverse("admin:workspace_actionlink_changelist")
    assert client.get(changelist).status_code == 200
    client.post(changelist, {"action": "revoke_selected", "_selected_action": [row.pk]})
    row.refresh_from_db()
    assert row.revoked_at is None


def test_a_deleted_user_takes_their_links(link, alice):
    get_user_model().objects.filter(pk=alice.pk).delete()
    assert not ActionLink.objects.exists()


def test_links_are_for_message_channels_only(alice, finance_task):
    with pytest.raises(ValueError):
        links.issue_links({finance_task.pk: [alice.pk]}, "inbox")  # the in-app inbox needs no link
    assert links.issue_links({}, Channel.SMS) == {}
