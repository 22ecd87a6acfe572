"""Document structure: heading levels, task and non-task sections, boxes, clause lines, metadata."""

from __future__ import annotations

import datetime

import pytest

from tasks.parsing import parse_text
from tasks.parsing.layout import cn_to_int, match_heading

WORK_POINTS = """2021年东丽区知识产权工作要点
一、工作目标
到2021年底，全区知识产权保护水平明显提升。
二、重点任务
（一）完善保护体系
1．建立知识产权纠纷快速处理机制。
牵头单位：区市场监管局
配合单位：区司法局、区法院
完成时限：2021年6月底前
2．开展“铁拳”行动。（区市场监管局负责；每年开展）
3．推进“蓝天”专项整治。（区市场监管局、公安东丽分局分别负责，三季度完成）
（二）强化宣传
4．组织知识产权宣传周活动。（区委宣传部牵头，区教育局、区科协配合；2021年4月）
5．加强中小学知识产权教育。
责任单位：区教育局（牵头）、区科协；时间节点：长期坚持
三、保障措施
（一）加强组织领导。成立工作专班，统筹推进。
（二）强化督查考核。将工作纳入考核。（区委组织部负责）
"""


@pytest.fixture(scope="module")
def work_points():
    return parse_text(WORK_POINTS)


def test_numbered_items_in_task_sections_are_measures(work_points):
    assert [m.number for m in work_points.required_measures] == ["1", "2", "3", "4", "5", "(二)"]
    assert work_points.measures[0].path == ("二、重点任务", "(一)完善保护体系")


def test_labelled_clause_lines_after_an_item_belong_to_it(work_points):
    first = work_points.measures[0]
    assert first.text == "建立知识产权纠纷快速处理机制。"
    assert [(a.agency, a.role) for a in first.assignments] == [
        ("区市场监管局", "lead"),
        ("区司法局", "support"),
        ("区法院", "support"),
    ]
    assert first.deadline.date == datetime.date(2021, 6, 30)
    assert first.clause.startswith("牵头单位:区市场监管局")
    fifth = work_points.measures[4]
    assert [(a.agency, a.role) for a in fifth.assignments] == [("区教育局", "lead"), ("区科协", "support")]
    assert fifth.deadline.ongoing


def test_year_less_deadline_takes_the_plan_year_with_a_warning(work_points):
    third = work_points.measures[2]
    assert third.deadline.date == datetime.date(2021, 9, 30)
    assert any(w.startswith("第11行：") and "未写年份" in w for w in work_points.warnings)


def test_yearly_work_is_ongoing(work_points):
    assert work_points.measures[1].deadline.recurrence == "yearly"


def test_guarantee_items_without_clause_are_optional(work_points):
    guarantees = [m for m in work_points.measures if m.path == ("三、保障措施",)]
    assert [(m.number, m.optional) for m in guarantees] == [("(一)", True), ("(二)", False)]
    assert guarantees[0].text == "加强组织领导。成立工作专班,统筹推进。"


def test_goal_sections_are_not_measures(work_points):
    assert all(not m.path or m.path[0] != "一、工作目标" for m in work_points.measures)


def test_metadata_of_a_one_year_plan(work_points):
    assert work_points.title == "2021年东丽区知识产权工作要点"
    assert work_points.period == (2021, 2021)
    assert work_points.jurisdiction == "东丽区"


def test_background_principles_and_guiding_thought_are_skipped():
    text = """某市知识产权保护规划
一、发展基础
（一）主要成效
1.专利申请量大幅增长。(市知识产权局负责)
二、指导思想和基本原则
（一）指导思想
以习近平新时代中国特色社会主义思想为指导。
（二）基本原则
1.坚持改革创新。
三、主要任务
（一）夯实发展基础
加强知识产权基础设施建设，完善公共服务网点。
（二）实施知识产权强企工程
培育一批知识产权优势企业。
"""
    plan = parse_text(text)
    assert [m.number for m in plan.measures] == ["(一)", "(二)"]
    assert plan.measures[0].path == (
        "三、主要任务",
        "(一)夯实发展基础",
    )  # a task heading, though it says 发展基础
    assert plan.measures[0].text == "加强知识产权基础设施建设,完善公共服务网点。"


