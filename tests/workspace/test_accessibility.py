"""Readable by everyone (GB/T 37668, 适老化), on the server side: a light's words, 大字版 remembered per user,
forms with unique ids, tied help text, a fieldset for the radios and an error summary linking to each field.
The browser checks (axe-core, keyboard, font size, 320 px) are in tests/e2e/test_accessibility.py."""

import datetime
import re
from collections import Counter

import pytest
from django.test import Client
from django.urls import reverse

from tasks.status import Light, light_text
from tests.conftest import PASSWORD
from workspace.models import Preferences

D = datetime.date
TODAY = D(2024, 6, 10)


@pytest.mark.parametrize(
    ("light", "attention", "ongoing", "expected"),
    [
        (Light.RED, D(2024, 6, 7), False, "已逾期 3 天"),
        (Light.RED, D(2024, 6, 9), True, "已逾期 1 天"),
        (Light.YELLOW, D(2024, 6, 13), False, "3 天内到期"),
        (Light.YELLOW, D(2024, 6, 10), False, "今天到期"),
        (Light.YELLOW, D(2024, 6, 13), True, "待报送"),
        (Light.GREEN, D(2024, 9, 1), False, "正常"),
        (Light.GREEN, None, False, "正常"),
        (Light.GREY, D(2024, 1, 1), False, "已办结"),
    ],
)
def test_a_light_says_what_it_means(light, attention, ongoing, expected):
    assert light_text(light=light, attention_date=attention, is_ongoing=ongoing, today=TODAY) == expected


def test_the_liaisons_list_writes_overdue_days_next_to_the_light(client, alice, finance_task, frozen):
    finance_task.due_date = D(2021, 6, 10)  # five days before the frozen today, 2021-06-15
    finance_task.save()
    client.force_login(alice)
    page = client.get(reverse("workspace:task_list")).text
    row = re.search(r"<tr>.*?</tr>", page.split("<tbody>")[1], re.S).group(0)
    assert 'class="light light-red"' in row and "已逾期 5 天" in row
    assert 'aria-label="灯号说明"' in page  # the legend is on the liaison's own page


def ids(html: str) -> Counter:
    return Counter(re.findall(r'\sid="([^"]+)"', html))


def test_the_task_page_for_the_lead_bureau_has_unique_ids_and_labelled_adjustments(
    client, lead, finance_task, frozen
):
    client.force_login(lead)
    page = client.get(reverse("workspace:task_detail", args=[finance_task.pk])).text
    assert [i for i, n in ids(page).items() if n > 1] == []
    for field in ("id_due-due_date", "id_due-reason", "id_reassign-agency", "id_reassign-reason"):
        assert f'<label for="{field}">' in page and f'id="{field}"' in page


def test_a_failed_report_gets_an_error_summary_linking_to_each_field(client, alice, finance_task, frozen):
    client.force_login(alice)
    url = reverse("workspace:task_detail", args=[finance_task.pk])
    response = client.post(url, {"text": "", "percent": "150", "status": "in_progress"})
    assert response.status_code == 400
    page = response.text
    summary = page.split('id="error-summary"')[1].split("</div>")[0]
    assert 'href="#id_text"' in summary and 'href="#id_percent"' in summary
    assert page.count("确保该值小于或等于100") == 2  # in the summary and at the field, not twice at the field
    assert 'aria-describedby="id_percent_error"' in page and 'id="id_percent_error"' in page
    assert re.search(r"<fieldset[^>]*>\s*<legend>报送后状态</legend>", page)
    assert 'aria-describedby="id_attachments_helptext"' in page and 'id="id_attachments_helptext"' in page
    assert "跳到主要内容" in page and 'id="main"' in page


def test_password_help_text_is_tied_to_its_field(client, alice):
    client.force_login(alice)
    page = client.get(reverse("password_change")).text
    assert 'aria-describedby="id_new_password1_helptext"' in page and 'id="id_new_password1_helptext"' in page


def test_large_text_is_remembered_per_user_across_logins(client, alice, bob):
    client.force_login(alice)
    assert 'class="large-text"' not in client.get(reverse("workspace:profile")).text
    response = client.post(
        reverse("workspace:set_display"), {"large_text": "on", "next": reverse("workspace:task_list")}
    )
    assert response.url == reverse("workspace:task_list")
    assert '<html lang="zh-hans" class="large-text">' in client.get(reverse("workspace:task_list")).text
    assert Preferences.objects.get(user=alice).large_text

    elsewhere = Client()  # another browser: the choice follows the user, not the device
    assert elsewhere.post(reverse("login"), {"username": "alice", "password": PASSWORD}).status_code == 302
    assert 'class="large-text"' in elsewhere.get(reverse("workspace:task_list")).text
    other = Client()
    other.force_login(bob)
    assert 'class="large-text"' not in other.get(reverse("workspace:task_list")).text

    client.post(reverse("workspace:set_display"), {"next": "https://evil.example/"})  # unchecked: off
    assert not Preferences.objects.get(user=alice).large_text
    assert 'class="large-text"' not in client.get(reverse("workspace:profile")).text


def test_large_text_needs_a_logged_in_post(client, alice):
    assert client.post(reverse("workspace:set_display"), {"large_text": "on"}).status_code == 302
    assert not Preferences.objects.exists()
    client.force_login(alice)
    assert client.get(reverse("workspace:set_display")).status_code == 405
