"""Shared by the benchmark scripts: a Django set up on its own database, timing, query counting, reporting."""

from __future__ import annotations

import json
import os
import sys
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def setup_django(name: str, *, fresh: bool = True) -> None:
    """Configure Django on ``BENCH_DATABASE_URL`` or a private SQLite file var/bench/<name>.sqlite3, migrated."""
    sys.path.insert(0, str(ROOT))
    url = os.environ.get("BENCH_DATABASE_URL")
    if not url:
        path = ROOT / "var" / "bench" / f"{name}.sqlite3"
        path.parent.mkdir(parents=True, exist_ok=True)
        if fresh:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        url = f"sqlite:///{path}"
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ipplan.settings")
    import django
    from django.core.management import call_command

    django.setup()
    if fresh and url.startswith("postgres"):
        call_command("flush", "--no-input", verbosity=0)
    call_command("migrate", "--no-input", verbosity=0)


@contextmanager
def measured():
    """Yields a dict filled with ``seconds`` (wall), ``cpu`` (this process) and ``queries`` when the block ends."""
    from django.db import connection

    out: dict = {"queries": 0}

    def count(execute, sql, params, many, context):
        out["queries"] += 1
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        start, cpu = time.perf_counter(), time.process_time()
        yield out
        out["seconds"] = time.perf_counter() - start
        out["cpu"] = time.process_time() - cpu


def report(rows: list[dict]) -> None:
    print("BENCH-RESULT " + json.dumps(rows, ensure_ascii=False), flush=True)
