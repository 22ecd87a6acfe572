"""What the emails say: Chinese, a summary at the top, every task linked to its page, HTML and plain text."""

import datetime

from django.core import mail
from django.urls import reverse
from django.utils import translation

from ipplan.lib.emails import make_message, task_url
from reminders import services


def test_task_url_points_at_the_workspace_page(settings, finance_task):
    settings.SITE_URL = "https://ipplan.example.gov.cn"
    assert task_url(finance_task) == f"https://ipplan.example.gov.cn/tasks/{finance_task.pk}/"
    # The workspace's task page: if its URL moves, the emails' links must follow.
    assert task_url(finance_task) == settings.SITE_URL + reverse(
        "workspace:task_detail", args=[finance_task.pk]
    )


def test_the_digest_lists_each_task_with_its_link(scenario, settings, on_day, sweep):
    settings.SITE_URL = "https://ipplan.example.gov.cn"
    with translation.override("en"), on_day("2024-09-30"):  # the request language does not leak in
        sweep()
    [digest] = [m for m in mail.outbox if m.to == ["alice@example.gov.cn"] and "督办提醒" in m.subject]
    assert digest.subject == "【督办提醒】2024-09-30:3 项任务需要关注"
    text = digest.body
    assert text.startswith("区金融局联络员:您好!")
    summary = text.split("\n\n")[1]
    assert (
        "共有 3 项任务需要关注" in summary and "已逾期 1 项" in summary and "1个工作日内到期 2 项" in summary
    )
    for name in ["finance_lead_overdue", "finance_due_next_day", "finance_due_in_holiday"]:
        assert f"https://ipplan.example.gov.cn/tasks/{scenario[name].pk}/" in text
    assert f"/tasks/{scenario['science_overdue'].pk}/" not in text
    assert "已逾期 10 天(截止日期 2024-09-20)" in text
    assert "2024-10-08 到期,还有 8 天" in text
    html, mimetype = digest.alternatives[0]
    assert mimetype == "text/html" and 'lang="zh-hans"' in html
    assert f'href="https://ipplan.example.gov.cn/tasks/{scenario["finance_due_next_day"].pk}/"' in html
    assert "开展知识产权保护工作" in html


def test_the_escalation_groups_tasks_by_agency(scenario, settings, on_day, sweep):
    settings.SITE_URL = "https://ipplan.example.gov.cn"
    with on_day("2024-09-30"):
        sweep()
    [escalation] = [m for m in mail.outbox if m.to == ["lead@example.gov.cn"] and "逾期上报" in m.subject]
    assert escalation.subject == "【逾期上报】2024-09-30:2 个单位 3 项任务逾期超过上报期限"
    text = escalation.body
    # Counts per agency, most tasks first, each with the link to its task list; the tasks are attached.
    assert text.index("区科技局:2 项,最长逾期 20 天") < text.index("区金融局:1 项,最长逾期 10 天")
    science = scenario["science_overdue"].agency_id
    assert f"https://ipplan.example.gov.cn/tasks/?agency={science}&light=red" in text
    assert "全部任务的明细见附件“逾期上报任务清单-20240930.xlsx”" in text
    assert "不可退订" in text


def test_make_message_renders_three_templates(scenario):
    [email] = [
        e
        for e in services.compute_reminders(datetime.date(2024, 9, 30))
        if e.recipient == "bob@example.gov.cn"
    ]
    ctx = {"email": email, "day": email.day, "agencies": "区科技局", "total": 3, "counts": email.counts(),
           "sections": email.rendered_sections(), "weekly": False, "summary": email.reason_summary()}  # fmt: skip
    message = make_message("digest", "bob@example.gov.cn", ctx)
    assert message.to == ["bob@example.gov.cn"]
    assert message.subject == "【督办提醒】2024-09-30:3 项任务需要关注"
    assert "定期报送逾期 1 项" in message.body
