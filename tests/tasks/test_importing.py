"""Importing plan documents: the five seeds, idempotence, amendments, agency resolution (the admin flow is in
test_import_preview.py)."""

import io
import json
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from agencies.models import Agency
from agencies.resolution import AgencyResolver
from tasks.models import Measure, Plan, ProgressUpdate, Task, TaskQuerySet
from tasks.parsing import parse_text
from tasks.services.importing import build_preview, import_file, import_plan

SEEDS = settings.BASE_DIR / "seeds"
DONGLI = SEEDS / "dongli-2020-2021-protection-plan.txt"
BOZHOU = SEEDS / "bozhou-ip-implementation-plan.txt"


@pytest.fixture
def catalogue(db):
    call_command("loaddata", str(settings.BASE_DIR / "fixtures" / "agencies.json"), verbosity=0)


def test_dongli_imports_42_measures_and_100_tasks(catalogue):
    result = import_file(DONGLI)
    plan = result.plan
    assert result.created and plan.jurisdiction == "东丽区" and plan.doc_number == "津丽知略〔2021〕1号"
    assert (plan.period_start, plan.period_end) == (2020, 2021)
    assert plan.measures.count() == 42
    assert Task.objects.filter(measure__plan=plan).count() == 100
    item2 = plan.measures.get(number="2")
    roles = dict(item2.tasks.values_list("agency__name", "role"))
    assert roles == {
        "区金融局": "lead",
        "区发改委": "support",
        "区合作交流办": "support",
        "区科技局": "support",
        "区市场监管局": "support",
    }
    assert item2.deadline_date.isoformat() == "2021-12-31"
    assert plan.measures.filter(is_ongoing=True).count() == 26
    ongoing = Task.objects.filter(measure__plan=plan, is_ongoing=True)
    assert ongoing.exists() and not ongoing.filter(next_report_due__isnull=True).exists()
    assert not Agency.objects.filter(is_confirmed=False).exists(), "every 东丽 agency is in the catalogue"


def test_reimporting_the_same_file_changes_nothing(catalogue):
    first = import_file(DONGLI)
    counts = (Measure.objects.count(), Task.objects.count(), Plan.objects.count())
    again = import_file(DONGLI)
    assert again.unchanged and again.plan == first.plan
    assert (Measure.objects.count(), Task.objects.count(), Plan.objects.count()) == counts


def test_an_amended_file_updates_in_place_and_keeps_progress(catalogue, lead):
    original = DONGLI.read_text(encoding="utf-8")
    plan = import_file(DONGLI).plan
    item2 = plan.measures.get(number="2")
    task = item2.tasks.get(agency__name="区金融局")
    ProgressUpdate.objects.create(task=task, author=lead, text="已出台评议办法", percent=50)
    task.status = Task.Status.IN_PROGRESS
    task.save()
    item3 = plan.measures.get(number="3")
    amended = original.replace(item3.text[:20], "")  # the first clause of item 3 is cut: its text changes
    amended_parsed = parse_text(amended)
    last = plan.measures.order_by("-position").first()
    kept_parsed = amended_parsed.__class__(
        **{
            **{f: getattr(amended_parsed, f) for f in amended_parsed.__dataclass_fields__},
            "measures": tuple(m for m in amended_parsed.measures if m.number != last.number),
        }
    )

    result = import_plan(
        parsed=kept_parsed, data=b"amended", source_name="amended.txt", jurisdiction="东丽区"
    )

    assert result.plan == plan and not result.created
    assert result.measures_updated >= 1 and result.measures_removed == 1
    last.refresh_from_db()
    assert last.is_removed and last.tasks.exists()
    task.refresh_from_db()
    assert task.status == Task.Status.IN_PROGRESS and task.updates.count() == 1
    assert Measure.objects.filter(plan=plan).count() == 42


def test_group_entries_expand_to_known_members(catalogue):
    plan = import_file(BOZHOU).plan
    counties = {"谯城区政府", "涡阳县政府", "蒙城县政府", "利辛县政府"}
    measures_naming_counties = [m for m in plan.measures.all() if "各县、区政府" in m.raw_clause]
    assert measures_naming_counties
    for measure in measures_naming_counties:
        assert counties <= set(measure.tasks.values_list("agency__name", flat=True))
        assert not measure.tasks.filter(agency__name="各县、区政府").exists()


