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


def open_tasks_by_agency(agency_ids=None) -> dict[int, int]:
    """Current open tasks per agency: who has something to be told, and how much (one aggregate)."""
    tasks = Task.objects.current().open()
    if agency_ids is not None:
        tasks = tasks.filter(agency_id__in=list(agency_ids))
    return dict(tasks.order_by().values("agency_id").annotate(n=Count("pk")).values_list("agency_id", "n"))


@dataclass(frozen=True)
class AgencyGap:
    pk: int
    name: str
    open_tasks: int
    liaisons: int  # liaison rows (inactive users or no address included): 0 means "add one"


def unreachable_agencies(agency_ids=None, *, open_tasks: dict[int, int] | None = None) -> list[AgencyGap]:
    """Agencies with open tasks and nobody to tell (memberless collectives are listed apart). ``agency_ids``
    limits the answer (the escalation asks about the agencies it lists). ``open_tasks``: the open task count
    per agency when the caller has it already (the dashboard's aggregate), else it is counted here."""
    agencies = Agency.objects.exclude(memberless_group()).exclude(
        Exists(reachable_liaisons().filter(agency_id=OuterRef("pk")))
    )
    return _gaps(agencies, _open_tasks(agency_ids, open_tasks))


def memberless_collectives(agency_ids=None, *, open_tasks: dict[int, int] | None = None) -> list[AgencyGap]:
    """Collectives (有关部门, 各成员单位) holding open tasks with no member agencies named."""
    return _gaps(Agency.objects.filter(memberless_group()), _open_tasks(agency_ids, open_tasks))


def _open_tasks(agency_ids, open_tasks: dict[int, int] | None) -> dict[int, int]:
    if open_tasks is None:
        return open_tasks_by_agency(agency_ids)
    wanted = None if agency_ids is None else set(agency_ids)
    return {pk: n for pk, n in open_tasks.items() if n and (wanted is None or pk in wanted)}


def _gaps(agencies: QuerySet[Agency], open_tasks: dict[int, int]) -> list[AgencyGap]:
    """The agencies of ``agencies`` that hold open tasks. The catalogue of agencies is small (a city's few
    hundred, a province's few thousand) and the holders of open tasks many: the candidates are read whole
    and matched here, rather than sent as a list of a thousand ids."""
    if not open_tasks:
        return []
    names = {
        pk: short or name
        for pk, short, name in agencies.values_list("pk", "short_name", "name")
        if pk in open_tasks
    }
    if not names:
        return []
    liaisons = dict(Liaison.objects.values("agency_id").annotate(n=Count("pk")).values_list("agency_id", "n"))
    gaps = [AgencyGap(pk, name, open_tasks[pk], liaisons.get(pk, 0)) for pk, name in names.items()]
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
