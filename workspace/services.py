"""Writes of the workspace: reporting, 签收, 延期申请, review of completion requests, reassigning, due dates,
and every change of a task's status, whichever page makes it (the admin's Task save calls ``change_status``).

Every function checks who may do it and that the task is in a state where it makes sense, raises a
``ValidationError`` / ``PermissionDenied`` with a Chinese message otherwise, and writes in one transaction
(a half-applied decision never persists). Task rows are locked and re-read first, so two reviewers
clicking at once cannot both decide. Each change to a task passes through ``save()`` so
django-simple-history records who changed what, and why (审核人 and time). The people concerned are told
through reminders/services/notices.py (inbox and email, once per event), after commit.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from agencies.models import Agency, Liaison
from agencies.roles import is_lead_bureau
from ipplan.lib.uploads import UploadRefused, check_uploaded_file
from reminders.services import notices
from tasks.models import Attachment, ExtensionRequest, Indicator, IndicatorValue, ProgressUpdate, Task
from tasks.status import Period, next_period, period_by_key, period_of, previous_period

from . import links

ATTACHMENT_KINDS = {"pdf", "image", "docx", "xlsx"}
MAX_ATTACHMENTS = 5


def can_report(user, task: Task) -> bool:
    """Only the liaisons of the task's agency report on it (leaders and other agencies never)."""
    return user.is_authenticated and task.agency.liaisons.filter(user=user).exists()


def require_reporter(user, task: Task) -> None:
    if not can_report(user, task):
        raise PermissionDenied(_("只有本单位联络员可以办理此任务。"))


def require_lead_bureau(user) -> None:
    if not is_lead_bureau(user):
        raise PermissionDenied(_("只有督办人员可以执行此操作。"))


def _locked(task: Task) -> Task:
    return Task.objects.select_for_update().select_related("measure__plan", "agency").get(pk=task.pk)


def _save(task: Task, user, reason: str) -> None:
    task._history_user = user
    task._change_reason = reason
    task.save()


def _set_status(task: Task, status: str, now: datetime.datetime) -> None:
    """The one place a status is set: finishing records the completion time (calendars stop an ongoing
    task's series there), reopening clears it."""
    task.status = status
    if status == Task.Status.DONE:
        task.percent = 100
        task.completed_at = task.completed_at or now
        links.revoke(tasks=[task.pk], reason=links.Revoked.DONE)
    else:
        task.completed_at = None


def change_status(*, task: Task, user, status: str, reason: str = "") -> Task:
    """A lead-bureau user sets a status directly (the admin's Task form). Same rules as approval in 审核:
    已办结 records the completion time; history keeps who, when and why."""
    require_lead_bureau(user)
    if status not in Task.Status.values:
        raise ValidationError(_("未知的任务状态。"))
    with transaction.atomic():
        task = _locked(task)
        if task.status == status:
            return task
        old = task.get_status_display()
        _set_status(task, status, timezone.now())
        label = Task.Status(status).label
        text = _("状态由“%(old)s”改为“%(new)s”") % {"old": old, "new": label}
        _save(task, user, f"{text}:{reason.strip()}" if reason.strip() else text)
    return task


# Reporting periods of ongoing tasks ------------------------------------------------------------------


def reporting_period(task: Task, today: datetime.date) -> Period:
    """The period a report made today counts for: the earliest one not yet reported, but never a future one.

    ``next_report_due`` is the deadline of the earliest unreported period; deadlines fall in the first
    month of the following period, so that period is the one before the deadline's own.
    """
    cycle = task.measure.plan.reporting_cycle
    current = period_of(today, cycle)
    if task.next_report_due is None:
        return current
    earliest = previous_period(period_of(task.next_report_due, cycle), cycle)
    return earliest if earliest.start <= current.start else current


def _advance_report_due(task: Task, period: Period) -> None:
    plan = task.measure.plan
    following = next_period(period, plan.reporting_cycle).report_deadline(plan.report_due_day)
    if task.next_report_due is None or following > task.next_report_due:
        task.next_report_due = following


