"""The client's address behind a configured number of trusted reverse proxies (django-axes keys lockouts on
it). Each proxy appends the address it saw to X-Forwarded-For, so with N trusted proxies the client is the
N-th entry from the right; anything further left was written by the client and is ignored."""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str | None:
    remote = request.META.get("REMOTE_ADDR")
    count = settings.TRUSTED_PROXY_COUNT
    if count <= 0:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    forwarded = [part for part in forwarded if part]
    if len(forwarded) < count:
        return remote  # did not come through every trusted proxy: only the connection is known
    candidate = forwarded[-count]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote
