"""django-simple-history in the admin, readable by clerks: field labels, choice labels instead of stored
values, local (Asia/Shanghai) times, 是/否, and "—" for empty values instead of "Deleted 用户 (pk=None)"."""

from __future__ import annotations

import datetime
from typing import Any

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext as _
from simple_history.models import DeletedObject
from simple_history.template_utils import HistoricalRecordContextHelper


def display_value(field: models.Field, value: Any) -> str:
    """One stored value as a clerk reads it."""
    if isinstance(value, DeletedObject):
        return (
            "—"
            if value.pk is None
            else _("已删除的%(what)s(#%(pk)s)")
            % {
                "what": value.model._meta.verbose_name,
                "pk": value.pk,
            }
        )
    if value is None or value == "":
        return "—"
    if getattr(field, "flatchoices", None):
        return str(dict(field.flatchoices).get(value, value))
    if isinstance(value, bool):
        return _("是") if value else _("否")
    if isinstance(value, datetime.datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value)
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, list):
        return "、".join(str(item) for item in value) or "—"
    return str(value)


class ReadableHistoryHelper(HistoricalRecordContextHelper):
    def prepare_delta_change_value(self, change, value):
        field = self.model._meta.get_field(change.field)
        return display_value(field, super().prepare_delta_change_value(change, value))


class ReadableHistoryAdminMixin:
    """For SimpleHistoryAdmin subclasses."""

    def get_historical_record_context_helper(self, request, historical_record):
        return ReadableHistoryHelper(self.model, historical_record)