# Liaison actions -------------------------------------------------------------------------------------


def acknowledge(*, task: Task, user, via: str = Task.AckVia.WEB) -> Task:
    """签收, in the system or (``via`` a message channel) through a one-click link (workspace/links.py).
    Acknowledging twice keeps the first acknowledgement, its time, person and way."""
    require_reporter(user, task)
    if via not in Task.AckVia.values:
        raise ValidationError(_("未知的签收方式。"))
    with transaction.atomic():
        task = _locked(task)
        if task.acknowledged_at is None:
            task.acknowledged_at = timezone.now()
            task.acknowledged_by = user
            task.acknowledged_via = via
            reason = (
                _("签收")
                if via == Task.AckVia.WEB
                else _("签收(%(via)s)") % {"via": task.get_acknowledged_via_display()}
            )
            _save(task, user, reason)
    return task


@dataclass(frozen=True)
class CheckedFile:
    upload: UploadedFile
    data: bytes
    kind: str


def check_attachments(files: list[UploadedFile]) -> list[CheckedFile]:
    """Pass each attachment through the upload gate (size, kind by content, zip bombs) before anything is
    written."""
    if len(files) > MAX_ATTACHMENTS:
        raise ValidationError(_("每次最多上传 %(n)d 个附件。") % {"n": MAX_ATTACHMENTS})
    checked = []
    for upload in files:
        try:
            file = check_uploaded_file(upload, allowed=ATTACHMENT_KINDS)
        except UploadRefused as error:
            raise ValidationError(
                _("附件“%(name)s”:%(error)s") % {"name": upload.name, "error": " ".join(error.messages)}
            ) from None
        checked.append(CheckedFile(upload=upload, data=file.data, kind=file.kind))
    return checked


def submit_progress(
    *,
    task: Task,
    user,
    text: str,
    percent: int,
    status: str,
    files: list[UploadedFile] | None = None,
    today: datetime.date | None = None,
) -> ProgressUpdate:
    """Report progress (推进中) or ask to close (申请办结). Ongoing tasks: the report counts for a period and
    moves ``next_report_due`` to the following period's deadline."""
    from django.core.files.base import ContentFile

    today = today or timezone.localdate()
    require_reporter(user, task)
    text = text.strip()
    if not text:
        raise ValidationError(_("请填写进展情况。"))
    if status not in {Task.Status.IN_PROGRESS, Task.Status.COMPLETION_REQUESTED}:
        raise ValidationError(_("报送后状态只能是“推进中”或“申请办结”。"))
    if not 0 <= percent <= 100:
        raise ValidationError(_("完成进度应在 0 到 100 之间。"))
    checked = check_attachments(files or [])
    if status == Task.Status.COMPLETION_REQUESTED:
        percent = 100

    with transaction.atomic():
        task = _locked(task)
        if task.status == Task.Status.DONE:
            raise ValidationError(_("任务已办结,无需再报送。"))
        if task.status == Task.Status.COMPLETION_REQUESTED:
            raise ValidationError(_("已申请办结,正在等待督办人员审核。"))
        now = timezone.now()
        period = reporting_period(task, today) if task.is_ongoing else None
        update = ProgressUpdate.objects.create(
            task=task,
            author=user,
            created_at=now,
            text=text,
            percent=percent,
            status=status,
            period=period.key if period else "",
        )
        for item in checked:
            attachment = Attachment(
                update=update, original_name=item.upload.name[:255], size=len(item.data), kind=item.kind
            )
            attachment.file.save(item.upload.name, ContentFile(item.data), save=False)
            attachment.save()
        _set_status(task, status, now)
        task.percent = percent
        task.last_reported_at = now
        if task.acknowledged_at is None:  # reporting is receipt enough
            task.acknowledged_at, task.acknowledged_by = now, user
            task.acknowledged_via = Task.AckVia.WEB
        if period is not None:
            _advance_report_due(task, period)
        reason = _("申请办结") if status == Task.Status.COMPLETION_REQUESTED else _("报送进展")
        _save(task, user, reason)
        notices.on_progress_submitted(update, actor=user)
    return update


