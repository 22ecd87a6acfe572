"""Thin views: check the user can see the object (404 otherwise), validate input, call a service or
selector, render or redirect."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from agencies.models import Agency, AgencyRobot, Liaison
from agencies.roles import is_lead_bureau, is_supervisor, sees_all_tasks
from reminders.models import NotificationPreference
from reminders.selectors import missing_holiday_years
from reminders.services import notices, reach
from reminders.services import problems as reminder_problems
from reminders.services.channels import sms_enabled
from tasks.filters import SCOPE_OPEN, TaskFilter
from tasks.models import Plan, Task
from tasks.services.progress import can_correct, correct_progress
from tasks.status import Light

from . import display, selectors, services
from .forms import (
    ChannelPreferenceForm,
    CorrectionForm,
    DecisionForm,
    DigestPreferenceForm,
    DisplayForm,
    DueDateForm,
    ExtensionForm,
    IndicatorValueForm,
    NotificationPreferenceForm,
    ProgressForm,
    ReassignForm,
)

PAGE_SIZE = 50
AGENCY_ROWS = 50


def require_supervisor(user) -> None:
    if not is_supervisor(user):
        raise PermissionDenied(_("只有督办人员和领导可以查看此页面。"))


def form_errors(form) -> str:
    return ";".join(
        f"{form.fields[name].label or ''} {' '.join(errors)}".strip() for name, errors in form.errors.items()
    )


@login_required
def home(request: HttpRequest) -> HttpResponse:
    if is_supervisor(request.user):
        return redirect("workspace:dashboard")
    return redirect("workspace:task_list")


@login_required
def task_list(request: HttpRequest) -> HttpResponse:
    """The task list: open tasks by default (范围 全部 shows every one). A fixed number of queries whatever
    the number of tasks: the counts (one aggregate, which also sizes the paginator) and one page."""
    today = timezone.localdate()
    base = selectors.task_list(request.user, today)
    task_filter = TaskFilter(request.GET or None, queryset=base, user=request.user, default_scope=SCOPE_OPEN)
    tasks = task_filter.qs
    counts = selectors.counts(tasks, today, cache=sees_all_tasks(request.user))
    page = selectors.task_page_of(
        tasks, counts.total, PAGE_SIZE, number=request.GET.get("page"), after=request.GET.get("after")
    )
    agency_count = Agency.objects.filter(liaisons__user=request.user).count()
    return render(
        request,
        "workspace/task_list.html",
        {
            "filter": task_filter,
            "page": page,
            "counts": counts,
            "scope": task_filter.effective_scope,
            "today": today,
            "has_agency": agency_count > 0,
            "many_agencies": agency_count > 1,
            "is_supervisor": is_supervisor(request.user),
        },
    )


def _task_context(request, task, today, **extra):
    page = selectors.task_page(task, today, viewer=request.user)
    can_report = services.can_report(request.user, task)
    context = {
        "page": page,
        "task": task,
        "today": today,
        "can_report": can_report,
        "is_lead_bureau": is_lead_bureau(request.user),
        "extension_form": ExtensionForm(),
        "decision_form": DecisionForm(),
        "due_date_form": DueDateForm(initial={"due_date": task.due_date}),
        "report_period": services.reporting_period(task, today) if task.is_ongoing else None,
    }
    if is_lead_bureau(request.user):
        context["reassign_form"] = ReassignForm(task=task)
    context.update(extra)
    return context


@login_required
def task_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The task page; POST is a progress report (or a completion request) with attachments."""
    today = timezone.localdate()
    task = selectors.get_task(request.user, pk, today)
    form = ProgressForm(initial={"percent": task.percent})
    if request.method == "POST":
        services.require_reporter(request.user, task)
        form = ProgressForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                services.submit_progress(
                    task=task,
                    user=request.user,
                    text=form.cleaned_data["text"],
                    percent=form.cleaned_data["percent"],
                    status=form.cleaned_data["status"],
                    files=form.cleaned_data["attachments"],
                    today=today,
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                if form.cleaned_data["status"] == Task.Status.COMPLETION_REQUESTED:
                    messages.success(request, _("已申请办结,等待督办人员审核。"))
                else:
                    messages.success(request, _("进展已报送。"))
                return redirect("workspace:task_detail", pk=task.pk)
    status = 400 if form.is_bound else 200
    return render(
        request, "workspace/task_detail.html", _task_context(request, task, today, form=form), status=status
    )


def _run(request, action, success: str) -> None:
    try:
        action()
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, success)


@login_required
@require_POST
def acknowledge(request: HttpRequest, pk: int) -> HttpResponse:
    task = selectors.get_task(request.user, pk, timezone.localdate())
    services.acknowledge(task=task, user=request.user)
    messages.success(request, _("已签收。"))
    return redirect("workspace:task_detail", pk=task.pk)


