"""Plans written for the genre's conventions (tests/parsing/plans), not for one file: a 40-item 实施意见 of an
invented city, a 国务院办公厅-style 意见, a county 工作方案 with labelled lines, a provincial 实施意见 with
列第一位者为牵头单位 and a district 工作要点 with one-line labelled clauses, each hand-annotated in parse-check's
golden format.

They are scored by parse-check's score.py (a copy in tests/parsing/parse_check) through
``manage.py parse_plan --json``, at the product's bar; the seeds are scored the same way and must stay exact.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tasks.parsing import parse_bytes, parse_file, parse_text

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
PLANS = HERE / "plans"
SCORE = HERE / "parse_check" / "score.py"
SHARED_SCORE = ROOT.parent / "shared" / "parse-check" / "score.py"
# shiyan-40, guobanfa-style-15 and gongzuo-fangan-8 were written before the genre rules; shengzhengfu-11 and
# gongzuo-yaodian-10 after them, and scored before any change (one: 完成时限 "全年").
NAMES = ("shiyan-40", "guobanfa-style-15", "gongzuo-fangan-8", "shengzhengfu-11", "gongzuo-yaodian-10")
BAR = ["--min-recall", "0.99", "--min-agency-f1", "0.99", "--min-deadline", "0.99", "--max-spurious", "0.01"]
LINE = re.compile(
    r"^(?P<doc>\S+): measures (?P<hit>\d+)/(?P<req>\d+) spurious (?P<spurious>\d+)/\d+ "
    r"agencyF1 (?P<f1>[\d.]+) role (?P<role>[\d.]+) deadline (?P<deadline>[\d.]+)"
)


def golden(name: str) -> dict:
    return json.loads((PLANS / f"{name}.json").read_text(encoding="utf-8"))


def text_of(name: str) -> str:
    return (PLANS / f"{name}.txt").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def parsed():
    return {name: parse_file(PLANS / f"{name}.txt") for name in NAMES}


def run_score(doc_dir: Path, golden_dir: Path, command: str) -> tuple[int, dict[str, dict[str, str]], str]:
    done = subprocess.run(
        [sys.executable, str(SCORE), "--cmd", command, *BAR, str(doc_dir), str(golden_dir)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    lines = {m["doc"]: m.groupdict() for m in map(LINE.match, done.stdout.splitlines()) if m}
    return done.returncode, lines, done.stdout + done.stderr


def assert_exact(lines: dict[str, dict[str, str]], expected: int) -> None:
    assert len(lines) == expected
    for doc, s in lines.items():
        assert s["hit"] == s["req"], doc
        assert s["spurious"] == "0", doc
        assert (s["f1"], s["role"], s["deadline"]) == ("1.00", "1.00", "1.00"), doc


def test_the_plans_pass_score_py_at_the_products_bar(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    for name in NAMES:
        shutil.copy(PLANS / f"{name}.txt", docs)
    code, lines, output = run_score(docs, PLANS, f"{sys.executable} manage.py parse_plan {{path}} --json")
    assert code == 0, output
    assert "-> PASS" in output
    assert_exact(lines, len(NAMES))


def test_the_seeds_stay_exact_under_score_py():
    # the parser's own command prints the same contract as manage.py parse_plan, without Django's start-up
    code, lines, output = run_score(
        ROOT / "seeds", HERE / "golden", f"{sys.executable} -m tasks.parsing {{path}} --json"
    )
    assert code == 0, output
    assert_exact(lines, 5)


def test_the_vendored_score_py_is_the_shared_one():
    if not SHARED_SCORE.exists():
        pytest.skip("../shared/parse-check is not beside this checkout (a fresh clone in CI)")
    assert SCORE.read_bytes() == SHARED_SCORE.read_bytes()


@pytest.mark.parametrize("name", NAMES)
def test_each_measure_is_exactly_as_annotated(parsed, name):
    gold = golden(name)
    plan = parsed[name]
    assert [m.number for m in plan.required_measures] == [g["number"] for g in gold["measures"]]
    for g, m in zip(gold["measures"], plan.required_measures, strict=True):
        assert list(m.path) == g["path"], g["number"]
        assert m.text.replace("（", "(").replace("）", ")").startswith(g["text_prefix"]), g["number"]
        assert [{"agency": a.agency, "role": a.role} for a in m.assignments] == g["assignments"], g["number"]
        contract = m.to_contract()["deadline"]
        expected = g["deadline"]
        assert (contract and (contract["date"], contract["ongoing"])) == (
            expected and (expected["date"], expected["ongoing"])
        ), g["number"]
        assert m.and_others == g.get("and_others", False), g["number"]
    assert plan.title == gold["plan"]["title"]
    assert plan.doc_number == gold["plan"]["doc_number"]


def test_collectives_are_whole_and_marked(parsed):
    kinds = {a.agency: a.collective for p in parsed.values() for m in p.measures for a in m.assignments}
    named = ["各区、县(市)", "各区、县(市)人民政府", "各县(市、区)人民政府", "各市、县人民政府", "各成员单位"]
    named += [
        "各责任单位",
        "各课题牵头单位",
        "市知识产权工作联席会议各成员单位",
        "各省、自治区、直辖市人民政府",
    ]
    named += ["各省级人民政府", "各乡(镇)人民政府", "各乡镇人民政府", "各设区市人民政府", "各街道办事处"]
    named += ["省知识产权工作领导小组各成员单位"]
    vague = [
        "有关部门",
        "各有关单位",
        "各有关区",
        "市直有关部门",
        "项目责任单位",
        "各有关部门和单位",
        "县直各有关单位",
    ]
    assert {name: kinds[name] for name in named} == dict.fromkeys(named, "named")
    assert {name: kinds[name] for name in vague} == dict.fromkeys(vague, "vague")
    assert kinds["市科技局"] is None and kinds["临江海关"] is None
    # no fragment of a collective or of a compound name is left as an agency
    assert not set(kinds) & {"单位", "县", "县(市)", "各区", "各课题", "区", "市", "部门"}


def test_the_contract_carries_collectives_and_others(parsed):
    contract = parsed["shiyan-40"].to_contract()
    by_number = {m["number"]: m for m in contract["measures"]}
    assert by_number["3"]["assignments"][-1] == {
        "agency": "各区、县(市)",
        "role": "support",
        "collective": "named",
    }
    assert by_number["16"]["assignments"][-1] == {
        "agency": "有关部门",
        "role": "support",
        "collective": "vague",
    }
    assert by_number["9"]["and_others"] is True
    assert "and_others" not in by_number["1"]
    assert by_number["5"]["deadline"] == {
        "text": "每年",
        "date": None,
        "ongoing": True,
        "recurrence": "yearly",
    }
    assert "recurrence" not in by_number["6"]["deadline"]  # 持续推进: ongoing, not recurring


def test_numbers_continue_and_a_bar_in_a_sentence_is_text(parsed):
    plan = parsed["shiyan-40"]
    by_number = {m.number: m for m in plan.measures}
    assert [m.number for m in plan.measures] == [str(n) for n in range(1, 41)]
    assert by_number["12"].text.startswith("365服务热线建设。")
    assert by_number["11"].text.endswith("促进专利技术转移转化。")
    assert "“检索|分析|预警”" in by_number["20"].text
    assert by_number["20"].assignments[0].agency == "市市场监管局(知识产权局)"
    assert not any("编号" in w for w in plan.warnings)  # 12 follows 11, 13 follows 12


def test_recurring_and_ongoing_deadlines(parsed):
    by_number = {m.number: m for m in parsed["shiyan-40"].measures}
    for number in ("5", "15", "33", "39"):  # 每年, 每年组织考核
        assert by_number[number].deadline.recurrence == "yearly", number
        assert by_number[number].deadline.ongoing, number
    for number in ("6", "17", "21", "34", "40"):  # 持续推进, 长期坚持
        assert by_number[number].deadline.ongoing and by_number[number].deadline.recurrence is None, number
    assert by_number["14"].deadline is None  # no deadline phrase anywhere in the item


HALF_WIDTH = str.maketrans({"（": "(", "）": ")", "；": ";", "：": ":", "，": ","})


@pytest.mark.parametrize("name", NAMES)
def test_gbk_txt_html_and_docx_parse_the_same(seeds, name):
    text = text_of(name)
    expected = seeds.comparable(parse_text(text))
    assert seeds.comparable(parse_bytes(text.encode("gbk"), f"{name}.txt")) == expected
    assert (
        seeds.comparable(parse_bytes(seeds.html(text, charset="gbk").encode("gbk"), "content.htm"))
        == expected
    )
    assert seeds.comparable(parse_bytes(seeds.html(text).encode("utf-8"), "content.html")) == expected
    assert seeds.comparable(parse_bytes(seeds.docx(text), f"{name}.docx")) == expected
    assert seeds.comparable(parse_text(text.translate(HALF_WIDTH))) == expected
