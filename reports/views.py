"""Calendar feeds, single-task .ics downloads, progress reports and background export jobs."""

from __future__ import annotations

import hashlib
import io

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Max
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header, url_has_allowed_host_and_scheme
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST, require_safe

from agencies.models import Agency, Liaison
from agencies.roles import is_lead_bureau
from tasks.models import Plan, Task

from . import services
from .calendar import build_calendar
from .documents import filename as document_filename
from .documents import render as render_document
from .exporters import LedgerReport, ProgressReport, ReportError
from .models import CalendarFeed, ExportJob, IssuedDocument, ScoreWeights
from .scorecard import LABELS, PeriodError, Scorecard, default_period, parse_period
from .selectors import calendar_tasks, feed_is_live, feed_scope, feed_tasks, sees_all_tasks

FEED_CACHE_SECONDS = 15 * 60  # plan settings (reporting cycle) are not in the fingerprint
ASYNC_ROWS_DEFAULT = 3000  # above this many tasks a report is built in the background


def _ics_response(payload: bytes, filename: str, *, attachment: bool) -> HttpResponse:
    response = HttpResponse(payload, content_type="text/calendar; charset=utf-8")
    disposition = "attachment" if attachment else "inline"
    response["Content-Disposition"] = f'{disposition}; filename="{filename}"'
    return response


@require_safe  # GET and HEAD: some calendar apps probe with HEAD
def calendar_feed(request: HttpRequest, token: str) -> HttpResponse:
    """The subscription URL calendar apps poll. The token is the credential: unknown, regenerated or revoked
    tokens, and feeds whose owner lost access, all answer 404."""
    feed = CalendarFeed.objects.select_related("user", "liaison__agency", "plan").filter(token=token).first()
    if feed is None or not feed_is_live(feed):
        raise Http404
    services.record_fetch(feed=feed)
    if feed.kind == CalendarFeed.Kind.AGENCY:
        agency = feed.liaison.agency
        name = _("%(agency)s · 任务截止日") % {"agency": agency}
        description, with_agency = str(agency), False
    else:
        name = _("%(plan)s · 任务截止日") % {"plan": feed.plan.title}
        description, with_agency = feed.plan.title, True
    tasks = feed_tasks(feed)
    # Calendar apps poll often, and a city's plan feed runs to tens of thousands of events: the feed is cached
    # under a fingerprint of its tasks that changes with any save, addition or removal. The fingerprint is taken
    # over the bare scope: the feed queryset's revision subqueries would run once per task for nothing.
    state = (
        feed_scope(feed)
        .order_by()
        .aggregate(n=Count("pk"), task=Max("updated_at"), measure=Max("measure__updated_at"))
    )
    key = (
        "ical:"
        + hashlib.sha256(
            f"{feed.token}|{name}|{state['n']}|{state['task']}|{state['measure']}|{timezone.localdate()}".encode()
        ).hexdigest()
    )
    payload = cache.get(key)
    if payload is None:
        payload = build_calendar(tasks, name=name, description=description, with_agency=with_agency)
        cache.set(key, payload, FEED_CACHE_SECONDS)
    response = _ics_response(payload, "ipplan.ics", attachment=False)
    response["Cache-Control"] = "private, max-age=900"
    return response


@login_required
@require_GET
def task_ics(request: HttpRequest, pk: int) -> HttpResponse:
    """One task as an .ics file to import once (no subscription)."""
    tasks = calendar_tasks(Task.objects.for_user(request.user)).filter(pk=pk)
    task = get_object_or_404(tasks)
    payload = build_calendar(tasks, name=str(task.measure))
    return _ics_response(payload, f"task-{task.pk}.ics", attachment=True)


def _back(request: HttpRequest, fallback: str) -> HttpResponseRedirect:
    target = request.POST.get("next") or request.headers.get("referer", "")
    if not url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        target = fallback
    return HttpResponseRedirect(target)


FEED_ACTIONS = {"create", "regenerate", "revoke"}


@login_required
@require_POST
def liaison_calendar(request: HttpRequest, liaison_id: int) -> HttpResponse:
    """Create, regenerate or revoke the caller's own agency feed (POST ``action``)."""
    liaison = get_object_or_404(Liaison, pk=liaison_id, user=request.user)
    action = request.POST.get("action")
    if action not in FEED_ACTIONS:
        return HttpResponse(_("未知操作。"), status=400)
    feed = CalendarFeed.objects.filter(liaison=liaison).first()
    if action == "create":
        services.liaison_feed(liaison=liaison)
        messages.success(request, _("已生成日历订阅地址。"))
    elif feed is None:
        messages.info(request, _("尚未生成日历订阅地址。"))
    elif action == "regenerate":
        services.regenerate_feed(feed=feed)
        messages.success(request, _("已更换订阅地址,旧地址即刻失效。请在日历应用中重新订阅。"))
    else:
        services.revoke_feed(feed=feed)
        messages.success(request, _("已停用日历订阅地址。"))
    return _back(request, reverse("workspace:task_list"))


