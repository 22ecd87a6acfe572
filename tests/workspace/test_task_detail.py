import pytest
from django.urls import reverse

from tasks.models import ProgressUpdate, Task


def url(task):
    return reverse("workspace:task_detail", args=[task.pk])


@pytest.mark.parametrize(
    ("actor", "status"), [("alice", 200), ("lead", 200), ("leader", 200), ("bob", 404), ("charlie", 404)]
)
def test_who_may_open_a_task(client, request, finance_task, actor, status, frozen):
    client.force_login(request.getfixturevalue(actor))
    assert client.get(url(finance_task)).status_code == status


def test_it_requires_login(client, finance_task):
    response = client.get(url(finance_task))
    assert response.status_code == 302


def test_it_shows_the_measure_and_where_it_comes_from(client, alice, finance_task, frozen):
    client.force_login(alice)
    page = client.get(url(finance_task)).text
    assert "建立健全重大投融资活动知识产权评议工作机制。" in page
    assert "2020-2021年天津市东丽区强化知识产权保护推进计划" in page
    assert "一、完善知识产权保护制度" in page
    assert "区金融局牵头,区发改委" in page
    assert "2021-12-31" in page
    assert "签收任务" in page
    assert 'enctype="multipart/form-data"' in page


def test_a_support_agency_sees_what_the_lead_reported(client, bob, alice, finance_task, science_task, frozen):
    ProgressUpdate.objects.create(task=finance_task, author=alice, text="已起草评议办法初稿", percent=30)
    client.force_login(bob)
    response = client.get(url(science_task))
    assert "已起草评议办法初稿" in response.text
    sibling = response.context["page"].siblings[0]
    assert sibling.task == finance_task and sibling.reported_this_period


def test_the_lead_agency_sees_which_supports_have_not_reported(
    client, alice, finance_task, science_task, frozen
):
    client.force_login(alice)
    response = client.get(url(finance_task))
    [sibling] = response.context["page"].siblings
    assert sibling.task == science_task and not sibling.reported_this_period
    assert "未报送" in response.text
    assert "2021年第2季度" in response.text


def test_a_leader_gets_no_forms(client, leader, finance_task, frozen):
    client.force_login(leader)
    page = client.get(url(finance_task)).text
    assert 'enctype="multipart/form-data"' not in page
    assert "签收任务" not in page
    assert "督办调整" not in page


def test_the_lead_bureau_gets_supervision_tools(client, lead, finance_task, frozen):
    client.force_login(lead)
    page = client.get(url(finance_task)).text
    assert "调整截止日期" in page and "改由其他单位承办" in page
    assert 'enctype="multipart/form-data"' not in page


def test_it_shows_the_audit_trail(client, lead, alice, finance_task, frozen):
    client.force_login(alice)
    client.post(reverse("workspace:acknowledge", args=[finance_task.pk]))
    client.force_login(lead)
    response = client.get(url(finance_task))
    history = response.context["page"].history
    assert history[0]["user"] == alice
    assert history[0]["reason"] == "签收"
    assert any(change["field"] == "签收时间" for change in history[0]["changes"])
    assert history[-1]["type"] == "已创建"
    assert "变更记录" in response.text


def test_a_removed_measure_is_not_listed(client, alice, finance_task, frozen):
    finance_task.measure.is_removed = True
    finance_task.measure.save()
    client.force_login(alice)
    assert client.get(url(finance_task)).status_code == 404
    assert Task.objects.count() == 1


def test_refusals_are_explained_in_chinese(client, bob, leader, finance_task, frozen):
    client.force_login(bob)
    assert "页面不存在" in client.get(url(finance_task)).text
    client.force_login(leader)
    response = client.post(reverse("workspace:acknowledge", args=[finance_task.pk]))
    assert response.status_code == 403
    assert "只有本单位联络员可以办理此任务" in response.text
