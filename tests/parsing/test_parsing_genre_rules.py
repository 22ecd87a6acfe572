"""Rules of the genre beyond the seeds: collective subjects, 'and others', role words inside names, deadlines
anywhere in an item, items whose text begins with digits, and lines with "|" that are not table rows."""

from __future__ import annotations

import datetime

import pytest

from tasks.parsing import assignments_from_lists, collective_kind, parse_clause, parse_text, split_agencies
from tasks.parsing.agencies import split_agencies_full
from tasks.parsing.clauses import find_trailing_clause, parse_clause_full
from tasks.parsing.deadlines import deadline_in_body, opens_with_deadline
from tasks.parsing.reader import normalize_width

L, S, R = "lead", "support", "responsible"
D = datetime.date


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("各区、县（市）", "named"),
        ("各区、县(市)人民政府", "named"),
        ("各市、县人民政府", "named"),
        ("各县（市、区）人民政府", "named"),
        ("各成员单位", "named"),
        ("各责任单位", "named"),
        ("市知识产权工作联席会议各成员单位", "named"),
        ("江津区知识产权保护联席会议制度成员单位", "named"),
        ("国务院各部委", "named"),
        ("各省级人民政府", "named"),
        ("各街道办", "named"),
        ("有关部门", "vague"),
        ("各有关单位", "vague"),
        ("相关单位", "vague"),
        ("各有关区", "vague"),
        ("市直有关部门", "vague"),
        ("各有关部门和单位", "vague"),
        ("各有关省级人民政府", "vague"),
        ("项目责任单位", "vague"),
        ("市科技局", None),
        ("市市场监管局(知识产权局)", None),
        ("人民银行临江市中心支行", None),
        ("", None),
    ],
)
def test_collective_kind(name, kind):
    assert collective_kind(name) == kind


@pytest.mark.parametrize(
    ("text", "names", "others"),
    [
        ("市科技局、各区、县（市）", ["市科技局", "各区、县(市)"], False),
        ("各区、县（市）、市科技局", ["各区、县(市)", "市科技局"], False),
        ("各区、县（市）人民政府，市直有关部门", ["各区、县(市)人民政府", "市直有关部门"], False),
        ("市发展改革委、各市、县人民政府", ["市发展改革委", "各市、县人民政府"], False),
        ("各县（市、区）人民政府、市财政局", ["各县(市、区)人民政府", "市财政局"], False),
        ("各课题牵头单位、项目责任单位", ["各课题牵头单位", "项目责任单位"], False),
        ("市财政局、市税务局等部门", ["市财政局", "市税务局"], True),
        ("市财政局、市税务局等", ["市财政局", "市税务局"], True),
        ("海关总署、商务部等有关部门负责", ["海关总署", "商务部"], True),
        ("商务部等和各有关省级人民政府负责", ["商务部", "各有关省级人民政府"], True),
        ("各高等学校、市教育局", ["各高等学校", "市教育局"], False),  # the 等 of a name is no "and others"
        ("各成员单位负责", ["各成员单位"], False),
        ("区、县", ["区", "县"], False),  # bare levels without 各 stay as written
        ("各区、县（市）和市直有关部门", ["各区、县(市)", "市直有关部门"], False),
        ("各市（州）、县（市、区）人民政府", ["各市(州)、县(市、区)人民政府"], False),
        ("各县、市、区", ["各县、市、区"], False),
        ("省委宣传部和省版权局", ["省委宣传部", "省版权局"], False),
        ("各有关部门和单位", ["各有关部门和单位"], False),  # 和 inside a collective
        ("工业和信息化部、中央和国家机关工委", ["工业和信息化部", "中央和国家机关工委"], False),
    ],
)
def test_collectives_stay_whole_and_and_others_is_flagged(text, names, others):
    assert split_agencies_full(text) == (names, others)
    assert split_agencies(text) == names


CLAUSES = [
    (
        "（牵头单位：市科技局，配合单位：各课题牵头单位；完成时限：2014年9月底前）",
        [("市科技局", L), ("各课题牵头单位", S)],
        D(2014, 9, 30),
    ),
    (
        "（牵头单位：市发展改革委，配合单位：市国资委、项目责任单位）",
        [("市发展改革委", L), ("市国资委", S), ("项目责任单位", S)],
        None,
    ),
    ("（市教育局牵头，各区、县（市）配合）", [("市教育局", L), ("各区、县(市)", S)], None),
    (
        "（各区、县（市）人民政府，市直有关部门按职责分工负责）",
        [("各区、县(市)人民政府", R), ("市直有关部门", R)],
        None,
    ),
    ("（牵头单位：市商务局，配合单位：有关部门）", [("市商务局", L), ("有关部门", S)], None),
    (
        "（国家知识产权局牵头，有关部门按职责分工负责；持续推进）",
        [("国家知识产权局", L), ("有关部门", S)],
        None,
    ),
    ("（科技部会同有关部门负责）", [("科技部", L), ("有关部门", S)], None),
    (
        "（司法部、国家知识产权局负责；2020年底前出台）",
        [("司法部", R), ("国家知识产权局", R)],
        D(2020, 12, 31),
    ),
    ("（各课题牵头单位负责）", [("各课题牵头单位", R)], None),
    ("（市科技局为牵头单位，市财政局配合）", [("市科技局", L), ("市财政局", S)], None),
    # the deadline anywhere inside the clause, also within a labelled list
    (
        "（牵头单位：市商务局，2014年9月底前完成，配合单位：市财政局）",
        [("市商务局", L), ("市财政局", S)],
        D(2014, 9, 30),
    ),
    (
        "（牵头单位：市商务局，配合单位：市财政局，2014年9月底前完成）",
        [("市商务局", L), ("市财政局", S)],
        D(2014, 9, 30),
    ),
    ("（2014年9月底前完成；牵头单位：市商务局）", [("市商务局", L)], D(2014, 9, 30)),
]


