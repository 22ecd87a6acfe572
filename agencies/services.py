"""Writes to the agency catalogue."""

from django.db import transaction

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