def request_extension(
    *, task: Task, user, requested_due_date: datetime.date, reason: str, today: datetime.date | None = None
) -> ExtensionRequest:
    """延期申请 before the due date; after it, a 调整时限申请 for a date still ahead. One at a time; the lead
    bureau decides both the same way."""
    today = today or timezone.localdate()
    require_reporter(user, task)
    reason = reason.strip()
    if not reason:
        raise ValidationError(_("请填写延期理由。"))
    with transaction.atomic():
        task = _locked(task)
        if task.is_ongoing or task.due_date is None:
            raise ValidationError(_("持续推进的任务没有截止日期,无需申请延期。"))
        if task.status == Task.Status.DONE:
            raise ValidationError(_("任务已办结,无需申请延期。"))
        if task.due_date < today and requested_due_date <= today:
            raise ValidationError(
                _("截止日期已过,调整时限申请的日期应晚于今天(%(d)s)。") % {"d": today.isoformat()}
            )
        if requested_due_date <= task.due_date:
            raise ValidationError(_("申请的日期应晚于当前截止日期 %(d)s。") % {"d": task.due_date})
        if task.extension_requests.filter(decision=ExtensionRequest.Decision.PENDING).exists():
            raise ValidationError(_("已有一项延期申请正在审核,请等待审核结果。"))
        try:
            with transaction.atomic():
                extension = ExtensionRequest.objects.create(
                    task=task,
                    requested_by=user,
                    current_due_date=task.due_date,
                    requested_due_date=requested_due_date,
                    reason=reason,
                )
        except IntegrityError:
            raise ValidationError(_("已有一项延期申请正在审核,请等待审核结果。")) from None
        notices.on_extension_requested(extension, actor=user)
        return extension


def report_indicator_value(
    *, indicator: Indicator, user, year: int, value: str, note: str = "", today: datetime.date | None = None
) -> IndicatorValue:
    """A liaison of the indicator's responsible agency reports its value for a year; reporting the same
    year again corrects the value instead of adding a second one."""
    today = today or timezone.localdate()
    if indicator.agency_id is None or not indicator.agency.liaisons.filter(user=user).exists():
        raise PermissionDenied(_("只有责任单位的联络员可以报送该指标。"))
    value = value.strip()
    if not value:
        raise ValidationError(_("请填写指标数值。"))
    plan = indicator.plan
    first = min(filter(None, [plan.period_start, indicator.baseline_year]), default=2000)
    if not first <= year <= today.year:
        raise ValidationError(_("年度应在 %(a)d 到 %(b)d 之间。") % {"a": first, "b": today.year})
    with transaction.atomic():
        row, _created = IndicatorValue.objects.update_or_create(
            indicator=indicator,
            year=year,
            defaults={"value": value, "note": note.strip(), "reported_by": user},
        )
    return row


# Lead-bureau decisions -------------------------------------------------------------------------------


def decide_extension(
    *, extension: ExtensionRequest, user, approve: bool, reason: str = ""
) -> ExtensionRequest:
    """Approve (the due date moves, the original is kept in ``original_due_date``) or refuse with a reason."""
    require_lead_bureau(user)
    reason = reason.strip()
    if not approve and not reason:
        raise ValidationError(_("不同意延期时请填写理由。"))
    with transaction.atomic():
        task = _locked(extension.task)
        extension = ExtensionRequest.objects.select_for_update().get(pk=extension.pk)
        if extension.decision != ExtensionRequest.Decision.PENDING:
            raise ValidationError(_("该延期申请已审核过。"))
        extension.decision = (
            ExtensionRequest.Decision.APPROVED if approve else ExtensionRequest.Decision.REFUSED
        )
        extension.decided_by = user
        extension.decided_at = timezone.now()
        extension.decision_reason = reason
        extension.save()
        if approve:
            if task.original_due_date is None:
                task.original_due_date = task.due_date
            task.due_date = extension.requested_due_date
            _save(task, user, _("同意延期至 %(d)s") % {"d": extension.requested_due_date})
        else:
            # Nothing on the task changes, but the decision belongs in its 变更记录 (who, when, why).
            _save(
                task, user, _("不同意延期至 %(d)s:%(r)s") % {"d": extension.requested_due_date, "r": reason}
            )
        notices.on_extension_decided(extension, actor=user)
    return extension


