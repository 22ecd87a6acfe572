"""The lead bureau's upload → preview → confirm flow for plan documents, inside the admin.

The preview page is one grid of measures, a names panel and the plan's fields. Every change is a plain form
POST that saves one decision on the draft (``ImportDraft.decisions``) and redirects back; nothing touches plans
or tasks before the clerk confirms. The logic lives in ``services/drafts.py`` (pure) and
``services/previews.py``; these views only read the form and call them.
"""

from __future__ import annotations

import io

from django import forms
from django.contrib import messages
from django.core.files.base import ContentFile
from django.http import FileResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect
from django.template import TemplateDoesNotExist
from django.template.loader import get_template
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ipplan.lib.uploads import PLAN_KINDS, check_uploaded_file, parse_in_sandbox

from .models import ImportDraft, Plan
from .parsing import ParseError
from .parsing.model import ROLES
from .services import drafts, previews, table_template
from .services.importing import sha256


class UploadForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("计划文件"),
        help_text=gettext_lazy(
            "支持 .txt、.html(网页另存)、.docx 文件,以及任务分工表 .xlsx、.xls、.csv;任意常见编码。"
        ),
    )
    jurisdiction = forms.CharField(
        label=gettext_lazy("行政区划"),
        required=False,
        help_text=gettext_lazy("默认为本局的行政区划;留空则从文件中识别。用于匹配单位名称。"),
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


def _context(model_admin, request, **extra):
    return {**model_admin.admin_site.each_context(request), "opts": model_admin.model._meta, **extra}


def upload_view(model_admin, request):
    previews.purge_stale_drafts()
    initial = {"jurisdiction": previews.default_jurisdiction(request.user)}
    form = UploadForm(request.POST or None, request.FILES or None, initial=initial)
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
    context = _context(
        model_admin,
        request,
        title=_("导入计划文件"),
        form=form,
        open_drafts=previews.open_drafts(request.user),
        lifetime_days=previews.DRAFT_LIFETIME.days,
    )
    return TemplateResponse(request, "admin/tasks/plan/import_upload.html", context)


def template_view(model_admin, request):
    """The 任务分工表 template (.xlsx), generated each time (a few KB)."""
    data = table_template.division_table_template()
    return FileResponse(io.BytesIO(data), as_attachment=True, filename=_("任务分工表模板.xlsx"))


def preview_view(model_admin, request, draft_id: int):
    draft = get_object_or_404(ImportDraft, pk=draft_id, uploaded_by=request.user, confirmed_at__isnull=True)
    try:
        view = previews.load(draft)
    except ParseError as exc:  # the parser changed since upload, or the file was damaged on disk
        messages.error(request, str(exc))
        draft.file.delete(save=False)
        draft.delete()
        return redirect("admin:tasks_plan_import")
    if request.method == "POST":
        return _post(request, view)
    preview = view.preview
    editing = request.GET.get("edit", "")
    context = _context(
        model_admin,
        request,
        title=_("预览导入:%(name)s") % {"name": draft.original_name},
        is_nav_sidebar_enabled=False,  # the grid needs the page's width
        draft=draft,
        preview=preview,
        lookup=view.lookup,
        diff=previews.plan_diff(view) if _has_diff_template() else None,
        catalogue=view.catalogue.sorted_entries(),
        editing=next((row for row in preview.rows if row.key == editing), None),
        only_pending=request.GET.get("show") == "pending",
        members_for=request.GET.get("members", ""),
        warnings=view.parsed.warnings,
        detected_jurisdiction=view.parsed.jurisdiction or "",
        roles=[(role, ROLE_LABELS[role]) for role in ROLES],
        deadline_kinds=DEADLINE_LABELS,
    )
    return TemplateResponse(request, "admin/tasks/plan/import_preview.html", context)


def _has_diff_template() -> bool:
    """The diff partial comes with the revision-aware import service; without it the preview shows no diff."""
    try:
        get_template("admin/tasks/import_diff.html")
    except TemplateDoesNotExist:
        return False
    return True


ROLE_LABELS = {
    "lead": gettext_lazy("牵头"),
    "support": gettext_lazy("配合"),
    "responsible": gettext_lazy("负责"),
}
DEADLINE_LABELS = [
    ("date", gettext_lazy("具体日期")),
    ("ongoing", gettext_lazy("持续推进")),
    ("yearly", gettext_lazy("每年")),
    ("none", gettext_lazy("未写明(按计划期末)")),
]


def _post(request, view: previews.DraftView):
    """One action per POST; each saves the draft's decisions or confirms, then redirects."""
    draft, post = view.draft, request.POST
    url = reverse("admin:tasks_plan_import_preview", args=[draft.pk])
    action = post.get("action", "")
    now = timezone.now()
    try:
        if action == "cancel":
            draft.file.delete(save=False)
            draft.delete()
            messages.info(request, _("已取消导入,未保存任何内容。"))
            return redirect("admin:tasks_plan_changelist")
        if action == "confirm":
            result = previews.confirm(view, user=request.user, now=now)
            messages.success(request, result.summary())
            for warning in result.warnings[:20]:
                messages.warning(request, warning)
            return redirect("admin:tasks_plan_todo", result.plan.pk)
        handler = _ACTIONS.get(action)
        if handler is None:
            raise drafts.DecisionError(_("无法识别的操作,请刷新页面后重试。"))
        decisions, anchor = handler(view, post, now)
    except drafts.DecisionError as exc:
        messages.error(request, str(exc))
        return HttpResponseRedirect(url + getattr(exc, "anchor", ""))
    if decisions != draft.decisions:
        draft.decisions = decisions
        draft.save(update_fields=["decisions", "updated_at"])
    return HttpResponseRedirect(url + anchor)


def _int(value: str, message: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise drafts.DecisionError(message) from None


def _plan_action(view, post, now):
    current = view.preview.plan
    changes = {}
    title = post.get("title", "").strip()
    if title and title != current.title:
        changes["title"] = title
    if "jurisdiction" in post and post["jurisdiction"].strip() != current.jurisdiction:
        changes["jurisdiction"] = post["jurisdiction"]
    start, end = post.get("period_start", "").strip(), post.get("period_end", "").strip()
    if start or end:
        message = _("计划期限应为起止年份,如 2024—2025。")
        period = (_int(start or end, message), _int(end or start, message))
        if period != current.period:
            changes["period"] = period
    # Saving the proposed period unchanged is accepting a suggestion, not a correction.
    suggested = set(changes) == {"period"} and changes["period"] == current.suggested_period
    return drafts.set_plan(view.draft.decisions, now=now, suggested=suggested, **changes), "#plan"


def _match_action(view, post, now):
    choice = post.get("match", "")
    suggested = choice == "revision"
    return drafts.set_plan(view.draft.decisions, now=now, match=choice, suggested=suggested), "#plan"


def _name_action(view, post, now):
    name = post.get("name", "")
    row = next((n for n in view.preview.names if n.name == name), None)
    if row is None:
        raise drafts.DecisionError(_("预览中没有这个单位名称,请刷新页面后重试。"))
    choice = post.get("choice", "")
    if choice.startswith("agency:"):
        pk = _int(choice.removeprefix("agency:"), _("请选择要对应的单位。"))
        decision = drafts.NameDecision("agency", agency=pk)
    elif choice == "other":
        typed = post.get("other", "").strip()
        entry = view.catalogue.resolve(typed).entry if typed else None
        if entry is None:
            raise drafts.DecisionError(_("单位目录中没有“%(name)s”,请从列表中选择。") % {"name": typed})
        decision = drafts.NameDecision("agency", agency=entry.pk)
    elif choice == "collective":
        members = tuple(sorted({_int(pk, _("成员单位无效。")) for pk in post.getlist("members")}))
        decision = drafts.NameDecision("collective", members=members)
    elif choice in ("create", "ignore"):
        decision = drafts.NameDecision(choice)
    else:
        raise drafts.DecisionError(_("请为“%(name)s”选择一种处理方式。") % {"name": name})
    if decision.agency is not None and view.catalogue.get(decision.agency) is None:
        raise drafts.DecisionError(_("所选单位不在本行政区划的单位目录中。"))
    if any(view.catalogue.get(pk) is None for pk in decision.members):
        raise drafts.DecisionError(_("所选成员单位不在本行政区划的单位目录中。"))
    try:
        decisions = drafts.decide_name(
            view.draft.decisions, name=name, decision=decision, suggested=row.suggested, now=now
        )
    except drafts.DecisionError as exc:
        if decision.kind == "collective":  # show this name's member checkboxes
            exc.anchor = "?" + urlencode({"members": name}) + "#names"
        raise
    return decisions, "#names"


def _accept_all_action(view, post, now):
    return drafts.accept_suggestions(view.draft.decisions, view.preview, now=now), "#names"


def _row(view, post) -> drafts.Row:
    row = next((r for r in view.preview.rows if r.key == post.get("key", "")), None)
    if row is None:
        raise drafts.DecisionError(_("找不到这条措施,请刷新预览后重试。"))
    return row


def _include_action(view, post, now):
    row = _row(view, post)
    decisions = drafts.edit_measure(
        view.draft.decisions, view.parsed, key=row.key, now=now, include=not row.included
    )
    return decisions, f"#m-{row.key}"


def _measure_action(view, post, now):
    row = _row(view, post)
    key = row.key
    removed = post.get("remove")
    assignments = []
    for index in range(len(row.chips)):
        if str(index) == removed:
            continue
        assignments.append(
            {
                "agency": post.get(f"agency_{index}", row.chips[index].name),
                "role": post.get(f"role_{index}", row.chips[index].role),
            }
        )
    added = post.get("add_agency", "").strip()
    if added:
        assignments.append({"agency": added, "role": post.get("add_role", "support")})
    deadline = None
    if "deadline_kind" in post:
        kind, date = post["deadline_kind"], post.get("deadline_date", "")
        if kind == "none" and date and row.deadline_kind == "none":
            kind = "date"  # a date typed into a row that had none
        deadline = {"kind": kind, "date": date}
    decisions = drafts.edit_measure(
        view.draft.decisions,
        view.parsed,
        key=key,
        now=now,
        number=post.get("number"),
        text=post.get("text"),
        deadline=deadline,
        assignments=assignments,
    )
    keep_editing = f"?edit={key}" if removed or added else ""
    return decisions, f"{keep_editing}#m-{key}"


_ACTIONS = {
    "plan": _plan_action,
    "match": _match_action,
    "name": _name_action,
    "accept_all": _accept_all_action,
    "measure": _measure_action,
    "include": _include_action,
}


def todo_view(model_admin, request, plan_id: int | None = None):
    plan = get_object_or_404(Plan, pk=plan_id) if plan_id is not None else None
    todo = previews.todo_list(plan)
    record = (
        plan.drafts.filter(confirmed_at__isnull=False).order_by("-confirmed_at").first() if plan else None
    )
    context = _context(
        model_admin,
        request,
        title=_("导入后待办:%(plan)s") % {"plan": plan.title} if plan else _("导入后待办(全部执行中的计划)"),
        plan=plan,
        todo=todo,
        record=record.decisions.get("result") if record else None,
    )
    return TemplateResponse(request, "admin/tasks/plan/import_todo.html", context)
