import pytest
from django.urls import reverse

from agencies.models import Agency, AgencyAlias, Liaison
from agencies.services import MergeError, merge_agencies
from tasks.models import ProgressUpdate, Task


@pytest.fixture
def duplicate(db):
    """An unconfirmed spelling created by an import, to be merged into 区金融局."""
    return Agency.objects.create(name="东丽区金融工作局", jurisdiction="东丽区", is_confirmed=False)


def test_merge_moves_tasks_aliases_and_liaisons(duplicate, finance, measure, make_user):
    task = Task.objects.create(measure=measure, agency=duplicate, role=Task.Role.LEAD)
    AgencyAlias.objects.create(agency=duplicate, name="金融工作局")
    user = make_user("dora")
    Liaison.objects.create(user=user, agency=duplicate, email="dora@example.gov.cn")

    moved = merge_agencies(source=duplicate, target=finance)

    assert moved == {"tasks": 1, "merged_tasks": 0, "aliases": 2, "liaisons": 1}
    task.refresh_from_db()
    assert task.agency == finance
    assert set(finance.aliases.values_list("name", flat=True)) == {"金融工作局", "东丽区金融工作局"}
    assert Liaison.objects.get(user=user).agency == finance
    assert not Agency.objects.filter(pk=duplicate.pk).exists()


def test_merge_keeps_progress_when_both_agencies_hold_the_measure(duplicate, finance_task, measure, lead):
    doubled = Task.objects.create(measure=measure, agency=duplicate, role=Task.Role.SUPPORT)
    ProgressUpdate.objects.create(task=doubled, author=lead, text="已召开评议工作会议", percent=30)

    moved = merge_agencies(source=duplicate, target=finance_task.agency)

    assert moved["merged_tasks"] == 1
    assert Task.objects.filter(measure=measure).count() == 1
    assert list(finance_task.updates.values_list("text", flat=True)) == ["已召开评议工作会议"]


def test_merge_into_itself_is_refused(finance):
    with pytest.raises(MergeError):
        merge_agencies(source=finance, target=finance)


def test_merge_carries_group_membership(duplicate, finance):
    group = Agency.objects.create(name="各成员单位", jurisdiction="东丽区", is_group=True)
    group.members.add(duplicate)
    merge_agencies(source=duplicate, target=finance)
    assert list(group.members.all()) == [finance]


def test_admin_merge_action_asks_for_a_target_then_merges(client, superuser, duplicate, finance, measure):
    Task.objects.create(measure=measure, agency=duplicate, role=Task.Role.LEAD)
    client.force_login(superuser)
    url = reverse("admin:agencies_agency_changelist")

    page = client.post(url, {"action": "merge_into", "_selected_action": [duplicate.pk]})
    assert page.status_code == 200
    assert "合并单位" in page.text and "东丽区金融工作局" in page.text

    done = client.post(
        url,
        {"action": "merge_into", "_selected_action": [duplicate.pk], "apply": "1", "target": finance.pk},
        follow=True,
    )
    assert "已合并到" in done.text
    assert not Agency.objects.filter(pk=duplicate.pk).exists()
    assert Task.objects.get(measure=measure).agency == finance


def test_admin_refuses_to_delete_an_agency_with_tasks(client, superuser, finance_task, finance):
    client.force_login(superuser)
    page = client.post(reverse("admin:agencies_agency_delete", args=[finance.pk]), {"post": "yes"})
    assert Agency.objects.filter(pk=finance.pk).exists()
    assert page.status_code == 200
    assert "受保护" in page.text  # Django's admin lists the protected tasks, in Chinese
