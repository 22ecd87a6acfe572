"""Responsibility clauses in all the genre's forms, and prose parentheses that are not clauses."""

from __future__ import annotations

import datetime

import pytest

from tasks.parsing import parse_clause
from tasks.parsing.clauses import find_trailing_clause, is_clause, parse_clause_full

L, S, R = "lead", "support", "responsible"

CLAUSES = [
    # (clause as written, [(agency, role)], deadline date or "ongoing" or None)
    (
        "(区金融局牵头,区发改委、区合作交流办、区科技局、区市场监管局按职责分工负责;2021年12月底前完成)",
        [("区金融局", L), ("区发改委", S), ("区合作交流办", S), ("区科技局", S), ("区市场监管局", S)],
        datetime.date(2021, 12, 31),
    ),
    (
        "(区市场监管局、公安东丽分局、区委宣传部按职责分工负责;持续推进)",
        [("区市场监管局", R), ("公安东丽分局", R), ("区委宣传部", R)],
        "ongoing",
    ),
    ("(公安东丽分局负责;持续推进)", [("公安东丽分局", R)], "ongoing"),
    ("(区市场监管局负责、区农业农村委;持续推进)", [("区市场监管局", R), ("区农业农村委", R)], "ongoing"),
    (
        "(区市场监管局、区科技局、区工信局按照职责分工负责;持续推进)",
        [("区市场监管局", R), ("区科技局", R), ("区工信局", R)],
        "ongoing",
    ),
    (
        "(责任单位:区科技局、区经济信息委、江津区市场监管局按职责分工负责)",
        [("区科技局", R), ("区经济信息委", R), ("江津区市场监管局", R)],
        None,
    ),
    ("(责任单位:区司法局、江津区市场监管局按职责分工)", [("区司法局", R), ("江津区市场监管局", R)], None),
    ("(责任单位:区委宣传部)", [("区委宣传部", R)], None),
    (
        "〔责任单位:科学城江津管委会(双福工业园发展中心)、江津区市场监管局按职责分工负责〕",
        [("科学城江津管委会(双福工业园发展中心)", R), ("江津区市场监管局", R)],
        None,
    ),
    (
        "(市市场监管局(市知识产权局)牵头,市发改委、市科技局、市经信局等按职责分工负责)",
        [("市市场监管局(市知识产权局)", L), ("市发改委", S), ("市科技局", S), ("市经信局", S)],
        None,
    ),
    (
        "(市中院、市检察院、市公安局、市司法局、市市场监管局(知识产权局)牵头,市农业农村局、亳州海关按职责分工负责)",
        [
            ("市中院", L),
            ("市检察院", L),
            ("市公安局", L),
            ("市司法局", L),
            ("市市场监管局(知识产权局)", L),
            ("市农业农村局", S),
            ("亳州海关", S),
        ],
        None,
    ),
    (
        "(市知识产权工作联席会议各成员单位,各县、区政府,亳州高新区管委会、亳芜现代产业园区管委会按职责分工负责)",
        [
            ("市知识产权工作联席会议各成员单位", R),
            ("各县、区政府", R),
            ("亳州高新区管委会", R),
            ("亳芜现代产业园区管委会", R),
        ],
        None,
    ),
    (
        "(区市场监管局牵头,各成员单位按职责分工负责;2021年12月底前完成)",
        [("区市场监管局", L), ("各成员单位", S)],
        datetime.date(2021, 12, 31),
    ),
    ("（农业农村部、工业和信息化部牵头负责）", [("农业农村部", L), ("工业和信息化部", L)], None),
    ("（人力资源社会保障部等有关部门和单位负责）", [("人力资源社会保障部", R)], None),
    (
        "（各有关部门和单位，各省级人民政府按职责分工负责）",
        [("各有关部门和单位", R), ("各省级人民政府", R)],
        None,
    ),
    (
        "（商务部、发展改革委、农业农村部等和各有关省级人民政府负责）",
        [("商务部", R), ("发展改革委", R), ("农业农村部", R), ("各有关省级人民政府", R)],
        None,
    ),
    # the crowd 会同 names is kept (a vague collective the import resolves per measure); the one named leads it
    ("（国家发展改革委会同有关部门负责）", [("国家发展改革委", L), ("有关部门", S)], None),
    ("（区知识产权局会同区财政局负责）", [("区知识产权局", L), ("区财政局", S)], None),
    (
        "(区委宣传部牵头,区教育局、区科协配合;2021年4月)",
        [("区委宣传部", L), ("区教育局", S), ("区科协", S)],
        datetime.date(2021, 4, 30),
    ),
    (
        "(区金融局(牵头)、区发改委;2021年底前)",
        [("区金融局", L), ("区发改委", S)],
        datetime.date(2021, 12, 31),
    ),
    ("（区科技局主责，区财政局配合）", [("区科技局", L), ("区财政局", S)], None),
    (
        "牵头单位:区金融局 配合单位:区发改委、区科技局 完成时限:2021年12月底前",
        [("区金融局", L), ("区发改委", S), ("区科技局", S)],
        datetime.date(2021, 12, 31),
    ),
    (
        "牵头单位：区金融局；配合单位：区发改委；完成时限：长期坚持",
        [("区金融局", L), ("区发改委", S)],
        "ongoing",
    ),
    (
        "【牵头单位】区司法局【配合单位】区法院【完成时限】2022年6月30日前",
        [("区司法局", L), ("区法院", S)],
        datetime.date(2022, 6, 30),
    ),
    ("(区市场监管局、区科技局)", [("区市场监管局", R), ("区科技局", R)], None),
    ("(区金融局负责)(2022年6月底前)", [("区金融局", R)], datetime.date(2022, 6, 30)),
    ("(区科技局、区财政局负责,区税务局配合)", [("区科技局", R), ("区财政局", R), ("区税务局", S)], None),
]