@login_required
@require_POST
def request_extension(request: HttpRequest, pk: int) -> HttpResponse:
    today = timezone.localdate()
    task = selectors.get_task(request.user, pk, today)
    services.require_reporter(request.user, task)
    form = ExtensionForm(request.POST)
    if not form.is_valid():
        messages.error(request, form_errors(form))
    else:
        _run(
            request,
            lambda: services.request_extension(
                task=task, user=request.user, today=today, **form.cleaned_data
            ),
            _("延期申请已提交,等待督办人员审核。")
            if task.due_date is None or task.due_date >= today
            else _("调整时限申请已提交,等待督办人员审核。"),
        )
    return redirect("workspace:task_detail", pk=task.pk)


def _back(request, default: str) -> HttpResponse:
    """Return to the review queue when the decision was taken there, else to the task page."""
    if request.POST.get("next") == "review":
        return redirect("workspace:review_queue")
    return redirect(default)


@login_required
@require_POST
def decide_extension(request: HttpRequest, pk: int) -> HttpResponse:
    extension = selectors.get_extension(request.user, pk)
    services.require_lead_bureau(request.user)
    form = DecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, form_errors(form))
    else:
        _run(
            request,
            lambda: services.decide_extension(
                extension=extension,
                user=request.user,
                approve=form.approve,
                reason=form.cleaned_data["reason"],
            ),
            _("已同意延期。") if form.approve else _("已不同意延期。"),
        )
    return _back(request, reverse("workspace:task_detail", args=[extension.task_id]))


@login_required
@require_POST
def review_completion(request: HttpRequest, pk: int) -> HttpResponse:
    task = selectors.get_task(request.user, pk, timezone.localdate())
    services.require_lead_bureau(request.user)
    form = DecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, form_errors(form))
    elif form.approve:
        _run(
            request,
            lambda: services.approve_completion(
                task=task, user=request.user, reason=form.cleaned_data["reason"]
            ),
            _("已同意办结。"),
        )
    else:
        _run(
            request,
            lambda: services.return_completion(
                task=task, user=request.user, reason=form.cleaned_data["reason"]
            ),
            _("已退回,联络员将看到退回理由。"),
        )
    return _back(request, reverse("workspace:task_detail", args=[task.pk]))


@login_required
@require_POST
def change_due_date(request: HttpRequest, pk: int) -> HttpResponse:
    task = selectors.get_task(request.user, pk, timezone.localdate())
    services.require_lead_bureau(request.user)
    form = DueDateForm(request.POST)
    if not form.is_valid():
        messages.error(request, form_errors(form))
    else:
        _run(
            request,
            lambda: services.change_due_date(task=task, user=request.user, **form.cleaned_data),
            _("截止日期已调整。"),
        )
    return redirect("workspace:task_detail", pk=task.pk)


@login_required
@require_POST
def reassign(request: HttpRequest, pk: int) -> HttpResponse:
    task = selectors.get_task(request.user, pk, timezone.localdate())
    services.require_lead_bureau(request.user)
    form = ReassignForm(request.POST, task=task)
    if not form.is_valid():
        messages.error(request, form_errors(form))
    else:
        _run(
            request,
            lambda: services.reassign(task=task, user=request.user, **form.cleaned_data),
            _("任务已改由 %(a)s 承办。") % {"a": form.cleaned_data["agency"]},
        )
    return redirect("workspace:task_detail", pk=task.pk)


@login_required
def correct_update(request: HttpRequest, pk: int) -> HttpResponse:
    """更正 a submitted report: a new version with a reason; the old one stays in the record."""
    update = selectors.get_update(request.user, pk)
    if not can_correct(request.user, update):
        raise PermissionDenied(_("只有本单位联络员和督办人员可以更正进展报送。"))
    form = CorrectionForm(request.POST or None, initial={"text": update.text, "percent": update.percent})
    if request.method == "POST" and form.is_valid():
        try:
            correct_progress(update=update, user=request.user, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("已更正,原报送保留在记录中。"))
            return redirect("workspace:task_detail", pk=update.task_id)
    status = 400 if form.is_bound else 200
    return render(request, "workspace/correct_update.html", {"update": update, "form": form}, status=status)


