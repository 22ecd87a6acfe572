"""Reads for feeds and reports: which tasks a user or a feed may see, with what the exports need."""

from __future__ import annotations

from django.db.models import Count, DateTimeField, IntegerField, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce, Greatest

from agencies.models import Agency
from agencies.roles import sees_all_tasks  # noqa: F401 (used here and re-exported to the app)
from tasks.models import Measure, Task

from .models import CalendarFeed


def liaison_agencies(user) -> QuerySet[Agency]:
    return Agency.objects.filter(liaisons__user=user).distinct()


def with_revision(tasks: QuerySet[Task]) -> QuerySet[Task]:
    """Annotate ``revision`` (saves of the task plus saves of its measure: only ever grows, so it can drive
    an iCal SEQUENCE) and ``modified_at`` (the later of the two ``updated_at``)."""
    task_saves = Coalesce(
        Subquery(
            Task.history.model.objects.filter(id=OuterRef("pk"))
            .order_by()
            .values("id")
            .annotate(n=Count("*"))
            .values("n")[:1],
            output_field=IntegerField(),
        ),
        0,
    )
    measure_saves = Coalesce(
        Subquery(
            Measure.history.model.objects.filter(id=OuterRef("measure_id"))
            .order_by()
            .values("id")
            .annotate(n=Count("*"))
            .values("n")[:1],
            output_field=IntegerField(),
        ),
        0,
    )
    return tasks.annotate(
        revision=task_saves + measure_saves,
        modified_at=Greatest("updated_at", "measure__updated_at", output_field=DateTimeField()),
    )


def calendar_scope(tasks: QuerySet[Task]) -> QuerySet[Task]:
    """Tasks that belong on a calendar: current (tasks/status.py), dated or ongoing."""
    return tasks.current().exclude(due_date__isnull=True, is_ongoing=False)


def calendar_tasks(tasks: QuerySet[Task]) -> QuerySet[Task]:
    """``calendar_scope`` with what the feed shows (measure, plan, agency, revision), in calendar order."""
    return with_revision(
        calendar_scope(tasks)
        .select_related("measure__plan", "agency")
        .order_by("due_date", "measure__position", "pk")
    )


def feed_is_live(feed: CalendarFeed) -> bool:
    """Whether the feed's owner may still see what it shows (checked on every fetch, not only at creation)."""
    if not feed.user.is_active:
        return False
    if feed.kind == CalendarFeed.Kind.AGENCY:
        return feed.liaison.user_id == feed.user_id
    return sees_all_tasks(feed.user)


def feed_scope(feed: CalendarFeed) -> QuerySet[Task]:
    """The feed's tasks without what it shows: what its cache fingerprint is computed over."""
    if feed.kind == CalendarFeed.Kind.AGENCY:
        return calendar_scope(Task.objects.filter(agency_id=feed.liaison.agency_id))
    return calendar_scope(Task.objects.filter(measure__plan_id=feed.plan_id))


def feed_tasks(feed: CalendarFeed) -> QuerySet[Task]:
    if feed.kind == CalendarFeed.Kind.AGENCY:
        return calendar_tasks(Task.objects.filter(agency_id=feed.liaison.agency_id))
    return calendar_tasks(Task.objects.filter(measure__plan_id=feed.plan_id))
