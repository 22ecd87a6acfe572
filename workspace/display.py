"""大字版 (large text, 长辈模式): stored per user in ``Preferences``, copied into the session at login so
pages do not query it on every request, and applied by base.html as a class on <html>."""

from __future__ import annotations

from django.http import HttpRequest

from .models import Preferences

SESSION_KEY = "large_text"


def large_text(request: HttpRequest) -> bool:
    """Whether this request's user chose 大字版 (the first page of a session reads it from the database)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return False
    if SESSION_KEY not in request.session:
        request.session[SESSION_KEY] = Preferences.objects.filter(user=user, large_text=True).exists()
    return bool(request.session[SESSION_KEY])


def set_large_text(*, request: HttpRequest, enabled: bool) -> None:
    """Remember the choice for the user (every browser they log in from) and for this session."""
    Preferences.objects.update_or_create(user=request.user, defaults={"large_text": enabled})
    request.session[SESSION_KEY] = enabled


def remember_at_login(sender, request, user, **kwargs) -> None:
    """``user_logged_in`` receiver (connected in apps.py): one query per login instead of one per page."""
    if request is not None and hasattr(request, "session"):
        request.session[SESSION_KEY] = Preferences.objects.filter(user=user, large_text=True).exists()
