"""The five seed plans parse exactly as hand-annotated (tests/parsing/golden)."""

from __future__ import annotations

import datetime
import re

import pytest

from tasks.parsing import parse_file

KEYS = ("000", "001", "002", "003", "004")


def _norm(text: str) -> str:
    """As score.py compares texts: half-width punctuation, no web debris, no whitespace."""
    text = (text or "").translate(str.maketrans("（）〔〕【】，；：", "()()[],;:"))
    text = re.sub(r"/p>|\?[lr]dquo;|\?[lg]t;|&[a-z]+;", "", text)
    return re.sub(r"\s+", "", text)


@pytest.fixture(scope="module")
def parsed(seeds):
    return {key: parse_file(seeds.path(key)) for key in KEYS}


@pytest.mark.parametrize("key", KEYS)
def test_every_golden_measure_is_found_with_its_number_path_and_text(parsed, seeds, key):
    gold = seeds.golden(key)
    by_number = {m.number: m for m in parsed[key].measures}
    assert [m.number for m in parsed[key].measures] == [g["number"] for g in gold["measures"]]
    for g in gold["measures"]:
        m = by_number[g["number"]]
        assert list(m.path) == g["path"], g["number"]
        assert _norm(m.text).startswith(_norm(g["text_prefix"])), g["number"]
        assert m.optional == g.get("optional", False), g["number"]


@pytest.mark.parametrize("key", KEYS)
def test_agencies_roles_and_deadlines_match_the_golden_annotation(parsed, seeds, key):
    gold = seeds.golden(key)
    by_number = {m.number: m.to_contract() for m in parsed[key].measures}
    for g in gold["measures"]:
        m = by_number[g["number"]]
        # the contract's own keys; "collective" is an extra key the annotation format does not have
        assert [{"agency": a["agency"], "role": a["role"]} for a in m["assignments"]] == g["assignments"], g[
            "number"
        ]
        assert m["deadline"] == g["deadline"], g["number"]


def test_group_entries_of_the_seeds_are_marked_as_collectives(parsed):
    kinds = {a.agency: a.collective for plan in parsed.values() for m in plan.measures for a in m.assignments}
    assert kinds["江津区知识产权保护联席会议制度成员单位"] == "named"
    assert kinds["各县、区政府"] == "named"
    assert kinds["各街道办"] == "named"
    assert kinds["市知识产权工作联席会议各成员单位"] == "named"
    assert kinds["区市场监管局"] is None
    assert kinds["市市场监管局(知识产权局)"] is None


@pytest.mark.parametrize("key", KEYS)
def test_plan_metadata_and_indicators_match_the_golden_annotation(parsed, seeds, key):
    gold = seeds.golden(key)
    contract = parsed[key].to_contract()
    for field in ("title", "doc_number", "period"):
        assert contract["plan"][field] == gold["plan"][field], field
    assert contract["indicators"] == [
        {
            k: row[k]
            for k in (
                "category",
                "name",
                "unit",
                "baseline",
                "baseline_year",
                "target",
                "target_year",
                "attribute",
            )
        }
        for row in gold["indicators"]
    ]


@pytest.mark.parametrize("key", KEYS)
def test_contract_leaves_optional_measures_out_unless_asked(parsed, seeds, key):
    gold = seeds.golden(key)
    required = [g["number"] for g in gold["measures"] if not g.get("optional")]
    assert [m["number"] for m in parsed[key].to_contract()["measures"]] == required
    assert len(parsed[key].to_contract(include_optional=True)["measures"]) == len(gold["measures"])


def test_tianjin_14th_measures_has_twelve_measures_out_of_a_damaged_web_copy(parsed):
    plan = parsed["000"]
    assert len(plan.required_measures) == 12
    assert plan.title == "天津市落实《“十四五”国家知识产权保护和运用规划》的任务措施"
    assert plan.measures[0].path == ("一、高标准强化知识产权保护,激发创新创造活力",)  # "活劚/p>" repaired
    assert plan.measures[-1].path == ("三、高规格完善知识产权服务体系,提供便捷高效服务",)
    assert plan.measures[0].clause == "(市高级法院、市检察院、市公安局等按职责分工负责)"
    assert all("/p>" not in m.text and "dquo;" not in m.text for m in plan.measures)
    assert plan.issuer == "市知识产权局"
    assert plan.jurisdiction == "天津市"


def test_dongli_has_42_measures_and_100_agency_shares(parsed):
    plan = parsed["003"]
    assert len(plan.measures) == 42
    assert sum(len(m.assignments) for m in plan.measures) == 100
    item2 = plan.measures[1]
    assert item2.number == "2"
    assert [(a.agency, a.role) for a in item2.assignments] == [
        ("区金融局", "lead"),
        ("区发改委", "support"),
        ("区合作交流办", "support"),
        ("区科技局", "support"),
        ("区市场监管局", "support"),
    ]
    dated = [m for m in plan.measures if m.deadline and m.deadline.date == datetime.date(2021, 12, 31)]
    ongoing = [m for m in plan.measures if m.deadline and m.deadline.ongoing]
    assert (len(dated), len(ongoing)) == (16, 26)
    assert item2.deadline.text == "2021年12月底前完成"
    assert item2.line == 33
    assert (
        item2.clause
        == "(区金融局牵头,区发改委、区合作交流办、区科技局、区市场监管局按职责分工负责;2021年12月底前完成)"
    )


