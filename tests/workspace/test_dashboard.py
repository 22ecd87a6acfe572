import datetime

import pytest
from django.urls import reverse

from agencies.models import Agency
from tasks.models import IndicatorValue, Measure, Plan, Task

URL = reverse("workspace:dashboard")


@pytest.mark.parametrize(
    ("actor", "status"), [("lead", 200), ("leader", 200), ("alice", 403), ("charlie", 403)]
)
def test_who_may_open_the_dashboard(client, request, actor, status):
    client.force_login(request.getfixturevalue(actor))
    assert client.get(URL).status_code == status


def test_home_sends_each_user_to_their_page(client, lead, alice):
    assert client.get("/").url.startswith(reverse("login"))
    client.force_login(lead)
    assert client.get(reverse("home")).url == URL
    client.force_login(alice)
    assert client.get(reverse("home")).url == reverse("workspace:task_list")


@pytest.fixture
def spread(finance_task, science_task, ongoing_task, market, measure):
    """finance: lead task overdue + ongoing report missed; science: done; market: not acknowledged, green."""
    finance_task.due_date = datetime.date(2021, 6, 1)
    finance_task.acknowledged_at = datetime.datetime(2021, 5, 1, tzinfo=datetime.UTC)
    finance_task.last_reported_at = datetime.datetime(2021, 6, 10, tzinfo=datetime.UTC)
    finance_task.save()
    ongoing_task.next_report_due = datetime.date(2021, 4, 10)
    ongoing_task.save()
    science_task.status = Task.Status.DONE
    science_task.save()
    return Task.objects.create(
        measure=measure, agency=market, role=Task.Role.SUPPORT, due_date=datetime.date(2021, 6, 20)
    )


def test_the_numbers(client, lead, spread, frozen):
    client.force_login(lead)
    board = client.get(URL).context["board"]
    assert board.counts.total == 4
    lights = {value: n for value, _, n in board.counts.by_light}
    assert lights == {"red": 2, "yellow": 1, "green": 0, "grey": 1}
    statuses = {value: n for value, _, n in board.counts.by_status}
    assert statuses == {"not_started": 3, "in_progress": 0, "completion_requested": 0, "done": 1}
    rows = {row.name: row for row in board.agencies}
    finance = rows["区金融局"]
    assert (finance.total, finance.done, finance.overdue, finance.completion_rate) == (2, 0, 2, 0)
    assert finance.unacknowledged == 1  # the ongoing one
    assert finance.last_report == datetime.datetime(2021, 6, 10, tzinfo=datetime.UTC)
    assert (rows["区科技局"].done, rows["区科技局"].completion_rate) == (1, 100)
    assert rows["区市场监管局"].unacknowledged == 1
    assert board.agencies[0].name == "区金融局"  # most overdue first


def test_it_links_through_to_the_filtered_list(client, lead, spread, finance, frozen):
    client.force_login(lead)
    page = client.get(URL).text
    link = f"/tasks/?plan=&amp;agency={finance.pk}&amp;light=red"
    assert link in page
    response = client.get(link.replace("&amp;", "&"))
    assert len(response.context["page"]) == 2


def test_each_agency_row_says_what_it_counts_and_offers_the_lead_bureau_its_actions(
    client, lead, leader, spread, finance, market, plan, frozen
):
    """The rows are joined in Python (workspace_tags.agency_rows): counts, meter, 未签收 since when, last
    report, and 催办 / 督办通知单 for agencies with overdue tasks, on the lead bureau's board only."""
    client.force_login(lead)
    page = client.get(f"{URL}?plan={plan.pk}").text
    row = page[page.index(f'<a href="/tasks/?plan={plan.pk}&amp;agency={finance.pk}">') :]
    row = row[: row.index("</tr>")]
    assert f"?plan={plan.pk}&amp;agency={finance.pk}&amp;status=done" in row
    assert 'title="最早分派于 ' in row and "2021-06-10" in row  # last report, Asia/Shanghai
    assert (
        f'<input type="hidden" name="agency" value="{finance.pk}"><input type="hidden" name="plan" value="{plan.pk}">'
        in row
    )
    assert (
        'aria-label="催办区金融局的 2 项逾期任务"' in row and 'aria-label="向区金融局签发督办通知单"' in row
    )
    quiet = page[page.index(f'<a href="/tasks/?plan={plan.pk}&amp;agency={market.pk}">') :]
    quiet = quiet[: quiet.index("</tr>")]
    assert "催办" not in quiet  # nothing overdue: nothing to urge
    client.force_login(leader)  # 领导 read the board; 催办 is the lead bureau's
    assert 'aria-label="催办区金融局' not in client.get(URL).text


def test_per_plan(client, lead, spread, plan, finance, frozen):
    other = Plan.objects.create(title="亳州市知识产权强市建设实施方案", jurisdiction="亳州市")
    Task.objects.create(
        measure=Measure.objects.create(plan=other, number="1", text="其他计划的措施。"),
        agency=finance,
        due_date=datetime.date(2022, 1, 1),
    )
    client.force_login(lead)
    assert client.get(URL).context["board"].counts.total == 5
    board = client.get(f"{URL}?plan={plan.pk}").context["board"]
    assert board.plan == plan and board.counts.total == 4
    assert client.get(f"{URL}?plan=999999").status_code == 404


def test_indicators_with_their_latest_value(client, lead, plan, finance, frozen):
    indicator = plan.indicators.create(
        name="每万人口高价值发明专利拥有量",
        unit="件",
        baseline="1.2",
        target="3.5",
        target_year=2025,
        agency=finance,
    )
    IndicatorValue.objects.create(indicator=indicator, year=2020, value="1.9")
    IndicatorValue.objects.create(indicator=indicator, year=2021, value="2.8")
    client.force_login(lead)
    response = client.get(URL)
    [row] = response.context["board"].indicators
    assert row.latest.value == "2.8"
    assert "每万人口高价值发明专利拥有量" in response.text and "3.5" in response.text


def test_the_dashboard_uses_a_fixed_number_of_queries(
    client, lead, plan, django_assert_max_num_queries, frozen
):
    client.force_login(lead)
    agencies = Agency.objects.bulk_create(Agency(name=f"单位{i}", jurisdiction="东丽区") for i in range(20))

    def make(n, prefix):
        measures = Measure.objects.bulk_create(
            Measure(plan=plan, number=f"{prefix}{i}", text="措施。") for i in range(n)
        )
        Task.objects.bulk_create(
            Task(measure=m, agency=agencies[i % 20], due_date=datetime.date(2021, 1 + i % 12, 1))
            for i, m in enumerate(measures)
        )

    make(5, "a")
    # 12, the navigation's unread 消息 count, and the 投递问题 panel's 7 (failed, given up and stuck rows;
    # agencies nobody can reach and collectives without members; the 督办人员 addresses)
    with django_assert_max_num_queries(20) as small:
        client.get(URL)
    make(500, "b")
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = client.get(URL)
    assert response.context["board"].counts.total == 505
