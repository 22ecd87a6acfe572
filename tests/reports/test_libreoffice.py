"""A real spreadsheet program opens the report: LibreOffice converts it to PDF headless."""

import datetime
import io
import os
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
import time_machine

from reports.exporters import ProgressReport
from tasks.models import ProgressUpdate

LIBREOFFICE = shutil.which("libreoffice") or shutil.which("soffice")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        LIBREOFFICE is None and not os.environ.get("CI"),
        reason="LibreOffice is not installed (CI installs libreoffice-calc-nogui)",
    ),
]


@time_machine.travel(datetime.datetime(2022, 1, 5, 9, 0, tzinfo=datetime.UTC))
def test_libreoffice_opens_the_report_with_its_charts(
    tmp_path, lead, finance_task, science_task, ongoing_task
):
    assert LIBREOFFICE, "CI must have LibreOffice (.ci/run installs libreoffice-calc-nogui)"
    ProgressUpdate.objects.create(task=finance_task, author=lead, text="已起草评议办法。", percent=30)
    source = tmp_path / "进度报表.xlsx"
    buffer = io.BytesIO()
    ProgressReport(user=lead, params={}, language="zh-hans").write(buffer)
    source.write_bytes(buffer.getvalue())

    pdf = convert(source, "pdf", tmp_path)
    content = pdf.read_bytes()
    assert content.startswith(b"%PDF-")
    assert len(re.findall(rb"/Type\s*/Page\b", content)) >= 5  # every sheet was laid out

    # LibreOffice's own format shows that it understood both native charts of the summary sheet.
    with zipfile.ZipFile(convert(source, "ods", tmp_path)) as ods:
        charts = [name for name in ods.namelist() if re.fullmatch(r"Object \d+/content.xml", name)]
        kinds = {re.search(rb'chart:class="chart:(\w+)"', ods.read(name)).group(1) for name in charts}
    assert kinds == {b"bar", b"circle"}


def convert(source: Path, fmt: str, tmp_path: Path) -> Path:
    profile = tmp_path / "lo-profile"  # a private profile: parallel runs and a desktop session don't collide
    outdir = tmp_path / fmt
    result = subprocess.run(
        [
            LIBREOFFICE,
            f"-env:UserInstallation={profile.as_uri()}",
            "--headless",
            "--convert-to",
            fmt,
            "--outdir",
            str(outdir),
            str(source),
        ],
        capture_output=True,
        text=True,
        timeout=180,
    )
    target = outdir / f"{source.stem}.{fmt}"
    assert result.returncode == 0 and target.exists(), result.stdout + result.stderr
    return target
