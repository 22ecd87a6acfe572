"""`import_plan FILE [--jurisdiction J] [--revision-of ID | --new] [--decisions FILE.json] [--dry-run] [--json]`."""

import io
import json

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from agencies.models import Agency
from tasks.models import Measure, Plan, PlanRevision, Task

ITEMS = [
    "建立健全重大投融资活动知识产权评议工作机制。(区金融局牵头,区发改委、区科技局按职责分工负责;2021年12月底前完成)",
    "开展知识产权宣传周活动,普及知识产权知识。(区委宣传部负责;持续推进)",
    "建立专利快速预审机制,提升审查效率。(区市场监管局牵头,区科技局配合;2021年6月底前完成)",
    "推动知识产权质押融资扩面增量。(区金融局、区财政局负责;2021年12月底前完成)",
]


def write(tmp_path, name: str, items: list[str], encoding: str = "utf-8"):
    text = "东丽区2021年知识产权工作要点\n一、重点任务\n" + "".join(
        f"{n}.{t}\n" for n, t in enumerate(items, 1)
    )
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def run(*args) -> str:
    out = io.StringIO()
    call_command("import_plan", *map(str, args), stdout=out)
    return out.getvalue()


@pytest.fixture
def catalogue(db):
    call_command("loaddata", str(settings.BASE_DIR / "fixtures" / "agencies.json"), verbosity=0)


def test_unattended_revision_prints_the_diff_in_chinese(catalogue, tmp_path):
    run(write(tmp_path, "v1.txt", ITEMS))
    out = run(write(tmp_path, "v2.txt", ITEMS[:2] + ITEMS[3:], encoding="gb18030"))
    assert "识别为《东丽区2021年知识产权工作要点》的修订(措施重合度 75%)" in out
    assert "- 移除 3. 建立专利快速预审机制" in out and "# 编号 4 → 3. 推动知识产权质押融资扩面增量" in out
    assert "更新 1 条,标记移除 1 条" in out
    assert Plan.objects.count() == 1 and PlanRevision.objects.count() == 2
    assert "未作改动" in run(write(tmp_path, "v2-again.txt", ITEMS[:2] + ITEMS[3:]))


def test_json_output_is_the_diff_as_data(catalogue, tmp_path):
    run(write(tmp_path, "v1.txt", ITEMS))
    out = json.loads(run(write(tmp_path, "v2.txt", ITEMS[:2] + ITEMS[3:]), "--json"))
    assert out["created"] is False and out["match"] == {"kind": "revision", "overlap": 0.75}
    assert [m["number"] for m in out["diff"]["removed"]] == ["3"]
    assert [(r["old_number"], r["number"]) for r in out["diff"]["renumbered"]] == [("4", "3")]
    assert out["counts"]["measures_removed"] == 1 and out["revision"] == 2
    assert PlanRevision.objects.get(number=2).diff == out["diff"]


def test_dry_run_prints_the_diff_and_writes_nothing(catalogue, tmp_path):
    run(write(tmp_path, "v1.txt", ITEMS))
    tasks = set(Task.objects.values_list("pk", flat=True))
    out = run(write(tmp_path, "v2.txt", ITEMS[1:]), "--dry-run")
    assert out.startswith("(试运行,未写入)") and "- 移除 1. 建立健全重大投融资活动" in out
    assert not Measure.objects.filter(is_removed=True).exists() and PlanRevision.objects.count() == 1
    assert set(Task.objects.values_list("pk", flat=True)) == tasks


def test_new_and_revision_of_override_recognition(catalogue, tmp_path):
    first = Plan.objects.get(pk=json.loads(run(write(tmp_path, "v1.txt", ITEMS), "--json"))["plan"]["id"])
    out = json.loads(run(write(tmp_path, "copy.txt", ITEMS[:3]), "--new", "--json"))
    assert out["created"] and Plan.objects.count() == 2
    other = write(tmp_path, "other.txt", ["完全不同的一项工作安排。(区教育局负责;2021年底前)"])
    out = json.loads(run(other, "--revision-of", first.pk, "--json"))
    assert out["plan"]["id"] == first.pk and len(out["diff"]["added"]) == 1
    with pytest.raises(CommandError, match="找不到编号为 999999 的计划"):
        run(other, "--revision-of", 999999)
    with pytest.raises(CommandError):
        run(other, "--revision-of", first.pk, "--new")


def test_decisions_file_maps_ignores_and_groups_names(catalogue, tmp_path):
    items = ["建立数据知识产权登记制度。(区数据局牵头,单位、各有关街道配合;2021年底前)"]
    streets = [Agency.objects.create(name=n, jurisdiction="东丽区") for n in ("张贵庄街道", "万新街道")]
    decisions = tmp_path / "decisions.json"
    decisions.write_text(
        json.dumps(
            {
                "names": {
                    "区数据局": {"kind": "agency", "agency": "区市场监管局"},
                    "单位": {"kind": "ignore"},
                    "各有关街道": {"kind": "collective", "members": [a.pk for a in streets]},
                }
            },
            ensure_ascii=False,
        ),
        encoding="utf-8",
    )
    run(write(tmp_path, "data.txt", items), "--decisions", decisions)
    roles = dict(Task.objects.values_list("agency__name", "role"))
    assert roles == {"区市场监管局": "lead", "张贵庄街道": "support", "万新街道": "support"}
    assert (
        Agency.objects.get(jurisdiction="东丽区", name="区市场监管局")
        .aliases.filter(name="区数据局")
        .exists()
    )

    decisions.write_text("{not json", encoding="utf-8")
    with pytest.raises(CommandError, match="不是有效的 JSON"):
        run(write(tmp_path, "data2.txt", items), "--decisions", decisions)
    decisions.write_text(json.dumps({"names": {"区数据局": {"kind": "agency", "agency": "没有这个局"}}}))
    with pytest.raises(CommandError, match="找不到单位“没有这个局”"):
        run(write(tmp_path, "data3.txt", items), "--decisions", decisions)
