import datetime

import time_machine

from tasks.filters import TaskFilter
from tasks.models import Task


def run(params, user=None):
    return TaskFilter(params, queryset=Task.objects.all(), user=user)


@time_machine.travel(datetime.datetime(2021, 12, 28, 9, 0, tzinfo=datetime.UTC))
def test_filters_by_light_status_and_text(finance_task, science_task):
    science_task.status = Task.Status.DONE
    science_task.save()
    assert list(run({"light": "yellow"}).qs) == [finance_task]
    assert list(run({"light": "grey"}).qs) == [science_task]
    assert list(run({"status": "done"}).qs) == [science_task]
    assert set(run({"q": "投融资"}).qs) == {finance_task, science_task}
    assert list(run({"q": "科技"}).qs) == [science_task]


@time_machine.travel(datetime.datetime(2022, 1, 5, 9, 0, tzinfo=datetime.UTC))
def test_overdue_only_and_due_range(finance_task, science_task):
    assert set(run({"overdue": "true"}).qs) == {finance_task, science_task}
    assert not run({"due_before": "2021-12-30"}).qs.exists()
    assert run({"due_after": "2021-12-31", "role": "lead"}).qs.get() == finance_task


def test_a_liaison_chooses_only_among_their_agencies(finance_task, science_task, alice):
    form = run({}, user=alice).form
    assert [a.name for a in form.fields["agency"].queryset] == ["区金融局"]
    assert form.fields["plan"].queryset.count() == 1
