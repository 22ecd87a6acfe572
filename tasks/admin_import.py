"""The lead bureau's upload → preview → confirm flow for plan documents, inside the admin."""

from __future__ import annotations

import datetime

from django import forms
from django.contrib import messages
from django.core.files.base import ContentFile
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from agencies.models import Agency
from ipplan.lib.uploads import PLAN_KINDS, check_uploaded_file, parse_in_sandbox

from .models import ImportDraft
from .parsing import ParseError, parse_bytes
from .services.importing import CREATE, build_preview, import_plan, sha256

DRAFT_LIFETIME = datetime.timedelta(days=1)


class UploadForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("计划文件"),
        help_text=gettext_lazy("支持 .txt、.html(网页另存)、.docx;任意常见编码。"),
    )
    jurisdiction = forms.CharField(
        label=gettext_lazy("行政区划"),
        required=False,
        help_text=gettext_lazy("如 东丽区。留空则从文件中识别。用于匹配单位名称。"),
    )

    def clean(self):
        cleaned = super().clean()
        upload = cleaned.get("file")
        if upload is None:
            return cleaned
        checked = check_uploaded_file(upload, allowed=PLAN_KINDS)  # the upload gate: refusals in Chinese
        cleaned["parsed"] = parse_in_sandbox(checked)
        cleaned["data"] = checked.data
        upload.name = checked.parse_name  # named for what it is: a .doc renamed .xls is kept as .doc
        return cleaned


class DecisionForm(forms.Form):
    """One choice per unresolved agency name: create it, or map it to an existing agency."""

    def __init__(self, *args, preview, **kwargs):
        super().__init__(*args, **kwargs)
        self.unresolved = preview.unresolved
        scope = list(Agency.objects.filter(jurisdiction=preview.jurisdiction).order_by("name"))
        for index, match in enumerate(self.unresolved):
            choices = [(CREATE, _("新建为未确认单位“%(name)s”") % {"name": match.name})]
            choices += [(str(a.pk), _("候选:%(agency)s") % {"agency": a}) for a in match.candidates]
            choices += [(str(a.pk), str(a)) for a in scope if a not in match.candidates]
            self.fields[f"agency_{index}"] = forms.ChoiceField(
                label=match.name,
                choices=([("", _("—— 请选择 ——"))] if match.candidates else []) + choices,
                initial="" if match.candidates else CREATE,
                help_text=_("有多个可能的单位,请选择") if match.candidates else _("单位目录中没有该名称"),
            )

    def decisions(self) -> dict[str, Agency | str]:
        chosen = {}
        ids = {v for k, v in self.cleaned_data.items() if v != CREATE}
        agencies = Agency.objects.in_bulk([int(i) for i in ids])
        for index, match in enumerate(self.unresolved):
            value = self.cleaned_data[f"agency_{index}"]
            chosen[match.name] = CREATE if value == CREATE else agencies[int(value)]
        return chosen


def upload_view(model_admin, request):
    ImportDraft.objects.filter(uploaded_at__lt=timezone.now() - DRAFT_LIFETIME).delete()
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        draft = ImportDraft(
            original_name=upload.name[:255],
            sha256=sha256(form.cleaned_data["data"]),
            jurisdiction=form.cleaned_data["jurisdiction"].strip(),
            uploaded_by=request.user,
        )
        draft.file.save(upload.name, ContentFile(form.cleaned_data["data"]), save=True)
        return redirect("admin:tasks_plan_import_preview", draft.pk)
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.model._meta,
        "title": _("导入计划文件"),
        "form": form,
    }
    return TemplateResponse(request, "admin/tasks/plan/import_upload.html", context)


def preview_view(model_admin, request, draft_id: int):
    draft = get_object_or_404(ImportDraft, pk=draft_id, uploaded_by=request.user)
    with draft.file.open("rb") as handle:
        data = handle.read()
    try:
        parsed = parse_bytes(data, draft.original_name)
    except ParseError as exc:  # the parser changed since upload, or the file was damaged on disk
        messages.error(request, str(exc))
        draft.delete()
        return redirect("admin:tasks_plan_import")
    preview = build_preview(parsed, jurisdiction=draft.jurisdiction or None, digest=draft.sha256)
    form = DecisionForm(request.POST or None, preview=preview)
    if request.method == "POST" and "cancel" in request.POST:
        draft.file.delete(save=False)
        draft.delete()
        messages.info(request, _("已取消导入,未保存任何内容。"))
        return redirect("admin:tasks_plan_changelist")
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            result = import_plan(
                parsed=parsed,
                data=data,
                source_name=draft.original_name,
                jurisdiction=preview.jurisdiction,
                decisions=form.decisions(),
                user=request.user,
            )
        draft.file.delete(save=False)
        draft.delete()
        messages.success(request, result.summary())
        for warning in result.warnings[:20]:
            messages.warning(request, warning)
        return redirect(reverse("admin:tasks_plan_change", args=[result.plan.pk]))
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.model._meta,
        "title": _("预览导入:%(name)s") % {"name": draft.original_name},
        "draft": draft,
        "preview": preview,
        "form": form,
        "role_labels": {"lead": _("牵头"), "support": _("配合"), "responsible": _("负责")},
    }
    return TemplateResponse(request, "admin/tasks/plan/import_preview.html", context)
