"""Whatever it is given, the parser returns a plan of the contract's shape or raises ParseError."""

from __future__ import annotations

import json
import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tasks.parsing import (
    ParseError,
    assignments_from_lists,
    parse_bytes,
    parse_clause,
    parse_deadline,
    parse_text,
    split_agencies,
)

# Text drawn from the genre's own alphabet: numbering, brackets, role words, dates, agency endings.
PIECES = [
    "一、",
    "二、",
    "(一)",
    "（二）",
    "1.",
    "2、",
    "(1)",
    "专栏1",
    "|",
    "\n",
    "\n",
    "。",
    ",",
    "、",
    ";",
    "：",
    "(",
    ")",
    "〔",
    "〕",
    "《",
    "》",
    "牵头",
    "负责",
    "按职责分工负责",
    "责任单位:",
    "配合单位:",
    "完成时限:",
    "区金融局",
    "市市场监管局(知识产权局)",
    "各县、区政府",
    "各区、县（市）",
    "有关部门",
    "等部门",
    "各课题牵头单位",
    "12.365",
    "牵头单位：",
    "等",
    "2021年12月底前完成",
    "持续推进",
    "每年",
    "6月底前",
    "到2020年",
    "加强知识产权保护",
    "发展目标",
    "保障措施",
    "?ldquo;",
    "/p>",
    "&lt;",
    "十四五",
    "列第一位者为牵头单位,下同",
    "分类|主要指标|2020年实现值|2025年目标值|属性",
    "关于印发",
    "的通知",
]
genre_text = st.lists(st.one_of(st.sampled_from(PIECES), st.text(max_size=8)), max_size=80).map("".join)

CONTRACT_KEYS = {"plan", "measures", "indicators", "warnings"}
MEASURE_KEYS = {"number", "path", "text", "assignments", "deadline"}
INDICATOR_KEYS = {
    "category",
    "name",
    "unit",
    "baseline",
    "baseline_year",
    "target",
    "target_year",
    "attribute",
}


def assert_contract_shape(contract: dict) -> None:
    assert set(contract) == CONTRACT_KEYS
    assert set(contract["plan"]) == {"title", "doc_number", "issuer", "period"}
    assert isinstance(contract["plan"]["title"], str)
    period = contract["plan"]["period"]
    assert period is None or (len(period) == 2 and all(isinstance(y, int) for y in period))
    assert contract["measures"]
    for m in contract["measures"]:
        assert set(m) - {"and_others"} == MEASURE_KEYS  # an extra key, present only when true
        assert m.get("and_others", True) is True
        assert isinstance(m["number"], str) and isinstance(m["text"], str)
        assert all(isinstance(p, str) for p in m["path"])
        for a in m["assignments"]:
            assert set(a) - {"collective"} == {"agency", "role"} and a["role"] in (
                "lead",
                "support",
                "responsible",
            )
            assert a.get("collective", "named") in ("named", "vague")
        if m["deadline"] is not None:
            assert set(m["deadline"]) - {"recurrence"} == {"text", "date", "ongoing"}
    for i in contract["indicators"]:
        assert set(i) == INDICATOR_KEYS
    assert all(isinstance(w, str) for w in contract["warnings"])
    json.dumps(contract, ensure_ascii=False)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(genre_text)
def test_any_text_gives_a_plan_or_parse_error(text):
    try:
        plan = parse_text(text)
    except ParseError as exc:
        assert str(exc) and "\n" not in str(exc)
        return
    assert_contract_shape(plan.to_contract())
    assert_contract_shape(plan.to_contract(include_optional=True))


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_any_unicode_gives_a_plan_or_parse_error(text):
    try:
        plan = parse_text(text)
    except ParseError:
        return
    assert_contract_shape(plan.to_contract())


@settings(max_examples=200, deadline=None)
@given(
    st.binary(max_size=600), st.sampled_from(["plan.txt", "plan.html", "plan.docx", "plan", "plan.pdf", ""])
)
def test_any_bytes_give_a_plan_or_parse_error(data, name):
    try:
        plan = parse_bytes(data, name)
    except ParseError:
        return
    assert_contract_shape(plan.to_contract())


@settings(max_examples=200, deadline=None)
@given(genre_text)
def test_helpers_never_crash(text):
    assert all(isinstance(name, str) and name for name in split_agencies(text))
    assignments, deadline = parse_clause(text)
    assert all(a.role in ("lead", "support", "responsible") for a in assignments)
    parse_deadline(text, period=(2021, 2022))


# Cells of a 牵头单位 column: names, collectives, aliases, role words and separators in any order.
CELL_WORDS = [
    "市市场监管局(知识产权局)",
    "市科技局",
    "各区、县(市)",
    "有关部门",
    "牵头",
    "负责",
    "牵头负责",
    "按职责分工负责",
    "配合",
    "参与",
    "落实",
    "为牵头单位",
    "等",
    "、",
    ",",
    ";",
    " ",
]


def _best_time(function, argument, repeat: int = 7) -> float:
    """Best CPU time of a few runs: the process's own time, less disturbed by others on a shared machine."""
    best = float("inf")
    for _ in range(repeat):
        started = time.process_time()
        function(argument)
        best = min(best, time.process_time() - started)
    return best


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(CELL_WORDS), min_size=6, max_size=16).map("".join))
def test_splitting_time_grows_about_linearly_with_the_cells_length(unit):
    """A cell 8 times longer takes about 8 times as long, not 2^n (issue 11: 98 characters took 8.8 s, each word
    more doubled it). The bound is generous (x40, and 5 ms of slack for a busy machine): quadratic would be x64."""
    short, long = unit * 4, unit * 32
    for function in (split_agencies, lambda cell: assignments_from_lists(cell, None, cell)):
        function(short)  # warm caches of compiled patterns
        assert _best_time(function, long) <= 40 * _best_time(function, short) + 0.005


def test_the_cell_that_backtracked_exponentially_splits_in_linear_time():
    """ "牵头负责" read as one word or as two: 2^n ways to fail before "X" under the old pattern."""
    short = "市科技局" + "牵头负责" * 25 + "X"
    long = "市科技局" + "牵头负责" * 200 + "X"
    assert split_agencies(long) == [long]  # nothing to strip: the cell does not end in a role word
    assert split_agencies(long[:-1]) == ["市科技局"]
    assert _best_time(split_agencies, long) <= 40 * _best_time(split_agencies, short) + 0.005
