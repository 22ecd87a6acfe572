"""Revisions of a plan keep progress: measures are paired by content, task rows stay, the diff says what changed.

Real rows throughout: progress reports, 签收, extension requests and reminder logs are created on the tasks of
the first version and checked, by id, on the same measures after the revision.
"""

import datetime
import html
import io

import pytest
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone

from agencies.models import Agency
from reminders.models import ReminderLog, ReminderLogTask
from tasks.models import ExtensionRequest, Measure, Plan, PlanRevision, ProgressUpdate, Task
from tasks.parsing import parse_bytes, parse_text
from tasks.services.importing import find_existing_plan, import_file, import_plan, plan_diff

DONGLI = settings.BASE_DIR / "seeds" / "dongli-2020-2021-protection-plan.txt"

ITEMS = [
    (
        "建立健全重大投融资活动知识产权评议工作机制。",
        "区金融局牵头,区发改委、区科技局按职责分工负责;2021年12月底前完成",
    ),
    ("开展知识产权宣传周活动,普及知识产权知识。", "区委宣传部负责;持续推进"),
    ("建立专利快速预审机制,提升审查效率。", "区市场监管局牵头,区科技局配合;2021年6月底前完成"),
    ("推动知识产权质押融资扩面增量。", "区金融局、区财政局负责;2021年12月底前完成"),
    ("加强知识产权司法保护,完善诉调对接机制。", "区法院牵头,区司法局、区检察院按职责分工负责;持续推进"),
    ("培育知识产权优势企业和示范企业。", "区科技局、区工信局负责;2021年12月底前完成"),
]


def document(items, title="东丽区2021年知识产权工作要点") -> str:
    lines = [title, "一、重点任务"]
    lines += [f"{number}.{text}({clause})" for number, (text, clause) in enumerate(items, start=1)]
    return "\n".join(lines) + "\n"


def as_html(text: str) -> bytes:
    """The document as a government web page, with the furniture around it."""
    paragraphs = "".join(f"<p>{html.escape(line)}</p>" for line in text.split("\n"))
    return (
        '<html><head><meta charset="utf-8"><title>政策文件</title></head><body>'
        '<div class="crumb">当前位置：<a href="/">首页</a> &gt; 政策文件</div>'
        f'<div id="zoom">{paragraphs}</div><p>扫一扫在手机打开当前页</p></body></html>'
    ).encode()


def as_docx(text: str) -> bytes:
    from docx import Document

    document = Document()
    for line in text.split("\n"):
        document.add_paragraph(line)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def as_gbk(text: str) -> bytes:
    return "".join(ch if ch.encode("gbk", errors="ignore") else " " for ch in text).encode("gbk")


def import_text(text: str, name: str = "要点.txt", **options):
    data = text.encode()
    return import_plan(parsed=parse_bytes(data, name), data=data, source_name=name, **options)


@pytest.fixture
def catalogue(db):
    call_command("loaddata", str(settings.BASE_DIR / "fixtures" / "agencies.json"), verbosity=0)


def give_every_task_a_history(plan: Plan, user) -> dict[int, dict]:
    """Progress, 签收, an extension request (dated tasks) and a reminder on every task; returns what each
    task must still hold afterwards, keyed by task id."""
    log = ReminderLog.objects.create(
        recipient="liaison@example.gov.cn",
        kind=ReminderLog.Kind.DIGEST,
        period="2021-05-10",
        day=datetime.date(2021, 5, 10),
        status=ReminderLog.Status.SENT,
    )
    expected = {}
    for task in Task.objects.filter(measure__plan=plan).select_related("measure", "agency"):
        update = ProgressUpdate.objects.create(
            task=task, author=user, text=f"{task.measure.text[:8]}·{task.agency.name}", percent=30
        )
        task.status, task.percent = Task.Status.IN_PROGRESS, 30
        task.acknowledged_at, task.acknowledged_by = timezone.now(), user
        task.save()
        extension = None
        if task.due_date:
            extension = ExtensionRequest.objects.create(
                task=task,
                requested_by=user,
                current_due_date=task.due_date,
                requested_due_date=task.due_date + datetime.timedelta(days=30),
                reason="需协调上级部门",
            )
        ReminderLogTask.objects.create(log=log, task=task, reason=ReminderLogTask.Reason.DUE_SOON)
        expected[task.pk] = {
            "measure": task.measure_id,
            "text": task.measure.text,
            "agency": task.agency.name,
            "update": update.pk,
            "extension": extension.pk if extension else None,
        }
    return expected


