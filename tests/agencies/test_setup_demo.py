"""A newcomer who runs `make run` a second time can still get in: setup_demo says how, and
`--reset-passwords` prints fresh passwords that work."""

import re
from io import StringIO

from django.contrib.auth import authenticate
from django.core.management import call_command


def run(*args) -> str:
    out = StringIO()
    call_command("setup_demo", "--no-seeds", *args, stdout=out)
    return out.getvalue()


def test_a_second_run_says_how_to_get_new_passwords(db):
    first = run()
    assert "admin" in first and "leader" in first
    second = run()
    assert "--reset-passwords" in second and "make passwords" in second


def test_reset_passwords_prints_passwords_that_work(db, rf):
    run()
    out = run("--reset-passwords")
    rows = dict(re.findall(r"^\s+(admin|leader|liaison\d+)\s+(\S+)\s", out, re.MULTILINE))
    assert {"admin", "leader"} <= set(rows) and any(name.startswith("liaison") for name in rows)
    for username, password in rows.items():
        assert authenticate(rf.post("/accounts/login/"), username=username, password=password), username
