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


def test_choices_are_live_plans_and_agencies_labelled_as_their_names(finance_task, science_task, plan, alice):
    """The options are read as (pk, label) rows, not model instances: the labels are the models' own."""
    from agencies.models import Agency
    from tasks.models import Plan

    old = Plan.objects.create(title="2019年旧计划", jurisdiction="东丽区", is_active=False)
    form = run({}).form
    plans, agencies = str(form["plan"]), str(form["agency"])
    assert f'<option value="{plan.pk}">{plan.title}</option>' in plans
    assert f'value="{old.pk}"' not in plans  # lists hold current tasks: an ended plan has none to offer
    for agency in Agency.objects.all():
        assert f'<option value="{agency.pk}">{agency}</option>' in agencies
    chosen = str(run({"agency": finance_task.agency_id}).form["agency"])
    assert f'<option value="{finance_task.agency_id}" selected>' in chosen
    # A liaison's choices: their agency, and the live plans holding its tasks.
    mine = str(run({}, user=alice).form["plan"])
    assert f'<option value="{plan.pk}">' in mine and f'value="{old.pk}"' not in mine
