"""The Flask application class and the cheap paths every request takes.

- `url_for` inside a request builds each relative URL once per worker: the same
  endpoint and arguments (after the url_defaults, e.g. a static file's version)
  on the same host and script root always give the same URL, and a page builds
  dozens (navigation, cards, photo variants).
- The session cookie is read only when the visitor sent one: an anonymous
  visitor's request creates no signing serializer.
- A visitor with neither a session nor a remember cookie is anonymous without
  asking Flask-Login to load a user (which hashes the address and user agent).
- Whether a hook or view is a coroutine is asked once per function, not on every
  request.
"""

from __future__ import annotations

import base64
import os

from flask import Flask, g, request
from flask.globals import _cv_request
from flask.sessions import SecureCookieSessionInterface
from werkzeug.urls import quote as _url_quote

URL_CACHE_MAX = 4096  # entries per worker (a few MB at most)
URL_CACHE_LONGEST = 300
SYNC_FUNCS_MAX = 1024
ANCHOR_SAFE = "%!#$&'()*+,/:;=?@"


class DirectoryFlask(Flask):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._url_cache: dict[tuple, str] = {}
        self._sync_funcs: dict = {}

    def ensure_sync(self, func):
        # Flask asks inspect.iscoroutinefunction of every hook on every request.
        known = self._sync_funcs.get(func)
        if known is None:
            if len(self._sync_funcs) >= SYNC_FUNCS_MAX:  # after_this_request closures
                self._sync_funcs.clear()
            known = self._sync_funcs[func] = super().ensure_sync(func)
        return known

    def url_for(
        self,
        /,
        endpoint: str,
        *,
        _anchor: str | None = None,
        _method: str | None = None,
        _scheme: str | None = None,
        _external: bool | None = None,
        **values,
    ) -> str:
        req_ctx = _cv_request.get(None)
        if (
            req_ctx is None
            or req_ctx.url_adapter is None
            or _external
            or _scheme is not None
            or _method is not None
            or endpoint[:1] == "."
        ):
            return super().url_for(
                endpoint,
                _anchor=_anchor,
                _method=_method,
                _scheme=_scheme,
                _external=_external,
                **values,
            )
        given = dict(values)
        defaults = self.url_default_functions
        if len(defaults) == 1 and None in defaults:  # the application's own only
            for func in defaults[None]:
                func(endpoint, values)
        else:
            self.inject_url_defaults(endpoint, values)
        adapter = req_ctx.url_adapter
        try:
            key = (
                endpoint,
                adapter.script_name,
                adapter.server_name,
                adapter.subdomain,
                adapter.url_scheme,
                *values.items(),
            )
            rv = self._url_cache.get(key)
        except TypeError:  # an unhashable argument (a list): built every time
            key, rv = None, None
        if rv is None:
            try:
                rv = adapter.build(endpoint, values, force_external=False)
            except Exception:  # noqa: BLE001 - Flask's own path raises or handles it
                return super().url_for(endpoint, _anchor=_anchor, **given)
            # Long URLs carry what a visitor typed: built each time, never kept.
            if key is not None and len(rv) <= URL_CACHE_LONGEST:
                if len(self._url_cache) >= URL_CACHE_MAX:
                    self._url_cache.clear()
                self._url_cache[key] = rv
        if _anchor is not None:
            rv = f"{rv}#{_url_quote(_anchor, safe=ANCHOR_SAFE)}"
        return rv


class CookieOnlySessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie session, opened only when the cookie was sent, and
    saved only when there is something to save."""

    def open_session(self, app, request):
        if app.secret_key and self.get_cookie_name(app) not in request.cookies:
            return self.session_class()
        return super().open_session(app, request)

    def save_session(self, app, session, response):
        if not session and not session.modified:  # nothing sent, nothing to send
            if session.accessed:
                response.vary.add("Cookie")
            return
        super().save_session(app, session, response)


def has_login_cookie(app: Flask) -> bool:
    cookies = request.cookies
    return app.config["SESSION_COOKIE_NAME"] in cookies or (
        app.config.get("REMEMBER_COOKIE_NAME", "remember_token") in cookies
    )


def init_app(app: Flask, login_manager) -> None:
    app.session_interface = CookieOnlySessionInterface()

    @app.before_request
    def _anonymous_without_cookies():
        # Flask-Login keeps the request's user in g._login_user; login_user() and
        # logout_user() replace it as usual.
        if "_login_user" not in g and not has_login_cookie(app):
            g._login_user = login_manager.anonymous_user()


def new_request_ids() -> tuple[str, str]:
    """(request id, CSP nonce): one read of the system's randomness for both (each
    read is a system call)."""
    raw = os.urandom(24)
    return raw[:8].hex(), base64.urlsafe_b64encode(raw[8:]).rstrip(b"=").decode()


def security_headers(app: Flask, nonce: str) -> dict[str, str]:
    """The headers every response carries (the page cache's hit path sends them too)."""
    headers = {
        "Content-Security-Policy": (
            "default-src 'self'; "
            f"script-src 'self' 'nonce-{nonce}'; "
            "style-src 'self'; "
            "img-src 'self' data:; "
            "font-src 'self'; "
            "connect-src 'self'; "
            "form-action 'self'; "
            "object-src 'none'; "
            "base-uri 'none'; "
            "frame-ancestors 'none'"
        ),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "strict-origin-when-cross-origin",
        "X-Frame-Options": "DENY",
        "Cross-Origin-Opener-Policy": "same-origin",
    }
    if app.config.get("PRODUCTION"):
        headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
    return headers