def _pending_completion_request(task: Task) -> ProgressUpdate:
    if task.status != Task.Status.COMPLETION_REQUESTED:
        raise ValidationError(_("该任务没有待审核的办结申请。"))
    update = (
        task.updates.filter(status=Task.Status.COMPLETION_REQUESTED, review_decision="")
        .order_by("-created_at", "-pk")
        .first()
    )
    if update is None:
        raise ValidationError(_("该任务没有待审核的办结申请。"))
    return update


def approve_completion(*, task: Task, user, reason: str = "") -> Task:
    """同意办结."""
    require_lead_bureau(user)
    with transaction.atomic():
        task = _locked(task)
        update = _pending_completion_request(task)
        now = timezone.now()
        update.review_decision = ProgressUpdate.ReviewDecision.APPROVED
        update.review_reason = reason.strip()
        update.reviewed_by, update.reviewed_at = user, now
        update.save()
        _set_status(task, Task.Status.DONE, now)
        _save(task, user, _("同意办结"))
        notices.on_completion_reviewed(update, actor=user)
    return task


def return_completion(*, task: Task, user, reason: str) -> Task:
    """退回: the task goes back to 推进中 and the liaison sees the reason."""
    require_lead_bureau(user)
    reason = reason.strip()
    if not reason:
        raise ValidationError(_("退回时请填写理由。"))
    with transaction.atomic():
        task = _locked(task)
        update = _pending_completion_request(task)
        update.review_decision = ProgressUpdate.ReviewDecision.RETURNED
        update.review_reason = reason
        update.reviewed_by, update.reviewed_at = user, timezone.now()
        update.save()
        _set_status(task, Task.Status.IN_PROGRESS, update.reviewed_at)
        _save(task, user, _("退回办结申请:%(r)s") % {"r": reason})
        notices.on_completion_reviewed(update, actor=user)
    return task


@dataclass
class BulkResult:
    approved: int
    errors: list[str]


def bulk_approve(*, user, kind: str, ids: Iterable[int], reason: str = "") -> BulkResult:
    """Approve many completion requests or extensions after the confirmation page. Each item is decided in
    its own transaction by the same service as a single decision (history, notifications); an item decided
    meanwhile is reported, not decided twice."""
    require_lead_bureau(user)
    if kind not in {"completion", "extension"}:
        raise ValidationError(_("只能批量同意办结申请或延期申请。"))
    approved, errors = 0, []
    for pk in sorted(set(ids)):
        try:
            if kind == "completion":
                approve_completion(task=Task(pk=pk), user=user, reason=reason)
            else:
                extension = ExtensionRequest.objects.select_related("task").get(pk=pk)
                decide_extension(extension=extension, user=user, approve=True, reason=reason)
        except (ValidationError, Task.DoesNotExist, ExtensionRequest.DoesNotExist) as error:
            messages = getattr(error, "messages", None) or [_("已不存在。")]
            errors.append(f"#{pk}:{' '.join(messages)}")
        else:
            approved += 1
    return BulkResult(approved=approved, errors=errors)


def change_due_date(*, task: Task, user, due_date: datetime.date, reason: str) -> Task:
    require_lead_bureau(user)
    reason = reason.strip()
    if not reason:
        raise ValidationError(_("请填写调整原因。"))
    with transaction.atomic():
        task = _locked(task)
        if task.is_ongoing:
            raise ValidationError(_("持续推进的任务没有截止日期。"))
        if task.due_date == due_date:
            raise ValidationError(_("新的截止日期与当前相同。"))
        old = task.due_date
        if task.original_due_date is None:
            task.original_due_date = task.due_date
        task.due_date = due_date
        task.due_date_inferred = False
        _save(task, user, _("调整截止日期:%(r)s") % {"r": reason})
        notices.on_due_date_changed(task, actor=user, old=old, reason=reason)
    return task


