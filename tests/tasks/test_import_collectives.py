"""Collective subjects in the data: a named class maps once to its members and later members fan out; a vague
one unresolved stays one flagged task that reminders never count as reached."""

import dataclasses
import datetime

import pytest
from django.conf import settings
from django.core.management import call_command
from django.urls import reverse

from agencies.models import Agency, Liaison
from agencies.services import set_collective_members
from reminders.services import compute_reminders
from tasks.models import Task
from tasks.parsing import parse_text
from tasks.parsing.model import Assignment
from tasks.services.importing import IGNORE, Collective, import_plan, plan_diff

STREETS = (
    "东丽区2021年知识产权工作要点\n一、重点任务\n"
    "1.推进街道知识产权服务站建设。(各街道办负责;2021年12月底前完成)\n"
)


def plan_text(title: str, items: list[str]) -> str:
    return f"{title}\n一、重点任务\n" + "".join(f"{n}.{item}\n" for n, item in enumerate(items, start=1))


@pytest.fixture
def catalogue(db):
    call_command("loaddata", str(settings.BASE_DIR / "fixtures" / "agencies.json"), verbosity=0)


@pytest.fixture
def streets(catalogue):
    return [
        Agency.objects.create(name=name, jurisdiction="东丽区", kind=Agency.Kind.GOVERNMENT)
        for name in ("张贵庄街道办事处", "丰年村街道办事处", "万新街道办事处")
    ]


def test_a_collective_without_members_is_one_flagged_task_until_members_are_named(streets, lead):
    plan = import_plan(parsed=parse_text(STREETS), jurisdiction="东丽区").plan
    group = Agency.objects.get(jurisdiction="东丽区", name="各街道办")
    placeholder = Task.objects.get(measure__plan=plan)
    assert placeholder.agency == group and placeholder.needs_resolution

    given = set_collective_members(group=group, members=streets[:2])  # the admin's membership path

    assert given == 2
    tasks = {t.agency.name: t for t in Task.objects.filter(measure__plan=plan).select_related("agency")}
    assert set(tasks) == {"张贵庄街道办事处", "丰年村街道办事处"}
    moved = next(t for t in tasks.values() if t.pk == placeholder.pk)  # the flagged task passed to a member
    assert not moved.needs_resolution and all(t.collective == group for t in tasks.values())
    assert all(t.due_date == datetime.date(2021, 12, 31) for t in tasks.values())

    later = parse_text(
        plan_text("东丽区2022年知识产权工作要点", ["开展街道知识产权宣传。(各街道办负责;2022年底前)"])
    )
    second = import_plan(parsed=later, jurisdiction="东丽区").plan
    assert set(Task.objects.filter(measure__plan=second).values_list("agency__name", flat=True)) == set(tasks)

    set_collective_members(group=group, members=[streets[2]])  # a member joins later: both plans fan out
    assert Task.objects.filter(agency=streets[2], collective=group).count() == 2
    assert import_plan(parsed=parse_text(STREETS), jurisdiction="东丽区").unchanged


def test_the_clerk_maps_a_named_collective_once_for_the_jurisdiction(streets):
    text = plan_text(
        "东丽区2021年知识产权工作要点", ["建立知识产权纠纷调解组织。(各有关街道负责;2021年底前)"]
    )
    parsed = parse_text(text)
    decisions = {"各有关街道": Collective(members=streets[:2])}

    diff = plan_diff(parsed, None, decisions=decisions, jurisdiction="东丽区")
    assert [a.name for a in diff.added[0].agencies] == ["丰年村街道办事处", "张贵庄街道办事处"]
    assert not Agency.objects.filter(name="各有关街道").exists()

    plan = import_plan(parsed=parsed, jurisdiction="东丽区", decisions=decisions).plan
    group = Agency.objects.get(jurisdiction="东丽区", name="各有关街道")
    assert group.is_group and group.is_confirmed and set(group.members.all()) == set(streets[:2])
    assert not Task.objects.filter(agency=group).exists()
    assert Task.objects.filter(measure__plan=plan, collective=group).count() == 2

    later = parse_text(
        plan_text("东丽区2022年工作要点", ["完善纠纷调解组织运行机制。(各有关街道负责;2022年底前)"])
    )
    second = import_plan(parsed=later, jurisdiction="东丽区").plan  # unattended: remembered
    assert Task.objects.filter(measure__plan=second, collective=group).count() == 2


def test_a_direct_assignment_beats_the_same_agency_through_a_collective(streets):
    group = Agency.objects.get(jurisdiction="东丽区", name="各街道办")
    set_collective_members(group=group, members=streets[:2])
    text = plan_text("东丽区2021年要点", ["建设服务站。(张贵庄街道办事处牵头,各街道办配合;2021年底前)"])
    plan = import_plan(parsed=parse_text(text), jurisdiction="东丽区").plan
    roles = {t.agency.name: (t.role, t.collective_id) for t in Task.objects.filter(measure__plan=plan)}
    assert roles == {"张贵庄街道办事处": ("lead", None), "丰年村街道办事处": ("support", group.pk)}


