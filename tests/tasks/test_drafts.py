"""The import preview as pure functions: decisions in, edited plan and grid out (no database)."""

import datetime

import pytest

from agencies.suggest import Catalogue, CatalogueEntry
from tasks.parsing import parse_text
from tasks.services import drafts
from tasks.services.drafts import NameDecision

NOW = datetime.datetime(2026, 12, 2, 6, 0, tzinfo=datetime.UTC)

PLAN = parse_text(
    "东丽区知识产权工作要点\n一、重点任务\n"
    "1.建立专利快速预审机制。(区数据局牵头,区金融局、区科技局按职责分工负责;2024年12月底前完成)\n"
    "2.开展知识产权宣传周活动。(区委宣传部负责;持续推进)\n"
    "3.完善知识产权纠纷调解机制。(区司法局牵头,各街道办配合)\n"
)
CATALOGUE = Catalogue.build(
    "东丽区",
    [
        CatalogueEntry(1, "区金融局", "东丽区"),
        CatalogueEntry(2, "区科技局", "东丽区", aliases=("东丽区科学技术局",)),
        CatalogueEntry(3, "区委宣传部", "东丽区"),
        CatalogueEntry(4, "区司法局", "东丽区"),
        CatalogueEntry(5, "区政务服务办(区数据局)", "东丽区", short_name="区政务办"),
        CatalogueEntry(6, "金桥街道办事处", "东丽区", kind="government"),
        CatalogueEntry(7, "华明街道办事处", "东丽区", kind="government"),
        CatalogueEntry(8, "市金融局", "天津市"),  # another jurisdiction: never suggested
    ],
)


def keys(plan=PLAN):
    return [drafts.measure_key(m) for m in plan.required_measures]


def test_the_grid_lists_each_unknown_name_once_with_ranked_suggestions():
    preview = drafts.build_grid(PLAN, {}, CATALOGUE)
    assert [row.number for row in preview.rows] == ["1", "2", "3"]
    assert [n.name for n in preview.names] == ["各街道办"]
    assert preview.remaining == ("period", "name:各街道办")
    street = preview.names[0]
    # A collective of places: its members are proposed from the catalogue's street and town governments.
    assert street.suggested == NameDecision("collective", members=(6, 7))


def test_parenthesised_names_resolve_and_other_jurisdictions_are_out_of_scope():
    preview = drafts.build_grid(PLAN, {}, CATALOGUE)
    lead = preview.rows[0].chips[0]
    assert (lead.name, lead.label, lead.state, lead.role) == (
        "区数据局",
        "区政务服务办(区数据局)",
        "known",
        "lead",
    )
    assert 8 not in CATALOGUE.entries


@pytest.mark.parametrize(
    ("written", "expected", "why"),
    [
        ("东丽区科学技术局", 2, "别名"),
        ("科技局", 2, "去掉前缀"),
        ("区政务办", 5, "简称"),
        ("区金融工作局", 1, "名称相近"),
    ],
)
def test_suggestions_rank_alias_prefix_short_name_then_edit_distance(written, expected, why):
    best = CATALOGUE.rank(written)[0]
    assert (best.entry.pk, best.why) == (expected, why)


def test_a_collective_of_places_is_proposed_only_with_several_known_governments():
    lone = Catalogue.build("东丽区", [CatalogueEntry(6, "金桥街道办事处", "东丽区", kind="government")])
    assert drafts.suggest_name("各街道办", "named", lone)[0] == NameDecision("create")
    assert drafts.suggest_name("各街道办", "named", CATALOGUE)[0] == NameDecision(
        "collective", members=(6, 7)
    )


def test_fragments_are_suggested_ignored_and_unknown_names_created():
    assert drafts.suggest_name("单位", None, CATALOGUE)[0] == NameDecision("ignore")
    assert drafts.suggest_name("区档案馆", None, CATALOGUE)[0] == NameDecision("create")
    assert drafts.suggest_name("区金融工作局", None, CATALOGUE)[0] == NameDecision("agency", agency=1)


def test_two_equally_good_matches_are_left_to_the_clerk():
    twins = Catalogue.build(
        "东丽区", [CatalogueEntry(1, "区金融工作局", "东丽区"), CatalogueEntry(2, "区金融服务局", "东丽区")]
    )
    suggestion, ranked = drafts.suggest_name("区金融局", None, twins)
    assert ranked[0].score == ranked[1].score >= 80 and suggestion is None
    plan = parse_text("东丽区工作要点\n一、任务\n1.加强金融支持。(区金融局牵头;2024年底前完成)\n")
    preview = drafts.build_grid(plan, {}, twins)
    decisions = drafts.accept_suggestions({}, preview, now=NOW)
    assert drafts.build_grid(plan, decisions, twins).remaining == ("name:区金融局",)


def test_without_a_period_the_grid_asks_for_one_and_infers_nothing():
    preview = drafts.build_grid(PLAN, {}, CATALOGUE)
    assert preview.plan.period is None and preview.plan.needs_period
    assert preview.plan.suggested_period == (2024, 2024)  # the years of its deadlines
    assert preview.rows[2].deadline_kind == "none" and preview.rows[2].inferred_date is None
    decided = drafts.set_plan({}, period=(2024, 2025), now=NOW)
    row = drafts.build_grid(PLAN, decided, CATALOGUE).rows[2]
    assert row.inferred_date == datetime.date(2025, 12, 31)


