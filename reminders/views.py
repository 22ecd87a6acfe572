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

from agencies.models import Agency
from agencies.roles import is_lead_bureau, sees_all_tasks
from tasks.models import Plan, Task

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
    """催办 from the dashboard or a task page: the selected tasks, every overdue task (of one plan), or one
    agency's overdue tasks. For these bulk scopes the first POST shows what would be sent (how many tasks,
    which agencies) and the confirmed POST (``confirm=yes``) sends; selected tasks are sent at once."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if not is_lead_bureau(request.user):
        raise PermissionDenied
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = reverse("workspace:dashboard")
    scope = request.POST.get("scope", "")
    tasks = Task.objects.current().open()
    plan = agency = None
    if scope in ("overdue", "agency"):
        tasks = tasks.overdue(timezone.localdate())
        if request.POST.get("plan", "").isdigit():
            plan = Plan.objects.filter(pk=int(request.POST["plan"])).first()
            tasks = tasks.filter(measure__plan=plan)
        if scope == "agency":
            value = request.POST.get("agency", "")
            agency = Agency.objects.filter(pk=int(value)).first() if value.isdigit() else None
            if agency is None:
                messages.error(request, _("请选择要催办的单位。"))
                return redirect(target)
            tasks = tasks.filter(agency=agency)
    else:
        scope = "tasks"
        ids = [int(value) for value in request.POST.getlist("task") if value.isdigit()]
        tasks = tasks.filter(pk__in=ids)
    tasks = list(tasks.select_related("agency", "measure__plan").order_by("agency__name", "pk"))
    if not tasks:
        messages.info(request, _("没有需要催办的任务。"))
        return redirect(target)
    if scope != "tasks" and request.POST.get("confirm") != "yes":  # many tasks at once: confirm first
        return _confirm_urge(request, tasks, scope=scope, plan=plan, agency=agency, target=target)
    result = services.send_urge(tasks, request.user)
    add_messages(request, urge_messages(result, len(tasks)))  # what was sent, queued, failed: never more
    return redirect(target)


# The confirmation page lists at most this many agencies (a city-wide 催办 can name hundreds).
CONFIRM_AGENCIES = 50


def _confirm_urge(request, tasks, *, scope, plan, agency, target) -> HttpResponse:
    by_agency: dict[int, dict] = {}
    for task in tasks:
        row = by_agency.setdefault(task.agency_id, {"agency": task.agency, "count": 0})
        row["count"] += 1
    agencies = sorted(by_agency.values(), key=lambda row: (-row["count"], row["agency"].name))
    unreachable = {gap.pk for gap in services.reach.unreachable_agencies(list(by_agency))}
    unreachable |= {gap.pk for gap in services.reach.memberless_collectives(list(by_agency))}
    for row in agencies:
        row["unreachable"] = row["agency"].pk in unreachable
    return render(
        request,
        "reminders/urge_confirm.html",
        {
            "title": _("确认催办"),
            "scope": scope,
            "plan": plan,
            "agency": agency,
            "tasks": tasks if scope == "tasks" else [],
            "task_count": len(tasks),
            "agency_count": len(agencies),
            "agencies": agencies[:CONFIRM_AGENCIES],
            "agencies_more": max(len(agencies) - CONFIRM_AGENCIES, 0),
            "unreachable_count": len(unreachable),
            "next": target,
        },
    )
