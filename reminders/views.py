"""The lead bureau's preview of the next sweep (the same computation, nothing sent) and "send today's now"."""

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from agencies.roles import is_lead_bureau, sees_all_tasks
from tasks.models import Task

from . import services
from .feedback import add_messages, report_messages, urge_messages
from .forms import PreviewForm
from .models import ReminderLog
from .selectors import missing_holiday_years
from .workdays import calendar_around


@require_http_methods(["GET", "POST"])
def preview(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path(), reverse("admin:login"))
    if not sees_all_tasks(request.user):
        raise PermissionDenied
    today = timezone.localdate()
    if request.method == "POST":
        return _send_today(request, today)

    form = PreviewForm(request.GET or None)
    day = form.cleaned_data["date"] if form.is_valid() and form.cleaned_data["date"] else None
    day = day or services.next_sweep_day()
    calendar = calendar_around(day)
    is_working_day = calendar.is_working_day(day)
    emails = []
    if is_working_day:
        emails = services.annotate_existing(services.compute_reminders(day, calendar=calendar))
    return render(
        request,
        "reminders/preview.html",
        {
            "title": _("提醒邮件预览"),
            "form": form,
            "day": day,
            "today": today,
            "is_working_day": is_working_day,
            "next_working_day": calendar.next_working_day(day),
            "emails": emails,
            "to_send": sum(1 for email in emails if not email.skip_reason and not email.existing_status),
            "missing_years": missing_holiday_years(today),
            "can_send": is_lead_bureau(request.user) and day == today and is_working_day,
            "Status": ReminderLog.Status,
        },
    )


def _send_today(request: HttpRequest, today) -> HttpResponse:
    if not is_lead_bureau(request.user):
        raise PermissionDenied
    reports = []
    result = services.run_sweep(
        today, dispatch=lambda ids: reports.append(services.dispatch_with_celery(ids, budget=2.0))
    )
    if result.dispatched:
        add_messages(request, report_messages(reports[0] if reports else None, len(result.dispatched)))
    if not result.is_working_day:
        messages.warning(request, _("今天不是工作日,未发送提醒邮件。"))
    elif not result.dispatched:
        messages.info(request, _("今天的提醒邮件均已发送或正在发送,没有新的需要发送。"))
    return redirect(f"{reverse('reminders:preview')}?date={today.isoformat()}")


@require_http_methods(["POST"])
def urge(request: HttpRequest) -> HttpResponse:
    """催办 from the dashboard or a task page: the selected tasks, or every overdue task (of one plan)."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if not is_lead_bureau(request.user):
        raise PermissionDenied
    tasks = Task.objects.current().open()
    if request.POST.get("scope") == "overdue":
        tasks = tasks.overdue(timezone.localdate())
        if request.POST.get("plan", "").isdigit():
            tasks = tasks.filter(measure__plan_id=int(request.POST["plan"]))
    else:
        ids = [int(value) for value in request.POST.getlist("task") if value.isdigit()]
        tasks = tasks.filter(pk__in=ids)
    tasks = list(tasks.select_related("agency", "measure__plan"))
    if not tasks:
        messages.info(request, _("没有需要催办的任务。"))
    else:
        result = services.send_urge(tasks, request.user)
        add_messages(request, urge_messages(result, len(tasks)))
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = reverse("workspace:dashboard")
    return redirect(target)
