"""The one-click 签收 page that messages link to (``/a/<token>/``, no login; rules in workspace/links.py).

GET and HEAD show the task and change nothing; POST 签收s that one task. The page is never cached, never
indexed, and its Referer carries the site's origin only, so the token does not leave through its links."""

from __future__ import annotations

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_http_methods

from ipplan.lib.clientip import client_ip

from . import links

FAILURE_WINDOW = 15 * 60  # seconds


def _failure_key(request: HttpRequest) -> str:
    return f"actionlink-failures:{client_ip(request) or '-'}"


def _too_many_failures(request: HttpRequest) -> bool:
    return (cache.get(_failure_key(request)) or 0) >= settings.ACTION_LINK_FAILURE_LIMIT


def _count_failure(request: HttpRequest) -> None:
    key = _failure_key(request)
    if cache.add(key, 1, FAILURE_WINDOW):
        return
    try:
        cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, FAILURE_WINDOW)


def _respond(request: HttpRequest, context: dict, status: int = 200) -> HttpResponse:
    response = render(request, "workspace/action_link.html", context, status=status)
    add_never_cache_headers(response)
    # Never the path (the token) in a Referer, to this site or any other. Not "no-referrer": with it, browsers
    # send "Origin: null" on the form's POST, which Django's CSRF check rightly refuses.
    response["Referrer-Policy"] = "strict-origin"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


@require_http_methods(["GET", "HEAD", "POST"])
def action_link(request: HttpRequest, token: str) -> HttpResponse:
    if _too_many_failures(request):
        return _respond(request, {"throttled": True}, status=429)
    opened = links.acknowledge_with(token) if request.method == "POST" else links.open_link(token)
    if opened.link is None:
        _count_failure(request)
        return _respond(request, {"problem": opened.problem}, status=404)
    if opened.problem:
        return _respond(request, {"problem": opened.problem, "task": opened.task}, status=410)
    task = opened.task
    return _respond(
        request,
        {
            "link": opened.link,
            "task": task,
            "just_acknowledged": request.method == "POST",
            "acknowledged_by_other": task.acknowledged_by_id not in (None, opened.link.user_id),
        },
    )
