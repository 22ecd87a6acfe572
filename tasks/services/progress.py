"""Corrections of submitted progress reports: a report is never edited; a correction is a new version that
supersedes it, saying who corrected it, when and why. The task's 变更记录 lists every correction."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from agencies.models import Liaison
from agencies.roles import can_write

from ..models import ProgressUpdate, Task


def can_correct(user, update: ProgressUpdate) -> bool:
    """The liaisons of the task's agency and the lead bureau may correct a report; leaders never."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return can_write(user) or Liaison.objects.filter(user=user, agency_id=update.task.agency_id).exists()


def correct_progress(*, update: ProgressUpdate, user, text: str, percent: int, reason: str) -> ProgressUpdate:
    """Write version n+1 of ``update``. Only the latest version can be corrected, and a correction must say
    why. If it is the task's latest report, the task's percentage follows the correction."""
    if not can_correct(user, update):
        raise PermissionDenied(_("只有本单位联络员和督办人员可以更正进展报送。"))
    text, reason = text.strip(), reason.strip()
    if not text:
        raise ValidationError(_("请填写进展情况。"))
    if not reason:
        raise ValidationError(_("请填写更正原因。"))
    if not 0 <= percent <= 100:
        raise ValidationError(_("完成进度应在 0 到 100 之间。"))
    with transaction.atomic():
        task = Task.objects.select_for_update().get(pk=update.task_id)
        update = ProgressUpdate.objects.select_for_update().get(pk=update.pk)
        if ProgressUpdate.objects.filter(supersedes=update).exists():
            raise ValidationError(_("该报送已被更正过,请更正最新版本。"))
        if text == update.text and percent == update.percent:
            raise ValidationError(_("更正内容与原报送相同。"))
        correction = ProgressUpdate.objects.create(
            task=task,
            author=user,
            created_at=timezone.now(),
            text=text,
            percent=percent,
            status=update.status,
            period=update.period,
            review_decision=update.review_decision,
            review_reason=update.review_reason,
            reviewed_by=update.reviewed_by,
            reviewed_at=update.reviewed_at,
            supersedes=update,
            version=update.version + 1,
            correction_reason=reason,
        )
        latest = task.updates.current().order_by("-created_at", "-pk").first()
        if latest == correction and task.percent != percent and task.status != Task.Status.DONE:
            task.percent = percent
            task._history_user = user
            task._change_reason = _("更正进展报送:%(r)s") % {"r": reason}
            task.save()
    return correction