@pytest.mark.parametrize(("clause", "expected", "due"), CLAUSES)
def test_clauses_with_collectives_and_compound_names(clause, expected, due):
    assignments, deadline = parse_clause(clause)
    assert [(a.agency, a.role) for a in assignments] == expected
    assert (deadline.date if deadline else None) == due
    assert all(a.collective == collective_kind(a.agency) for a in assignments)


def test_and_others_comes_with_the_clause():
    assert parse_clause_full("（牵头单位：市委宣传部，配合单位：市教育局、市科协等部门）").and_others
    assert parse_clause_full("（教育部、人力资源社会保障部等按职责分工负责）").and_others
    assert not parse_clause_full("（牵头单位：市委宣传部，配合单位：市教育局）").and_others


def test_a_deadline_after_the_clause_keeps_the_clauses_agencies():
    paragraph = normalize_width(
        "完善专利资助政策。调整标准。（牵头单位：市知识产权局，配合单位：市财政局）2015年6月底前完成。"
    )
    own, clause = find_trailing_clause(paragraph)
    assert own == "完善专利资助政策。调整标准。"
    assignments, deadline = parse_clause(clause)
    assert [(a.agency, a.role) for a in assignments] == [("市知识产权局", L), ("市财政局", S)]
    assert deadline.date == D(2015, 6, 30)


def test_assignments_from_role_labelled_cells():
    got = assignments_from_lists("市科技局", "市财政局、各区、县（市）、市商务局等部门")
    assert [(a.agency, a.role, a.collective) for a in got] == [
        ("市科技局", L, None),
        ("市财政局", S, None),
        ("各区、县(市)", S, "named"),
        ("市商务局", S, None),
    ]
    assert [(a.agency, a.role) for a in assignments_from_lists(None, None, "市科技局、有关部门")] == [
        ("市科技局", R),
        ("有关部门", R),
    ]
    assert [(a.agency, a.role) for a in assignments_from_lists(None, None, "市科技局牵头，市财政局配合")] == [
        ("市科技局", L),
        ("市财政局", S),
    ]
    assert [(a.agency, a.role) for a in assignments_from_lists("各课题牵头单位", "项目责任单位")] == [
        ("各课题牵头单位", L),
        ("项目责任单位", S),
    ]
    assert [(a.agency, a.role) for a in assignments_from_lists("市科技局", None, "市财政局")] == [
        ("市科技局", L),
        ("市财政局", S),
    ]
    assert assignments_from_lists(None, "", "  ") == ()
    # the same rules as the labelled clause a task table's row becomes
    cells = ("市科技局牵头，市财政局配合", "各有关单位", None)
    clause = "（牵头单位：市科技局牵头，市财政局配合；配合单位：各有关单位）"
    assert assignments_from_lists(*cells) == parse_clause(clause)[0]


@pytest.mark.parametrize(
    ("text", "date", "ongoing", "recurrence"),
    [
        ("培育高价值专利，2014年12月底前完成。", D(2014, 12, 31), False, None),
        ("建设维权热线，2014年10月底前开通。", D(2014, 10, 31), False, None),
        ("完善机构建设，力争2015年底前建成。", D(2015, 12, 31), False, None),
        ("实现网上办理，年底前完成。", D(2014, 12, 31), False, None),
        ("形成分析报告，第三季度末前完成。", D(2014, 9, 30), False, None),
        ("聘请专家，上半年完成。", D(2014, 6, 30), False, None),
        ("建立统计体系，年内完成。", D(2014, 12, 31), False, None),
        ("纳入考核体系，每年组织考核。", None, True, "yearly"),
        ("开展年度评估，长期坚持。", None, True, None),
        ("推动信息共享，持续推进。", None, True, None),
        ("按季度通报，每季度通报一次。", None, True, None),
    ],
)
def test_deadlines_in_an_items_own_text(text, date, ongoing, recurrence):
    deadline, _doubt = deadline_in_body(text, (2014, 2016))
    assert (deadline.date, deadline.ongoing, deadline.recurrence) == (date, ongoing, recurrence)


