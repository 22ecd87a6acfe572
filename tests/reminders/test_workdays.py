"""The working-day calendar: seeded 放假安排, edits in the admin, Monday–Friday where a year is missing."""

import datetime

from django.urls import reverse

from reminders.models import Holiday
from reminders.selectors import missing_holiday_years
from reminders.workdays import is_working_day, load_package_holidays, next_working_day

D = datetime.date


def test_the_seeded_calendar_knows_holidays_and_make_up_days():
    assert not is_working_day(D(2024, 10, 1))  # 国庆节
    assert is_working_day(D(2024, 9, 29))  # Sunday, 调休上班
    assert is_working_day(D(2024, 10, 12))  # Saturday, 调休上班
    assert not is_working_day(D(2024, 9, 28))  # an ordinary Saturday
    assert next_working_day(D(2024, 9, 30)) == D(2024, 10, 8)
    assert Holiday.objects.get(date=D(2024, 10, 1)).name == "国庆节"


def test_a_year_the_package_does_not_know_presumes_the_statutory_days_off():
    assert not Holiday.objects.filter(date__year=2027).exists()
    assert not is_working_day(D(2027, 1, 1))  # a Friday: 元旦, presumed
    assert not is_working_day(D(2027, 1, 2))
    assert is_working_day(D(2027, 1, 4))
    assert next_working_day(D(2026, 12, 31)) == D(2027, 1, 4)
    assert not Holiday.objects.filter(date__year=2027).exists()  # asking writes nothing


def test_once_a_year_has_rows_the_table_decides():
    Holiday.objects.create(date=D(2027, 1, 1), name="元旦")
    assert not is_working_day(D(2027, 1, 1))
    assert next_working_day(D(2026, 12, 31)) == D(2027, 1, 4)
    assert is_working_day(D(2027, 10, 1))  # entered by hand without 国庆: nothing is presumed any more


def test_loading_the_package_again_adds_nothing_and_keeps_edits():
    Holiday.objects.filter(date=D(2024, 10, 7)).update(is_working_day=True, source="manual")
    assert load_package_holidays() == 0
    assert Holiday.objects.get(date=D(2024, 10, 7)).is_working_day


def test_the_coming_years_arrangement_is_reported_missing_from_november():
    assert missing_holiday_years(D(2026, 5, 1)) == []
    assert missing_holiday_years(D(2026, 11, 22)) == [2027]
    Holiday.objects.create(date=D(2027, 1, 1), name="元旦")
    assert missing_holiday_years(D(2026, 11, 22)) == []
    assert missing_holiday_years(D(2028, 3, 1)) == [2028]


def test_the_lead_bureau_edits_the_calendar_in_the_admin(client, lead):
    client.force_login(lead)
    page = client.post(
        reverse("admin:reminders_holiday_add"), {"date": "2027-01-01", "name": "元旦", "is_working_day": ""}
    )
    assert page.status_code == 302
    holiday = Holiday.objects.get(date=D(2027, 1, 1))
    assert holiday.source == "manual" and not holiday.is_working_day
    listing = client.get(reverse("admin:reminders_holiday_changelist"), {"q": "国庆"})
    assert listing.status_code == 200 and "国庆节" in listing.text


def test_a_liaison_cannot_edit_the_calendar(client, alice):
    client.force_login(alice)
    page = client.get(reverse("admin:reminders_holiday_changelist"))
    assert page.status_code == 302  # not staff: sent to the admin login
