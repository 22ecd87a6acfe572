"""Headless Chromium (Debian's package) driven by Playwright, against Django's live server.

Skipped only when Chromium is absent outside CI; in CI (`CI=true`) a missing browser is a failure.
Screenshots of the main pages land in var/screenshots/.
"""

import datetime
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from tasks.models import Attachment, ExtensionRequest, Indicator, Measure, Task
from tests.reminders.conftest import SmtpServer, free_port
from workspace import services

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
SCREENSHOTS = Path(settings.VAR_DIR) / "screenshots"
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="session")
def browser():
    if CHROMIUM is None:
        if os.environ.get("CI"):
            pytest.fail("Chromium is required in CI (apt-get install chromium fonts-wqy-microhei)")
        pytest.skip("Chromium is not installed")
    # Playwright's sync API runs an event loop in this thread; Django's ORM calls from the test body are
    # still synchronous and safe.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
            yield browser
            browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def page(browser):
    context = browser.new_context(
        locale="zh-CN", timezone_id="Asia/Shanghai", viewport={"width": 1280, "height": 900}
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


@pytest.fixture
def phone(browser):
    context = browser.new_context(
        locale="zh-CN", timezone_id="Asia/Shanghai", viewport={"width": 390, "height": 844}, is_mobile=True
    )
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def screenshot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def log_in(page, live_server, username: str, password: str, *, admin: bool = False) -> None:
    page.goto(f"{live_server.url}{'/admin/login/' if admin else '/accounts/login/'}")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("[type=submit]")


# Accessibility checks --------------------------------------------------------------------------------------

AXE_DIR = Path(settings.VAR_DIR) / "node"
AXE_SCRIPT = AXE_DIR / "node_modules" / "axe-core" / "axe.min.js"
AXE_PACKAGE = "axe-core@4"


@pytest.fixture(scope="session")
def axe_script() -> Path:
    """axe-core from the npm registry, installed once under var/node (a fresh clone fetches it here).

    Outside CI a machine without npm or network skips the axe checks; in CI (`CI=true`) that is a failure."""
    if not AXE_SCRIPT.exists():
        npm = shutil.which("npm")
        problem = "npm is not installed (apt-get install npm)" if npm is None else None
        if npm is not None:
            AXE_DIR.mkdir(parents=True, exist_ok=True)
            command = [
                npm,
                "install",
                "--prefix",
                str(AXE_DIR),
                "--no-save",
                "--no-audit",
                "--no-fund",
                AXE_PACKAGE,
            ]
            try:
                done = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
            except subprocess.TimeoutExpired:
                problem = f"{' '.join(command)} timed out"
            else:
                if done.returncode != 0 or not AXE_SCRIPT.exists():
                    problem = f"{' '.join(command)} failed: {done.stderr[-2000:]}"
        if problem:
            if os.environ.get("CI"):
                pytest.fail(f"axe-core is required in CI: {problem}")
            pytest.skip(f"axe-core unavailable: {problem}")
    return AXE_SCRIPT


@dataclass
class World:
    """A small plan in every state a page can show: an overdue task, one due in three days with a pending
    extension request, one asking to close with an attachment, one done, an ongoing one, an indicator."""

    overdue: Task
    due_soon: Task
    asking_to_close: Task
    done: Task
    ongoing: Task
    support: Task
    extension: ExtensionRequest
    attachment: Attachment
    indicator: Indicator


@pytest.fixture
def world(plan, measure, finance, science, alice, bob, lead, leader) -> World:
    """Real time, as the browser's cookies expire by the wall clock."""
    today = timezone.localdate()
    section = measure.section
    # The plan's period (2020–2021) is over: the lead bureau keeps periodic reports due for another year.
    plan.reports_until = today + datetime.timedelta(days=365)
    plan.save()

    def task(number: str, text: str, agency, **fields) -> Task:
        item = Measure.objects.create(
            plan=plan, section=section, number=number, text=text, position=int(number)
        )
        return Task.objects.create(measure=item, agency=agency, role=Task.Role.LEAD, **fields)

    overdue = Task.objects.create(
        measure=measure, agency=finance, role=Task.Role.LEAD, due_date=today - datetime.timedelta(days=3)
    )
    support = Task.objects.create(
        measure=measure, agency=science, role=Task.Role.SUPPORT, due_date=today + datetime.timedelta(days=60)
    )
    due_soon = task(
        "3", "开展知识产权质押融资入园惠企行动。", finance, due_date=today + datetime.timedelta(days=3)
    )
    asking = task("4", "建设知识产权保护工作站。", finance, due_date=today + datetime.timedelta(days=40))
    done = task("5", "完善知识产权纠纷多元化解机制。", finance, due_date=today + datetime.timedelta(days=90))
    ongoing = task(
        "6",
        "持续开展知识产权执法“铁拳”行动。",
        science,
        is_ongoing=True,
        next_report_due=today + datetime.timedelta(days=5),
    )
    pdf = SimpleUploadedFile(
        "工作站建设方案.pdf", b"%PDF-1.4\n% ipplan test\n", content_type="application/pdf"
    )
    update = services.submit_progress(
        task=asking,
        user=alice,
        text="工作站已挂牌运行,聘请专家 12 名。",
        percent=100,
        status=Task.Status.COMPLETION_REQUESTED,
        files=[pdf],
        today=today,
    )
    services.submit_progress(
        task=done,
        user=alice,
        text="多元化解机制已建立。",
        percent=100,
        status=Task.Status.COMPLETION_REQUESTED,
    )
    services.approve_completion(task=done, user=lead, reason="材料齐全。")
    services.acknowledge(task=due_soon, user=alice)
    extension = services.request_extension(
        task=due_soon,
        user=alice,
        requested_due_date=today + datetime.timedelta(days=60),
        reason="需等待市级质押融资政策出台后衔接。",
        today=today,
    )
    indicator = Indicator.objects.create(
        plan=plan, name="知识产权质押融资金额", unit="亿元", baseline="1.2", target="3", agency=finance
    )
    services.report_indicator_value(indicator=indicator, user=alice, year=today.year - 1, value="1.8")
    return World(
        overdue=overdue,
        due_soon=due_soon,
        asking_to_close=asking,
        done=done,
        ongoing=ongoing,
        support=support,
        extension=extension,
        attachment=update.attachments.get(),
        indicator=indicator,
    )


@pytest.fixture
def smtp():
    server = SmtpServer(free_port())
    server.start()
    yield server
    server.stop()


@pytest.fixture
def site(settings, live_server, smtp):
    """Links in pages, feeds and emails point at the live server; email goes to the SMTP server."""
    settings.SITE_URL = live_server.url
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", smtp.port, 5
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    return live_server
