"""The admin's export button (django-import-export) exports what the filtered task list shows."""

import io

import openpyxl
import pytest
from django.urls import reverse

from tasks.models import Task


def export(client, url: str, query: str) -> list[tuple]:
    form = client.get(f"{url}export/?{query}")
    assert form.status_code == 200
    formats = dict((label, value) for value, label in form.context["form"].fields["format"].choices)
    response = client.post(
        f"{url}export/?{query}", {"format": formats["xlsx"], "resource": 0, **selected(form)}
    )
    assert response.status_code == 200, response.content[:500]
    wb = openpyxl.load_workbook(io.BytesIO(response.content))
    return [row for row in wb.active.iter_rows(values_only=True)]


def selected(form) -> dict:
    """Tick every field checkbox the export form offers (what a user sees by default)."""
    return {
        name: "on"
        for name, field in form.context["form"].fields.items()
        if field.__class__.__name__ == "BooleanField"
    }


@pytest.fixture
def done_science_task(science_task):
    science_task.status = Task.Status.DONE
    science_task.save()
    return science_task


def test_task_export_honours_the_admin_filters(client, lead, finance_task, done_science_task):
    client.force_login(lead)
    url = reverse("admin:tasks_task_changelist")
    everything = export(client, url, "")
    assert everything[0][:4] == ("id", "计划", "序号", "措施")
    assert len(everything) == 3
    done = export(client, url, "status__exact=done")
    assert [row[4] for row in done[1:]] == ["区科技局"]
    assert done[1][9] == "已办结"
    searched = export(client, url, "q=金融")
    assert [row[4] for row in searched[1:]] == ["区金融局"]


def test_task_export_neutralises_formulas(client, lead, finance_task, measure):
    measure.text = "=cmd|' /C calc'!A0"
    measure.save()
    client.force_login(lead)
    rows = export(client, reverse("admin:tasks_task_changelist"), "")
    assert rows[1][3] == "'=cmd|' /C calc'!A0"


def test_agency_export_honours_the_admin_filters(client, superuser, finance, science, market):
    science.is_confirmed = False
    science.save()
    client.force_login(superuser)
    rows = export(client, reverse("admin:agencies_agency_changelist"), "is_confirmed__exact=0")
    assert [row[0] for row in rows[1:]] == ["区科技局"]