def test_deleting_item_3_keeps_every_record_on_its_own_measure(catalogue, lead):
    first = import_text(document(ITEMS), user=lead)
    plan = first.plan
    assert first.created and plan.measures.count() == 6
    expected = give_every_task_a_history(plan, lead)
    old_item3 = plan.measures.get(number="3")

    revised = import_text(document(ITEMS[:2] + ITEMS[3:]), name="要点(修订).txt", user=lead)

    assert revised.plan == plan and not revised.created and revised.match.kind == "revision"
    diff = revised.diff
    assert [m.number for m in diff.removed] == ["3"] and diff.removed[0].has_history
    assert [(r.old_number, r.number) for r in diff.renumbered] == [("4", "3"), ("5", "4"), ("6", "5")]
    assert diff.added == [] and diff.changed == [] and diff.unchanged_count == 2
    assert revised.measures_removed == 1 and revised.measures_created == 0 and revised.measures_updated == 3
    assert revised.tasks_created == revised.tasks_removed == 0

    tasks = {t.pk: t for t in Task.objects.filter(measure__plan=plan).select_related("measure", "agency")}
    assert set(tasks) == set(expected), "no task deleted, none recreated"
    for task_id, was in expected.items():
        task = tasks[task_id]
        assert task.measure_id == was["measure"] and task.measure.text == was["text"]
        assert task.agency.name == was["agency"]
        assert list(task.updates.values_list("pk", flat=True)) == [was["update"]]
        assert task.updates.get().text == f"{was['text'][:8]}·{was['agency']}"
        assert task.acknowledged_at is not None and task.status == Task.Status.IN_PROGRESS
        extensions = list(task.extension_requests.values_list("pk", flat=True))
        assert extensions == ([was["extension"]] if was["extension"] else [])
        assert task.reminder_logs.count() == 1
    live = dict(plan.measures.filter(is_removed=False).values_list("number", "text"))
    assert live == {str(n): text for n, (text, _clause) in enumerate(ITEMS[:2] + ITEMS[3:], start=1)}
    old_item3.refresh_from_db()
    assert old_item3.is_removed and old_item3.number == "3" and old_item3.tasks.count() == 2
    assert ProgressUpdate.objects.filter(task__measure=old_item3).count() == 2

    revisions = list(plan.revisions.order_by("number"))
    assert [(r.number, r.kind) for r in revisions] == [(1, "created"), (2, "revised")]
    assert revisions[1].diff["removed"][0]["number"] == "3" and revisions[1].created_by == lead
    assert revisions[1].original_name == "要点(修订).txt" and revisions[1].file.name

    again = import_text(document(ITEMS[:2] + ITEMS[3:]), name="要点(修订).txt", user=lead)
    assert again.unchanged and plan.revisions.count() == 2
    assert set(Task.objects.filter(measure__plan=plan).values_list("pk", flat=True)) == set(expected)


def test_a_new_item_may_take_the_number_of_a_removed_one(catalogue):
    plan = import_text(document(ITEMS)).plan
    new_item = ("建设知识产权公共服务平台。", "区市场监管局负责;2021年12月底前完成")
    result = import_text(document(ITEMS[:2] + [new_item] + ITEMS[3:]))
    assert result.plan == plan
    assert [m.number for m in result.diff.added] == ["3"] and [m.number for m in result.diff.removed] == ["3"]
    assert plan.measures.filter(number="3").count() == 2
    assert plan.measures.get(number="3", is_removed=False).text == new_item[0]


