"""考核: scores from recorded timestamps, reproducible, traceable to their facts, kept as issued."""

import datetime

import pytest
import time_machine
from django.urls import reverse

from reports.models import IssuedDocument, ScoreWeights
from reports.scorecard import PeriodError, Scorecard, parse_period, weighted_total
from reports.services import issue_bulletin
from tasks.models import ExtensionRequest, ProgressUpdate, Task

UTC = datetime.UTC
Q4 = parse_period("2021-Q4")
AT_END = datetime.date(2022, 1, 5)


@pytest.fixture
def history(plan, finance_task, science_task, ongoing_task, lead, alice, bob):
    """区金融局 (alice) signs late, completes late, asks for an extension; 区科技局 (bob) does everything on time."""

    def at(day, hour=2):
        return datetime.datetime(*day, hour, 0, tzinfo=UTC)

    Task.objects.filter(pk__in=[finance_task.pk, science_task.pk, ongoing_task.pk]).update(
        created_at=at((2021, 9, 1))
    )
    Task.objects.filter(pk=science_task.pk).update(
        acknowledged_at=at((2021, 9, 2)), status=Task.Status.DONE, completed_at=at((2021, 12, 20))
    )
    Task.objects.filter(pk=finance_task.pk).update(
        acknowledged_at=at((2021, 9, 13)), status=Task.Status.DONE, completed_at=at((2022, 1, 3))
    )
    Task.objects.filter(pk=ongoing_task.pk).update(acknowledged_at=at((2021, 9, 3)))
    ExtensionRequest.objects.create(
        task=finance_task,
        requested_by=alice,
        requested_at=at((2021, 12, 1)),
        current_due_date=datetime.date(2021, 12, 31),
        requested_due_date=datetime.date(2022, 1, 31),
        reason="需协调市级部门。",
        decision=ExtensionRequest.Decision.REFUSED,
    )
    # the ongoing task's 2021-Q3 report was due 2021-10-10 and came on 10-08
    ProgressUpdate.objects.create(
        task=ongoing_task, author=alice, text="已开展调解。", period="2021-Q3", created_at=at((2021, 10, 8))
    )
    update = ProgressUpdate.objects.create(
        task=finance_task,
        author=alice,
        text="申请办结。",
        status=Task.Status.COMPLETION_REQUESTED,
        created_at=at((2021, 12, 28)),
        review_decision=ProgressUpdate.ReviewDecision.RETURNED,
        reviewed_at=at((2021, 12, 29)),
        review_reason="缺少佐证材料。",
        reviewed_by=lead,
    )
    return update


def card(plan, weights=None):
    return Scorecard(plan=plan, period=Q4, weights=weights or ScoreWeights.current().as_dict(), today=AT_END)


def by_name(scores):
    return {s.name: s for s in scores}


def test_the_scores_follow_from_the_recorded_timestamps(history, plan):
    scores = by_name(card(plan).scores())
    finance, science = scores["区金融局"], scores["区科技局"]
    assert science.components["acknowledge"].score == 100  # within 2 days
    assert science.components["on_time"].score == 100
    assert science.components["overdue"].score == 100
    assert finance.components["acknowledge"].score == pytest.approx(
        (50 + 100) / 2
    )  # 12 days: 5 points off for each of 10; 2 days
    assert finance.components["on_time"].score == 0  # due 12-31, done 01-03
    assert finance.components["reports"].score == 100  # Q3 report on 10-08 for 10-10
    assert finance.components["extensions"].score == 75  # one refused request over two tasks
    assert finance.components["returned"].score == 0
    assert science.components["returned"].score is None  # nothing to judge: left out, others reweighted
    assert science.total == 100 and science.rank == 1 and finance.rank == 2
    assert finance.components["overdue"].score == 100  # due on the quarter's last day
    january = Scorecard(
        plan=plan, period=parse_period("2022-01"), weights=ScoreWeights.current().as_dict(), today=AT_END
    )
    overdue = by_name(january.scores())["区金融局"].components["overdue"]
    assert [f.text for f in overdue.facts] == ["截止 2021-12-31,本期逾期 2 天"]  # 01-01 and 01-02
    assert overdue.score == pytest.approx(round(100 * (1 - 2 / 10), 1))  # 2 tasks × 5 days


