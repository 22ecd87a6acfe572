"""Writes to the agency catalogue."""

from collections import defaultdict
from collections.abc import Iterable

from django.db import transaction
from django.db.models import Q

from .models import Agency, AgencyAlias, Liaison


class MergeError(ValueError):
    pass


@transaction.atomic
def merge_agencies(*, source: Agency, target: Agency) -> dict[str, int]:
    """Fold ``source`` into ``target``: tasks, aliases, liaisons and group links move; the name becomes an alias.

    When both agencies hold a task on the same measure, the target's task stays and receives the source
    task's progress reports, so no report is lost. Returns counts of what moved.
    """
    from tasks.models import Indicator, ProgressUpdate, Task  # tasks depends on agencies, not the reverse

    if source.pk == target.pk:
        raise MergeError("不能将单位合并到其自身。")
    source = Agency.objects.select_for_update().get(pk=source.pk)
    target = Agency.objects.select_for_update().get(pk=target.pk)
    moved = {"tasks": 0, "merged_tasks": 0, "aliases": 0, "liaisons": 0}

    target_measures = set(Task.objects.filter(agency=target).values_list("measure_id", flat=True))
    for task in Task.objects.filter(agency=source).select_related("measure"):
        if task.measure_id in target_measures:
            kept = Task.objects.get(agency=target, measure_id=task.measure_id)
            ProgressUpdate.objects.filter(task=task).update(task=kept)
            task.delete()
            moved["merged_tasks"] += 1
        else:
            task.agency = target
            task.save(update_fields=["agency", "updated_at"])
            moved["tasks"] += 1
    Indicator.objects.filter(agency=source).update(agency=target)
    Task.objects.filter(collective=source).update(collective=target)  # tasks that came through a merged group

    existing_aliases = set(target.aliases.values_list("name", flat=True)) | {target.name}
    for alias in source.aliases.all():
        if alias.name in existing_aliases:
            alias.delete()
        else:
            alias.agency = target
            alias.save(update_fields=["agency"])
            existing_aliases.add(alias.name)
            moved["aliases"] += 1
    if source.name not in existing_aliases:
        AgencyAlias.objects.create(agency=target, name=source.name)
        moved["aliases"] += 1

    target_users = set(target.liaisons.values_list("user_id", flat=True))
    for liaison in Liaison.objects.filter(agency=source):
        if liaison.user_id in target_users:
            liaison.delete()
        else:
            liaison.agency = target
            liaison.save(update_fields=["agency"])
            moved["liaisons"] += 1

    for group in source.groups.all():
        group.members.add(target)
    target.members.add(*[m for m in source.members.all() if m.pk != target.pk])
    if source.is_confirmed and not target.is_confirmed:
        target.is_confirmed = True
        target.save(update_fields=["is_confirmed", "updated_at"])
    source.delete()
    return moved


@transaction.atomic
def set_collective_members(*, group: Agency, members: Iterable[Agency]) -> int:
    """Make ``group`` a collective subject (各区、县（市）) with these members, remembered for the jurisdiction's
    later plans, and fan the tasks it already holds out to them. Returns the number of tasks given to members."""
    if not group.is_group or group.kind != Agency.Kind.GROUP or not group.is_confirmed:
        group.is_group, group.kind, group.is_confirmed = True, Agency.Kind.GROUP, True
        group.save(update_fields=["is_group", "kind", "is_confirmed", "updated_at"])
    group.members.add(*[member for member in members if member.pk != group.pk])
    return fan_out_collective(group=group)


@transaction.atomic
def fan_out_collective(*, group: Agency) -> int:
    """Give every member of ``group`` a task on each measure assigned to the group, as the import does.

    Called after the group's members change (the agency admin, a collective decision in an import). A task
    held by the group itself while it had no members (flagged ``needs_resolution``) passes to the first member
    lacking one, so its history stays on a live task. Returns the number of tasks given to members.
    """
    from simple_history.utils import bulk_create_with_history

    from tasks.models import Task

    members = [member for member in group.members.order_by("name") if member.pk != group.pk]
    if not members:
        return 0
    by_measure: dict[int, list[Task]] = defaultdict(list)
    for task in Task.objects.filter(Q(agency=group) | Q(collective=group)).order_by("pk"):
        by_measure[task.measure_id].append(task)
    present = set(Task.objects.filter(measure_id__in=by_measure).values_list("measure_id", "agency_id"))
    created: list[Task] = []
    moved = 0
    for measure_id, group_tasks in by_measure.items():
        template = group_tasks[0]
        placeholder = next((task for task in group_tasks if task.agency_id == group.pk), None)
        for member in members:
            if (measure_id, member.pk) in present:
                continue
            present.add((measure_id, member.pk))
            if placeholder is not None:
                placeholder.agency, placeholder.collective, placeholder.needs_resolution = (
                    member,
                    group,
                    False,
                )
                placeholder.save(update_fields=["agency", "collective", "needs_resolution", "updated_at"])
                placeholder = None
                moved += 1
                continue
            created.append(
                Task(
                    measure_id=measure_id,
                    agency=member,
                    collective=group,
                    role=template.role,
                    due_date=template.original_due_date or template.due_date,
                    due_date_inferred=template.due_date_inferred,
                    is_ongoing=template.is_ongoing,
                    next_report_due=template.next_report_due,
                )
            )
        if placeholder is not None and not placeholder.has_history():
            placeholder.delete()  # every member already had a task of its own on this measure
    bulk_create_with_history(created, Task, batch_size=500)
    return moved + len(created)
