from django.apps import AppConfig
from django.db.models.signals import post_save
from django.utils.translation import gettext_lazy as _


def refresh_sort_keys_on_rename(sender, instance, update_fields=None, raw=False, **kwargs):
    """An agency's name ends its tasks' sort key (tasks/sortkey.py): refresh the keys that no longer end
    with it (one indexed query finding none when the name did not change)."""
    if raw or (update_fields is not None and "name" not in update_fields):
        return
    from .models import Task
    from .sortkey import AGENCY_CHARS, SEP, refresh

    stale = Task.objects.filter(agency=instance).exclude(
        sort_key__endswith=SEP + instance.name[:AGENCY_CHARS]
    )
    refresh(stale)


class TasksConfig(AppConfig):
    name = "tasks"
    verbose_name = _("计划与任务")

    def ready(self):
        post_save.connect(
            refresh_sort_keys_on_rename, sender="agencies.Agency", dispatch_uid="tasks_sort_key_agency_name"
        )
