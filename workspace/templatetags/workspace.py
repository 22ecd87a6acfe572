from django import template
from django.middleware.csrf import get_token
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape, format_html
from django.utils.safestring import mark_safe
from django.utils.timesince import timesince
from django.utils.translation import gettext as _

from tasks.models import Task
from tasks.status import LIGHT_MEANINGS, LIGHT_SHAPES, YELLOW_DAYS, Light, light_text
from workspace import display

register = template.Library()


SHAPES = {
    "triangle": '<path d="M8 1 15.5 14.5H.5z"/>',
    "diamond": '<path d="M8 .5 15.5 8 8 15.5.5 8z"/>',
    "circle": '<circle cx="8" cy="8" r="7"/>',
    "square": '<rect x="1.5" y="1.5" width="13" height="13"/>',
}


def _light_html(value: str, text: str):
    """A light: its shape (an SVG, so it survives forced-colours mode and black-and-white print) and its
    meaning in words. The shape is decoration; the words carry the status."""
    try:
        shape = SHAPES[LIGHT_SHAPES[Light(value)]]
    except ValueError:
        value, shape = "grey", SHAPES["square"]
    return mark_safe(  # noqa: S308 (the shape is a constant from SHAPES; value and text are escaped)
        f'<span class="light light-{escape(value)}"><svg class="light-shape" viewBox="0 0 16 16" '
        f'aria-hidden="true" focusable="false">{shape}</svg><span class="light-text">{escape(text)}</span></span>'
    )


@register.simple_tag
def light(value: str):
    """A light with its general meaning (已逾期, 即将到期, 正常, 已办结): legends, chips, counts."""
    try:
        text = LIGHT_MEANINGS[Light(value)]
    except ValueError:
        text = ""
    return _light_html(value, text)


@register.simple_tag(takes_context=True)
def task_light(context, task):
    """A task's light with what it means for this task: 已逾期 N 天, N 天内到期, 待报送, 正常, 已办结.
    ``task`` carries ``light`` and ``attention_date`` from ``with_light()``, or is computed in memory."""
    today = context.get("today") or timezone.localdate()
    value = getattr(task, "light", None) or task.get_light(today)
    attention_date = getattr(task, "attention_date", None) or task.get_attention_date()
    text = light_text(light=value, attention_date=attention_date, is_ongoing=task.is_ongoing, today=today)
    return _light_html(value, text)


@register.simple_tag
def light_meaning(value: str) -> str:
    """The words for a light value alone (for text alternatives such as the dashboard bar's label)."""
    try:
        return str(LIGHT_MEANINGS[Light(value)])
    except ValueError:
        return ""


@register.simple_tag
def yellow_days() -> int:
    return YELLOW_DAYS


@register.simple_tag(takes_context=True)
def large_text(context) -> bool:
    """Whether the user chose 大字版 (base.html puts a class on <html>)."""
    request = context.get("request")
    return request is not None and display.large_text(request)


@register.simple_tag(takes_context=True)
def sort_url(context, field: str) -> str:
    """The current URL with ``ordering`` set to ``field`` (descending when it is already ascending)."""
    params = context["request"].GET.copy()
    current = params.get("ordering", "")
    params["ordering"] = f"-{field}" if current == field else field
    params.pop("page", None)
    return "?" + params.urlencode()


@register.filter
def person(user, empty: str = "—") -> str:
    """A user's full name in Chinese order (姓 then 名, as the Excel report writes it: the admin labels
    last_name 姓氏), else their username; ``empty`` when there is no user (e.g. a system change)."""
    if user is None:
        return empty
    return f"{user.last_name}{user.first_name}".strip() or user.get_username()


@register.simple_tag(takes_context=True)
def unread_messages(context) -> int:
    """The navigation's 消息 count (one indexed count per page)."""
    from workspace.selectors import unread_count

    request = context.get("request")
    return unread_count(request.user) if request is not None else 0


def _day(value) -> str:
    """A date, or a datetime in the current time zone, as YYYY-MM-DD (the |date:"Y-m-d" of the templates)."""
    if value is None:
        return ""
    if hasattr(value, "hour"):
        value = timezone.localtime(value)
    return value.strftime("%Y-%m-%d")


def task_due_html(task) -> str:
    """截止: the due date (and the original one when moved), or 持续推进 with the report it owes (HTML)."""
    if task.is_ongoing:
        badge = f'<span class="badge">{escape(_("持续推进"))}</span>'
        report_due = getattr(task, "report_due", None)
        if report_due:
            text = _("%(d)s 前报送") % {"d": _day(report_due)}
            return f'{badge}<br><span class="small muted">{escape(text)}</span>'
        return badge
    if task.due_date:
        if task.original_due_date and task.original_due_date != task.due_date:
            text = _("原定 %(d)s") % {"d": _day(task.original_due_date)}
            return f'{_day(task.due_date)}<br><span class="small muted">{escape(text)}</span>'
        return _day(task.due_date)
    return "—"