def test_a_section_heading_with_prose_only_is_not_a_measure():
    text = """某区知识产权工作方案
一、重点任务
1.加强执法。(区市场监管局负责)
二、有关要求
各单位要高度重视，认真落实。
"""
    assert [m.number for m in parse_text(text).measures] == ["1"]


def test_sub_points_without_clauses_are_part_of_their_item():
    text = """某区知识产权工作方案
一、重点任务
1.加强专利保护。(区市场监管局负责;2022年底前完成)
(1)开展专项行动。
(2)建立快速通道。
2.推进商标品牌建设。
⑴培育区域品牌(区市场监管局负责)
⑵开展品牌宣传(区委宣传部负责)
"""
    plan = parse_text(text)
    assert [m.number for m in plan.measures] == ["1", "(1)", "(2)"]
    assert "建立快速通道" in plan.measures[0].text
    assert plan.measures[2].assignments[0].agency == "区委宣传部"


def test_a_box_without_borders_ends_at_the_next_heading():
    text = """某市知识产权规划
一、主要任务
（一）强化保护
加强行政执法。（市市场监管局负责）
专栏1 知识产权保护工程
建设保护中心。
完善维权网点。
（二）促进运用
推进质押融资。（市金融局负责）
"""
    plan = parse_text(text)
    assert [(m.number, m.optional) for m in plan.measures] == [
        ("(一)", False),
        ("专栏1-1", True),
        ("专栏1-2", True),
        ("(二)", False),
    ]


def test_repeated_numbers_are_qualified_by_their_parent():
    text = """某市知识产权规划
一、主要任务
（一）强化保护
1、加强执法。
2、完善机制。
（二）促进运用
1、推进融资。
"""
    assert [m.number for m in parse_text(text).measures] == ["(一)1", "(一)2", "(二)1"]


def test_the_plan_after_a_notice_wrapper_is_read_from_its_own_title():
    text = """关于印发《某区强化知识产权保护工作方案》的通知
各街道、各部门：
一、高度重视。请认真贯彻落实。
二、按时报送。请于年底前报送进展情况。
某区知识产权局
2021年3月1日
某区强化知识产权保护工作方案
一、重点任务
1.加强执法。(区市场监管局负责)
"""
    plan = parse_text(text)
    assert [m.number for m in plan.measures] == ["1"]
    assert plan.title == "某区强化知识产权保护工作方案"
    assert plan.issuer == "某区知识产权局"


def test_state_council_metadata():
    text = """国务院关于促进综合保税区
高水平开放高质量发展的若干意见
国发〔2019〕3号
各省、自治区、直辖市人民政府，国务院各部委、各直属机构：
四、主要任务
1.拓展两个市场。积极稳妥推广试点。（税务总局、财政部负责）
国务院
2019年1月12日
"""
    plan = parse_text(text)
    assert plan.title == "国务院关于促进综合保税区高水平开放高质量发展的若干意见"
    assert plan.doc_number == "国发〔2019〕3号"
    assert plan.issuer == "国务院"
    assert plan.jurisdiction == "全国"


def test_unusual_numbering_becomes_a_warning():
    text = "某区工作方案\n一、重点任务\n1.加强执法。(区市场监管局负责)\n一)这是什么编号\n3.完善机制。(区司法局负责)\n"
    warnings = parse_text(text).warnings
    assert any(w.startswith("第4行：无法识别的标题编号") for w in warnings)
    assert any(w.startswith("第5行：") and "不连续" in w for w in warnings)


def test_unknown_agencies_are_reported_when_a_list_is_given():
    text = "某区工作方案\n一、重点任务\n1.加强执法。(区市场监管局、区火星局负责)\n"
    plan = parse_text(text, known_agencies={"区市场监管局"})
    assert [w for w in plan.warnings if "未知单位" in w] == ["第3行：未知单位“区火星局”"]
    assert not [w for w in parse_text(text).warnings if "未知单位" in w]


def test_measure_without_clause_among_measures_with_clauses_is_a_doubt():
    text = "某区工作方案\n一、重点任务\n1.加强执法。(区市场监管局负责)\n2.完善机制。\n3.推进融资。(区金融局负责)\n"
    assert "第4行：任务“2”没有找到责任单位" in parse_text(text).warnings


