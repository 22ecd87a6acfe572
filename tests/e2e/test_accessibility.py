"""GB/T 37668 / WCAG 2.1 AA in headless Chromium: axe-core on every page of ipplan's own templates, for every
role, on a desktop and a phone; lights that say what they mean; text that follows the browser's font size;
no sideways scrolling at 320 px; colours of the lights against the page.

The pages are enumerated from the URL patterns of the workspace, reminders and reports apps and of the login
and password pages, so a page added later is checked without touching this file (a pattern with arguments
needs sample arguments in SAMPLE_KWARGS, and the test says so). Django admin pages are left out: they are
Django's own templates.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from agencies.models import Agency
from reminders.models import ReminderLog
from reports.models import ExportJob
from tasks.models import Task
from tests.conftest import PASSWORD
from tests.e2e.conftest import World, log_in
from workspace import links
from workspace.models import ActionLink, Preferences

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

CHECKED_NAMESPACES = ("workspace", "reminders", "reports")
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
VIEWPORTS = {
    "desktop": {"viewport": {"width": 1280, "height": 900}},
    "phone": {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True},
}
# alice: liaison of the lead agency (区金融局) on measure 2; bob: liaison of a supporting agency (区科技局).
ROLES = ["anonymous", "alice", "bob", "lead", "leader"]

# Real arguments for URL patterns that take some, from the test data; (world, user) -> kwargs.
SAMPLE_KWARGS: dict[str, Callable[[World, object], dict]] = {
    "workspace:task_detail": lambda w, u: {"pk": (w.due_soon if u.username != "bob" else w.support).pk},
    "workspace:acknowledge": lambda w, u: {"pk": w.overdue.pk},
    "workspace:request_extension": lambda w, u: {"pk": w.overdue.pk},
    "workspace:review_completion": lambda w, u: {"pk": w.asking_to_close.pk},
    "workspace:change_due_date": lambda w, u: {"pk": w.overdue.pk},
    "workspace:reassign": lambda w, u: {"pk": w.overdue.pk},
    "workspace:decide_extension": lambda w, u: {"pk": w.extension.pk},
    "workspace:attachment": lambda w, u: {"pk": w.attachment.pk},
    "workspace:correct_update": lambda w, u: {"pk": w.attachment.update_id},
    "reports:calendar_feed": lambda w, u: {"token": "not-a-token"},
    "workspace:action_link": lambda w, u: {"token": action_link(w.overdue)},
    "reports:liaison_calendar": lambda w, u: {"liaison_id": w.overdue.agency.liaisons.get().pk},
    "reports:plan_calendar": lambda w, u: {"plan_id": w.overdue.measure.plan_id},
    "reports:task_ics": lambda w, u: {"pk": w.overdue.pk},
    "reports:scorecard_agency": lambda w, u: {"agency_id": w.overdue.agency_id},
    "reports:document_download": lambda w, u: {"pk": 0},  # no document issued: the 404 page is checked
    "reports:export_job": lambda w, u: {"pk": export_job(u).pk},
    "reports:export_job_status": lambda w, u: {"pk": export_job(u).pk},
    "reports:export_job_download": lambda w, u: {"pk": export_job(u).pk},
    "password_reset_confirm": lambda w, u: {
        "uidb64": urlsafe_base64_encode(force_bytes(w.overdue.agency.liaisons.get().user.pk)),
        "token": default_token_generator.make_token(w.overdue.agency.liaisons.get().user),
    },
}
# More pages than the URL patterns name: the task page in its other states, a filtered list, a failed report.
EXTRA_PAGES: dict[str, Callable[[World], list[str]]] = {
    # the one-click 签收 page 签收ed, revoked (410) and unknown (404)
    "anonymous": lambda w: [
        reverse("workspace:action_link", args=[action_link(w.due_soon)]),
        reverse("workspace:action_link", args=[action_link(w.overdue, revoked=True)]),
        reverse("workspace:action_link", args=["0" * 43]),
    ],
    "alice": lambda w: [
        reverse("workspace:task_detail", args=[w.overdue.pk]),
        reverse("workspace:task_detail", args=[w.asking_to_close.pk]),
        reverse("workspace:task_detail", args=[w.done.pk]),
        reverse("workspace:task_list") + "?light=red&overdue=on",
    ],
    "bob": lambda w: [reverse("workspace:task_detail", args=[w.ongoing.pk])],
    "lead": lambda w: [
        reverse("workspace:task_detail", args=[w.asking_to_close.pk]),
        reverse("workspace:task_detail", args=[w.overdue.pk]),
        reverse("workspace:dashboard") + f"?plan={w.overdue.measure.plan_id}",
    ],
    "leader": lambda w: [reverse("workspace:task_detail", args=[w.overdue.pk])],
}


def action_link(task, *, revoked: bool = False) -> str:
    """A token of a one-click 签收 link to ``task`` for its agency's liaison."""
    link, token = links.create_link(task.agency.liaisons.get().user, task, ActionLink.Channel.EMAIL)
    if revoked:
        links.revoke(links=[link.pk], reason=ActionLink.Revoked.BY_HAND)
    return token


