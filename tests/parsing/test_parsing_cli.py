"""`python -m tasks.parsing FILE --json`: the contract on stdout, exit codes, one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "tasks.parsing", *args], cwd=ROOT, capture_output=True, timeout=120
    )


def test_json_contract_of_a_seed(seeds):
    result = run(str(seeds.path("003")), "--json")
    assert result.returncode == 0, result.stderr
    contract = json.loads(result.stdout.decode("utf-8"))
    assert set(contract) == {"plan", "measures", "indicators", "warnings"}
    assert contract["plan"] == {
        "title": "2020-2021年天津市东丽区强化知识产权保护推进计划",
        "doc_number": "津丽知略〔2021〕1号",
        "issuer": "天津市东丽区市场监督管理局",
        "period": [2020, 2021],
    }
    assert len(contract["measures"]) == 42
    second = contract["measures"][1]
    assert second["number"] == "2" and second["path"] == ["一、完善知识产权保护制度"]
    assert second["deadline"] == {"text": "2021年12月底前完成", "date": "2021-12-31", "ongoing": False}
    assert "区金融局" in result.stdout.decode("utf-8")  # not \\u-escaped


def test_optional_measures_on_request(seeds):
    plain = json.loads(run(str(seeds.path("004")), "--json").stdout)
    full = json.loads(run(str(seeds.path("004")), "--json", "--optional").stdout)
    assert (len(plain["measures"]), len(full["measures"])) == (18, 21)


def test_summary_without_json(seeds):
    result = run(str(seeds.path("000")))
    assert result.returncode == 0
    assert "天津市落实" in result.stdout.decode("utf-8")


def test_a_file_without_measures_exits_non_zero_with_one_line(tmp_path):
    path = tmp_path / "notice.txt"
    path.write_text("关于召开会议的通知\n请准时参加。\n", encoding="utf-8")
    result = run(str(path), "--json")
    assert result.returncode != 0
    assert result.stdout == b""
    assert result.stderr.decode("utf-8").strip() == "文件中没有识别到任何任务措施"


def test_an_unreadable_file_exits_non_zero(tmp_path):
    result = run(str(tmp_path / "missing.docx"), "--json")
    assert result.returncode != 0
    assert result.stderr.decode("utf-8").startswith("无法读取文件")
    assert result.stderr.decode("utf-8").count("\n") == 1
