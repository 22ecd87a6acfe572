from django import template
from django.utils.html import format_html

from tasks.status import Light

register = template.Library()


@register.simple_tag
def light(value: str):
    """The coloured dot for a light value, labelled for screen readers."""
    try:
        label = Light(value).label
    except ValueError:
        value, label = "grey", ""
    return format_html(
        '<span class="light light-{}" title="{}" role="img" aria-label="{}"></span>', value, label, label
    )


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