def export_job(user) -> ExportJob:
    job = ExportJob.objects.filter(user=user).first()
    return job or ExportJob.objects.create(
        user=user, exporter="progress", status=ExportJob.Status.DONE, progress=100
    )


def page_patterns() -> Iterator[tuple[str, URLPattern]]:
    """(name, pattern) for every URL of ipplan's own pages: home, the three apps, login and password pages."""
    for entry in get_resolver().url_patterns:
        if isinstance(entry, URLResolver):
            module = getattr(entry.urlconf_module, "__name__", "")
            if entry.namespace in CHECKED_NAMESPACES:
                yield from ((f"{entry.namespace}:{p.name}", p) for p in entry.url_patterns)
            elif module == "django.contrib.auth.urls":
                yield from ((p.name, p) for p in entry.url_patterns)
        elif entry.name == "home":
            yield entry.name, entry


def page_urls(world: World, user) -> list[str]:
    """Each pattern reversed with real arguments; a pattern with arguments and no sample is an error."""
    urls = []
    for name, pattern in page_patterns():
        if pattern.pattern.converters:
            assert name in SAMPLE_KWARGS, f"add sample arguments for {name} to SAMPLE_KWARGS"
            urls.append(reverse(name, kwargs=SAMPLE_KWARGS[name](world, user)))
        else:
            urls.append(reverse(name))
    return urls


def html_pages(world: World, role: str, users: dict) -> list[str]:
    """The URLs a role gets an HTML page from (after redirects), each final page once. POST-only actions
    (405), files and JSON are not pages; an anonymous visitor's redirects to the login page are the login page."""
    user = users.get(role)
    client = Client()
    if user is not None:
        client.force_login(user)
    subject = user or users["alice"]
    seen, pages = set(), []
    for url in page_urls(world, subject) + EXTRA_PAGES.get(role, lambda w: [])(world):
        response = client.get(url, follow=True)
        if response.status_code == 405 or not response.get("Content-Type", "").startswith("text/html"):
            continue
        final = response.redirect_chain[-1][0] if response.redirect_chain else url
        if user is None and final.startswith(reverse("login")):
            final = reverse("login")
        if final not in seen:
            seen.add(final)
            pages.append(final)
    return pages


AXE_RUN = """async (tags) => {
  document.querySelectorAll('details').forEach((d) => { d.open = true; });  // check folded forms too
  const result = await axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']});
  return result.violations.map((v) => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 5).map((n) => n.target.join(' ') + ' — ' + n.failureSummary.split('\\n').slice(1, 3).join(' ')),
  }));
}"""
DUPLICATE_IDS = """() => {
  const counts = {};
  document.querySelectorAll('[id]').forEach((e) => { counts[e.id] = (counts[e.id] || 0) + 1; });
  return Object.keys(counts).filter((id) => counts[id] > 1);
}"""


@pytest.fixture
def users(alice, bob, lead, leader):
    return {"alice": alice, "bob": bob, "lead": lead, "leader": leader}


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_every_page_passes_axe_for_every_role(browser, live_server, axe_script: Path, world, users, viewport):
    problems, checked = [], 0
    for role in ROLES:
        pages = html_pages(world, role, users)
        # axe is injected as an inline script, which the site's CSP rightly blocks: the test context bypasses it
        context = browser.new_context(
            locale="zh-CN", timezone_id="Asia/Shanghai", bypass_csp=True, **VIEWPORTS[viewport]
        )
        page = context.new_page()
        page.set_default_timeout(15_000)
        if role != "anonymous":
            log_in(page, live_server, role, PASSWORD)
            page.wait_for_selector("main h1")
        for url in pages:
            page.goto(live_server.url + url)
            page.add_script_tag(path=str(axe_script))
            for violation in page.evaluate(AXE_RUN, AXE_TAGS):
                problems.append(
                    f"{role} {viewport} {url}: {violation['id']} ({violation['impact']}) "
                    f"{violation['help']}\n    " + "\n    ".join(violation["nodes"])
                )
            duplicates = page.evaluate(DUPLICATE_IDS)
            if duplicates:
                problems.append(f"{role} {viewport} {url}: duplicate ids {duplicates}")
            checked += 1
        context.close()
    assert not problems, f"{len(problems)} accessibility problems:\n" + "\n".join(problems)
    assert checked >= 25  # the enumeration really found the pages (login pages, lists, task pages, …)


