"""Parse throughput: the five seed plans parsed repeatedly. Goal: the five together in under 100 ms.
Also one long 牵头单位 cell (500 characters) split into agencies, as the table reader does. Goal: < 50 ms
(issue 11: a 98-character cell took 8.8 s before the trailing-role-word regex was made linear).

    python bench/parse_bench.py [--rounds N]

Prints the median and best time of one round (all five seeds), each seed's median, and characters per second,
and ends with the ``BENCH-RESULT`` line that ``make bench`` (bench/run.py) collects. No Django: the parser is pure.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import report  # noqa: E402 - after the path is set, so the script runs from anywhere
from tasks.parsing import assignments_from_lists, parse_bytes, split_agencies  # noqa: E402

GOAL_MS = 100.0
CELL_GOAL_MS = 50.0
# A 牵头单位 cell as bureaus write them, made long: names, aliases, collectives, role words, and the run of role
# words that made the old pattern backtrack ("牵头负责牵头负责…" before a character that is none).
CELL_PARTS = (
    "市市场监管局（知识产权局）牵头负责，市发展改革委、市科技局、市工业和信息化局、各区、县（市）人民政府、"
    "市直有关部门等按职责分工负责；市财政局、人民银行临江市中心支行配合，各课题牵头单位、项目责任单位参与落实；"
)


def long_cell(length: int = 500) -> str:
    cell = ""
    while len(cell) < length - 41:
        cell += CELL_PARTS
    return cell[: length - 41] + "牵头负责" * 10 + "X"


def cell_row(rounds: int) -> dict:
    cell = long_cell()
    timings: list[float] = []
    for _ in range(rounds):
        started = time.process_time()
        names = split_agencies(cell)
        assignments = assignments_from_lists(cell, None)
        timings.append(time.process_time() - started)
    median_ms = statistics.median(timings) * 1000
    print(
        f"{len(cell)}-character cell: {len(names)} names, {len(assignments)} assignments, median {median_ms:.2f} ms"
    )
    return {
        "benchmark": f"split one {len(cell)}-character 牵头单位 cell into agencies",
        "result": f"{median_ms:.2f} ms CPU (median of {rounds}; split_agencies + assignments_from_lists)",
        "goal": f"< {CELL_GOAL_MS:.0f} ms",
        "met": median_ms < CELL_GOAL_MS,
        "queries": None,
        "note": "linear in the cell's length (tests/parsing/test_parsing_properties.py)",
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()
    seeds = sorted((ROOT / "seeds").glob("*.txt"))
    if not seeds:
        print("no seed plans in seeds/", file=sys.stderr)
        return 1
    data = {path.name: path.read_bytes() for path in seeds}
    for name, blob in data.items():  # warm up: imports, regex compilation
        parse_bytes(blob, name)
    rounds: list[float] = []
    cpu_rounds: list[float] = []
    per_file: dict[str, list[float]] = {name: [] for name in data}
    for _ in range(args.rounds):
        started, cpu_started = time.perf_counter(), time.process_time()
        for name, blob in data.items():
            t0 = time.perf_counter()
            parse_bytes(blob, name)
            per_file[name].append(time.perf_counter() - t0)
        rounds.append(time.perf_counter() - started)
        cpu_rounds.append(time.process_time() - cpu_started)
    median_ms = statistics.median(rounds) * 1000
    # wall time suffers from other work on a shared machine; CPU time is what the parser itself costs
    cpu_ms = statistics.median(cpu_rounds) * 1000
    chars = sum(len(blob.decode("utf-8")) for blob in data.values())
    print(f"{len(data)} seeds, {chars} characters, {args.rounds} rounds")
    for name, times in per_file.items():
        print(f"  {name:45} median {statistics.median(times) * 1000:7.2f} ms")
    print(
        f"one round (all seeds): wall median {median_ms:.1f} ms, best {min(rounds) * 1000:.1f} ms; "
        f"CPU median {cpu_ms:.1f} ms ({chars / statistics.median(cpu_rounds) / 1e6:.2f} M chars/s CPU)"
    )
    met = min(median_ms, cpu_ms) < GOAL_MS
    print(f"goal < {GOAL_MS:.0f} ms for the five: {'met' if met else 'MISSED'}")
    report(
        [
            {
                "benchmark": f"parse the {len(data)} seed plans ({chars:,} characters)",
                "result": f"{cpu_ms:.1f} ms CPU, {median_ms:.1f} ms wall (median of {args.rounds})",
                "goal": f"< {GOAL_MS:.0f} ms",
                "met": met,
                "queries": None,
                "note": f"best round {min(rounds) * 1000:.1f} ms wall; pure Python, no database",
            },
            cell_row(args.rounds),
        ]
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
