"""Shared by the benchmark scripts: a Django set up on its own database, timing, query counting, reporting."""

from __future__ import annotations

import json
import os
import socket
import subprocess
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
    elif url.startswith("postgres"):
        ensure_database(url)
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ipplan.settings")
    import django
    from django.core.management import call_command

    django.setup()
    if fresh and url.startswith("postgres"):
        call_command("flush", "--no-input", verbosity=0)
    call_command("migrate", "--no-input", verbosity=0)


def ensure_database(url: str) -> str:
    """Create the PostgreSQL database of ``url`` when missing (``make bench`` needs nothing set up by hand)."""
    import psycopg

    name = url.rsplit("/", 1)[1].split("?", 1)[0]
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
    return name


def database_label() -> str:
    """What a row names as its database: "PostgreSQL <name>" or "SQLite"."""
    url = os.environ.get("DATABASE_URL", "")
    return f"PostgreSQL {url.rsplit('/', 1)[1].split('?', 1)[0]}" if url.startswith("postgres") else "SQLite"


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
    """Print the rows for bench/run.py. Every row that touched a database names it: those that do not say
    which already get "PostgreSQL <name>" or "SQLite <file>" added to their note."""
    url = os.environ.get("DATABASE_URL", "")
    if url:
        label = database_label() if url.startswith("postgres") else f"SQLite {url.rsplit('/', 1)[-1]}"
        for row in rows:
            said = f"{row.get('benchmark', '')} {row.get('note', '')}".lower()
            if "postgresql" not in said and "sqlite" not in said:
                row["note"] = f"{label}; {row['note']}" if row.get("note") else label
    print("BENCH-RESULT " + json.dumps(rows, ensure_ascii=False), flush=True)


def free_port() -> int:
    """A free loopback port: any (the system's choice), or the first free one of ``BENCH_PORTS`` ("first-last")
    when set, for a machine where each user keeps to a range of ports."""
    first, _, last = os.environ.get("BENCH_PORTS", "").partition("-")
    candidates = range(int(first), int(last or first) + 1) if first else [0]
    for port in candidates:
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return s.getsockname()[1]
    raise OSError(f"no free port in BENCH_PORTS={os.environ['BENCH_PORTS']}")


@contextmanager
def gunicorn(*, workers: int, extra_env: dict | None = None, extra_args: tuple[str, ...] = ()):
    """Serve the benchmark's database with gunicorn and production settings on a free loopback port; yields
    ``(port, server process)`` once it accepts connections, stops it afterwards."""
    from django.conf import settings

    env = {
        **os.environ,
        "DEBUG": "0",
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "0",
        "IPPLAN_VAR_DIR": str(Path(settings.VAR_DIR) / "bench"),
        "LOG_LEVEL": "WARNING",
        **(extra_env or {}),
    }
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--no-input", "-v0"], cwd=ROOT, env=env, check=True
    )
    port = free_port()
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "ipplan.wsgi:application", "-b", f"127.0.0.1:{port}"]
        + ["-w", str(workers), "--log-level", "warning", *extra_args],
        cwd=ROOT,
        env=env,
    )
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.2)
        yield port, server
    finally:
        server.terminate()
        server.wait(timeout=30)