def test_unknown_agencies_become_unconfirmed_and_decisions_create_aliases(catalogue):
    parsed = parse_text(
        "关于印发《2024年东丽区知识产权工作要点》的通知\n"
        "一、重点任务\n"
        "1.建立专利快速预审机制。(区数据局牵头,区金融工作局、区科技局按职责分工负责;2024年12月底前完成)\n"
    )
    finance = Agency.objects.get(jurisdiction="东丽区", name="区金融局")
    result = import_plan(parsed=parsed, jurisdiction="东丽区", decisions={"区金融工作局": finance})
    measure = result.plan.measures.get()
    assert dict(measure.tasks.values_list("agency__name", "role")) == {
        "区数据局": "lead",
        "区金融局": "support",
        "区科技局": "support",
    }
    assert result.agencies_created == ["区数据局"]
    assert not Agency.objects.get(name="区数据局").is_confirmed
    assert finance.aliases.filter(name="区金融工作局").exists()


def test_dry_run_writes_nothing(catalogue):
    result = import_file(DONGLI, dry_run=True)
    assert result.measures_created == 42 and result.tasks_created == 100
    assert not Plan.objects.exists() and not Task.objects.exists()


def test_import_is_one_transaction(catalogue, monkeypatch):
    """A failure while writing the tasks (after plan, sections and measures went in) leaves nothing behind."""

    def disk_full(*args, **kwargs):
        raise RuntimeError("disk full")

    # the step every bulk insert of tasks takes first (Django's bulk_create, or bulk_history's own on PostgreSQL)
    monkeypatch.setattr(TaskQuerySet, "prepare_bulk_create", disk_full)
    with pytest.raises(RuntimeError):
        import_file(DONGLI)
    assert not Plan.objects.exists() and not Measure.objects.exists() and not Task.objects.exists()


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ("区金融局", "区金融局"),
        ("东丽区金融局", "区金融局"),
        ("区市场监管局", "区市场监管局"),
        ("东丽区市场监督管理局", "区市场监管局"),
        ("区金融局等", "区金融局"),
    ],
)
def test_resolver_finds_spellings_within_the_jurisdiction(catalogue, written, expected):
    match = AgencyResolver("东丽区").resolve(written)
    assert match.resolved and match.agency.name == expected and match.agency.jurisdiction == "东丽区"


def test_resolver_uses_parenthesised_aliases_and_the_jurisdiction_prefix(catalogue):
    resolver = AgencyResolver("亳州市")
    assert resolver.resolve("市市场监管局(知识产权局)").agency.name == "市市场监管局(市知识产权局)"
    assert resolver.resolve("市市场监管局（市知识产权局）").agency.name == "市市场监管局(市知识产权局)"
    assert AgencyResolver("江津区").resolve("江津区市场监管局").agency.name == "区市场监管局"


def test_resolver_never_guesses_between_two_candidates(catalogue):
    match = AgencyResolver("天津市").resolve("市市场监管委(市知识产权局)")
    assert not match.resolved and match.how == "ambiguous"
    assert {a.name for a in match.candidates} == {"市市场监管委", "市知识产权局"}


def test_preview_lists_unresolved_names_once(catalogue):
    parsed = parse_text(
        "一、重点任务\n1.甲。(区数据局负责;2024年底前)\n2.乙。(区数据局、区科技局负责;2024年底前)\n"
    )
    preview = build_preview(parsed, jurisdiction="东丽区")
    assert [m.name for m in preview.unresolved] == ["区数据局"]
    assert preview.task_count == 3 and preview.existing_plan is None


def test_parse_plan_command_prints_the_contract(capsys):
    call_command("parse_plan", str(DONGLI), "--json")
    out = json.loads(capsys.readouterr().out)
    assert set(out) == {"plan", "measures", "indicators", "warnings"}
    assert out["plan"]["doc_number"] == "津丽知略〔2021〕1号" and len(out["measures"]) == 42
    assert out["measures"][1]["assignments"][0] == {"agency": "区金融局", "role": "lead"}


def test_commands_fail_with_one_line_in_chinese(tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_text("扫一扫在手机打开当前页\n", encoding="utf-8")
    for command in ("parse_plan", "import_plan"):
        with pytest.raises(CommandError, match="文件不存在"):
            call_command(command, str(tmp_path / "missing.txt"))
        with pytest.raises(CommandError) as excinfo:
            call_command(command, str(empty))
        assert "\n" not in str(excinfo.value) and "措施" in str(excinfo.value)


def test_import_plan_command_reports_counts(catalogue):
    out = io.StringIO()
    call_command("import_plan", str(DONGLI), "--dry-run", stdout=out)
    assert "试运行" in out.getvalue() and "新增措施 42 条" in out.getvalue()
    assert not Plan.objects.exists()


def test_setup_demo_imports_the_seeds_once(db):
    first = io.StringIO()
    call_command("setup_demo", stdout=first)
    assert Plan.objects.count() == len(list(Path(SEEDS).glob("*.*")))
    tasks = Task.objects.count()
    call_command("setup_demo", stdout=io.StringIO())
    assert Task.objects.count() == tasks and "已导入" in first.getvalue()
