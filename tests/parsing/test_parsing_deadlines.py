"""Deadline phrases of the genre."""

from __future__ import annotations

import datetime

import pytest

from tasks.parsing import parse_deadline
from tasks.parsing.deadlines import deadline_in_text, interpret_deadline

D = datetime.date

DATED = [
    ("2021年12月底前完成", D(2021, 12, 31)),
    ("2021年12月底前", D(2021, 12, 31)),
    ("2022年2月底前", D(2022, 2, 28)),
    ("2024年2月底", D(2024, 2, 29)),
    ("2021年底前", D(2021, 12, 31)),
    ("2021年年底前完成", D(2021, 12, 31)),
    ("2021年末", D(2021, 12, 31)),
    ("2022年6月30日前", D(2022, 6, 30)),
    ("2022年6月30日之前完成", D(2022, 6, 30)),
    ("2021.6.30", D(2021, 6, 30)),
    ("2021-09-15", D(2021, 9, 15)),
    ("2021年上半年", D(2021, 6, 30)),
    ("2021年下半年", D(2021, 12, 31)),
    ("2021年年中", D(2021, 6, 30)),
    ("2021年一季度", D(2021, 3, 31)),
    ("2021年第三季度", D(2021, 9, 30)),
    ("2022年第4季度", D(2022, 12, 31)),
    ("2021年6月上旬", D(2021, 6, 10)),
    ("2021年6月中旬", D(2021, 6, 20)),
    ("2021年6月", D(2021, 6, 30)),
    ("到2020年", D(2020, 12, 31)),
    ("2025年", D(2025, 12, 31)),
    ("2021-2022年", D(2022, 12, 31)),
    ("2021年6月底前启动,2022年底前完成", D(2022, 12, 31)),
]


def test_full_width_digits_read_as_digits():
    deadline = parse_deadline("２０２１年１２月底前")
    assert (deadline.text, deadline.date) == ("2021年12月底前", D(2021, 12, 31))


@pytest.mark.parametrize(("phrase", "date"), DATED)
def test_dated_phrases(phrase, date):
    deadline = parse_deadline(phrase)
    assert deadline.date == date
    assert deadline.text == phrase.strip()
    assert not deadline.ongoing


@pytest.mark.parametrize("phrase", ["持续推进", "长期坚持", "持续开展", "长期", "常态化推进", "持续实施"])
def test_ongoing_phrases(phrase):
    deadline = parse_deadline(phrase)
    assert deadline.ongoing and deadline.date is None and deadline.recurrence is None
    assert deadline.text == phrase


@pytest.mark.parametrize("phrase", ["每年", "每年开展", "每年6月底前", "每年组织一次"])
def test_yearly_phrases_are_ongoing_and_recur(phrase):
    deadline = parse_deadline(phrase)
    assert deadline.ongoing and deadline.recurrence == "yearly"


@pytest.mark.parametrize(
    ("phrase", "date"),
    [
        ("6月底前", D(2021, 6, 30)),
        ("9月30日前", D(2021, 9, 30)),
        ("三季度", D(2021, 9, 30)),
        ("上半年", D(2021, 6, 30)),
        ("年底前", D(2021, 12, 31)),
    ],
)
def test_a_phrase_without_year_takes_the_plan_year_and_warns(phrase, date):
    deadline, doubt = interpret_deadline(phrase, period=(2021, 2022))
    assert deadline.date == date
    assert "未写年份" in doubt


def test_a_phrase_without_year_and_without_period_has_no_date():
    deadline, doubt = interpret_deadline("6月底前")
    assert deadline.date is None and doubt


@pytest.mark.parametrize("phrase", ["立即启动", "按上级部署时间完成", "2021年13月底前"])
def test_deadline_like_phrases_not_understood_keep_their_text_and_warn(phrase):
    deadline, doubt = interpret_deadline(phrase)
    assert deadline is not None and deadline.text == phrase
    assert doubt


@pytest.mark.parametrize("phrase", ["", "   ", "区金融局", None])
def test_no_deadline_phrase_gives_none(phrase):
    assert parse_deadline(phrase) is None


def test_a_date_in_a_measure_text_without_clause():
    assert deadline_in_text("到2020年,建成3个国家级知识产权试点示范园区").text == "到2020年"
    assert deadline_in_text("2015年专利申请79963件") is None  # a past fact is not a deadline
    assert deadline_in_text("2021年底前完成评估工作").date == D(2021, 12, 31)