@login_required
@require_POST
def plan_calendar(request: HttpRequest, plan_id: int) -> HttpResponse:
    """The same for a plan feed (lead-bureau staff and leaders)."""
    plan = get_object_or_404(Plan, pk=plan_id)
    if not sees_all_tasks(request.user):
        raise PermissionDenied
    action = request.POST.get("action")
    if action not in FEED_ACTIONS:
        return HttpResponse(_("未知操作。"), status=400)
    feed = CalendarFeed.objects.filter(user=request.user, plan=plan).first()
    if action == "create":
        services.plan_feed(user=request.user, plan=plan)
        messages.success(request, _("已生成日历订阅地址。"))
    elif feed is None:
        messages.info(request, _("尚未生成日历订阅地址。"))
    elif action == "regenerate":
        services.regenerate_feed(feed=feed)
        messages.success(request, _("已更换订阅地址,旧地址即刻失效。请在日历应用中重新订阅。"))
    else:
        services.revoke_feed(feed=feed)
        messages.success(request, _("已停用日历订阅地址。"))
    return _back(request, reverse("workspace:dashboard"))


# Reports ---------------------------------------------------------------------------------------------------


def _may_export(user) -> bool:
    return sees_all_tasks(user) or Liaison.objects.filter(user=user).exists()


@login_required
@require_GET
def progress_report(request: HttpRequest) -> HttpResponse:
    """进度报表 for the task list's filters (GET). Small ones download at once; large ones are queued."""
    if not _may_export(request.user):
        raise PermissionDenied
    params = {key: values for key, values in request.GET.lists() if key != "page"}
    language = get_language() or settings.LANGUAGE_CODE
    try:
        report = ProgressReport(user=request.user, params=params, language=language)
    except ReportError as exc:
        return render(request, "reports/report_error.html", {"error": str(exc)}, status=400)
    if report.task_count() > getattr(settings, "REPORTS_ASYNC_ROWS", ASYNC_ROWS_DEFAULT):
        job = services.request_export(
            user=request.user, exporter=report.identifier, params=params, language=language
        )
        return redirect("reports:export_job", pk=job.pk)
    buffer = io.BytesIO()
    report.write(buffer)
    buffer.seek(0)
    return FileResponse(buffer, as_attachment=True, filename=report.filename())


def _own_job(request: HttpRequest, pk) -> ExportJob:
    return get_object_or_404(ExportJob, pk=pk, user=request.user)


@login_required
@require_GET
def export_job(request: HttpRequest, pk) -> HttpResponse:
    return render(request, "reports/export_job.html", {"job": _own_job(request, pk)})


@login_required
@require_GET
def export_job_status(request: HttpRequest, pk) -> JsonResponse:
    job = _own_job(request, pk)
    return JsonResponse(
        {
            "status": job.status,
            "status_display": job.get_status_display(),
            "progress": job.progress,
            "total_rows": job.total_rows,
            "error": job.error,
            "download_url": reverse("reports:export_job_download", args=[job.pk])
            if job.status == ExportJob.Status.DONE
            else None,
        }
    )


@login_required
@require_GET
def export_job_download(request: HttpRequest, pk) -> FileResponse:
    job = _own_job(request, pk)
    if job.status != ExportJob.Status.DONE or not job.file:
        raise Http404
    try:
        handle = job.file.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    return FileResponse(handle, as_attachment=True, filename=job.filename)


@login_required
@require_GET
def ledger_report(request: HttpRequest) -> HttpResponse:
    """工作台账 alone (the printable sheet) for the task list's filters."""
    if not _may_export(request.user):
        raise PermissionDenied
    params = {key: values for key, values in request.GET.lists() if key != "page"}
    try:
        report = LedgerReport(
            user=request.user, params=params, language=get_language() or settings.LANGUAGE_CODE
        )
    except ReportError as exc:
        return render(request, "reports/report_error.html", {"error": str(exc)}, status=400)
    buffer = io.BytesIO()
    report.write(buffer)
    buffer.seek(0)
    return FileResponse(buffer, as_attachment=True, filename=report.filename())


# 考核 scorecard and issued documents --------------------------------------------------------------------------


