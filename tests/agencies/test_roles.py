"""One rule for "sees every task": the 督办人员 and 领导 groups (and superusers). Neither the staff flag nor
a stray ``view_task`` permission grants it, and every page agrees."""

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from agencies.roles import can_write, is_leader, sees_all_tasks
from tasks.models import Task


@pytest.fixture
def staff_only(make_user):
    return make_user("clerk", is_staff=True)


@pytest.fixture
def view_perm_only(make_user):
    user = make_user("viewer")
    user.user_permissions.add(Permission.objects.get(codename="view_task"))
    return user


def test_the_rule(lead, leader, superuser, alice, staff_only, view_perm_only):
    assert [sees_all_tasks(u) for u in (lead, leader, superuser)] == [True, True, True]
    assert [sees_all_tasks(u) for u in (alice, staff_only, view_perm_only)] == [False, False, False]
    assert [can_write(u) for u in (lead, leader, superuser, alice)] == [True, False, True, False]
    assert is_leader(leader) and not is_leader(lead)


@pytest.mark.parametrize("who", ["staff_only", "view_perm_only"])
def test_neither_the_staff_flag_nor_a_permission_shows_every_task(client, request, who, finance_task):
    user = request.getfixturevalue(who)
    client.force_login(user)
    assert Task.objects.for_user(user).count() == 0
    page = client.get(reverse("workspace:task_list"))
    assert page.status_code == 200 and page.context["page"].paginator.count == 0
    assert client.get(reverse("workspace:dashboard")).status_code == 403
    assert client.get(reverse("workspace:task_detail", args=[finance_task.pk])).status_code == 404
    export = client.get(reverse("reports:progress_report"))
    assert export.status_code == 403


def test_a_staff_user_outside_the_groups_sees_no_task_in_the_admin(client, staff_only, finance_task):
    client.force_login(staff_only)
    assert client.get(reverse("admin:tasks_task_changelist")).status_code == 403


def test_the_leader_can_neither_import_nor_export_into_the_admin(client, leader, plan):
    client.force_login(leader)
    for name in ("admin:agencies_agency_import", "admin:tasks_plan_import"):
        assert client.get(reverse(name)).status_code == 403, name
    # the old 分工表 import address leads to the plan import, which refuses the leader
    assert client.get(reverse("admin:tasks_measure_import"), follow=True).status_code == 403
    assert client.get(reverse("admin:tasks_task_export")).status_code == 200  # reading is allowed


def test_the_leader_cannot_import_agencies_from_a_file(client, leader, finance):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from agencies.models import Agency

    client.force_login(leader)
    csv = "单位名称,简称,行政区划,类别,单位集合,已确认\n区金融局,改名,东丽区,,0,1\n新单位,,东丽区,,0,1\n".encode()
    for name in ("admin:agencies_agency_import", "admin:agencies_agency_process_import"):
        response = client.post(
            reverse(name),
            {"import_file": SimpleUploadedFile("agencies.csv", csv, "text/csv"), "format": "0"},
        )
        assert response.status_code in {403, 405}, name
    assert list(Agency.objects.values_list("name", "short_name")) == [("区金融局", "")]


def test_scheduler_and_lockout_models_are_for_superusers_only_and_in_chinese(client, superuser, lead, leader):
    client.force_login(superuser)
    index = client.get(reverse("admin:index")).text
    assert "登录锁定" in index and "登录尝试" in index and "周期任务" in index
    assert "Axes" not in index and "Access attempts" not in index
    for user in (lead, leader):
        client.force_login(user)
        index = client.get(reverse("admin:index")).text
        assert "登录锁定" not in index and "周期任务" not in index
        assert client.get(reverse("admin:axes_accessattempt_changelist")).status_code == 403


def test_media_is_never_served_and_plan_files_go_through_the_policy(
    client, settings, tmp_path, leader, alice
):
    from django.core.files.base import ContentFile

    from tasks.models import Plan

    settings.MEDIA_ROOT = tmp_path
    plan = Plan.objects.create(title="计划", source_name="计划原文.txt")
    plan.source_file.save("plan.txt", ContentFile("原文".encode()), save=True)
    assert client.get(f"/media/{plan.source_file.name}").status_code == 404
    source = reverse("admin:tasks_plan_source", args=[plan.pk])
    client.force_login(alice)
    assert client.get(f"/media/{plan.source_file.name}").status_code == 404
    assert client.get(source).status_code == 302  # a liaison is no admin user
    client.force_login(leader)
    response = client.get(source)
    assert response.status_code == 200
    assert b"".join(response.streaming_content).decode() == "原文"