@pytest.mark.parametrize(
    "text",
    [
        "持续推进商标品牌建设，加快培育品牌。",  # 持续推进 as the verb of a sentence
        "为中小企业提供托管服务，每年托管企业不少于100家。",  # a yearly quantity, not a deadline
        "纳入年度财政预算，2014年起逐步加大投入。",
        "到2016年，全市发明专利申请量年均增长20%以上。",  # a goal, not the item's deadline
    ],
)
def test_prose_that_is_not_a_deadline(text):
    assert deadline_in_body(text, (2014, 2016)) == (None, None)


def test_opens_with_deadline():
    assert opens_with_deadline("2020年底前出台")  # "出台" ends like 电视台, yet it names nobody
    assert not opens_with_deadline("市电视台")


def test_a_deadline_before_the_clause_keeps_the_clause_and_its_agencies():
    plan = parse_text(
        "二、主要任务\n"
        "1.实施专利质量提升工程。培育高价值专利，2014年12月底前完成。（牵头单位：市知识产权局，配合单位：各区、县（市））\n"
        "2.完善资助政策。调整资助标准。（牵头单位：市知识产权局，配合单位：市财政局）2015年6月底前完成。\n"
    )
    first, second = plan.measures
    assert [(a.agency, a.role) for a in first.assignments] == [("市知识产权局", L), ("各区、县(市)", S)]
    assert first.deadline.date == D(2014, 12, 31)
    assert [(a.agency, a.role) for a in second.assignments] == [("市知识产权局", L), ("市财政局", S)]
    assert second.deadline.date == D(2015, 6, 30)


def test_an_item_whose_text_begins_with_digits_continues_the_numbering():
    plan = parse_text(
        "二、主要任务\n"
        "11.建设运营平台。促进转化。（牵头单位：市科技局）\n"
        "12.365服务热线建设。整合热线资源。（牵头单位：市政务服务管理局）\n"
        "13、12345热线知识产权专席。设立专席。（牵头单位：市知识产权局）\n"
    )
    assert [m.number for m in plan.measures] == ["11", "12", "13"]
    assert plan.measures[0].text.startswith("建设运营平台。")
    assert plan.measures[1].text.startswith("365服务热线建设。")
    assert plan.measures[2].text.startswith("12345热线知识产权专席。")
    assert not any("编号" in w for w in plan.warnings)


def test_a_decimal_that_does_not_continue_the_numbering_is_text():
    plan = parse_text(
        "二、主要任务\n1.加大财政投入。安排专项资金。\n3.5亿元用于专利转化。\n（牵头单位：市财政局）\n"
    )
    assert [m.number for m in plan.measures] == ["1"]
    assert "3.5亿元用于专利转化" in plan.measures[0].text


def test_an_outline_number_is_not_an_item_beginning_with_digits():
    plan = parse_text("二、主要任务\n1.加强保护。开展行动。\n2.1 完善制度。\n（牵头单位：市知识产权局）\n")
    assert [m.number for m in plan.measures] == ["1"]
    assert "2.1 完善制度" in plan.measures[0].text


def test_a_line_with_a_bar_that_is_not_a_table_row_is_read_not_dropped():
    plan = parse_text(
        "二、主要任务\n"
        "1.建设公共服务平台。提供“检索|分析|预警”服务。（牵头单位：市知识产权局）\n"
        "2.完善服务网点。\n"
        "网点提供咨询|培训|对接服务。\n"
        "（牵头单位：市科技局）\n"
    )
    first, second = plan.measures
    assert "“检索|分析|预警”" in first.text and first.assignments[0].agency == "市知识产权局"
    assert "咨询|培训|对接" in second.text and second.assignments[0].agency == "市科技局"
    # the un-numbered line is read as text, and said so
    assert any("含“|”的一行按正文读取" in w for w in plan.warnings)


def test_a_real_table_of_rows_is_still_a_table():
    plan = parse_text(
        "二、主要任务\n"
        "| 序号 | 工作任务 | 牵头单位 | 配合单位 | 完成时限 |\n"
        "| 1 | 建设维权援助中心 | 市知识产权局 | 各区、县（市） | 2014年12月底前 |\n"
        "| 2 | 开展专项行动 | 市公安局 | 有关部门 | 持续推进 |\n"
    )
    assert [m.number for m in plan.measures] == ["1", "2"]
    assert plan.measures[0].deadline.date == D(2014, 12, 31)
    assert [(a.agency, a.role, a.collective) for a in plan.measures[0].assignments] == [
        ("市知识产权局", L, None),
        ("各区、县(市)", S, "named"),
    ]
    assert [(a.agency, a.collective) for a in plan.measures[1].assignments][-1] == ("有关部门", "vague")
