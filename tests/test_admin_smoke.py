"""Every admin list, add and change page renders for a superuser, in Chinese."""

import pytest
from django.contrib import admin
from django.core.management import call_command
from django.urls import reverse

from agencies.models import AgencyRobot, BureauProfile
from tasks.models import IndicatorValue, ProgressUpdate


@pytest.fixture
def populated(finance_task, science_task, lead, measure, alice):
    call_command("loaddata", "fixtures/agencies.json", verbosity=0)
    update = ProgressUpdate.objects.create(task=finance_task, author=lead, text="已起草评议办法", percent=20)
    indicator = measure.plan.indicators.create(
        name="每万人口高价值发明专利拥有量", unit="件", target="3.5", target_year=2025
    )
    IndicatorValue.objects.create(indicator=indicator, year=2024, value="2.8")
    BureauProfile.objects.create(user=lead, jurisdiction="东丽区")
    AgencyRobot.objects.create(
        agency=finance_task.agency,
        kind=AgencyRobot.Kind.DINGTALK,
        name="区金融局工作群",
        webhook_url="https://oapi.dingtalk.com/robot/send?access_token=" + "a" * 64,
        secret="SEC" + "b" * 64,
    )
    return update


def registered_models():
    return [model for model in admin.site._registry if model._meta.app_label in {"agencies", "tasks", "auth"}]


@pytest.mark.parametrize("model", registered_models(), ids=lambda m: m._meta.label)
def test_admin_pages_render(client, superuser, populated, model):
    client.force_login(superuser)
    info = (model._meta.app_label, model._meta.model_name)
    changelist = client.get(reverse("admin:{}_{}_changelist".format(*info)))
    assert changelist.status_code == 200
    assert 'lang="zh-hans"' in changelist.text
    add = client.get(reverse("admin:{}_{}_add".format(*info)))
    obj = model._default_manager.first()
    assert obj is not None, f"no {model._meta.label} to open"
    change = client.get(reverse("admin:{}_{}_change".format(*info), args=[obj.pk]))
    assert change.status_code == 200
    if model in RECORDS:  # read-only for everyone, superusers included
        assert add.status_code == 403
        assert "保存" not in change.text and "关闭" in change.text
    else:
        assert add.status_code == 200
        assert "保存" in change.text


RECORDS = {ProgressUpdate}


def test_admin_index_is_in_chinese(client, superuser):
    client.force_login(superuser)
    page = client.get(reverse("admin:index"))
    assert "ipplan 计划督办系统" in page.text
    assert "单位管理" in page.text and "计划与任务" in page.text


def test_task_list_filters_overdue_and_searches_chinese(client, superuser, finance_task, science_task):
    client.force_login(superuser)
    url = reverse("admin:tasks_task_changelist")
    page = client.get(url, {"q": "金融"})
    assert page.context["cl"].result_count == 1
    overdue = client.get(url, {"overdue": "yes"})  # due 2021-12-31: both overdue today
    assert overdue.context["cl"].result_count == 2
    assert "逾期" in overdue.text


def test_agency_autocomplete_finds_aliases(client, superuser, finance):
    finance.aliases.create(name="东丽区金融工作局")
    client.force_login(superuser)
    response = client.get(
        reverse("admin:autocomplete"),
        {"app_label": "tasks", "model_name": "task", "field_name": "agency", "term": "金融工作"},
    )
    assert response.status_code == 200
    assert [r["text"] for r in response.json()["results"]] == [str(finance)]
