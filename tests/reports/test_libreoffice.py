"""A real spreadsheet program opens the report: LibreOffice converts it to PDF headless, poppler reads the
pages back, and the pages are rendered under var/test-artifacts/ for people to look at."""

import datetime
import io
import re
import zipfile

import pytest
import time_machine

from agencies.models import Agency
from reports.documents import render as render_document
from reports.exporters import LedgerReport, ProgressReport
from reports.services import issue_bulletin, issue_notice
from tasks.models import ProgressUpdate, Task

from .printing import convert, fonts, needs_office, overlapping, page_text, render, words

TODAY = datetime.date(2022, 3, 1)

pytestmark = needs_office


@time_machine.travel(datetime.datetime(2022, 1, 5, 9, 0, tzinfo=datetime.UTC))
def test_libreoffice_opens_the_report_with_its_charts(
    tmp_path, lead, finance_task, science_task, ongoing_task
):
    ProgressUpdate.objects.create(task=finance_task, author=lead, text="已起草评议办法。", percent=30)
    source = tmp_path / "进度报表.xlsx"
    buffer = io.BytesIO()
    ProgressReport(user=lead, params={}, language="zh-hans").write(buffer)
    source.write_bytes(buffer.getvalue())

    pdf = convert(source, "pdf", tmp_path)
    content = pdf.read_bytes()
    assert content.startswith(b"%PDF-")
    pages, _words = words(pdf)
    assert len(pages) >= 6  # every sheet was laid out
    render(pdf, "progress-report")

    # LibreOffice's own format shows that it understood both native charts of the summary sheet.
    with zipfile.ZipFile(convert(source, "ods", tmp_path)) as ods:
        charts = [name for name in ods.namelist() if re.fullmatch(r"Object \d+/content.xml", name)]
        kinds = {re.search(rb'chart:class="chart:(\w+)"', ods.read(name)).group(1) for name in charts}
        contents = b"".join(ods.read(name) for name in charts)
    assert kinds == {b"bar", b"circle"}
    # Plain pie labels (the percentage, not "未开始; 任务数; 95; 95%"); agencies listed top to bottom.
    assert b'chart:data-label-number="percentage"' in contents
    assert (
        b'chart:data-label-series="true"' not in contents and b'chart:data-label-text="true"' not in contents
    )
    assert b'reverse-direction="true"' in contents


@pytest.mark.parametrize("today", [datetime.date(2021, 6, 30), datetime.date(2022, 3, 1)])
def test_the_dongli_ledger_prints_as_a_ledger(tmp_path, dongli, lead, today):
    """The 东丽 plan of `make run`: ≤ 12 landscape pages, the column header on each, nothing printed over
    anything else."""
    Task.objects.filter(measure__plan=dongli, measure__number__in=["3", "7"]).update(
        status=Task.Status.DONE, percent=100
    )
    source = tmp_path / "工作台账.xlsx"
    LedgerReport(user=lead, params={"plan": [str(dongli.pk)]}, today=today, language="zh-hans").write(source)
    pdf = convert(source, "pdf", tmp_path)
    render(pdf, f"ledger-dongli-{today:%Y%m%d}")

    pages, found = words(pdf)
    assert 1 <= len(pages) <= 12
    assert all(page.width > page.height for page in pages)  # landscape
    assert round(pages[0].width) == 842 and round(pages[0].height) == 595  # A4
    for number in range(1, len(pages) + 1):
        text = page_text(pdf, number)
        assert re.search(
            r"序号\s+重点任务\s+牵头单位\s+配合单位\s+完成时限\s+进展情况\s+完成状态\s+备注", text
        )
        assert f"第{number}页共{len(pages)}页" in re.sub(r"\s+", "", text)
    assert overlapping(found) == []
    everything = "".join(w.text for w in found)
    assert "2020-2021年天津市东丽区强化知识产权保护推进计划工作台账" in everything
    assert f"截至{today.year}年{today.month}月{today.day}日" in everything
    # every measure is printed (its number in the 序号 column, at the left edge)
    numbers = {w.text for w in found if w.x1 < 70 and w.text.isdigit()}
    assert numbers >= {str(n) for n in range(1, 43)}


@pytest.mark.parametrize("kind", ["notice", "bulletin"])
def test_libreoffice_prints_the_documents(kind, tmp_path, lead, dongli):
    """The .docx opens in LibreOffice: A4 pages, text inside the GB/T 9704 type area, page numbers, no
    overprint."""
    agency = Agency.objects.get(name="区市场监管局", jurisdiction="东丽区")
    if kind == "notice":
        document, _created = issue_notice(agency=agency, plan=dongli, user=lead, today=TODAY)
    else:
        document, _created = issue_bulletin(plan=dongli, period_key="2022-Q1", user=lead, today=TODAY)
    source = tmp_path / f"{kind}.docx"
    source.write_bytes(render_document(document))
    pdf = convert(source, "pdf", tmp_path)
    render(pdf, f"{kind}-dongli", dpi=60)
    pages, found = words(pdf)
    assert all(round(p.width) == 595 and round(p.height) == 842 for p in pages)  # A4 portrait
    assert overlapping(found) == []
    first = page_text(pdf, 1)
    assert document.doc_number.replace("〔", "").replace("〕", "")[:2] in first.replace(" ", "")
    assert "— 1 —" in first or "—1—" in first.replace(" ", "")
    # left margin 28 mm (79 pt), top 37 mm: body text starts there, nothing prints outside the type area
    body = [w for w in found if w.y0 > 100 and w.y1 < 842 - 99]
    assert min(w.x0 for w in body) >= 79 - 1
    assert max(w.x1 for w in body) <= 595 - 73 + 1
    assert "WenQuanYi" in fonts(pdf) or "Noto" in fonts(pdf)  # what LibreOffice substituted (see README)