@pytest.mark.parametrize(
    ("line", "number", "style"),
    [
        ("一、加强保护", "一", "ch"),
        ("（十二）完善机制", "(十二)", "pch"),
        ("(三)完善机制", "(三)", "pch"),
        ("1.加强执法", "1", "ar"),
        ("12、加强执法", "12", "ar"),
        ("3．加强执法", "3", "ar"),
        ("（1）开展行动", "(1)", "par"),
        ("第二章 主要任务", "第二章", "chapter"),
        ("②开展行动", "②", "circ"),
    ],
)
def test_heading_patterns(line, number, style):
    from tasks.parsing.reader import clean_line

    heading = match_heading(clean_line(line), 1)
    assert (heading.number, heading.style) == (number, style)


@pytest.mark.parametrize(
    "line", ["1.5亿元用于支持", "2020年专利申请", "4.26世界知识产权日", "十三五期间", "一是加强"]
)
def test_lines_that_only_look_numbered_are_not_headings(line):
    assert match_heading(line, 1) is None


@pytest.mark.parametrize(
    ("text", "value"), [("一", 1), ("十", 10), ("十二", 12), ("二十一", 21), ("一百零二", 102)]
)
def test_chinese_numerals(text, value):
    assert cn_to_int(text) == value


def test_a_preamble_saying_the_first_listed_agency_leads_applies_below_it():
    text = """某区知识产权工作任务
以下各项任务中，排在第一位的单位为牵头单位。
一、重点任务
1.加强执法。(区市场监管局、公安东丽分局负责)
2.推进融资。(区金融局负责)
"""
    plan = parse_text(text)
    assert [(a.agency, a.role) for a in plan.measures[0].assignments] == [
        ("区市场监管局", "lead"),
        ("公安东丽分局", "support"),
    ]


def test_a_box_numbering_its_own_items_keeps_them():
    text = """关于印发《东丽区知识产权工作方案》的通知(津丽知〔2022〕3号)
东丽区知识产权工作方案
一、重点任务
1.加强执法。(区市场监管局负责)
专栏1 保护工程
1.建设保护中心。
2.完善维权网点。
2.推进融资。(区金融局负责)
"""
    plan = parse_text(text)
    assert [(m.number, m.text) for m in plan.measures] == [
        ("1", "加强执法。"),
        ("专栏1-1", "建设保护中心。"),
        ("专栏1-2", "完善维权网点。"),
        ("2", "推进融资。"),
    ]
    assert plan.doc_number == "津丽知〔2022〕3号"
    assert plan.title == "东丽区知识产权工作方案"


@pytest.mark.parametrize(
    ("header", "baseline", "target"),
    [
        (["分类", "主要指标", "2020年实现值", "2025年目标值", "属性"], (2, 2020), (3, 2025)),
        (["指标名称", "单位", "2020年", "2025年", "属性"], (2, 2020), (3, 2025)),
        (["序号", "指标", "2025年", "属性"], (None, None), (2, 2025)),
        (["指标", "基期值", "目标值"], (1, None), (2, None)),
    ],
)
def test_indicator_table_headers(header, baseline, target):
    from tasks.parsing.indicators import read_header

    cols = read_header(header)
    assert (cols.baseline, cols.baseline_year) == baseline
    assert (cols.target, cols.target_year) == target


def test_an_indicator_table_with_a_unit_column():
    text = """某市知识产权规划
一、发展目标
指标名称 | 单位 | 2020年 | 2025年 | 属性
每万人口发明专利拥有量 | 件 | 12.2 | 20 | 预期性
知识产权质押融资额 | 亿元 | — | 50 | 约束性
二、主要任务
（一）加强保护。完善体系。
"""
    plan = parse_text(text)
    assert [(i.name, i.unit, i.baseline, i.target, i.attribute) for i in plan.indicators] == [
        ("每万人口发明专利拥有量", "件", "12.2", "20", "预期性"),
        ("知识产权质押融资额", "亿元", None, "50", "约束性"),
    ]
    assert plan.period == (2021, 2025)


def test_a_flat_plan_of_sections_with_prose_makes_each_section_a_measure():
    text = (
        "某区知识产权工作要点\n一、加强知识产权保护\n开展执法专项行动，严厉打击侵权假冒。\n"
        "二、促进知识产权运用\n推进质押融资，扩大融资规模。\n三、保障措施\n各单位要高度重视。\n"
    )
    plan = parse_text(text)
    assert [(m.number, m.optional) for m in plan.measures] == [("一", False), ("二", False), ("三", True)]
    assert plan.measures[0].path == ("一、加强知识产权保护",)
