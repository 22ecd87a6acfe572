"""Text from documents is data: escaped in pages and emails, never run as markup."""

from django.urls import reverse

from reminders.services import send_urge

HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>=HYPERLINK("http://evil")'


def test_measure_text_is_escaped_on_pages(client, alice, finance_task):
    measure = finance_task.measure
    measure.text = HOSTILE
    measure.save()
    client.force_login(alice)
    for url in (reverse("workspace:task_list"), reverse("workspace:task_detail", args=[finance_task.pk])):
        page = client.get(url)
        assert page.status_code == 200
        assert "<script>alert" not in page.text and "<img src=x" not in page.text
        assert "&lt;script&gt;" in page.text or "&lt;img" in page.text


def test_measure_text_is_escaped_in_email_html(
    lead, alice, finance_task, mailoutbox, django_capture_on_commit_callbacks
):
    measure = finance_task.measure
    measure.text = HOSTILE
    measure.save()
    with django_capture_on_commit_callbacks(execute=True):
        send_urge([finance_task], lead)
    assert len(mailoutbox) == 1
    html = next(body for body, kind in mailoutbox[0].alternatives if kind == "text/html")
    assert "<script>" not in html and "<img src=x" not in html
    assert "&lt;script&gt;" in html


def test_leader_cannot_write(client, leader, finance_task):
    client.force_login(leader)
    for name in ("acknowledge", "review_completion", "change_due_date", "reassign"):
        response = client.post(reverse(f"workspace:{name}", args=[finance_task.pk]), {})
        assert response.status_code in {403, 404}, name
    assert client.post(reverse("admin:tasks_task_change", args=[finance_task.pk]), {}).status_code == 403