def test_a_changed_measure_shows_text_agencies_and_deadline_before_and_after(catalogue, lead):
    plan = import_text(document(ITEMS)).plan
    task = plan.measures.get(number="1").tasks.get(agency__name="区科技局")
    ProgressUpdate.objects.create(task=task, author=lead, text="已起草评议办法", percent=20)
    untouched = plan.measures.get(number="1").tasks.get(agency__name="区发改委")
    items = list(ITEMS)
    items[0] = (
        "建立健全重大投融资活动知识产权评议机制。",
        "区金融局牵头,区商务局按职责分工负责;2021年9月底前完成",
    )

    diff = plan_diff(parse_text(document(items)), plan)
    assert len(diff.changed) == 1 and diff.unchanged_count == 5
    change = diff.changed[0]
    assert change.number == change.old_number == "1" and 0.9 <= change.score < 1
    assert change.text.before == ITEMS[0][0] and change.text.after == items[0][0]
    assert [str(a) for a in change.agencies.before] == ["区金融局(牵头)", "区发改委(配合)", "区科技局(配合)"]
    assert [str(a) for a in change.agencies.after] == ["区金融局(牵头)", "区商务局(配合)"]
    assert change.deadline.before == "2021年12月底前完成(2021-12-31)"
    assert change.deadline.after == "2021年9月底前完成(2021-09-30)"
    assert diff.to_dict()["changed"][0]["agencies"]["after"][1] == {
        "name": "区商务局",
        "role": "support",
        "is_new": False,
        "needs_resolution": False,
    }

    result = import_text(document(items))
    measure = plan.measures.get(number="1")
    assert result.measures_updated == 1 and measure.text == items[0][0]
    assert measure.deadline_date == datetime.date(2021, 9, 30)
    task.refresh_from_db()
    assert task.dropped_from_plan and task.updates.count() == 1, "dropped with progress: kept and flagged"
    assert not Task.objects.filter(pk=untouched.pk).exists(), "dropped without history: deleted"
    assert measure.tasks.get(agency__name="区商务局").due_date == datetime.date(2021, 9, 30)
    assert any("不再列出“区科技局”" in w for w in result.warnings)
    assert import_text(document(items)).unchanged, "a flagged task is not reported again"


def test_the_same_plan_as_txt_gbk_html_and_docx_is_one_plan(catalogue):
    text = DONGLI.read_text(encoding="utf-8")
    first = import_file(DONGLI)
    plan = first.plan
    counts = (Plan.objects.count(), Measure.objects.count(), Task.objects.count())
    task_ids = set(Task.objects.values_list("pk", flat=True))
    variants = [
        ("gbk.txt", as_gbk(text), None),
        ("content_5345808.html", as_html(text), "天津市"),  # the page detected with another 行政区划
        ("方案.docx", as_docx(text), None),
    ]
    for name, data, jurisdiction in variants:
        parsed = parse_bytes(data, name)
        assert find_existing_plan(parsed, jurisdiction=jurisdiction).kind == "same"
        result = import_plan(parsed=parsed, data=data, source_name=name, jurisdiction=jurisdiction)
        assert result.unchanged and result.plan == plan, name
        assert result.measures_updated == 0 and result.diff.is_empty
        assert (Plan.objects.count(), Measure.objects.count(), Task.objects.count()) == counts
    docx = as_docx(text)
    forced = import_plan(parsed=parse_bytes(docx, "方案.docx"), data=docx, revision_of=plan)
    assert forced.diff.is_empty and forced.diff.unchanged_count == 42
    assert forced.measures_updated == 0 and forced.tasks_created == forced.tasks_updated == 0
    assert forced.unchanged and "未作改动" in forced.summary()
    assert set(Task.objects.values_list("pk", flat=True)) == task_ids
    assert plan.revisions.count() == 1


def test_a_revision_is_found_by_content_not_by_title_or_jurisdiction(catalogue):
    plan = import_text(document(ITEMS)).plan
    renamed = parse_text(document(ITEMS[1:], title="关于印发知识产权工作要点(修订稿)的通知"))
    match = find_existing_plan(renamed, jurisdiction="天津市")
    assert match.kind == "revision" and match.plan == plan and match.overlap == pytest.approx(5 / 6)
    other = parse_text(document([("完全不同的一项工作安排。", "区教育局负责;2021年底前")]))
    assert find_existing_plan(other, jurisdiction="东丽区").kind is None


def test_recognising_a_plan_reads_an_index_not_every_plan(catalogue, django_assert_max_num_queries):
    for index in range(30):
        items = [(f"第{index}批第{n}项专项工作安排,落实到位。", "区金融局负责;2021年底前") for n in range(5)]
        import_text(document(items, title=f"东丽区工作要点{index}"))
    parsed = parse_text(document(ITEMS))
    with django_assert_max_num_queries(4):
        assert find_existing_plan(parsed).kind is None


