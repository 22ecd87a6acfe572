"""The whole product as its users go through it, in headless Chromium against the live server.

The seed plan is imported with the agency catalogue (the upload flow itself is test_import_flow's). Then
张丽, liaison of 区金融局, logs in through the login page, sees her tasks, reports progress, downloads the
Excel report, subscribes to her calendar (fetched with a plain HTTP client), and gets exactly one digest from
the reminder sweep through a real SMTP server; she opens its link. Last, the lead bureau sees 区金融局 on its
dashboard. Screenshots of each main page land in var/screenshots/journey-*.png.
"""

import re
import urllib.request

import icalendar
import openpyxl
import pytest
import recurring_ical_events
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone

from agencies.models import Agency, Liaison
from reminders import services as reminders
from reminders.workdays import load_package_holidays, next_working_day
from tasks.models import ProgressUpdate, Task
from tasks.services.importing import import_file
from tests.conftest import PASSWORD
from tests.e2e.conftest import log_in, screenshot

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

SEED = settings.BASE_DIR / "seeds" / "dongli-2020-2021-protection-plan.txt"
LIAISON_EMAIL = "zhangli@jr.dongli.gov.cn"
ITEM_2 = "建立健全重大投融资活动"
PROGRESS = "已起草《重大投融资活动知识产权尽职调查工作指引》,正在征求区发改委意见。"


@pytest.fixture
def finance_bureau(transactional_db):
    """The seed plan imported over the agency catalogue; returns the catalogue's 区金融局."""
    call_command("loaddata", str(settings.BASE_DIR / "fixtures" / "agencies.json"), verbosity=0)
    result = import_file(SEED)
    assert result.plan.measures.count() == 42
    load_package_holidays()  # the transactional flush removed what the migration loaded
    return Agency.objects.get(jurisdiction="东丽区", name="区金融局")


@pytest.fixture
def zhangli(make_user, finance_bureau):
    user = make_user("zhangli", email="zhangli@example.com", first_name="丽", last_name="张")
    Liaison.objects.create(user=user, agency=finance_bureau, email=LIAISON_EMAIL)
    return user