def test_the_same_data_and_weights_give_the_same_scores(history, plan):
    first = [s.as_dict() for s in card(plan).scores()]
    second = [s.as_dict() for s in card(plan).scores()]
    assert first == second
    heavier = {**ScoreWeights.current().as_dict(), "on_time": 90}
    assert [s.as_dict() for s in card(plan, heavier).scores()] != first


def test_weighted_total_ignores_indicators_with_nothing_to_judge():
    weights = {
        "acknowledge": 10,
        "on_time": 30,
        "reports": 20,
        "overdue": 20,
        "extensions": 10,
        "returned": 10,
    }
    assert weighted_total({"acknowledge": 50, "on_time": None, "overdue": 100}, weights) == pytest.approx(
        83.3
    )
    assert weighted_total({}, weights) == 0


@pytest.mark.parametrize("text", ["2021Q4", "2021-Q5", "明年", ""])
def test_unreadable_periods_are_refused_in_chinese(text):
    with pytest.raises(PeriodError, match="考核期"):
        parse_period(text)


def test_an_issued_bulletin_keeps_the_weights_and_scores_it_printed(history, plan, lead):
    bulletin, created = issue_bulletin(plan=plan, period_key="2021-Q4", user=lead, today=AT_END)
    assert created and bulletin.doc_number == "通报〔2022〕1号"
    printed = bulletin.scores
    assert bulletin.weights == ScoreWeights.current().as_dict()
    weights = ScoreWeights.current()
    weights.on_time = 90
    weights.save()
    bulletin.refresh_from_db()
    assert bulletin.scores == printed and bulletin.weights["on_time"] == 30
    again, created = issue_bulletin(plan=plan, period_key="2021-Q4", user=lead, today=AT_END)
    assert not created and again.pk == bulletin.pk
    assert IssuedDocument.objects.count() == 1


@time_machine.travel(datetime.datetime(2022, 1, 5, 2, 0, tzinfo=UTC))
def test_the_scorecard_page_ranks_and_drills_down(client, history, plan, leader, finance):
    client.force_login(leader)
    response = client.get(reverse("reports:scorecard"), {"plan": plan.pk, "period": "2021-Q4"})
    assert response.status_code == 200
    names = [s.name for s in response.context["scores"]]
    assert names == ["区科技局", "区金融局"]
    detail = reverse("reports:scorecard_agency", args=[finance.pk])
    assert f"{detail}?plan={plan.pk}&amp;period=2021-Q4#returned" in response.content.decode()
    response = client.get(detail, {"plan": plan.pk, "period": "2021-Q4"})
    page = response.content.decode()
    assert "2021-12-29 审核:退回(缺少佐证材料。)" in page
    assert "2021-09-01 分派,2021-09-13 签收,用时 12 天" in page


def test_the_scorecard_is_for_supervisors_only(client, alice, charlie):
    for user in (alice, charlie):
        client.force_login(user)
        assert client.get(reverse("reports:scorecard")).status_code == 403


def test_a_bad_period_on_the_page_says_so(client, lead):
    client.force_login(lead)
    response = client.get(reverse("reports:scorecard"), {"period": "2026-Q9"})
    assert response.status_code == 200
    assert "考核期“2026-Q9”无法识别" in response.content.decode()


def test_weights_are_set_in_the_admin(client, superuser):
    client.force_login(superuser)
    response = client.get(reverse("admin:reports_scoreweights_changelist"))
    assert response.status_code == 200
    weights = ScoreWeights.objects.get()
    assert weights.as_dict() == {
        "acknowledge": 15,
        "on_time": 30,
        "reports": 20,
        "overdue": 20,
        "extensions": 10,
        "returned": 5,
    }
    data = {**weights.as_dict(), "on_time": 40}
    response = client.post(reverse("admin:reports_scoreweights_change", args=[weights.pk]), data)
    assert response.status_code == 302
    assert ScoreWeights.current().on_time == 40
