"""Importing many plans: the queries per plan do not grow with the plans already stored, and the history
rows written in bulk (tasks/services/bulk_history.py) are the ones simple-history would write."""

import random

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from agencies.models import Agency
from tasks.models import Measure, Plan, PlanRevision, Task
from tasks.parsing import parse_text
from tasks.services.importing import ImportBatch, import_plan

AGENCIES = ["区金融局", "区科技局", "区财政局", "区商务局", "区司法局", "区教育局", "区民政局", "区统计局"]
DEADLINES = ["2025年12月底前完成", "2025年6月30日前", "持续推进", "2025年上半年"]


def document(index: int, rng: random.Random, measures: int = 8) -> str:
    lines = [f"东丽区2025年知识产权工作推进计划(第{index}号)", "一、重点任务"]
    for number in range(1, measures + 1):
        lead, *support = rng.sample(AGENCIES, 3)
        lines.append(
            f"{number}.推进第{index}-{number}项知识产权工作。加强统筹协调,健全工作机制。"
            f"({lead}牵头,{'、'.join(support)}按职责分工负责;{rng.choice(DEADLINES)})"
        )
    return "\n".join(lines) + "\n"


@pytest.fixture
def agencies(db):
    return Agency.objects.bulk_create([Agency(name=name, jurisdiction="东丽区") for name in AGENCIES])


def import_one(index: int, rng: random.Random, batch: ImportBatch, user=None):
    text = document(index, rng)
    return import_plan(
        parsed=parse_text(text),
        data=text.encode(),
        source_name=f"plan-{index}.txt",
        jurisdiction="东丽区",
        batch=batch,
        user=user,
    )


def queries_of(index: int, rng: random.Random, batch: ImportBatch) -> int:
    with CaptureQueriesContext(connection) as captured:
        result = import_one(index, rng, batch)
    assert result.created and result.tasks_created == 24
    return len(captured)


def test_queries_per_imported_plan_do_not_grow_with_the_plans_stored(agencies, django_assert_max_num_queries):
    rng, batch = random.Random(7), ImportBatch()
    import_one(1, rng, batch)  # loads the catalogue into the batch
    with django_assert_max_num_queries(14):
        few = queries_of(2, rng, batch)
    for index in range(3, 63):
        import_one(index, rng, batch)
    assert Plan.objects.count() == 62
    with django_assert_max_num_queries(14):
        many = queries_of(63, rng, batch)
    assert many == few
    # re-importing one of them is recognised by its content fingerprint: one query, nothing written
    text = document(1, random.Random(7))
    with django_assert_max_num_queries(3):
        again = import_plan(parsed=parse_text(text), data=text.encode(), jurisdiction="东丽区", batch=batch)
    assert again.unchanged and Plan.objects.count() == 63


def test_bulk_history_rows_are_simple_historys(agencies, lead):
    result = import_one(1, random.Random(3), ImportBatch(), user=lead)
    tasks = Task.objects.filter(measure__plan=result.plan)
    measures = Measure.objects.filter(plan=result.plan)
    assert tasks.count() == 24 and measures.count() == 8
    for model, rows in ((Task, tasks), (Measure, measures)):
        history = model.history.filter(id__in=rows.values("pk"))
        assert history.count() == rows.count()  # one row each
        assert set(history.values_list("history_type", flat=True)) == {"+"}
        assert set(history.values_list("history_user_id", flat=True)) == {lead.pk}
        for row in history:
            current = row.instance
            stored = model.objects.get(pk=row.id)
            for field in model.history.model.tracked_fields:
                assert getattr(current, field.attname) == getattr(stored, field.attname), field.name
    # and the trail goes on as before: a save adds a "~" row after the "+"
    task = tasks.first()
    task.status = Task.Status.IN_PROGRESS
    task.save()
    assert list(task.history.order_by("history_id").values_list("history_type", flat=True)) == ["+", "~"]


def test_a_failed_import_in_a_batch_forgets_the_agencies_it_created(agencies):
    batch = ImportBatch()
    text = "东丽区计划\n一、重点任务\n1.推进工作。(区新设局牵头;2025年底前完成)\n"
    parsed = parse_text(text)
    original = PlanRevision.save

    def failing_save(self, *args, **kwargs):  # the last write of an import: the agency is made by then
        raise RuntimeError("disk full")

    PlanRevision.save = failing_save
    try:
        with pytest.raises(RuntimeError):
            import_plan(parsed=parsed, data=text.encode(), jurisdiction="东丽区", batch=batch)
    finally:
        PlanRevision.save = original
    assert not Agency.objects.filter(name="区新设局").exists()
    result = import_plan(parsed=parsed, data=text.encode(), jurisdiction="东丽区", batch=batch)
    task = Task.objects.get(measure__plan=result.plan)
    assert task.agency.name == "区新设局" and Agency.objects.filter(pk=task.agency_id).exists()
