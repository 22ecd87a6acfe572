"""Template helpers for calendar subscription boxes (used by the includes in templates/reports/)."""

from dataclasses import dataclass

from django import template
from django.conf import settings
from django.urls import reverse

from agencies.models import Liaison

from ..models import CalendarFeed
from ..selectors import sees_all_tasks

register = template.Library()


@dataclass
class Subscription:
    title: str
    action_url: str
    feed: CalendarFeed | None

    @property
    def url(self) -> str:
        if self.feed is None:
            return ""
        return settings.SITE_URL + reverse("reports:calendar_feed", args=[self.feed.token])

    @property
    def webcal_url(self) -> str:
        """The same address with the webcal scheme, which opens the subscribe dialog of calendar apps."""
        return "webcal://" + self.url.split("://", 1)[1] if self.url else ""


@register.simple_tag
def liaison_calendar_subscriptions(user) -> list[Subscription]:
    """One subscription box per agency the user is a liaison of."""
    if not getattr(user, "is_authenticated", False):
        return []
    liaisons = Liaison.objects.filter(user=user).select_related("agency").order_by("agency__name")
    feeds = {feed.liaison_id: feed for feed in CalendarFeed.objects.filter(liaison__in=liaisons)}
    return [
        Subscription(
            title=str(liaison.agency),
            action_url=reverse("reports:liaison_calendar", args=[liaison.pk]),
            feed=feeds.get(liaison.pk),
        )
        for liaison in liaisons
    ]


@register.simple_tag
def plan_calendar_subscription(user, plan) -> Subscription | None:
    if plan is None or not getattr(user, "is_authenticated", False) or not sees_all_tasks(user):
        return None
    return Subscription(
        title=plan.title,
        action_url=reverse("reports:plan_calendar", args=[plan.pk]),
        feed=CalendarFeed.objects.filter(user=user, plan=plan).first(),
    )