@login_required
def attachment(request: HttpRequest, pk: int) -> FileResponse:
    item = selectors.get_attachment(request.user, pk)
    response = FileResponse(item.file.open("rb"), as_attachment=True, filename=item.original_name)
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    require_supervisor(request.user)
    plan = None
    if request.GET.get("plan"):
        try:
            plan = get_object_or_404(Plan, pk=int(request.GET["plan"]))
        except ValueError:
            plan = None
    today = timezone.localdate()
    board = selectors.dashboard(request.user, today, plan)
    # Worst agencies first; a city-wide plan can name hundreds, so the table shows the first ones unless asked.
    shown = board.agencies if request.GET.get("agencies") == "all" else board.agencies[:AGENCY_ROWS]
    problems = _problems(board, today) if is_lead_bureau(request.user) else None
    return render(
        request,
        "workspace/dashboard.html",
        {
            "board": board,
            "is_lead_bureau": is_lead_bureau(request.user),
            "agencies_shown": shown,
            "agencies_hidden": len(board.agencies) - len(shown),
            # What 催办全部逾期任务 sends to (reminders.views.urge: current().overdue()): the red light's count,
            # the same rule, over the same tasks (supervisors see every current task).
            "overdue_count": board.counts.light(Light.RED),
            "missing_holiday_years": missing_holiday_years(today),
            # 投递问题: the lead bureau sees what did not reach its recipient and where to fix it.
            "problems": problems,
            "no_bureau_address": problems.no_bureau_address
            if problems
            else not reach.lead_bureau_addresses(),
        },
    )


def _problems(board, today):
    """The 投递问题 panel. Over every plan, the board's per-agency aggregate already holds each agency's open
    tasks (the lead bureau sees every current task): the panel reuses it instead of counting them again."""
    open_tasks = None if board.plan else {row.agency_id: row.total - row.done for row in board.agencies}
    return reminder_problems.collect(today, open_tasks=open_tasks)


def _review_filters(request) -> tuple[str, Plan | None, Agency | None]:
    kind = request.GET.get("kind", "")
    kind = kind if kind in selectors.REVIEW_KINDS else ""
    plan = agency = None
    if request.GET.get("plan", "").isdigit():
        plan = Plan.objects.filter(pk=int(request.GET["plan"])).first()
    if request.GET.get("agency", "").isdigit():
        agency = Agency.objects.filter(pk=int(request.GET["agency"])).first()
    return kind, plan, agency


@login_required
def review_queue(request: HttpRequest) -> HttpResponse:
    """审核: one page of each kind, filterable by plan, agency and kind, with counts."""
    require_supervisor(request.user)
    kind, plan, agency = _review_filters(request)
    queue = selectors.review_queue(
        timezone.localdate(),
        kind=kind,
        plan=plan,
        agency=agency,
        pages={key: request.GET.get(f"{key}_page") for key in selectors.REVIEW_KINDS},
    )
    query = request.GET.copy()
    for key in selectors.REVIEW_KINDS:
        query.pop(f"{key}_page", None)
    return render(
        request,
        "workspace/review_queue.html",
        {
            "queue": queue,
            "is_lead_bureau": is_lead_bureau(request.user),
            "decision_form": DecisionForm(),
            "base_query": query.urlencode(),
        },
    )


@login_required
@require_POST
def review_bulk(request: HttpRequest) -> HttpResponse:
    """批量同意: the first POST shows what would be approved; the confirmed POST approves it."""
    services.require_lead_bureau(request.user)
    kind = request.POST.get("kind", "")
    ids = [int(value) for value in request.POST.getlist("item") if value.isdigit()]
    items = selectors.review_items(kind, ids)
    if not items:
        messages.info(request, _("请先勾选要同意的申请。"))
        return redirect("workspace:review_queue")
    if request.POST.get("confirm") != "yes":
        return render(
            request,
            "workspace/review_confirm.html",
            {"kind": kind, "items": items, "label": selectors.REVIEW_KINDS.get(kind, "")},
        )
    result = services.bulk_approve(
        user=request.user, kind=kind, ids=[item.pk for item in items], reason=request.POST.get("reason", "")
    )
    messages.success(request, _("已同意 %(n)d 项。") % {"n": result.approved})
    for error in result.errors:
        messages.error(request, error)
    return redirect("workspace:review_queue")


@login_required
def indicators(request: HttpRequest) -> HttpResponse:
    """指标报送: the liaison's indicators, a value per year; POST reports one value."""
    today = timezone.localdate()
    form = IndicatorValueForm(initial={"year": today.year - 1})
    if request.method == "POST":
        form = IndicatorValueForm(request.POST)
        if form.is_valid():
            indicator = selectors.get_my_indicator(request.user, form.cleaned_data["indicator"])
            try:
                services.report_indicator_value(
                    indicator=indicator,
                    user=request.user,
                    year=form.cleaned_data["year"],
                    value=form.cleaned_data["value"],
                    note=form.cleaned_data["note"],
                    today=today,
                )
            except ValidationError as error:
                messages.error(request, f"{indicator.name}:{' '.join(error.messages)}")
            else:
                messages.success(
                    request,
                    _("已报送“%(name)s”%(year)d 年数值。")
                    % {"name": indicator.name, "year": form.cleaned_data["year"]},
                )
                return redirect("workspace:indicators")
        else:
            messages.error(request, form_errors(form))
    status = 400 if form.is_bound else 200
    return render(
        request,
        "workspace/indicators.html",
        {
            "indicators": selectors.my_indicators(request.user),
            "form": form,
            "is_supervisor": is_supervisor(request.user),
        },
        status=status,
    )