def context_page(browser, **options):
    context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", bypass_csp=True, **options)
    page = context.new_page()
    page.set_default_timeout(15_000)
    return page


EVERY_LIGHT_HAS_WORDS = (
    "[...document.querySelectorAll('.light')].every((e) => e.textContent.trim().length > 0)"
)
LIGHT_TEXTS = "[...document.querySelectorAll('.light')].map((e) => e.innerText.trim())"


def test_lights_say_what_they_mean_with_a_shape_each_and_a_legend(page, live_server, world):
    log_in(page, live_server, "alice", PASSWORD)
    page.wait_for_selector("h1:has-text('我的任务')")
    page.goto(f"{live_server.url}/tasks/?scope=all")  # 全部: done tasks too (the default shows 未办结)
    page.wait_for_selector("h1:has-text('我的任务')")
    rows = {
        row.locator("td.measure a").inner_text(): row.locator(".light").inner_text()
        for row in page.locator("table.tasks tbody tr").all()
    }
    assert rows == {
        "建立健全重大投融资活动知识产权评议工作机制": "已逾期 3 天",
        "开展知识产权质押融资入园惠企行动": "3 天内到期",
        "建设知识产权保护工作站": "正常",
        "完善知识产权纠纷多元化解机制": "已办结",
    }
    legend = page.locator("main ul.legend").inner_text()
    assert all(word in legend for word in ("已逾期", "即将到期", "正常", "已办结"))
    assert page.evaluate(EVERY_LIGHT_HAS_WORDS)
    shapes = page.evaluate(
        "Object.fromEntries(['red', 'yellow', 'green', 'grey'].map((v) => "
        "[v, document.querySelector('.legend .light-' + v + ' svg').innerHTML]))"
    )
    assert len(set(shapes.values())) == 4  # a distinct shape per light, for colour-blind readers and print

    page.goto(f"{live_server.url}{reverse('workspace:task_detail', args=[world.overdue.pk])}")
    assert page.locator(".status-line > p .light").inner_text() == "已逾期 3 天"
    assert page.evaluate(EVERY_LIGHT_HAS_WORDS)
    assert "灯号说明" in page.inner_text("main")

    bob = context_page(page.context.browser)
    log_in(bob, live_server, "bob", PASSWORD)
    bob.wait_for_selector("h1:has-text('我的任务')")
    assert "待报送" in bob.evaluate(LIGHT_TEXTS)  # the ongoing task's report is due within the week
    assert bob.evaluate(EVERY_LIGHT_HAS_WORDS)
    bob.context.close()


def effective_colours(page, selector: str, prop: str) -> list[tuple[str, str]]:
    """(colour of ``prop``, the opaque background behind it) for each element matching ``selector``."""
    return page.evaluate(
        """([selector, prop]) => [...document.querySelectorAll(selector)].map((e) => {
          let b = e.parentElement, bg = 'rgb(255, 255, 255)';
          while (b) { const c = getComputedStyle(b).backgroundColor;
            if (c !== 'rgba(0, 0, 0, 0)' && c !== 'transparent') { bg = c; break; } b = b.parentElement; }
          return [getComputedStyle(e)[prop], bg];
        })""",
        [selector, prop],
    )


