"""Subscription feeds and single-task downloads over HTTP: who gets what, and what a dead token gets."""

import pytest
from django.urls import reverse
from icalendar import Calendar

from agencies.models import Liaison
from reports.models import CalendarFeed
from reports.services import liaison_feed


def feed_url(feed: CalendarFeed) -> str:
    return reverse("reports:calendar_feed", args=[feed.token])


def uids(response) -> set[str]:
    return {str(event["UID"]) for event in Calendar.from_ical(response.content).walk("VEVENT")}


@pytest.fixture
def alice_feed(alice):
    return liaison_feed(liaison=alice.liaisons.get())


def test_a_liaison_feed_shows_only_their_agencys_tasks(
    client, alice_feed, finance_task, science_task, ongoing_task
):
    response = client.get(feed_url(alice_feed))  # no login: calendar apps cannot log in
    assert response.status_code == 200
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    assert uids(response) == {
        f"ipplan-task-{finance_task.pk}@127.0.0.1",
        f"ipplan-task-{ongoing_task.pk}@127.0.0.1",
    }
    assert "区科技局" not in response.content.decode()
    assert str(Calendar.from_ical(response.content)["X-WR-CALNAME"]) == "区金融局(东丽区) · 任务截止日"
    alice_feed.refresh_from_db()
    assert alice_feed.last_fetched_at is not None


def test_a_regenerated_token_answers_404_and_the_new_one_works(client, alice, alice_feed, finance_task):
    old = feed_url(alice_feed)
    client.force_login(alice)
    response = client.post(
        reverse("reports:liaison_calendar", args=[alice_feed.liaison_id]),
        {"action": "regenerate", "next": "/x/"},
    )
    assert response.status_code == 302 and response["Location"] == "/x/"
    client.logout()
    assert client.get(old).status_code == 404
    alice_feed.refresh_from_db()
    assert client.get(feed_url(alice_feed)).status_code == 200


def test_a_revoked_feed_answers_404(client, alice, alice_feed, finance_task):
    url = feed_url(alice_feed)
    client.force_login(alice)
    client.post(reverse("reports:liaison_calendar", args=[alice_feed.liaison_id]), {"action": "revoke"})
    assert not CalendarFeed.objects.exists()
    assert client.get(url).status_code == 404


def test_the_feed_dies_with_the_liaison_or_the_account(client, alice, alice_feed, finance_task):
    url = feed_url(alice_feed)
    alice.is_active = False
    alice.save()
    assert client.get(url).status_code == 404
    alice.is_active = True
    alice.save()
    assert client.get(url).status_code == 200
    Liaison.objects.filter(user=alice).delete()
    assert client.get(url).status_code == 404


def test_creating_twice_keeps_one_feed(client, alice, finance_task):
    client.force_login(alice)
    url = reverse("reports:liaison_calendar", args=[alice.liaisons.get().pk])
    client.post(url, {"action": "create"})
    client.post(url, {"action": "create"})
    assert CalendarFeed.objects.filter(user=alice).count() == 1


def test_nobody_manages_another_liaisons_feed(client, alice, bob, alice_feed):
    client.force_login(bob)
    response = client.post(
        reverse("reports:liaison_calendar", args=[alice_feed.liaison_id]), {"action": "regenerate"}
    )
    assert response.status_code == 404
    token = alice_feed.token
    alice_feed.refresh_from_db()
    assert alice_feed.token == token


def test_the_profile_include_shows_the_subscription_address(rf, alice, alice_feed):
    from django.template import engines

    request = rf.get("/me/")
    request.user = alice
    html = (
        engines["django"]
        .from_string('{% include "reports/_calendar_subscription.html" %}')
        .render({"request": request}, request)
    )
    assert f"http://127.0.0.1:8000/reports/calendar/{alice_feed.token}.ics" in html
    assert f"webcal://127.0.0.1:8000/reports/calendar/{alice_feed.token}.ics" in html
    assert "更换订阅地址" in html and "区金融局" in html


def test_plan_feeds_are_for_the_lead_bureau_and_leaders(
    client, lead, leader, alice, plan, finance_task, science_task
):
    url = reverse("reports:plan_calendar", args=[plan.pk])
    client.force_login(alice)
    assert client.post(url, {"action": "create"}).status_code == 403
    for user in (lead, leader):
        client.force_login(user)
        client.post(url, {"action": "create"})
    feed = CalendarFeed.objects.get(user=lead, plan=plan)
    response = client.get(feed_url(feed))
    assert len(uids(response)) == 2
    assert "区科技局" in response.content.decode() and "区金融局" in response.content.decode()
    assert CalendarFeed.objects.filter(plan=plan).count() == 2
    # a lead-bureau member who leaves the bureau loses the feed
    lead.is_staff = False
    lead.save()
    lead.groups.clear()
    assert client.get(feed_url(feed)).status_code == 404


def test_a_single_task_downloads_for_those_who_may_see_it(client, alice, bob, lead, finance_task):
    url = reverse("reports:task_ics", args=[finance_task.pk])
    assert client.get(url).status_code == 302  # to the login page
    client.force_login(bob)
    assert client.get(url).status_code == 404
    for user in (alice, lead):
        client.force_login(user)
        response = client.get(url)
        assert response.status_code == 200
        assert response["Content-Disposition"] == f'attachment; filename="task-{finance_task.pk}.ics"'
        assert uids(response) == {f"ipplan-task-{finance_task.pk}@127.0.0.1"}


def test_unknown_tokens_and_bad_actions(client, alice, alice_feed):
    assert client.get(reverse("reports:calendar_feed", args=["not-a-token"])).status_code == 404
    client.force_login(alice)
    response = client.post(
        reverse("reports:liaison_calendar", args=[alice_feed.liaison_id]), {"action": "drop"}
    )
    assert response.status_code == 400 and "未知操作" in response.content.decode()


def test_calendar_apps_may_probe_with_head_but_not_post(client, alice_feed):
    assert client.head(feed_url(alice_feed)).status_code == 200
    assert client.post(feed_url(alice_feed)).status_code == 405


def test_a_cached_feed_follows_changes_to_its_tasks(
    client, alice, alice_feed, finance_task, django_assert_max_num_queries
):
    import datetime

    first = client.get(feed_url(alice_feed))
    with django_assert_max_num_queries(6):  # served from the cache: feed, fetch stamp, fingerprint
        again = client.get(feed_url(alice_feed))
    assert again.content == first.content  # the very same bytes, DTSTAMP included: it came from the cache
    finance_task.due_date = datetime.date(2021, 11, 30)
    finance_task.save()
    moved = Calendar.from_ical(client.get(feed_url(alice_feed)).content)
    starts = {str(event.get("uid")): event.decoded("dtstart") for event in moved.walk("VEVENT")}
    assert datetime.date(2021, 11, 30) in starts.values()
