"""Who can be reached: the one place that decides whether an agency has somebody to tell.

An agency is reachable when it has an active liaison with a way to reach them. Today that is an email
address; a channel added later (企业微信, 钉钉, SMS) extends ``reachable_liaisons`` with an ``|`` of its
condition, and every caller — the delivery-problems panel, the daily summary and the escalation's list of
agencies not notified — follows.

A collective (单位集合) without members is never reachable: nobody stands behind it, even with a liaison set.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db.models import Count, Exists, OuterRef, Q, QuerySet

from agencies.models import Agency, Liaison
from agencies.roles import LEAD_BUREAU_GROUP
from tasks.models import Task


def has_address() -> Q:
    """Liaison rows that carry a way to reach a person (email now; other channels join here)."""
    return ~Q(email="")


def reachable_liaisons() -> QuerySet[Liaison]:
    return Liaison.objects.filter(user__is_active=True).filter(has_address())


def memberless_group(path: str = "") -> Q:
    """A collective without members. ``path`` leads from the queried model to the agency ("" for Agency,
    "agency__" for Liaison)."""
    members = Agency.members.through.objects.filter(from_agency_id=OuterRef(f"{path}pk"))
    return Q(**{f"{path}is_group": True}) & ~Exists(members)


def _with_open_tasks() -> QuerySet[Agency]:
    """Agencies somebody has something to tell: they hold current open tasks."""
    return Agency.objects.filter(Exists(Task.objects.current().open().filter(agency_id=OuterRef("pk"))))


@dataclass(frozen=True)
class AgencyGap:
    pk: int
    name: str
    open_tasks: int
    liaisons: int  # liaison rows (inactive users or no address included): 0 means "add one"


def unreachable_agencies(agency_ids=None) -> list[AgencyGap]:
    """Agencies with open tasks and nobody to tell (memberless collectives are listed apart). ``agency_ids``
    limits the answer (the escalation asks about the agencies it lists)."""
    agencies = _with_open_tasks().exclude(memberless_group())
    if agency_ids is not None:
        agencies = agencies.filter(pk__in=agency_ids)
    agencies = agencies.exclude(Exists(reachable_liaisons().filter(agency_id=OuterRef("pk"))))
    return _gaps(agencies)


def memberless_collectives(agency_ids=None) -> list[AgencyGap]:
    """Collectives (有关部门, 各成员单位) holding open tasks with no member agencies named."""
    agencies = _with_open_tasks().filter(memberless_group())
    if agency_ids is not None:
        agencies = agencies.filter(pk__in=agency_ids)
    return _gaps(agencies)


def _gaps(agencies: QuerySet[Agency]) -> list[AgencyGap]:
    names = {pk: short or name for pk, short, name in agencies.values_list("pk", "short_name", "name")}
    if not names:
        return []
    open_tasks = dict(
        Task.objects.current()
        .open()
        .filter(agency_id__in=names)
        .values("agency_id")
        .annotate(n=Count("pk"))
        .values_list("agency_id", "n")
    )
    liaisons = dict(
        Liaison.objects.filter(agency_id__in=names)
        .values("agency_id")
        .annotate(n=Count("pk"))
        .values_list("agency_id", "n")
    )
    gaps = [AgencyGap(pk, name, open_tasks.get(pk, 0), liaisons.get(pk, 0)) for pk, name in names.items()]
    return sorted(gaps, key=lambda gap: (-gap.open_tasks, gap.name, gap.pk))


def lead_bureau_addresses() -> dict[str, int]:
    """The 督办人员 who can receive escalations and summaries: address → user id (first by id)."""
    users = (
        get_user_model()
        .objects.filter(is_active=True, groups__name=LEAD_BUREAU_GROUP)
        .exclude(email="")
        .order_by("pk")
        .values_list("email", "pk")
    )
    recipients: dict[str, int] = {}
    for email, pk in users:
        recipients.setdefault(email.strip().lower(), pk)
    return recipients