@register.simple_tag(takes_context=True)
def task_rows(context, tasks, show_agency: bool):
    """The rows of a task list, joined in Python: fifty rows of a dozen cells each cost the list more as
    template nodes than all of its queries. Every value from the database is escaped (``escape``); the rest
    is markup written here. ``tasks`` carry ``light``, ``attention_date`` and ``report_due`` (``with_light``)
    and their measure, plan and agency (select_related)."""
    today = context.get("today") or timezone.localdate()
    roles = {value: escape(label) for value, label in Task.Role.choices}
    statuses = {value: escape(label) for value, label in Task.Status.choices}
    role_label, due_label = escape(_("角色")), escape(_("截止"))
    progress_label, reported_label = escape(_("进度")), escape(_("最近报送"))
    unacknowledged = f'<br><span class="badge yellow">{escape(_("未签收"))}</span>'
    detail = reverse("workspace:task_detail", args=[0]).removesuffix("0/")
    rows = []
    for task in tasks:
        measure = task.measure
        # Annotated by with_light() (None is an answer: no date to act by); computed in memory otherwise.
        annotated = "light" in task.__dict__
        value = task.light if annotated else task.get_light(today)
        attention_date = task.attention_date if annotated else task.get_attention_date()
        light = _light_html(
            value,
            light_text(light=value, attention_date=attention_date, is_ongoing=task.is_ongoing, today=today),
        )
        agency = f"<td>{escape(task.agency.display_name)}</td>" if show_agency else ""
        status = statuses.get(task.status, escape(task.status))
        if not task.acknowledged_at and task.status != "done":
            status += unacknowledged
        rows.append(
            f'<tr><td class="nowrap">{light}</td><td class="nowrap">{escape(measure.number)}</td>'
            f'<td class="measure"><a href="{detail}{task.pk}/">{escape(measure.summary)}</a><br>'
            f'<span class="small muted">{escape(measure.plan.title)}</span></td>{agency}'
            f'<td class="nowrap" data-label="{role_label}">{roles.get(task.role, escape(task.role))}</td>'
            f'<td class="nowrap" data-label="{due_label}">{task_due_html(task)}</td>'
            f'<td class="nowrap">{status}</td>'
            f'<td class="num" data-label="{progress_label}">{int(task.percent)}%</td>'
            f'<td class="nowrap small" data-label="{reported_label}">{_day(task.last_reported_at) or "—"}</td>'
            "</tr>"
        )
    return mark_safe("".join(rows))  # noqa: S308 (every value escaped above)


@register.simple_tag(takes_context=True)
def agency_rows(context, rows, plan=None, urge: bool = False):
    """The 督办看板's per-agency rows, joined in Python (as ``task_rows``): counts linking to the filtered
    task list, the completion meter, 未签收 since when, the last report, and for the lead bureau 催办 and
    督办通知单 buttons on agencies with overdue tasks."""
    request = context["request"]
    list_url = reverse("workspace:task_list")
    plan_q = "" if plan is None else str(plan.pk)
    plan_input = (
        format_html('<input type="hidden" name="plan" value="{}">', plan.pk) if plan is not None else ""
    )
    csrf = format_html('<input type="hidden" name="csrfmiddlewaretoken" value="{}">', get_token(request))
    urge_url, notice_url = reverse("reminders:urge"), reverse("reports:issue_notice")
    earliest, urge_label, notice_label = _("最早分派于"), _("催办"), _("督办通知单")
    out = []
    for row in rows:
        link = f"{list_url}?plan={plan_q}&agency={row.agency_id}"
        overdue = (
            format_html('<a class="badge red" href="{}&amp;light=red">{}</a>', link, row.overdue)
            if row.overdue
            else "0"
        )
        if row.unacknowledged:
            since = row.unacknowledged_since
            unacknowledged = format_html(
                '<span class="badge yellow" title="{} {}">{}</span><br><span class="small muted">{}</span>',
                earliest,
                _day(since),
                row.unacknowledged,
                _("已 %(d)s") % {"d": timesince(since)} if since else "",
            )
        else:
            unacknowledged = "0"
        actions = ""
        if urge:
            buttons = ""
            if row.overdue:
                buttons = format_html(
                    '<form method="post" action="{}" class="inline">{}<input type="hidden" name="scope" '
                    'value="agency"><input type="hidden" name="agency" value="{}">{}<input type="hidden" '
                    'name="next" value="{}"><button type="submit" class="btn small" aria-label="{}">{}</button>'
                    '</form><form method="post" action="{}" class="inline">{}<input type="hidden" name="agency" '
                    'value="{}">{}<button type="submit" class="btn small" aria-label="{}">{}</button></form>',
                    urge_url,
                    csrf,
                    row.agency_id,
                    plan_input,
                    request.get_full_path(),
                    _("催办%(name)s的 %(n)s 项逾期任务") % {"name": row.name, "n": row.overdue},
                    urge_label,
                    notice_url,
                    csrf,
                    row.agency_id,
                    plan_input,
                    _("向%(name)s签发督办通知单") % {"name": row.name},
                    notice_label,
                )
            actions = format_html('<td class="nowrap">{}</td>', buttons)
        out.append(
            format_html(
                '<tr><td><a href="{}">{}</a></td><td class="num">{}</td>'
                '<td class="num"><a href="{}&amp;status=done">{}</a></td><td class="num">{}</td>'
                '<td><div class="row" style="flex-wrap:nowrap"><div class="meter" style="flex:1"><span '
                'style="width:{}%"></span></div><span class="small">{}%</span></div></td>'
                '<td class="num">{}</td><td class="small nowrap">{}</td>{}</tr>',
                link,
                row.name,
                row.total,
                link,
                row.done,
                overdue,
                row.completion_rate,
                row.completion_rate,
                unacknowledged,
                _day(row.last_report) or "—",
                actions,
            )
        )
    return mark_safe("".join(out))  # noqa: S308 (every row built by format_html)