def test_accepting_all_suggestions_leaves_nothing_to_decide_and_counts_no_correction():
    preview = drafts.build_grid(PLAN, {}, CATALOGUE)
    decisions = drafts.accept_suggestions({}, preview, now=NOW)
    after = drafts.build_grid(PLAN, decisions, CATALOGUE)
    assert after.remaining == () and after.corrections == 0 and after.suggestions == 2
    assert decisions["plan"]["period"] == [2024, 2024]
    assert decisions["names"]["各街道办"] == {"kind": "collective", "members": [6, 7]}
    street = after.rows[2].chips[1]
    assert (street.state, street.members) == ("collective", ("金桥街道办事处", "华明街道办事处"))
    assert [e["kind"] for e in decisions["log"]] == ["suggestion", "suggestion"]


def test_a_decision_other_than_the_suggestion_is_a_correction():
    preview = drafts.build_grid(PLAN, {}, CATALOGUE)
    street = preview.names[0]
    decisions = drafts.decide_name(
        {},
        name=street.name,
        decision=NameDecision("collective", members=(6,)),
        suggested=street.suggested,
        now=NOW,
    )
    assert drafts.tally(decisions) == {"corrections": 1, "suggestions": 0}
    assert decisions["log"][0] == {"kind": "correction", "target": "name:各街道办", "at": NOW.isoformat()}
    with pytest.raises(drafts.DecisionError, match="至少一个成员单位"):
        drafts.decide_name({}, name="各街道办", decision=NameDecision("collective"), suggested=None, now=NOW)


def test_measure_edits_apply_number_text_agencies_roles_and_deadline():
    first, second, third = keys()
    decisions = drafts.edit_measure(
        {},
        PLAN,
        key=first,
        now=NOW,
        number="1-1",
        text="建立专利快速预审与确权机制。",
        deadline={"kind": "date", "date": "2025-06-30"},
        assignments=[{"agency": "区金融局", "role": "lead"}, {"agency": "区档案馆", "role": "support"}],
    )
    decisions = drafts.edit_measure(decisions, PLAN, key=second, now=NOW, deadline={"kind": "yearly"})
    decisions = drafts.edit_measure(decisions, PLAN, key=third, now=NOW, include=False)
    decisions = drafts.decide_name(
        decisions, name="区档案馆", decision=NameDecision("ignore"), suggested=NameDecision("create"), now=NOW
    )
    decisions = drafts.set_plan(decisions, period=(2024, 2025), jurisdiction="东丽区", now=NOW)
    edited, names = drafts.apply_decisions(PLAN, decisions)

    assert [m.number for m in edited.required_measures] == ["1-1", "2"]
    one, two = edited.required_measures
    assert one.text == "建立专利快速预审与确权机制。"
    assert [(a.agency, a.role) for a in one.assignments] == [("区金融局", "lead")]  # 区档案馆 ignored
    assert one.deadline.date == datetime.date(2025, 6, 30)
    assert two.deadline.recurrence == "yearly" and two.deadline.date is None
    assert edited.period == (2024, 2025) and edited.jurisdiction == "东丽区"
    assert names == {}  # ignored names are dropped from the plan, not handed to the importer
    assert drafts.tally(decisions)["corrections"] == 5
    assert drafts.excluded_measures(PLAN, decisions) == [
        {"number": "3", "text": PLAN.required_measures[2].text}
    ]


def test_saving_an_unchanged_measure_is_not_a_correction():
    first = keys()[0]
    row = drafts.build_grid(PLAN, {}, CATALOGUE).rows[0]
    same = drafts.edit_measure(
        {},
        PLAN,
        key=first,
        now=NOW,
        number=row.number,
        text=row.text,
        deadline={"kind": "date", "date": row.deadline_date.isoformat()},
        assignments=[{"agency": c.name, "role": c.role} for c in row.chips],
    )
    assert same == {}


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        ({"deadline": {"kind": "date", "date": "2025-02-30"}}, "有效的日期"),
        ({"deadline": {"kind": "soon"}}, "请选择完成时限"),
        ({"assignments": [{"agency": "区金融局", "role": "boss"}]}, "牵头、配合或负责"),
        ({"number": "  "}, "序号不能为空"),
        ({"number": "2"}, "序号“2”已被另一条措施使用"),
        ({"text": ""}, "任务内容不能为空"),
    ],
)
def test_bad_edits_are_refused_in_chinese(edit, message):
    with pytest.raises(drafts.DecisionError, match=message):
        drafts.edit_measure({}, PLAN, key=keys()[0], now=NOW, **edit)


def test_unknown_measure_and_bad_period_are_refused():
    with pytest.raises(drafts.DecisionError, match="找不到这条措施"):
        drafts.edit_measure({}, PLAN, key="9999", now=NOW, include=False)
    with pytest.raises(drafts.DecisionError, match="截止年份不早于起始年份"):
        drafts.set_plan({}, period=(2025, 2024), now=NOW)


def test_a_plan_already_imported_needs_an_answer():
    preview = drafts.build_grid(PLAN, {}, CATALOGUE, match_kind="revision")
    assert preview.remaining[0] == "match"
    decisions = drafts.accept_suggestions({}, preview, now=NOW)
    assert decisions["plan"]["match"] == "revision"
    assert "match" not in drafts.build_grid(PLAN, decisions, CATALOGUE, match_kind="revision").remaining


def test_the_grid_is_a_pure_function_of_its_inputs():
    decisions = drafts.accept_suggestions({}, drafts.build_grid(PLAN, {}, CATALOGUE), now=NOW)
    snapshot = repr(decisions)
    assert drafts.build_grid(PLAN, decisions, CATALOGUE) == drafts.build_grid(PLAN, decisions, CATALOGUE)
    assert repr(decisions) == snapshot  # never mutated
