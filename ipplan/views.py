from axes.handlers.proxy import AxesProxyHandler
from axes.utils import reset as axes_reset
from django.conf import settings
from django.contrib.auth import views as auth_views
from django.db import connection
from django.http import HttpRequest, JsonResponse


def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness for the container health check: the process answers and the database responds."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return JsonResponse({"status": "ok"})


class LoginView(auth_views.LoginView):
    """Django's login page, saying how many attempts remain before django-axes pauses the account's logins
    from this address."""

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        form = context.get("form")
        if form is not None and form.is_bound and form.errors:
            credentials = {"username": form.data.get("username", "")}
            failures = AxesProxyHandler.get_failures(self.request, credentials)
            context["remaining_attempts"] = max(settings.AXES_FAILURE_LIMIT - failures, 0)
            context["cooloff_hours"] = settings.AXES_COOLOFF_TIME
        return context


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """Setting a new password through the emailed link also lifts a lockout of the account (from any
    address): the lockout page sends people here."""

    def form_valid(self, form):
        response = super().form_valid(form)
        axes_reset(username=form.user.get_username())
        return response