def test_the_clerk_chooses_revision_or_new_plan(catalogue):
    plan = import_text(document(ITEMS)).plan
    separate = import_text(document(ITEMS[:5]), new_plan=True)
    assert separate.created and separate.plan != plan and Plan.objects.count() == 2
    other = import_text(document([("完全不同的一项工作安排。", "区教育局负责;2021年底前")]), revision_of=plan)
    assert other.plan == plan and len(other.diff.added) == 1 and len(other.diff.removed) == 6


def test_dry_run_shows_the_diff_and_writes_nothing(catalogue):
    plan = import_text(document(ITEMS)).plan
    before = (Measure.objects.filter(is_removed=False).count(), PlanRevision.objects.count())
    result = import_text(document(ITEMS[1:]), dry_run=True)
    assert [m.number for m in result.diff.removed] == ["1"] and len(result.diff.renumbered) == 5
    assert (Measure.objects.filter(is_removed=False).count(), PlanRevision.objects.count()) == before
    assert plan.measures.get(number="1").text == ITEMS[0][0]


def test_revision_history_records_corrections_and_minutes(catalogue, lead):
    uploaded = timezone.now() - datetime.timedelta(minutes=4)
    result = import_text(document(ITEMS), user=lead, corrections=2, uploaded_at=uploaded)
    revision = result.revision
    assert revision.corrections == 2 and 3.9 <= revision.minutes_to_confirm <= 4.1
    assert revision.diff["added"][0]["number"] == "1" and len(revision.diff["added"]) == 6


def test_unknown_names_stay_unconfirmed_agencies_in_the_diff(catalogue):
    items = [("建立数据知识产权登记制度。", "区数据局牵头,区科技局配合;2021年底前")]
    diff = plan_diff(parse_text(document(items)), None, jurisdiction="东丽区")
    agencies = diff.added[0].agencies
    assert [(a.name, a.role, a.is_new) for a in agencies] == [
        ("区数据局", "lead", True),
        ("区科技局", "support", False),
    ]
    assert not Agency.objects.filter(name="区数据局").exists(), "a diff only reads"


def test_the_diff_template_renders_a_diff_and_its_stored_dict_alike(catalogue):
    from django.template.loader import render_to_string

    plan = import_text(document(ITEMS)).plan
    items = list(ITEMS)
    items[0] = (ITEMS[0][0], "区金融局牵头,区商务局按职责分工负责;2021年9月底前完成")
    diff = plan_diff(parse_text(document(items[:2] + items[3:])), plan)
    live = render_to_string("admin/tasks/import_diff.html", {"diff": diff})
    stored = render_to_string("admin/tasks/import_diff.html", {"diff": diff.to_dict()})
    assert live == stored
    for expected in (
        "移除 <strong>1</strong> 条",
        "区商务局(配合)",
        "2021年9月底前完成(2021-09-30)",
        "5 → 4",
    ):
        assert expected in live
    assert "建立专利快速预审机制" in live and "已有进展" not in live


def test_the_plan_admin_page_shows_the_revision_history(catalogue, client, superuser):
    plan = import_text(document(ITEMS)).plan
    import_text(document(ITEMS[:2] + ITEMS[3:]), name="要点(修订).txt")
    client.force_login(superuser)
    page = client.get(f"/admin/tasks/plan/{plan.pk}/change/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "修订记录" in text and "第2版" in text and "要点(修订).txt" in text and "首次导入" in text
    assert "重新编号 3" in text and "4 → 3" in text


def test_plans_imported_before_the_index_are_recognised_after_the_migration(catalogue):
    import importlib

    from django.apps import apps

    migration = importlib.import_module("tasks.migrations.0005_importer_revisions")
    plan = import_file(DONGLI).plan
    fingerprint = plan.content_fingerprint
    Plan.objects.update(content_fingerprint="")
    Measure.objects.update(match_key="")
    migration.index_existing_plans(apps, None)
    plan.refresh_from_db()
    assert plan.content_fingerprint == fingerprint
    assert not Measure.objects.filter(match_key="").exists()
    as_word = parse_bytes(as_docx(DONGLI.read_text(encoding="utf-8")), "方案.docx")
    assert find_existing_plan(as_word).plan == plan, "found by content, not by the file's digest"
