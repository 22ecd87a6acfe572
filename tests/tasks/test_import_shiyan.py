"""The 40-item test plan (tests/parsing/plans/shiyan-40.txt, written in the genre's conventions): the same plan
in four formats is one plan, and a revision that deletes item 3 keeps every record on its own measure."""

import re

import pytest
from django.conf import settings

from tasks.models import Measure, Plan, ProgressUpdate, Task
from tasks.parsing import parse_bytes
from tasks.services.importing import import_plan

from .test_import_revisions import as_docx, as_gbk, as_html, give_every_task_a_history

SHIYAN = settings.BASE_DIR / "tests" / "parsing" / "plans" / "shiyan-40.txt"
ITEM = re.compile(r"^(\d+)\.")


def without_item_3(text: str) -> str:
    """Item 3 deleted and the items after it renumbered, as a revised 实施意见 would print them."""
    lines = []
    for line in text.split("\n"):
        number = ITEM.match(line)
        if number and int(number[1]) == 3:
            continue
        if number and int(number[1]) > 3:
            line = f"{int(number[1]) - 1}{line[number.end(1) :]}"
        lines.append(line)
    return "\n".join(lines)


def load(data: bytes, name: str, **options):
    return import_plan(parsed=parse_bytes(data, name), data=data, source_name=name, **options)


@pytest.fixture
def text():
    return SHIYAN.read_text(encoding="utf-8")


def test_shiyan_as_txt_gbk_html_and_docx_is_one_plan(db, text):
    plan = load(text.encode(), "实施意见.txt").plan
    counts = (Plan.objects.count(), Measure.objects.count(), Task.objects.count())
    assert counts[1] >= 39 and counts[2] > counts[1]
    for name, data, jurisdiction in [
        ("实施意见-gbk.txt", as_gbk(text), None),
        ("content_5345808.html", as_html(text), "临江区"),
        ("实施意见.docx", as_docx(text), None),
    ]:
        result = load(data, name, jurisdiction=jurisdiction)
        assert result.unchanged and result.plan == plan and result.diff.is_empty, name
        assert (Plan.objects.count(), Measure.objects.count(), Task.objects.count()) == counts, name
    duplicated = Task.objects.values("measure", "agency").order_by().distinct().count()
    assert duplicated == Task.objects.count()


def test_shiyan_revision_without_item_3_keeps_every_record(db, text, lead):
    plan = load(text.encode(), "实施意见.txt").plan
    expected = give_every_task_a_history(plan, lead)
    item3 = plan.measures.get(number="3")

    result = load(as_docx(without_item_3(text)), "实施意见(修订).docx")  # the revision arrives as Word

    assert result.plan == plan and [m.number for m in result.diff.removed] == ["3"]
    assert result.diff.added == [] and result.diff.changed == []
    assert len(result.diff.renumbered) == plan.measures.filter(is_removed=False).count() - 2
    tasks = {t.pk: t for t in Task.objects.filter(measure__plan=plan).select_related("measure")}
    assert set(tasks) == set(expected)
    for task_id, was in expected.items():
        task = tasks[task_id]
        assert task.measure_id == was["measure"] and task.measure.text == was["text"]
        assert list(task.updates.values_list("pk", flat=True)) == [was["update"]]
        assert task.acknowledged_at is not None and task.reminder_logs.count() == 1
        assert list(task.extension_requests.values_list("pk", flat=True)) == (
            [was["extension"]] if was["extension"] else []
        )
    item3.refresh_from_db()
    assert item3.is_removed and ProgressUpdate.objects.filter(task__measure=item3).exists()
