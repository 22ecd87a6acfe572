"""State Council documents (tests/parsing/genre): conventions the seeds lack, checked by hand."""

from __future__ import annotations

import pytest

from tasks.parsing import parse_file

COUNTS = {
    "guofa_2018_39_cujin_jiuye.txt": 15,
    "guobanfa_2018_117_duchajili.txt": 30,
    "guofa_2018_42_nongji.txt": 18,
    "guobanfa_2018_129_xiaofei_fupin.txt": 17,
    "guofa_2019_3_zongbaoqu.txt": 21,
}


@pytest.fixture(scope="module")
def genre(genre_dir):
    return {name: parse_file(genre_dir / name) for name in COUNTS}


def roles(measure) -> list[tuple[str, str]]:
    return [(a.agency, a.role) for a in measure.assignments]


@pytest.mark.parametrize(("name", "count"), COUNTS.items())
def test_every_numbered_task_is_found_and_nothing_else(genre, name, count):
    plan = genre[name]
    assert len(plan.measures) == count
    assert all(m.assignments for m in plan.measures)
    assert plan.jurisdiction == "全国"


def test_first_listed_is_lead_from_the_declaring_clause_on(genre):
    plan = genre["guofa_2018_39_cujin_jiuye.txt"]
    first, second = plan.measures[0], plan.measures[1]
    assert first.clause == "(人力资源社会保障部、财政部负责。列第一位者为牵头单位,下同)"
    assert roles(first) == [("人力资源社会保障部", "lead"), ("财政部", "support")]
    assert roles(second) == [
        ("财政部", "lead"),
        ("工业和信息化部", "support"),
        ("人民银行", "support"),
        ("银保监会", "support"),
    ]
    fourth = plan.measures[3]  # "…市场监管总局，各省级人民政府按职责分工负责"
    assert roles(fourth)[0] == ("人力资源社会保障部", "lead")
    assert roles(fourth)[-1] == ("各省级人民政府", "support")
    fifth = plan.measures[4]  # "人力资源社会保障部等有关部门和单位负责"
    assert roles(fifth) == [("人力资源社会保障部", "lead")]
    assert plan.title == "国务院关于做好当前和今后一个时期促进就业工作的若干意见"
    assert plan.doc_number == "国发〔2018〕39号"


def test_the_closing_paragraph_after_the_last_item_is_not_a_measure(genre):
    plan = genre["guofa_2018_39_cujin_jiuye.txt"]
    assert "从工业企业结构调整专项奖补资金" not in plan.measures[-1].text


def test_ranked_first_is_lead_in_the_zongbaoqu_wording(genre):
    plan = genre["guofa_2019_3_zongbaoqu.txt"]
    assert roles(plan.measures[0]) == [("税务总局", "lead"), ("财政部", "support"), ("海关总署", "support")]
    assert roles(plan.measures[5]) == [("海关总署", "lead"), ("商务部", "support")]  # "…商务部等有关部门负责"
    assert [m.number for m in plan.measures][:3] == ["1", "2", "3"]
    assert plan.measures[0].path == ("四、主要任务", "(一)统筹两个市场,打造加工制造中心。")


def test_explicit_lead_overrides_the_convention(genre):
    plan = genre["guofa_2018_42_nongji.txt"]
    organisation = next(m for m in plan.measures if m.number == "(十八)")
    assert roles(organisation) == [("农业农村部", "lead"), ("工业和信息化部", "lead")]
    assert plan.measures[0].number == "(三)"  # (一)指导思想 and (二)发展目标 are not tasks


def test_without_the_convention_every_agency_is_responsible(genre):
    plan = genre["guobanfa_2018_117_duchajili.txt"]
    assert [m.number for m in plan.measures][:3] == ["一", "二", "三"]
    assert roles(plan.measures[5]) == [("交通运输部", "responsible"), ("财政部", "responsible")]
    # "会同有关部门负责": the crowd is kept, led by the one named
    assert roles(plan.measures[15]) == [("国家发展改革委", "lead"), ("有关部门", "support")]
    assert plan.measures[15].assignments[1].collective == "vague"


def test_deng_he_joins_two_lists(genre):
    plan = genre["guobanfa_2018_129_xiaofei_fupin.txt"]
    first = plan.measures[0]
    assert roles(first)[-1] == ("各省级人民政府", "responsible")
    assert ("中央和国家机关工委", "responsible") in roles(first)
    guarantees = [m for m in plan.measures if m.path[0] == "六、保障措施"]
    assert len(guarantees) == 4 and not any(m.optional for m in guarantees)


HALF_WIDTH = str.maketrans({"（": "(", "）": ")", "；": ";", "：": ":", "，": ","})


@pytest.mark.parametrize("name", COUNTS)
def test_half_width_and_web_page_copies_parse_the_same(genre, genre_dir, seeds, name):
    from tasks.parsing import parse_bytes, parse_text

    text = (genre_dir / name).read_text(encoding="utf-8")
    expected = seeds.comparable(genre[name])
    assert seeds.comparable(parse_text(text.translate(HALF_WIDTH))) == expected
    assert seeds.comparable(parse_bytes(seeds.html(text).encode("gb18030"), "content.htm")) == expected