def test_liaison_and_lead_bureau_journey(
    browser, page, phone, site, zhangli, finance_bureau, lead, smtp, tmp_path
):
    today = timezone.localdate()
    own_tasks = Task.objects.filter(agency=finance_bureau)
    own_pks = set(own_tasks.values_list("pk", flat=True))
    item_2 = own_tasks.with_light(today).get(measure__number="2")
    assert own_pks and Task.objects.exclude(agency=finance_bureau).count() > 90  # the others' 99 tasks

    # --- 我的任务: the liaison logs in through the login page and lands on her list --------------------------
    page.goto(f"{site.url}/accounts/login/")
    screenshot(page, "journey-login")
    log_in(page, site, "zhangli", PASSWORD)
    page.wait_for_selector("h1:has-text('我的任务')")
    assert page.inner_text(".who") == "张丽"  # 姓 then 名, as the Excel report writes it
    assert f"共 {len(own_pks)} 项任务" in page.inner_text("main")
    assert page.locator("tbody tr").count() == len(own_pks)
    row = page.locator("tbody tr", has_text=ITEM_2)
    assert row.count() == 1
    assert row.locator(f".light.light-{item_2.light}").count() == 1
    screenshot(page, "journey-my-tasks")

    # --- a task: report progress and see it in the history --------------------------------------------------
    row.locator("a", has_text=ITEM_2).click()
    page.wait_for_url(f"**/tasks/{item_2.pk}/")
    page.wait_for_selector("h2:has-text('报送进展')")
    page.fill("textarea[name=text]", PROGRESS)
    page.fill("input[name=percent]", "40")
    page.click("#report button:has-text('提交')")
    page.wait_for_selector(f".timeline >> text={PROGRESS}")
    assert "张丽" in page.inner_text(".timeline li:first-child")
    assert "40%" in page.inner_text(".timeline li:first-child")
    update = ProgressUpdate.objects.get(task=item_2)
    assert (update.text, update.percent, update.author) == (PROGRESS, 40, zhangli)
    screenshot(page, "journey-task-reported")

    # --- 导出 Excel 进度报表: only 区金融局's tasks, with the progress just reported --------------------------
    page.goto(f"{site.url}/tasks/")
    with page.expect_download() as download:
        page.click("text=导出 Excel 进度报表")
    report = tmp_path / download.value.suggested_filename
    assert report.suffix == ".xlsx"
    download.value.save_as(report)
    workbook = openpyxl.load_workbook(report, read_only=True)
    header, rows = table_of(workbook["任务明细"], "单位", "最新进展")
    agencies = {row[header.index("单位")] for row in rows}
    assert agencies == {"区金融局"}
    assert len(rows) == len(own_pks)
    assert PROGRESS in [row[header.index("最新进展")] for row in rows]

    # --- 我的设置: a calendar subscription, fetched as a calendar app would ---------------------------------
    page.click("nav >> text=我的设置")
    page.wait_for_selector("h1:has-text('我的设置')")
    page.click("button:has-text('生成日历订阅地址')")
    page.wait_for_selector("text=已生成日历订阅地址。")
    feed_url = page.input_value(".calendar-subscription input[readonly]")
    assert feed_url.startswith(f"{site.url}/reports/calendar/") and feed_url.endswith(".ics")
    screenshot(page, "journey-settings-calendar")
    with urllib.request.urlopen(feed_url, timeout=10) as response:
        assert response.headers.get_content_type() == "text/calendar"
        calendar = icalendar.Calendar.from_ical(response.read())
    events = recurring_ical_events.of(calendar).between(
        today.replace(year=2019), today.replace(year=today.year + 2)
    )
    deadlines = [event for event in events if "【截止】" in str(event["SUMMARY"])]
    assert deadlines
    linked = {
        int(re.fullmatch(rf"{re.escape(site.url)}/tasks/(\d+)/", str(e["URL"])).group(1)) for e in events
    }
    assert linked <= own_pks and item_2.pk in linked

    # --- the reminder sweep: one digest through SMTP, however often it runs ---------------------------------
    day = next_working_day(today, inclusive=True)
    first = reminders.run_sweep(day, dispatch=reminders.deliver_now)
    again = reminders.run_sweep(day, dispatch=reminders.deliver_now)
    assert first.dispatched and not again.dispatched
    # Her progress report told the lead bureau at once (a notification); the rest is the sweep's.
    [notice] = [m for m in smtp.inbox.messages if m["Subject"].startswith("【进展报送】")]
    assert notice["To"] == lead.email
    assert len(smtp.inbox.messages) == len(first.dispatched) + 1
    # Her digest, once; 区金融局 leads item 2, so she also gets the escalation of its late supporters.
    received = smtp.inbox.to(LIAISON_EMAIL)
    [digest] = [message for message in received if message["Subject"].startswith("【督办提醒】")]
    assert sorted(message["Subject"][:6] for message in received) == ["【督办提醒】", "【逾期上报】"]
    text = smtp.inbox.text_of(digest)
    link = f"{site.url}/tasks/{item_2.pk}/"
    assert link in text and f'href="{link}"' in smtp.inbox.html_of(digest)
    linked = {int(pk) for pk in re.findall(rf"{re.escape(site.url)}/tasks/(\d+)/", text)}
    assert linked <= own_pks
    page.goto(link)  # she follows the email's link
    page.wait_for_selector(f".timeline >> text={PROGRESS}")

    # --- the same list on a phone -----------------------------------------------------------------------------
    log_in(phone, site, "zhangli", PASSWORD)
    phone.wait_for_selector("h1:has-text('我的任务')")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    screenshot(phone, "journey-my-tasks-phone")

    # --- the lead bureau's dashboard shows 区金融局 -------------------------------------------------------------
    supervisor = browser.new_context(
        locale="zh-CN", timezone_id="Asia/Shanghai", viewport={"width": 1280, "height": 900}
    )
    board = supervisor.new_page()
    log_in(board, site, "lead", PASSWORD)
    board.wait_for_selector("h1:has-text('督办看板')")
    if board.locator("text=显示全部单位").count():
        board.click("text=显示全部单位")
    finance_row = board.locator(
        "tbody tr", has=board.locator("td:first-child a", has_text=re.compile(r"^区金融局$"))
    )
    finance_row.wait_for()
    assert finance_row.locator("td").nth(1).inner_text().strip() == str(len(own_pks))
    screenshot(board, "journey-dashboard")
    supervisor.close()


def table_of(sheet, *columns: str) -> tuple[list, list[list]]:
    """The header row (the first naming all ``columns``) and the non-empty rows under it."""
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    start = next(i for i, row in enumerate(rows) if all(column in row for column in columns))
    return rows[start], [row for row in rows[start + 1 :] if any(cell not in (None, "") for cell in row)]
