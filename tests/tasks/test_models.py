import datetime

import pytest
from django.db import IntegrityError, transaction

from tasks.models import Measure, Plan, ProgressUpdate, Task


def test_one_task_per_agency_and_measure(finance_task, measure, finance):
    with pytest.raises(IntegrityError), transaction.atomic():
        Task.objects.create(measure=measure, agency=finance, role=Task.Role.SUPPORT)


def test_measure_number_is_unique_within_a_plan(measure, plan):
    with pytest.raises(IntegrityError), transaction.atomic():
        Measure.objects.create(plan=plan, number="2", text="重复序号")


def test_the_same_number_may_appear_in_another_plan(measure):
    other = Plan.objects.create(title="江津区国家知识产权强市建设试点城市工作方案", jurisdiction="江津区")
    assert Measure.objects.create(plan=other, number="2", text="持续做优做强创新主体。").pk


def test_percent_cannot_exceed_100(finance_task):
    with pytest.raises(IntegrityError), transaction.atomic():
        Task.objects.filter(pk=finance_task.pk).update(percent=101)
    with pytest.raises(IntegrityError), transaction.atomic():
        ProgressUpdate.objects.create(task=finance_task, text="超额", percent=150)


def test_plan_period_must_be_ordered(db):
    with pytest.raises(IntegrityError), transaction.atomic():
        Plan.objects.create(title="倒置的期限", period_start=2025, period_end=2021)


def test_deleting_a_plan_removes_its_measures_and_tasks(finance_task, plan):
    plan.delete()
    assert not Task.objects.exists() and not Measure.objects.exists()


def test_overdue_is_derived_from_due_date_and_status(finance_task):
    after = datetime.date(2022, 1, 1)
    assert finance_task.is_overdue(after)
    assert list(Task.objects.overdue(after)) == [finance_task]
    assert not finance_task.is_overdue(datetime.date(2021, 12, 31))
    finance_task.status = Task.Status.DONE
    finance_task.save()
    assert not finance_task.is_overdue(after)
    assert not Task.objects.overdue(after).exists()


def test_ongoing_tasks_are_never_overdue(finance_task):
    finance_task.is_ongoing = True
    finance_task.save()
    assert not Task.objects.overdue(datetime.date(2030, 1, 1)).exists()


def test_for_user_limits_liaisons_to_their_agencies(
    finance_task, science_task, alice, bob, charlie, lead, leader
):
    assert list(Task.objects.for_user(alice)) == [finance_task]
    assert list(Task.objects.for_user(bob)) == [science_task]
    assert not Task.objects.for_user(charlie).exists()
    assert Task.objects.for_user(lead).count() == 2
    assert Task.objects.for_user(leader).count() == 2


def test_task_changes_are_recorded_in_history(finance_task, lead):
    finance_task.status = Task.Status.IN_PROGRESS
    finance_task._history_user = lead
    finance_task.save()
    records = list(finance_task.history.order_by("history_date"))
    assert [r.status for r in records] == [Task.Status.NOT_STARTED, Task.Status.IN_PROGRESS]
    assert records[-1].history_user == lead


def test_section_path_is_the_heading_chain(plan):
    from tasks.models import Section

    top = Section.objects.create(plan=plan, heading="三、主要任务", level=1)
    sub = Section.objects.create(plan=plan, parent=top, heading="(一)加强知识产权保护", level=2)
    assert sub.path == ["三、主要任务", "(一)加强知识产权保护"]


def test_measure_summary_is_its_first_sentence(measure):
    assert measure.summary == "建立健全重大投融资活动知识产权评议工作机制"


def test_light_in_memory_matches_the_queryset_annotation(finance_task, science_task, measure):
    from tasks.status import Light

    science_task.status = Task.Status.DONE
    science_task.save()
    for today, expected in [
        (datetime.date(2021, 11, 1), Light.GREEN),
        (datetime.date(2021, 12, 28), Light.YELLOW),
        (datetime.date(2022, 1, 1), Light.RED),
    ]:
        annotated = {t.pk: t.light for t in Task.objects.with_light(today)}
        assert annotated[finance_task.pk] == finance_task.get_light(today) == expected
        assert annotated[science_task.pk] == science_task.get_light(today) == Light.GREY


def test_ongoing_tasks_are_lit_by_their_next_report_deadline(finance_task):
    from tasks.status import Light

    finance_task.is_ongoing = True
    finance_task.due_date = None
    finance_task.next_report_due = datetime.date(2021, 4, 10)
    finance_task.save()
    assert finance_task.get_light(datetime.date(2021, 4, 5)) == Light.YELLOW
    assert Task.objects.with_light(datetime.date(2021, 4, 11)).get().light == Light.RED


def test_periodic_reports_are_due_until_the_plan_period_ends_unless_extended(finance_task, plan):
    """Plan 2020–2021, quarterly on the 10th: the last report (on 2021-Q4) is due 2022-01-10."""
    from tasks.status import Light

    finance_task.is_ongoing, finance_task.due_date = True, None
    finance_task.next_report_due = datetime.date(2022, 1, 10)
    finance_task.save()
    today = datetime.date(2022, 1, 11)
    assert finance_task.get_report_due() == datetime.date(2022, 1, 10)
    assert Task.objects.overdue(today).get() == finance_task and finance_task.overdue_days(today) == 1

    finance_task.next_report_due = datetime.date(2022, 4, 10)  # the 2022-Q1 report: beyond the plan
    finance_task.save()
    finance_task.measure.plan.refresh_from_db()
    assert finance_task.get_report_due() is None
    annotated = Task.objects.with_light(datetime.date(2022, 5, 1)).get()
    assert (annotated.report_due, annotated.attention_date, annotated.light) == (None, None, Light.GREEN)
    assert not Task.objects.overdue(datetime.date(2022, 5, 1)).exists()

    plan.reports_until = datetime.date(2022, 12, 31)  # the lead bureau extends reporting
    plan.save()
    finance_task.measure.plan.refresh_from_db()
    assert finance_task.get_report_due() == datetime.date(2022, 4, 10)
    assert Task.objects.overdue(datetime.date(2022, 5, 1)).get().overdue_days(datetime.date(2022, 5, 1)) == 21

    plan.is_active = False  # a closed plan asks for nothing
    plan.save()
    finance_task.measure.plan.refresh_from_db()
    assert finance_task.get_report_due() is None
    assert not Task.objects.with_attention().filter(report_due__isnull=False).exists()