def reassign(*, task: Task, user, agency: Agency, reason: str) -> Task:
    """Give the task to another agency; it must acknowledge anew. Its reports stay with the task."""
    require_lead_bureau(user)
    reason = reason.strip()
    if not reason:
        raise ValidationError(_("请填写调整原因。"))
    with transaction.atomic():
        task = _locked(task)
        if agency.pk == task.agency_id:
            raise ValidationError(_("任务已由该单位承办。"))
        if agency.is_group:
            raise ValidationError(_("不能把任务交给单位集合,请选择具体单位。"))
        if Task.objects.filter(measure_id=task.measure_id, agency=agency).exists():
            raise ValidationError(_("%(a)s 在该措施下已有任务。") % {"a": agency})
        previous = task.agency
        task.agency = agency
        task.acknowledged_at = None
        task.acknowledged_by = None
        task.acknowledged_via = ""
        _save(
            task,
            user,
            _("由 %(old)s 改为 %(new)s 承办:%(r)s") % {"old": previous, "new": agency, "r": reason},
        )
        notices.on_reassigned(task, actor=user, previous_agency=previous, reason=reason)
        links.revoke(tasks=[task.pk], reason=links.Revoked.REASSIGNED)
    return task


def period_label(task: Task, key: str) -> str:
    """The Chinese label of a stored period key, e.g. 2024-Q1 → 2024年第1季度."""
    try:
        return period_by_key(key, task.measure.plan.reporting_cycle).label
    except (ValueError, TypeError):
        return key


def mark_read(*, user, pk: int | None = None) -> int:
    """Mark one of the user's inbox messages (or all of them) as read; returns how many changed. A leader
    may do this too: read-marks are the user's own, not the record's."""
    from reminders.models import ReminderLog

    rows = ReminderLog.objects.filter(user=user, channel=ReminderLog.Channel.INBOX, read_at__isnull=True)
    if pk is not None:
        rows = rows.filter(pk=pk)
    return rows.update(read_at=timezone.now())


def set_notification_preferences(*, user, choices: dict[str, tuple[str, bool]]) -> int:
    """Save the user's choice per notification kind (email mode, inbox); returns how many changed."""
    from reminders.models import NotificationPreference

    changed = 0
    with transaction.atomic():
        existing = {p.kind: p for p in NotificationPreference.objects.filter(user=user)}
        for kind, (email, inbox) in choices.items():
            row = existing.get(kind) or NotificationPreference(user=user, kind=kind)
            if row.pk is None or (row.email, row.inbox) != (email, inbox):
                row.email, row.inbox = email, inbox
                row.save()
                changed += 1
    return changed


def set_channel_preferences(
    liaisons: Iterable[Liaison], *, mobile: str, notify_sms: bool, notify_robot: bool
) -> int:
    """Save the user's mobile and extra channels on each of their liaison rows; returns how many changed."""
    changed = 0
    for liaison in liaisons:
        wanted = (mobile, notify_sms, notify_robot)
        if (liaison.mobile, liaison.notify_sms, liaison.notify_robot) != wanted:
            liaison.mobile, liaison.notify_sms, liaison.notify_robot = wanted
            liaison.save(update_fields=["mobile", "notify_sms", "notify_robot"])
            changed += 1
    return changed


def set_digest_frequencies(choices: Iterable[tuple[Liaison, str]]) -> int:
    """Save each liaison's digest preference; returns how many changed."""
    changed = 0
    for liaison, frequency in choices:
        if liaison.digest_frequency != frequency:
            liaison.digest_frequency = frequency
            liaison.save(update_fields=["digest_frequency"])
            changed += 1
    return changed