def test_dongli_metadata_comes_from_the_page_and_not_from_the_notice_wrapper(parsed):
    plan = parsed["003"]
    assert plan.title == "2020-2021年天津市东丽区强化知识产权保护推进计划"
    assert plan.doc_number == "津丽知略〔2021〕1号"
    assert plan.issuer == "天津市东丽区市场监督管理局"
    assert plan.jurisdiction == "东丽区"
    assert plan.period == (2020, 2021)


def test_dongli_names_run_together_are_two_agencies(parsed):
    item37 = next(m for m in parsed["003"].measures if m.number == "37")
    assert [a.agency for a in item37.assignments][-2:] == ["区教育局", "各街道办"]


def test_jiangjin_has_18_measures_and_three_optional_guarantees(parsed):
    plan = parsed["004"]
    assert len(plan.required_measures) == 18
    assert [m.number for m in plan.measures if m.optional] == ["(一)", "(二)", "(三)"]
    assert plan.title == "江津区国家知识产权强市建设试点城市工作方案(2024年-2026年)"
    assert plan.doc_number == "江津府办发〔2024〕15号"
    assert plan.jurisdiction == "江津区"
    item5 = next(m for m in plan.measures if m.number == "5")
    assert item5.clause.startswith("〔责任单位:")
    assert [a.agency for a in item5.assignments] == [
        "科学城江津管委会(双福工业园发展中心)",
        "江津区市场监管局",
    ]


def test_bozhou_has_its_nine_indicator_rows(parsed):
    indicators = parsed["002"].indicators
    assert len(indicators) == 9
    first, eighth = indicators[0], indicators[7]
    assert (first.category, first.name, first.unit) == (
        "知识产权创造",
        "每万人口高价值发明专利拥有量(件)",
        "件",
    )
    assert (first.baseline, first.baseline_year, first.target, first.target_year) == ("0.75", 2020, "2", 2025)
    assert first.attribute == "预期性"
    assert (eighth.name, eighth.attribute) == ("知识产权贯标企业数量(家)", None)  # an empty attribute cell
    assert indicators[3].baseline is None  # "/" is empty
    assert parsed["002"].period == (2021, 2025)  # from the table: 2020 baseline, 2025 target


def test_bozhou_several_clauses_under_one_heading_are_numbered_by_it(parsed):
    numbers = [m.number for m in parsed["002"].required_measures]
    assert numbers[:6] == ["(三)", "(四)", "(五)-1", "(五)-2", "(六)-1", "(六)-2"]
    lead = next(m for m in parsed["002"].measures if m.number == "(六)-1").assignments[0]
    assert (lead.agency, lead.role) == ("市市场监管局(市知识产权局)", "lead")


def test_bozhou_box_contents_are_optional_measures_under_the_box_title(parsed):
    box = [m for m in parsed["002"].measures if m.number.startswith("专栏1-")]
    assert len(box) == 3
    assert all(m.optional and not m.assignments for m in box)
    assert box[0].path[-1] == "专栏1中医药产业知识产权提升工程"


def test_tianjin_13th_background_goals_and_principles_are_not_measures(parsed):
    plan = parsed["001"]
    assert not [m for m in plan.measures if m.path and m.path[0].startswith(("一、", "二、"))]
    assert not [m for m in plan.measures if m.line < 64]  # 三、主要任务 starts at line 64
    assert len(plan.required_measures) == 30
    assert plan.measures[0].number == "(一)1"
    projects = [m for m in plan.measures if m.path[0] == "四、重点工程"]
    assert [m.number for m in projects][:2] == ["四(一)", "四(二)"]
    assert projects[0].deadline.text == "到2020年"
    assert projects[0].deadline.date == datetime.date(2020, 12, 31)
    assert projects[1].deadline is None


def test_tianjin_13th_target_list_becomes_indicators(parsed):
    names = [i.name for i in parsed["001"].indicators]
    assert names[:3] == ["年专利申请", "年专利授权量", "有效专利"]
    assert all(i.target_year == 2020 for i in parsed["001"].indicators)


def test_warnings_name_their_line(parsed):
    # 001's background section numbers 1、2、3坚持…、4、: the damaged "3" is a doubt worth telling.
    assert any(w.startswith("第20行") and "不连续" in w for w in parsed["001"].warnings)
    for plan in parsed.values():
        assert all(re.match(r"^第\d+行：", w) for w in plan.warnings)
