"""The upload gate against hostile files: how fast each is refused and how much memory the refusal costs.

1. Zip bombs (a 1 GB .xlsx and .docx, a bomb whose headers lie, a small one refused by its ratio) through each
   entry point: the admin's plan upload, a progress attachment, the agency import page (Django test client,
   full middleware stack), ``import_plan`` and ``parse_plan``. Each (bomb, entry point) runs in a fresh
   child process that reports the refusal's wall time and its extra peak RSS (``ru_maxrss`` after the
   refusal minus before it, after a warm-up request). Goal: < 1 s and < 100 MB each.
2. A 200 MB upload streamed to gunicorn (one sync worker, production settings): the worker's peak RSS
   (VmHWM) before and after. Goal: < 100 MB extra, refused with the limit named. The same server parses a
   real plan through the sandbox (a forkserver child), showing that works under gunicorn.

Bombs are generated under var/bench/upload/ (about 1 MB each). BENCH_DATABASE_URL runs it on PostgreSQL.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import resource
import secrets
import subprocess
import sys
import time
import tracemalloc
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.common import ROOT, gunicorn, report, setup_django  # noqa: E402
from bench.web_bench import session_for  # noqa: E402

FOLDER = ROOT / "var" / "bench" / "upload"
ENTRY_POINTS = ["admin upload", "attachment", "agency import", "import_plan", "parse_plan"]
MB = 1024 * 1024


def write_bomb(path: Path, kind: str, megabytes: int, *, claimed: int | None = None) -> None:
    big = {"docx": "word/document.xml", "xlsx": "xl/worksheets/sheet1.xml"}[kind]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        if kind == "xlsx":
            archive.writestr("xl/workbook.xml", "<workbook/>")
        with archive.open(big, "w") as member:
            chunk = b"\x00" * MB
            for _ in range(megabytes):
                member.write(chunk)
    if claimed is not None:  # rewrite the uncompressed size in the local header and the central directory
        data = bytearray(path.read_bytes())
        local = data.rfind(b"PK\x03\x04", 0, data.find(big.encode()))
        data[local + 22 : local + 26] = claimed.to_bytes(4, "little")
        central = data.rfind(b"PK\x01\x02")
        data[central + 24 : central + 28] = claimed.to_bytes(4, "little")
        path.write_bytes(bytes(data))


def bombs() -> dict[str, Path]:
    FOLDER.mkdir(parents=True, exist_ok=True)
    specs = {
        "1 GB .xlsx bomb": ("bomb.xlsx", "xlsx", 1024, None),
        "1 GB .docx bomb": ("bomb.docx", "docx", 1024, None),
        ".docx bomb with lying headers (1 GB, claims 4 KB)": ("lying.docx", "docx", 1024, 4096),
        "50 MB .xlsx bomb (refused by ratio)": ("ratio.xlsx", "xlsx", 50, None),
    }
    paths = {}
    for name, (file_name, kind, megabytes, claimed) in specs.items():
        path = FOLDER / file_name
        if not path.exists():
            write_bomb(path, kind, megabytes, claimed=claimed)
        paths[name] = path
    return paths


# One refusal in a fresh process ---------------------------------------------------------------------------


def measure_one(entry: str, path: Path, context: dict) -> dict:
    """Runs in the child: warm up, then send ``path`` in by ``entry``; wall time and extra peak RSS."""
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.core.management import CommandError, call_command
    from django.test import Client

    client = Client()

    def send(data: bytes, name: str) -> str:
        if entry in ("import_plan", "parse_plan"):
            target = FOLDER / f"sent-{os.getpid()}{Path(name).suffix}"
            target.write_bytes(data)
            try:
                call_command(entry, str(target))
            except CommandError as error:
                return str(error)
            finally:
                target.unlink()
            return ""
        if entry == "admin upload":
            client.cookies["sessionid"] = context["lead"]
            response = client.post("/admin/tasks/plan/import/", {"file": SimpleUploadedFile(name, data)})
        elif entry == "attachment":
            client.cookies["sessionid"] = context["liaison"]
            fields = {"text": "进展", "percent": "10", "status": "in_progress"}
            response = client.post(
                f"/tasks/{context['task']}/", {**fields, "attachments": [SimpleUploadedFile(name, data)]}
            )
        else:
            client.cookies["sessionid"] = context["root"]
            page = client.get("/admin/agencies/agency/import/").content.decode()
            xlsx = re.search(r'<option value="(\d+)"[^>]*>xlsx</option>', page).group(1)
            response = client.post(
                "/admin/agencies/agency/import/",
                {"format": xlsx, "import_file": SimpleUploadedFile(name, data)},
            )
        return response.content.decode()

    send(b"\x00\x01" * 100, "warm-up.xlsx")  # imports and first-request costs are not the refusal's
    data = path.read_bytes()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    answer = send(data, path.name)
    seconds = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    tracemalloc.start()  # again, counting Python's own allocations (slower, so not timed)
    send(data, path.name)
    allocated = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    found = re.search(r"(压缩[^<。]*上限[^<。]*|压缩包内的文件比它声明的大[^<。]*)", answer)
    return {
        "seconds": seconds,
        "extra_mb": (after - before) / 1024,
        "allocated_mb": allocated / MB,
        "refusal": found.group(0) if found else "",
    }


def refusal_in_child(entry: str, path: Path, context: dict) -> dict:
    process = subprocess.run(
        [sys.executable, __file__, "--one", entry, str(path), json.dumps(context)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        text=True,
        check=True,
    )
    return json.loads(process.stdout.strip().splitlines()[-1])


# A 200 MB stream into gunicorn ----------------------------------------------------------------------------


def peak_rss_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmHWM:\s+(\d+) kB", status).group(1)) / 1024


def worker_pid(master: int) -> int:
    for _ in range(100):
        children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
        if children:
            return int(children[0])
        time.sleep(0.1)
    raise RuntimeError("gunicorn started no worker")


def stream_upload(port: int, session: str, name: str, size: int, content: bytes | None = None) -> tuple:
    """POST a multipart upload of ``size`` bytes, generated while it is sent; (status, body, seconds)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    connection.request("GET", "/admin/tasks/plan/import/", headers={"Cookie": f"sessionid={session}"})
    page = connection.getresponse()
    html = page.read().decode()
    csrf_cookie = re.search(r"csrftoken=([^;]+)", page.getheader("Set-Cookie") or "").group(1)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
    boundary = "ipplan-bench-" + secrets.token_hex(8)
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="csrfmiddlewaretoken"\r\n\r\n{token}\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()

    def body():
        yield head
        if content is not None:
            yield content
            return
        chunk = b"%" * MB
        for _ in range(size // MB):
            yield chunk
        yield tail

    length = len(head) + (len(content) if content is not None else size) + len(tail)
    chunks = body() if content is None else iter([head, content, tail])
    start = time.perf_counter()
    connection.request(
        "POST",
        "/admin/tasks/plan/import/",
        body=chunks,
        headers={
            "Cookie": f"sessionid={session}; csrftoken={csrf_cookie}",
            "Content-Type": f"multipart/form-data; boundary={boundary}",
            "Content-Length": str(length),
            "Referer": f"http://127.0.0.1:{port}/admin/tasks/plan/import/",
        },
    )
    response = connection.getresponse()
    text = response.read().decode()
    connection.close()
    return response.status, text, time.perf_counter() - start


def gunicorn_rows(session: str) -> list[dict]:
    rows = []
    with gunicorn(workers=1, extra_args=("--timeout", "120")) as (port, server):
        worker = worker_pid(server.pid)
        plan = (ROOT / "seeds" / "dongli-2020-2021-protection-plan.txt").read_bytes()
        status, _text, first = stream_upload(port, session, "东丽.txt", len(plan), content=plan)
        parsed_ok = status == 302
        status, _text, again = stream_upload(port, session, "东丽.txt", len(plan), content=plan)
        parsed_ok = parsed_ok and status == 302
        rows.append(
            {
                "benchmark": "plan upload parsed in the sandbox under gunicorn (42 measures)",
                "result": f"first {first * 1000:.0f} ms (starts the forkserver), then {again * 1000:.0f} ms",
                "goal": "302 to the preview",
                "met": parsed_ok,
                "queries": None,
                "note": "gunicorn 1 sync worker, production settings, loopback",
            }
        )
        before = peak_rss_mb(worker)
        status, text, seconds = stream_upload(port, session, "大文件.docx", 200 * MB)
        extra = peak_rss_mb(worker) - before
        refused = status == 200 and "文件超过 10 MB 上限" in text
        rows.append(
            {
                "benchmark": "200 MB upload streamed to gunicorn, refused by size",
                "result": f"refused in {seconds:.2f} s; worker peak RSS +{extra:.1f} MB ({before:.0f} MB before)",
                "goal": "< 100 MB extra memory, limit named",
                "met": refused and extra < 100,
                "queries": None,
                "note": "first upload handler keeps ≤ MAX_UPLOAD_BYTES, counts the rest; VmHWM of the worker",
            }
        )
    return rows


def main() -> None:
    os.environ["SECRET_KEY"] = secrets.token_urlsafe(50)  # shared by this process, its children and gunicorn
    setup_django("upload")
    from django.contrib.auth import get_user_model

    from agencies.models import Agency
    from tasks.models import Measure, Plan, Task

    engine = "PostgreSQL" if os.environ["DATABASE_URL"].startswith("postgres") else "SQLite"
    agency = Agency.objects.create(name="区金融局", jurisdiction="东丽区")
    plan = Plan.objects.create(title="基准计划", jurisdiction="东丽区", period_start=2024, period_end=2025)
    measure = Measure.objects.create(plan=plan, number="1", text="推进工作。", position=1)
    task = Task.objects.create(measure=measure, agency=agency, role="lead")
    get_user_model().objects.create_superuser("bench-root", "root@example.gov.cn", secrets.token_urlsafe(12))
    from django.test import Client

    root = Client()
    root.force_login(get_user_model().objects.get(username="bench-root"))
    context = {
        "lead": session_for("bench-lead", staff=True),
        "liaison": session_for("bench-liaison", staff=False, agency=agency),
        "root": root.cookies["sessionid"].value,
        "task": task.pk,
    }
    rows = []
    for name, path in bombs().items():
        results = {entry: refusal_in_child(entry, path, context) for entry in ENTRY_POINTS}
        for entry, result in results.items():
            print(f"  {name} via {entry}: {result}", flush=True)
        slowest = max(r["seconds"] for r in results.values())
        largest = max(r["extra_mb"] for r in results.values())
        allocated = max(r["allocated_mb"] for r in results.values())
        refused = all(r["refusal"] for r in results.values())
        rows.append(
            {
                "benchmark": f"{name}, {path.stat().st_size / 1024:.0f} KB file, refused by each entry point "
                f"({engine})",
                "result": f"slowest {slowest * 1000:.0f} ms, largest +{largest:.1f} MB peak RSS "
                f"(Python allocations peak {allocated:.1f} MB); "
                + ", ".join(f"{e} {r['seconds'] * 1000:.0f} ms" for e, r in results.items()),
                "goal": "< 1 s and < 100 MB extra memory each",
                "met": refused and slowest < 1 and largest < 100,
                "queries": None,
                "note": f"{engine}; each refusal in a fresh process after a warm-up request; "
                f"message: {next(iter(results.values()))['refusal']}",
            }
        )
    rows += [
        {**row, "benchmark": f"{row['benchmark']} ({engine})", "note": f"{engine}; {row['note']}"}
        for row in gunicorn_rows(context["lead"])
    ]
    report(rows)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--one"]:
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ipplan.settings")
        setup_django("upload", fresh=False)
        _, entry, path, context = sys.argv[1:]
        print(json.dumps(measure_one(entry, Path(path), json.loads(context)), ensure_ascii=False))
    else:
        main()