def contrast(a: str, b: str) -> float:
    def luminance(rgb: str) -> float:
        channels = [int(x) / 255 for x in re.findall(r"\d+", rgb)[:3]]
        r, g, b = (c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


@pytest.mark.parametrize("large", [False, True], ids=["standard", "large-text"])
def test_lights_contrast_with_the_page_and_links_in_text_are_underlined(
    browser, live_server, axe_script, world, lead, large
):
    # axe is injected as an inline script, which the site's CSP rightly blocks: this context bypasses it
    context = browser.new_context(
        locale="zh-CN", timezone_id="Asia/Shanghai", bypass_csp=True, viewport={"width": 1280, "height": 900}
    )
    page = context.new_page()
    Preferences.objects.create(user=lead, large_text=large)
    log_in(page, live_server, "lead", PASSWORD)
    page.wait_for_selector("h1:has-text('督办看板')")
    assert page.evaluate("document.documentElement.classList.contains('large-text')") is large
    for url in (reverse("workspace:dashboard"), reverse("workspace:task_detail", args=[world.overdue.pk])):
        page.goto(live_server.url + url)
        # The lights' colours come from the CSS custom properties (--red, --yellow, --green, --grey).
        colours = page.evaluate(
            "['--red', '--yellow', '--green', '--grey', '--bg', '--card'].map((p) => "
            "getComputedStyle(document.documentElement).getPropertyValue(p).trim())"
        )
        for light in colours[:4]:
            for background in colours[4:]:
                assert contrast(hex_rgb(light), hex_rgb(background)) >= 3, (light, background)
        fills = effective_colours(page, ".light-shape", "fill")
        assert len(fills) >= 4
        for fill, background in fills:
            assert contrast(fill, background) >= 3, (url, fill, background)
        plain = page.evaluate(
            """[...document.querySelectorAll('main p a, main li a, main dd a, main td a, main div.small a')]
                 .filter((a) => !a.closest('.btn, .chips, .legend.counts, .stat') && !a.classList.contains('btn'))
                 .filter((a) => !getComputedStyle(a).textDecorationLine.includes('underline'))
                 .map((a) => a.outerHTML)"""
        )
        assert plain == []
        page.add_script_tag(path=str(axe_script))  # and the text contrast of 大字版 too
        assert page.evaluate(AXE_RUN, AXE_TAGS) == []
    context.close()


def hex_rgb(value: str) -> str:
    value = value.lstrip("#")
    if len(value) == 3:
        value = "".join(c * 2 for c in value)
    return "rgb({}, {}, {})".format(*(int(value[i : i + 2], 16) for i in (0, 2, 4)))


def test_lights_bars_and_meters_stay_visible_in_forced_colours(page, live_server, world):
    page.emulate_media(forced_colors="active")
    log_in(page, live_server, "lead", PASSWORD)
    page.wait_for_selector("h1:has-text('督办看板')")
    assert page.evaluate("matchMedia('(forced-colors: active)').matches")
    drawn = page.evaluate(
        """() => {
          const painted = (c) => c && c !== 'none' && c !== 'transparent' && c !== 'rgba(0, 0, 0, 0)';
          const shapes = [...document.querySelectorAll('.light-shape')];
          const bars = [...document.querySelectorAll('.stack span, .meter > span')].filter((e) => e.offsetWidth > 0);
          return {
            shapes: shapes.length, bars: bars.length,
            shapesPainted: shapes.every((e) => painted(getComputedStyle(e).fill) && e.getBoundingClientRect().width > 0),
            barsPainted: bars.every((e) => painted(getComputedStyle(e).backgroundColor)),
            boxesOutlined: [...document.querySelectorAll('.stack, .meter')].every((e) => getComputedStyle(e).borderTopStyle === 'solid'),
          };
        }"""
    )
    assert drawn["shapes"] >= 8 and drawn["bars"] >= 2
    assert drawn["shapesPainted"] and drawn["barsPainted"] and drawn["boxesOutlined"]


def test_text_follows_the_browsers_font_size(browser, live_server, world):
    """Chromium's default font size set to 24 px (as in 设置 → 外观 → 字号) through the DevTools protocol."""
    page = context_page(browser)
    cdp = page.context.new_cdp_session(page)
    cdp.send("Page.setFontSizes", {"fontSizes": {"standard": 24}})
    log_in(page, live_server, "alice", PASSWORD)
    page.wait_for_selector("h1:has-text('我的任务')")
    assert page.evaluate("getComputedStyle(document.documentElement).fontSize") == "24px"
    size = "parseFloat(getComputedStyle(document.querySelector(%r)).fontSize)"
    assert page.evaluate(size % "table.tasks td.measure a") >= 24
    page.goto(f"{live_server.url}{reverse('workspace:task_detail', args=[world.overdue.pk])}")
    assert page.evaluate(size % "main section p.pre") >= 24  # the task text
    assert page.evaluate(size % "textarea") >= 24
    page.context.close()


@pytest.mark.parametrize("who", ["alice", "lead"])
def test_pages_fit_a_320_px_screen(browser, live_server, world, who):
    page = context_page(browser, viewport={"width": 320, "height": 640}, is_mobile=True, has_touch=True)
    log_in(page, live_server, who, PASSWORD)
    page.wait_for_selector("main h1")
    urls = [reverse("workspace:task_detail", args=[world.overdue.pk]), reverse("workspace:task_list")]
    if who == "lead":
        urls += [reverse("workspace:dashboard"), reverse("workspace:review_queue")]
    for url in urls:
        page.goto(live_server.url + url)
        page.evaluate("document.querySelectorAll('details').forEach((d) => { d.open = true; })")
        wide = page.evaluate(
            "[...document.querySelectorAll('body *')].filter((e) => e.getBoundingClientRect().right > 320 "
            "&& !e.closest('.table-wrap')).map((e) => e.tagName + '.' + e.className).slice(0, 5)"
        )
        assert page.evaluate("document.documentElement.scrollWidth") <= 320, (url, wide)
    page.context.close()


def test_delivery_problems_and_the_urge_confirmations_pass_axe(
    browser, site, axe_script, world, market, smtp
):
    """The dashboard's 投递问题 panel, and 催办 through its confirmation page (a POST, so the crawl above never
    sees it), in Chromium against the live server; the confirmed 催办 reaches the SMTP server."""
    today = timezone.localdate()
    Task.objects.create(
        measure=world.overdue.measure, agency=market, role=Task.Role.SUPPORT, due_date=world.overdue.due_date
    )
    collective = Agency.objects.create(name="各成员单位", is_group=True, kind=Agency.Kind.GROUP)
    Task.objects.create(measure=world.done.measure, agency=collective, due_date=today)
    ReminderLog.objects.create(
        kind="digest", recipient="bob@example.gov.cn", period=today.isoformat(), day=today, status="failed",
        error="SMTPRecipientsRefused: 550 mailbox unavailable",
    )  # fmt: skip
    page = context_page(browser, viewport={"width": 1280, "height": 900})
    log_in(page, site, "lead", PASSWORD)
    page.wait_for_selector("h1:has-text('督办看板')")
    panel = page.locator("#delivery-problems")
    assert "SMTPRecipientsRefused" in panel.inner_text()
    assert "区市场监管局" in panel.inner_text() and "各成员单位" in panel.inner_text()
    assert panel.get_by_role("link", name="为区市场监管局添加联络员").get_attribute("href") == (
        f"/admin/agencies/liaison/add/?agency={market.pk}"
    )
    page.add_script_tag(path=str(axe_script))
    assert page.evaluate(AXE_RUN, AXE_TAGS) == []

    page.get_by_role("button", name="催办全部逾期任务(2 项)").click()  # 区金融局 and 区市场监管局
    page.wait_for_selector("h1:has-text('确认催办全部逾期任务(2 项)')")
    assert "其中 1 个单位没有可通知的联络员" in page.inner_text("main")
    page.add_script_tag(path=str(axe_script))
    assert page.evaluate(AXE_RUN, AXE_TAGS) == []
    page.get_by_role("link", name="返回,不发送").click()
    page.wait_for_selector("h1:has-text('督办看板')")
    assert not ReminderLog.objects.filter(kind="urge").exists()  # going back sent nothing

    page.get_by_role("button", name="催办区金融局的 1 项逾期任务").click()
    page.wait_for_selector("h1:has-text('确认向区金融局催办 1 项逾期任务')")
    page.add_script_tag(path=str(axe_script))
    assert page.evaluate(AXE_RUN, AXE_TAGS) == []
    page.get_by_role("button", name="确认催办 1 项任务").click()
    page.wait_for_selector("text=催办 1 项任务,涉及 1 封催办邮件")
    deadline = time.monotonic() + 15
    while not urges(smtp) and time.monotonic() < deadline:
        time.sleep(0.2)
    [urge] = urges(smtp)
    assert urge["To"] == "alice@example.gov.cn"
    assert "已逾期 3 天" in smtp.inbox.text_of(urge)
    page.context.close()


def urges(smtp):
    return [message for message in smtp.inbox.messages if message["Subject"].startswith("【催办】")]
