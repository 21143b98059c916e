"""The origin of the request being served: the client's address behind the configured
reverse proxies and the browser's device cookie, turned into keyed hashes by
services.origin. Views pass `current()` to the services that record it."""

from __future__ import annotations

import re
import secrets

from flask import current_app, g, has_request_context, request

from directory.services.origin import Origin, from_values, parse_address

DEVICE_COOKIE = "dvc"
DEVICE_COOKIE_MAX_AGE = 2 * 365 * 24 * 3600
_DEVICE_RE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


def client_address() -> str | None:
    """The client's address. Behind `PROXY_HOPS` trusted reverse proxies, the address
    that many entries from the right of X-Forwarded-For (each proxy appends the address
    it received from); entries further left are the client's own claims and ignored.
    If werkzeug's ProxyFix already rewrote REMOTE_ADDR, that is used as it is."""
    if "werkzeug.proxy_fix.orig" in request.environ:
        return request.remote_addr
    hops = int(current_app.config.get("PROXY_HOPS", 0) or 0)
    if hops > 0:
        chain = [
            a.strip() for a in request.headers.get("X-Forwarded-For", "").split(",") if a.strip()
        ]
        if len(chain) >= hops and parse_address(chain[-hops]) is not None:
            return chain[-hops]
    return request.remote_addr


def device_id() -> str:
    """The browser's device cookie value; a new one (set on the response) if absent."""
    value = request.cookies.get(DEVICE_COOKIE, "")
    if _DEVICE_RE.match(value):
        return value
    if not getattr(g, "new_device_id", None):
        g.new_device_id = secrets.token_urlsafe(24)
    return g.new_device_id


def current() -> Origin | None:
    """The origin of the request being served, or None outside a request."""
    if not has_request_context():
        return None
    return from_values(client_address(), device_id(), current_app.config["SECRET_KEY"])


def init_app(app) -> None:
    """Set the device cookie on the response of a request that created one."""

    @app.after_request
    def _device_cookie(response):
        new = getattr(g, "new_device_id", None)
        if new:
            response.set_cookie(
                DEVICE_COOKIE,
                new,
                max_age=DEVICE_COOKIE_MAX_AGE,
                httponly=True,
                samesite="Lax",
                secure=bool(app.config.get("SESSION_COOKIE_SECURE")),
            )
        return response
