"""`make bench`: run every benchmark, print one table, and write it to bench/RESULTS.md.

Each benchmark is a script ``bench/<name>_bench.py``, run in its own process (each configures Django and its
database its own way: a SQLite file under var/bench/, or PostgreSQL when ``BENCH_DATABASE_URL`` is given, so
the developer's data is never touched). It prints its progress freely and ends with one line
``BENCH-RESULT <json list of rows>`` (``bench/common.py: report(rows)``); a row has the keys ``benchmark``,
``result`` (text), ``goal`` (text), ``met`` (bool or None), ``queries`` (int or None) and ``note``.
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import subprocess
import sys
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
ROOT = BENCH_DIR.parent
COLUMNS = ("benchmark", "result", "goal", "met", "queries", "note")


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        kib = int(
            next(
                line for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal")
            ).split()[1]
        )
        memory = f", {kib / 1024 / 1024:.0f} GiB RAM"
    except (OSError, StopIteration, ValueError):
        pass
    return (
        f"{cpu}, {os.cpu_count()} cores{memory}; {platform.system()} {platform.release()}; "
        f"Python {platform.python_version()}"
    )


def run_script(path: Path) -> list[dict]:
    process = subprocess.run(
        [sys.executable, str(path)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    print(process.stdout, end="", flush=True)
    for line in reversed(process.stdout.splitlines()):
        if line.startswith("BENCH-RESULT "):
            return json.loads(line.removeprefix("BENCH-RESULT "))
    raise RuntimeError(f"{path.name} exited {process.returncode} without a BENCH-RESULT line")


def cell(row: dict, key: str) -> str:
    value = row.get(key)
    if key == "met":
        return {True: "yes", False: "**no**", None: "—"}[value]
    return "—" if value in (None, "") else str(value)


def previous_rows() -> list[dict]:
    """Rows of the last full run, kept in RESULTS.md so that running one benchmark updates only its rows."""
    try:
        text = (BENCH_DIR / "RESULTS.md").read_text(encoding="utf-8")
    except OSError:
        return []
    if "<!-- rows " in text:
        rows = json.loads(text.split("<!-- rows ", 1)[1].split(" -->", 1)[0])
        named = {row["benchmark"] for row in rows if row.get("script")}
        return [row for row in rows if row.get("script") or row["benchmark"] not in named]
    rows = []  # an older file without the rows block: read its table back
    for line in text.splitlines()[2:]:
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if line.startswith("| ") and len(cells) == len(COLUMNS) and cells[0] != "benchmark":
            row = dict(zip(COLUMNS, cells, strict=True))
            row["met"] = {"yes": True, "**no**": False}.get(row["met"])
            rows.append({**row, "script": ""})
    return rows


def main(selected: list[str]) -> int:
    rows: list[dict] = (
        [row for row in previous_rows() if row.get("script") not in selected] if selected else []
    )
    failures = 0
    for path in sorted(BENCH_DIR.glob("*_bench.py")):
        name = path.stem.removesuffix("_bench")
        if selected and name not in selected:
            continue
        print(f"== {name}", flush=True)
        try:
            rows.extend({**row, "script": name} for row in run_script(path))
        except RuntimeError as exc:  # one broken benchmark must not hide the others' numbers
            failures += 1
            print(exc, file=sys.stderr)
            rows.append({"benchmark": name, "result": "ERROR", "note": str(exc), "script": name})
    rows.sort(key=lambda row: row.get("script", ""))
    header = "| " + " | ".join(COLUMNS) + " |\n|" + "---|" * len(COLUMNS) + "\n"
    table = header + "".join("| " + " | ".join(cell(r, c) for c in COLUMNS) + " |\n" for r in rows)
    print("\n" + table)
    stamp = datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    (BENCH_DIR / "RESULTS.md").write_text(
        f"# Benchmark results\n\nRun {stamp} on {machine()}.\n`make bench` regenerates this file; "
        f"`python bench/run.py NAME…` reruns some and keeps the other rows.\n\n{table}\n"
        f"<!-- rows {json.dumps(rows, ensure_ascii=False)} -->\n",
        encoding="utf-8",
    )
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