def vague(parsed, name: str = "有关部门"):
    """The parse as the genre rules give it: 'X牵头,有关部门配合' with the vague collective kept."""
    measure = parsed.measures[0]
    assignments = (*measure.assignments, Assignment(agency=name, role="support", collective="vague"))
    return dataclasses.replace(parsed, measures=(dataclasses.replace(measure, assignments=assignments),))


VAGUE = plan_text(
    "东丽区2021年知识产权工作要点", ["开展企业知识产权培训。(区科技局牵头,有关部门配合;2021年底前)"]
)


def test_an_unresolved_vague_collective_is_one_flagged_task_and_nobody_is_told(catalogue, make_user):
    parsed = vague(parse_text(VAGUE))
    plan = import_plan(parsed=parsed, jurisdiction="东丽区").plan
    group = Agency.objects.get(jurisdiction="东丽区", name="有关部门")
    assert group.is_group and not group.is_confirmed
    task = Task.objects.get(measure__plan=plan, agency=group)
    assert task.needs_resolution and task.role == "support"
    someone = make_user("office", email="office@example.gov.cn")
    Liaison.objects.create(user=someone, agency=group, email="office@example.gov.cn")

    emails = compute_reminders(datetime.date(2021, 12, 27))

    to_group = [e for e in emails if group.pk in e.agency_ids]
    assert len(to_group) == 1 and to_group[0].recipient == "", "a liaison on a member-less group is no one"
    assert to_group[0].skip_reason == "单位集合尚未指定成员单位,无人可通知"


def test_a_vague_collective_resolved_per_measure_gives_ordinary_tasks(catalogue):
    parsed = vague(parse_text(VAGUE))
    measure = parsed.measures[0]
    # the preview's per-measure decision arrives as ordinary names in the edited parse
    resolved = (measure.assignments[0], Assignment("区教育局", "support"), Assignment("区人社局", "support"))
    edited = dataclasses.replace(parsed, measures=(dataclasses.replace(measure, assignments=resolved),))
    plan = import_plan(parsed=edited, jurisdiction="东丽区", source_parsed=parsed).plan
    names = set(Task.objects.filter(measure__plan=plan).values_list("agency__name", flat=True))
    assert names == {"区科技局", "区教育局", "区人社局"}
    assert not Task.objects.filter(needs_resolution=True).exists()
    assert import_plan(parsed=parsed, jurisdiction="东丽区").unchanged, "the same file again: nothing to do"


def test_an_ignored_name_gets_no_task(catalogue):
    text = plan_text("东丽区2021年要点", ["开展培训。(区科技局牵头,单位配合;2021年底前)"])
    plan = import_plan(parsed=parse_text(text), jurisdiction="东丽区", decisions={"单位": IGNORE}).plan
    assert list(Task.objects.filter(measure__plan=plan).values_list("agency__name", flat=True)) == [
        "区科技局"
    ]
    assert not Agency.objects.filter(name="单位").exists()


def test_the_agency_admin_fans_a_group_out_when_members_are_added(streets, client, superuser):
    plan = import_plan(parsed=parse_text(STREETS), jurisdiction="东丽区").plan
    group = Agency.objects.get(jurisdiction="东丽区", name="各街道办")
    client.force_login(superuser)
    response = client.post(
        reverse("admin:agencies_agency_change", args=[group.pk]),
        {
            "name": group.name,
            "jurisdiction": "东丽区",
            "kind": "group",
            "is_group": "on",
            "is_confirmed": "on",
            "members": [str(a.pk) for a in streets],
            "aliases-TOTAL_FORMS": "0",
            "aliases-INITIAL_FORMS": "0",
            "liaisons-TOTAL_FORMS": "0",
            "liaisons-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    names = set(Task.objects.filter(measure__plan=plan).values_list("agency__name", flat=True))
    assert names == {a.name for a in streets}


def test_naming_members_in_a_revision_passes_the_flagged_task_on(streets):
    plan = import_plan(parsed=parse_text(STREETS), jurisdiction="东丽区").plan
    placeholder = Task.objects.get(measure__plan=plan)
    result = import_plan(
        parsed=parse_text(STREETS),
        revision_of=plan,
        decisions={"各街道办": Collective(members=streets[:2])},
    )
    tasks = Task.objects.filter(measure__plan=plan)
    assert set(tasks.values_list("agency__name", flat=True)) == {"张贵庄街道办事处", "丰年村街道办事处"}
    assert tasks.filter(pk=placeholder.pk, needs_resolution=False).exists()
    assert not result.unchanged and result.diff.changed[0].agencies.before[0].needs_resolution


def test_merging_a_collective_keeps_where_its_tasks_came_from(streets):
    from agencies.services import merge_agencies

    group = Agency.objects.get(jurisdiction="东丽区", name="各街道办")
    set_collective_members(group=group, members=streets[:2])
    plan = import_plan(parsed=parse_text(STREETS), jurisdiction="东丽区").plan
    spelled = Agency.objects.create(jurisdiction="东丽区", name="各街道办事处", is_group=True)
    merge_agencies(source=group, target=spelled)
    assert set(Task.objects.filter(measure__plan=plan).values_list("collective", flat=True)) == {spelled.pk}
    assert set(spelled.members.all()) == set(streets[:2])
