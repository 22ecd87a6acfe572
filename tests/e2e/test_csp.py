"""The Content-Security-Policy holds on the pages people use: Chromium reports no violation, and the
admin's and our scripts still work under it."""

import pytest
from django.urls import reverse

from reports.models import ExportJob
from tests.conftest import PASSWORD

from .conftest import log_in

pytestmark = pytest.mark.slow


def watch(page) -> list[str]:
    problems: list[str] = []
    page.on(
        "console",
        lambda message: (
            problems.append(message.text)
            if "Content Security Policy" in message.text or "Content-Security-Policy" in message.text
            else None
        ),
    )
    page.on("pageerror", lambda error: problems.append(str(error)))
    return problems


def test_pages_run_under_the_policy(page, live_server, superuser, lead, alice, finance_task, science_task):
    problems = watch(page)
    job = ExportJob.objects.create(user=superuser, exporter="progress")
    log_in(page, live_server, "root", PASSWORD, admin=True)
    for url in (
        reverse("workspace:dashboard"),
        reverse("workspace:task_list"),
        reverse("workspace:task_detail", args=[finance_task.pk]),
        reverse("workspace:review_queue"),
        reverse("workspace:profile"),
        reverse("reports:export_job", args=[job.pk]),
        reverse("admin:index"),
        reverse("admin:tasks_task_change", args=[finance_task.pk]),
        reverse("admin:tasks_task_history", args=[finance_task.pk]),
        reverse("admin:tasks_measure_import"),
        reverse("admin:tasks_plan_import"),
        reverse("admin:agencies_agency_changelist"),
    ):
        response = page.goto(f"{live_server.url}{url}")
        assert response.status == 200, url
        policy = response.headers["content-security-policy"]
        script_src = next(part for part in policy.split(";") if part.strip().startswith("script-src"))
        assert "unsafe-inline" not in script_src and "frame-ancestors 'none'" in policy
        if url.startswith("/reports/exports/"):  # its inline polling script carries the nonce
            assert "'nonce-" in script_src
    # The admin's action bar (static JavaScript) still works: "select all" ticks every row.
    page.goto(f"{live_server.url}{reverse('admin:tasks_task_changelist')}")
    page.click("#action-toggle")
    assert page.locator("input.action-select:checked").count() == 2
    assert problems == []


def test_the_subscription_address_is_selected_on_click(page, live_server, alice):
    problems = watch(page)
    log_in(page, live_server, "alice", PASSWORD)
    page.goto(f"{live_server.url}{reverse('workspace:profile')}")
    page.locator(".calendar-subscription button[value=create]").click()
    field = page.locator("input[data-select-on-click]")
    field.click()
    selected = page.evaluate("() => window.getSelection().toString() || document.activeElement.value")
    assert selected.startswith("http")
    assert problems == []
