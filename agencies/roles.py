"""The role policy: who sees which tasks and who may write what. Every page, export, calendar, reminder
preview and admin permission asks these functions; nothing else decides.

- 督办人员 (lead bureau): the ``督办人员`` group, and superusers. They see every task and write plans, tasks,
  agencies, reminders and reports (pages and admin).
- 领导 (leaders): the ``领导`` group. They see every task and everything in the admin of those apps, and write
  nothing there: no add, change, delete, import, action, revert or review. What they may write is their own:
  password, 我的设置, their calendar subscriptions, their inbox read-marks.
- Liaisons (联络员): users linked to agencies by ``Liaison`` rows. They see their agencies' tasks
  (``Task.objects.for_user``) and report on them; no admin.
- Anyone else, staff flag or individual permissions notwithstanding, sees no task: the staff flag only lets
  a user into the admin, and the admin of the managed apps follows the groups above, not per-user
  permissions. The scheduler's and the lockout's models are for superusers only.
"""

from __future__ import annotations

from django.contrib.auth.models import Group, Permission

LEAD_BUREAU_GROUP = "督办人员"
LEADER_GROUP = "领导"
MANAGED_APPS = ("agencies", "tasks", "reminders", "reports", "workspace")
# Infrastructure whose admin only a superuser needs (beat schedules, lockout records).
SUPERUSER_ONLY_APPS = ("django_celery_beat", "axes")
# Records written by the system: read, and deleted (to lift a lockout), never added or edited by hand.
RECORD_APPS = ("axes",)

VIEW, ADD, CHANGE, DELETE, IMPORT, EXPORT = "view", "add", "change", "delete", "import", "export"
WRITE_ACTIONS = frozenset({ADD, CHANGE, DELETE, IMPORT})


def ensure_role_groups() -> tuple[Group, Group]:
    """Create or refresh the two groups and their permissions (idempotent; runs after every migrate).

    The permissions mirror the policy below for tools that read Django permissions; the policy itself
    decides by group."""
    lead, _ = Group.objects.get_or_create(name=LEAD_BUREAU_GROUP)
    leader, _ = Group.objects.get_or_create(name=LEADER_GROUP)
    managed = Permission.objects.filter(content_type__app_label__in=MANAGED_APPS)
    lead.permissions.set(managed)
    leader.permissions.set(managed.filter(codename__startswith="view_"))
    return lead, leader


def _group_names(user) -> frozenset[str]:
    """The user's group names, read once per user object (admin pages ask dozens of times)."""
    cached = getattr(user, "_ipplan_group_names", None)
    if cached is None:
        cached = frozenset(user.groups.values_list("name", flat=True)) if user.pk else frozenset()
        user._ipplan_group_names = cached
    return cached


def _active(user) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.is_active)


def is_lead_bureau(user) -> bool:
    return _active(user) and (user.is_superuser or LEAD_BUREAU_GROUP in _group_names(user))


def is_leader(user) -> bool:
    """A read-only leader (a lead-bureau member who is also in the leaders' group counts as lead bureau)."""
    return _active(user) and not is_lead_bureau(user) and LEADER_GROUP in _group_names(user)


def sees_all_tasks(user) -> bool:
    """The one rule for "every task": lead bureau and leaders. Everyone else sees their agencies' tasks."""
    return is_lead_bureau(user) or is_leader(user)


# Lead-bureau staff and leaders are the supervisors: dashboard, review queue (read-only for leaders), plan
# calendars, reminder previews, reports over every agency.
is_supervisor = sees_all_tasks


def can_write(user) -> bool:
    """May change plans, tasks, agencies and reminders, and take review decisions."""
    return is_lead_bureau(user)


def admin_allows(user, app_label: str, action: str) -> bool | None:
    """The admin permission for ``action`` (view/add/change/delete/import/export) on a model of
    ``app_label``; ``None`` where the policy has no say (Django's own apps: their permissions decide)."""
    if not _active(user) or not user.is_staff:
        return False
    if app_label in RECORD_APPS and action in (ADD, CHANGE, IMPORT):
        return False
    if app_label in SUPERUSER_ONLY_APPS:
        return user.is_superuser
    if app_label not in MANAGED_APPS:
        return None
    if action in WRITE_ACTIONS:
        return can_write(user)
    return sees_all_tasks(user)
