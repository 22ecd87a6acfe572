import pytest
from django.urls import reverse

from tasks.models import IndicatorValue

URL = reverse("workspace:indicators")


@pytest.fixture
def indicator(plan, finance):
    return plan.indicators.create(
        name="知识产权质押融资金额",
        unit="亿元",
        baseline="0.5",
        baseline_year=2019,
        target="2",
        agency=finance,
    )


def post(client, indicator, **fields):
    return client.post(URL, {"indicator": indicator.pk, "year": "2020", "value": "1.2", "note": "", **fields})


def test_a_liaison_reports_a_yearly_value_and_corrects_it(client, alice, indicator, frozen):
    client.force_login(alice)
    assert "知识产权质押融资金额" in client.get(URL).text
    assert post(client, indicator).status_code == 302
    assert post(client, indicator, value="1.3", note="更正").status_code == 302
    row = IndicatorValue.objects.get()
    assert (row.year, row.value, row.note, row.reported_by) == (2020, "1.3", "更正", alice)
    assert "已报送“知识产权质押融资金额”2020 年数值" in client.get(URL).text


def test_a_future_year_is_refused(client, alice, indicator, frozen):
    client.force_login(alice)
    response = post(client, indicator, year="2030")
    assert "年度应在 2019 到 2021 之间" in response.text
    assert not IndicatorValue.objects.exists()


@pytest.mark.parametrize("actor", ["bob", "leader", "lead", "charlie"])
def test_only_the_responsible_agency_reports(client, request, indicator, actor, frozen):
    client.force_login(request.getfixturevalue(actor))
    assert "知识产权质押融资金额" not in client.get(URL).text
    assert post(client, indicator).status_code == 404
    assert not IndicatorValue.objects.exists()