def _require_supervisor(user) -> None:
    from workspace.views import require_supervisor  # the dashboard's rule: lead bureau and leaders

    require_supervisor(user)


def _scorecard_request(request: HttpRequest):
    """(plan, period, error) from ?plan=&period= (default: the current quarter, all active plans)."""
    plan = None
    if request.GET.get("plan", "").isdigit():
        plan = get_object_or_404(Plan, pk=int(request.GET["plan"]))
    try:
        period = (
            parse_period(request.GET["period"])
            if request.GET.get("period")
            else default_period(timezone.localdate())
        )
    except PeriodError as exc:
        return plan, default_period(timezone.localdate()), str(exc)
    return plan, period, ""


@login_required
@require_GET
def scorecard(request: HttpRequest) -> HttpResponse:
    _require_supervisor(request.user)
    plan, period, error = _scorecard_request(request)
    weights = ScoreWeights.current()
    card = Scorecard(plan=plan, period=period, weights=weights.as_dict())
    return render(
        request,
        "reports/scorecard.html",
        {
            "plan": plan,
            "period": period,
            "error": error,
            "plans": Plan.objects.filter(is_active=True).order_by("-period_start", "title"),
            "scores": card.scores(),
            "labels": LABELS,
            "weights": weights,
            "as_of": card.as_of,
            "is_lead_bureau": is_lead_bureau(request.user),
            "bulletins": IssuedDocument.objects.filter(
                kind=IssuedDocument.Kind.BULLETIN, plan=plan, period=period.key
            ),
        },
    )


@login_required
@require_GET
def scorecard_agency(request: HttpRequest, agency_id: int) -> HttpResponse:
    """The facts behind one agency's score: every task, timestamp and point counted."""
    _require_supervisor(request.user)
    agency = get_object_or_404(Agency, pk=agency_id)
    plan, period, error = _scorecard_request(request)
    weights = ScoreWeights.current()
    card = Scorecard(plan=plan, period=period, weights=weights.as_dict())
    scores = card.scores(agency_id=agency.pk)
    return render(
        request,
        "reports/scorecard_agency.html",
        {
            "agency": agency,
            "plan": plan,
            "period": period,
            "error": error,
            "score": scores[0] if scores else None,
            "weights": weights.as_dict(),
            "as_of": card.as_of,
        },
    )


@login_required
@require_POST
def issue_notice(request: HttpRequest) -> HttpResponse:
    """督办通知单 for one agency (from the dashboard or a task's 催办), numbered and recorded."""
    if not is_lead_bureau(request.user):
        raise PermissionDenied
    agency = get_object_or_404(Agency, pk=request.POST.get("agency") or 0)
    plan = None
    if request.POST.get("plan", "").isdigit():
        plan = get_object_or_404(Plan, pk=int(request.POST["plan"]))
    notice, created = services.issue_notice(agency=agency, plan=plan, user=request.user)
    if created:
        messages.success(request, _("已签发%(number)s督办通知单。") % {"number": notice.doc_number})
    else:
        messages.info(
            request, _("今天已向该单位签发过%(number)s,未重复编号。") % {"number": notice.doc_number}
        )
    return redirect("reports:documents")


@login_required
@require_POST
def issue_bulletin(request: HttpRequest) -> HttpResponse:
    if not is_lead_bureau(request.user):
        raise PermissionDenied
    plan = None
    if request.POST.get("plan", "").isdigit():
        plan = get_object_or_404(Plan, pk=int(request.POST["plan"]))
    try:
        bulletin, created = services.issue_bulletin(
            plan=plan, period_key=request.POST.get("period", ""), user=request.user
        )
    except PeriodError as exc:
        messages.error(request, str(exc))
        return redirect("reports:scorecard")
    if created:
        messages.success(request, _("已签发%(number)s工作进展情况通报。") % {"number": bulletin.doc_number})
    else:
        messages.info(request, _("该计划本期已签发%(number)s,未重复编号。") % {"number": bulletin.doc_number})
    return redirect("reports:documents")


@login_required
@require_GET
def documents(request: HttpRequest) -> HttpResponse:
    _require_supervisor(request.user)
    issued = IssuedDocument.objects.select_related("agency", "plan", "issued_by")[:200]
    return render(request, "reports/documents.html", {"documents": issued})


@login_required
@require_GET
def document_download(request: HttpRequest, pk: int) -> HttpResponse:
    _require_supervisor(request.user)
    document = get_object_or_404(IssuedDocument, pk=pk)
    response = HttpResponse(
        render_document(document),
        content_type="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    )
    response["Content-Disposition"] = content_disposition_header(True, document_filename(document))
    return response
