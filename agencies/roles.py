"""The three kinds of people who use ipplan, as Django groups.

- 督办人员 (lead bureau staff): staff users with every permission on plans, tasks and agencies.
- 领导 (leaders): staff users who may view everything and change nothing.
- Liaisons (联络员) are ordinary users linked to agencies by ``Liaison`` rows; their pages filter by that link.
"""

from django.contrib.auth.models import Group, Permission

LEAD_BUREAU_GROUP = "督办人员"
LEADER_GROUP = "领导"
MANAGED_APPS = ("agencies", "tasks", "reminders", "reports")


def ensure_role_groups() -> tuple[Group, Group]:
    """Create or refresh the two groups and their permissions (idempotent; runs after every migrate)."""
    lead, _ = Group.objects.get_or_create(name=LEAD_BUREAU_GROUP)
    leader, _ = Group.objects.get_or_create(name=LEADER_GROUP)
    managed = Permission.objects.filter(content_type__app_label__in=MANAGED_APPS)
    lead.permissions.set(managed)
    leader.permissions.set(managed.filter(codename__startswith="view_"))
    return lead, leader


def is_lead_bureau(user) -> bool:
    return user.is_active and (user.is_superuser or user.groups.filter(name=LEAD_BUREAU_GROUP).exists())


def sees_all_tasks(user) -> bool:
    """Lead-bureau staff and leaders see every task; everyone else only their agencies' (Task.objects.for_user)."""
    return user.is_active and (user.is_staff or user.has_perm("tasks.view_task"))


def is_leader(user) -> bool:
    return user.is_active and user.groups.filter(name=LEADER_GROUP).exists()