def notification_kinds(user, liaisons) -> list[str]:
    """The notifications a user can receive: a liaison's, the lead bureau's, or both."""
    kinds = list(notices.LIAISON_KINDS) if liaisons else []
    if is_lead_bureau(user):
        kinds += notices.LEAD_BUREAU_KINDS
    return kinds


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    """我的设置: how often each agency's digest reaches me, how I hear of events, my calendar subscriptions."""
    liaisons = list(
        Liaison.objects.filter(user=request.user).select_related("agency").order_by("agency__name")
    )
    which = request.POST.get("form", "digest") if request.method == "POST" else None
    kinds = notification_kinds(request.user, liaisons)
    current = {p.kind: p for p in NotificationPreference.objects.filter(user=request.user)}
    form = DigestPreferenceForm(request.POST if which == "digest" else None, liaisons=liaisons)
    sms_available = sms_enabled()
    channel_form = ChannelPreferenceForm(
        request.POST if which == "channels" else None, liaisons=liaisons, sms_available=sms_available
    )
    notice_form = NotificationPreferenceForm(
        request.POST if which == "notifications" else None, kinds=kinds, current=current
    )
    if which == "digest" and form.is_valid():
        changed = services.set_digest_frequencies(form.choices())
        messages.success(request, _("提醒设置已保存。") if changed else _("提醒设置未改变。"))
        return redirect("workspace:profile")
    if which == "channels" and liaisons and channel_form.is_valid():
        data = channel_form.cleaned_data
        changed = services.set_channel_preferences(
            liaisons,
            mobile=data["mobile"],
            notify_sms=data["notify_sms"] and sms_available,
            notify_robot=data["notify_robot"],
        )
        messages.success(request, _("短信与工作群设置已保存。") if changed else _("短信与工作群设置未改变。"))
        return redirect("workspace:profile")
    if which == "notifications" and notice_form.is_valid():
        changed = services.set_notification_preferences(user=request.user, choices=notice_form.choices())
        messages.success(request, _("消息设置已保存。") if changed else _("消息设置未改变。"))
        return redirect("workspace:profile")
    display_form = DisplayForm(initial={"large_text": display.large_text(request)})
    return render(
        request,
        "workspace/profile.html",
        {
            "form": form,
            "liaisons": liaisons,
            "notice_form": notice_form,
            "display_form": display_form,
            "channel_form": channel_form,
            "robots": AgencyRobot.objects.filter(agency__in=[liaison.agency_id for liaison in liaisons])
            .select_related("agency")
            .order_by("agency__name", "name"),
            "manages_robots": request.user.is_superuser or is_lead_bureau(request.user),
        },
        status=400 if which else 200,
    )


@login_required
@require_POST
def set_display(request: HttpRequest) -> HttpResponse:
    """大字版 on or off (from 我的设置 or the navigation), then back to the page the user was on."""
    form = DisplayForm(request.POST)
    form.is_valid()  # an unchecked box is simply "off"
    enabled = bool(form.cleaned_data.get("large_text"))
    display.set_large_text(request=request, enabled=enabled)
    messages.success(request, _("已切换到大字版。") if enabled else _("已切换到标准版。"))
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        target = reverse("workspace:profile")
    return redirect(target)


@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    """消息: the user's notifications, newest first; unread ones stand out."""
    page = Paginator(selectors.inbox(request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "workspace/inbox.html", {"page": page})


@login_required
@require_POST
def inbox_read(request: HttpRequest) -> HttpResponse:
    """Mark one message read and open what it is about, or (no ``message``) mark all read."""
    pk = request.POST.get("message", "")
    if not pk:
        services.mark_read(user=request.user)
        messages.success(request, _("已全部标为已读。"))
        return redirect("workspace:inbox")
    if not pk.isdigit():
        return redirect("workspace:inbox")
    item = selectors.get_inbox_item(request.user, int(pk))
    services.mark_read(user=request.user, pk=item.pk)
    target = item.url  # absolute (it is also in the email): open it on this host
    if target.startswith(settings.SITE_URL):
        target = target[len(settings.SITE_URL) :] or "/"
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = reverse("workspace:inbox")
    return redirect(target)
