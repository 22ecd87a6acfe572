"""Project-wide request guards."""

from django.core.exceptions import BadRequest
from django.views.defaults import bad_request


class RejectNullCharactersMiddleware:
    """A NUL character in the path or the query string answers 400 (the Chinese 400 page). No link of ours
    carries one, and PostgreSQL refuses it in any query, so it would otherwise surface as a 500 wherever a
    parameter reaches a filter (e.g. ``/admin/tasks/task/?status__exact=%00``). Form fields refuse NUL
    themselves (Django's ProhibitNullCharactersValidator)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if "\x00" in request.path or any(
            "\x00" in key or any("\x00" in value for value in values) for key, values in request.GET.lists()
        ):
            return bad_request(request, BadRequest("NUL character in the request"))
        return self.get_response(request)