@pytest.mark.parametrize(("clause", "expected", "due"), CLAUSES)
def test_clause_forms(clause, expected, due):
    assignments, deadline = parse_clause(clause)
    assert [(a.agency, a.role) for a in assignments] == expected
    if due is None:
        assert deadline is None
    elif due == "ongoing":
        assert deadline.ongoing and deadline.date is None
    else:
        assert deadline.date == due


@pytest.mark.parametrize(
    ("clause", "expected"),
    [
        (
            "（人力资源社会保障部、财政部负责。列第一位者为牵头单位，下同）",
            [("人力资源社会保障部", L), ("财政部", S)],
        ),
        (
            "（税务总局、财政部、海关总署负责，排在第一位的部门为牵头部门，下同）",
            [("税务总局", L), ("财政部", S), ("海关总署", S)],
        ),
    ],
)
def test_a_clause_declaring_the_first_listed_lead_applies_it_to_itself(clause, expected):
    result = parse_clause_full(clause)
    assert result.declares_first_lead
    assert [(a.agency, a.role) for a in result.assignments] == expected


def test_with_the_first_listed_lead_convention_in_force_the_first_agency_leads():
    assignments, _ = parse_clause("（财政部、工业和信息化部、人民银行、银保监会负责）", first_is_lead=True)
    assert [a.role for a in assignments] == [L, S, S, S]
    assignments, _ = parse_clause("（农业农村部、工业和信息化部牵头负责）", first_is_lead=True)
    assert [a.role for a in assignments] == [L, L]  # an explicit 牵头 still says who leads


def test_the_excel_importer_cells_read_as_a_clause():
    assignments, deadline = parse_clause(
        "牵头单位:区金融局;配合单位:区发改委、区科技局;完成时限:2021年12月底前"
    )
    assert [(a.agency, a.role) for a in assignments] == [("区金融局", L), ("区发改委", S), ("区科技局", S)]
    assert deadline.date == datetime.date(2021, 12, 31)


@pytest.mark.parametrize(
    "aside",
    [
        "此件公开发布",
        "征求意见稿",
        "2024年-2026年",
        "含技工院校",
        "地、州、盟",
        "试点",
        "如专利、商标、著作权",
        "以下简称“知识产权局”",
        "津市场监管办〔2021〕39号",
        "企业直接向国家发展改革委申报，不需省级发展改革部门转报",
        "节",
        "第一批",
    ],
)
def test_prose_parentheses_are_not_clauses(aside):
    assert not is_clause(aside)


@pytest.mark.parametrize(
    ("paragraph", "own", "clause"),
    [
        (
            "严格实施《天津市知识产权保护条例》,依法加大保护力度。(区市场监管局负责;持续推进)",
            "严格实施《天津市知识产权保护条例》,依法加大保护力度。",
            "(区市场监管局负责;持续推进)",
        ),
        (
            "营造知识产权保护良好舆论氛围,(区委宣传部按职责分工负责;2021年12月底前完成)",
            "营造知识产权保护良好舆论氛围",
            "(区委宣传部按职责分工负责;2021年12月底前完成)",
        ),
        (
            "完善机制。责任单位:区司法局;完成时限:2021年底",
            "完善机制。",
            "责任单位:区司法局;完成时限:2021年底",
        ),
        (
            "加强保护(市高级法院、市检察院等按职责分工负责",
            "加强保护",
            "(市高级法院、市检察院等按职责分工负责",
        ),
    ],
)
def test_a_trailing_clause_is_split_from_the_measure_text(paragraph, own, clause):
    assert find_trailing_clause(paragraph) == (own, clause)


@pytest.mark.parametrize(
    "paragraph",
    [
        "培育20个市版权示范单位(园区),打造10个全国版权示范单位(园区)。",
        "支持各类职业院校(含技工院校)、普通高等学校承担培训。",
        "推出一批思想性、艺术性有机统一的剧(节)目",
        "现将《江津区国家知识产权强市建设试点城市工作方案(2024年-2026年)》印发给你们",
    ],
)
def test_paragraphs_ending_in_prose_parentheses_have_no_clause(paragraph):
    assert find_trailing_clause(paragraph) is None


def test_a_clause_with_no_agency_is_reported_as_unread():
    result = parse_clause_full("(按要求推进)")
    assert result.assignments == []
