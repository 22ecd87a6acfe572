"""审核 at scale: one page per kind, filters by plan, agency and kind, counts, bulk approval after a
confirmation page."""

import datetime

from django.urls import reverse

from tasks.models import ExtensionRequest, Measure, ProgressUpdate, Task

URL = reverse("workspace:review_queue")


def completion_requests(plan, agencies, n, *, prefix="c"):
    measures = Measure.objects.bulk_create(
        Measure(plan=plan, number=f"{prefix}{i}", text=f"第{i}项措施。", position=i) for i in range(n)
    )
    tasks = Task.objects.bulk_create(
        Task(
            measure=m,
            agency=agencies[i % len(agencies)],
            due_date=datetime.date(2021, 12, 31),
            status=Task.Status.COMPLETION_REQUESTED,
            percent=100,
        )
        for i, m in enumerate(measures)
    )
    ProgressUpdate.objects.bulk_create(
        ProgressUpdate(task=t, text="已完成。", percent=100, status=Task.Status.COMPLETION_REQUESTED)
        for t in tasks
    )
    return tasks


def test_the_queue_pages_and_counts_each_kind(client, lead, plan, finance, science, frozen):
    completion_requests(plan, [finance, science], 60)
    client.force_login(lead)
    queue = client.get(URL).context["queue"]
    assert queue.counts["completion"] == 60
    assert len(queue.completions) == 20 and queue.completion_page.paginator.num_pages == 3
    last = client.get(URL, {"completion_page": 3}).context["queue"]
    assert len(last.completions) == 20


def test_the_queue_filters_by_agency_plan_and_kind(
    client, lead, plan, finance, science, finance_task, frozen
):
    completion_requests(plan, [finance, science], 6)
    ExtensionRequest.objects.create(
        task=finance_task,
        current_due_date=datetime.date(2021, 12, 31),
        requested_due_date=datetime.date(2022, 3, 31),
        reason="需等待市级评议办法出台后衔接。",
    )
    client.force_login(lead)
    by_agency = client.get(URL, {"agency": science.pk}).context["queue"]
    assert by_agency.counts == {"completion": 3, "extension": 0, "unacknowledged": 3}
    assert {t.agency for t in by_agency.completions} == {science}
    only_extensions = client.get(URL, {"kind": "extension", "plan": plan.pk})
    queue = only_extensions.context["queue"]
    assert queue.completion_page is None and [e.task for e in queue.extensions] == [finance_task]
    assert "需等待市级评议办法出台后衔接" in only_extensions.text and "已完成。" not in only_extensions.text
    assert {a.name for a in queue.agencies} == {"区金融局", "区科技局"}


def test_bulk_approval_asks_for_confirmation_first(client, lead, alice, plan, finance, science, frozen):
    tasks = completion_requests(plan, [finance, science], 4)
    client.force_login(lead)
    chosen = [tasks[0].pk, tasks[1].pk]
    confirm = client.post(reverse("workspace:review_bulk"), {"kind": "completion", "item": chosen})
    assert confirm.status_code == 200 and "确认同意 2 项" in confirm.text
    assert Task.objects.filter(status=Task.Status.DONE).count() == 0  # nothing yet
    done = client.post(
        reverse("workspace:review_bulk"), {"kind": "completion", "item": chosen, "confirm": "yes"}
    )
    assert done.status_code == 302
    finished = Task.objects.filter(status=Task.Status.DONE)
    assert sorted(finished.values_list("pk", flat=True)) == chosen
    assert all(t.completed_at is not None for t in finished)
    assert set(ProgressUpdate.objects.filter(task_id__in=chosen).values_list("reviewed_by", flat=True)) == {
        lead.pk
    }
    # Confirming the same again decides nothing twice.
    again = client.post(
        reverse("workspace:review_bulk"), {"kind": "completion", "item": chosen, "confirm": "yes"}
    )
    assert again.status_code == 302
    assert ProgressUpdate.objects.filter(review_decision="approved").count() == 2


def test_only_the_lead_bureau_approves_in_bulk(client, leader, alice, plan, finance, frozen):
    tasks = completion_requests(plan, [finance], 1)
    for user in (leader, alice):
        client.force_login(user)
        response = client.post(
            reverse("workspace:review_bulk"), {"kind": "completion", "item": [tasks[0].pk], "confirm": "yes"}
        )
        assert response.status_code == 403
    assert not Task.objects.filter(status=Task.Status.DONE).exists()


def test_the_queue_uses_a_fixed_number_of_queries(
    client, lead, plan, finance, science, frozen, django_assert_max_num_queries
):
    client.force_login(lead)
    completion_requests(plan, [finance, science], 5, prefix="a")
    with django_assert_max_num_queries(30) as small:
        client.get(URL)
    completion_requests(plan, [finance, science], 200, prefix="b")
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = client.get(URL)
    assert response.context["queue"].counts["completion"] == 205
