"""Named rate limits (strings in the config, e.g. RATELIMIT_REVIEW = "5/hour") and the
key functions they count by. Use on a route:

    from directory.ratelimits import limit

    @bp.post("/clinics/<slug>/review")
    @limit("RATELIMIT_REVIEW", key_func=by_user)   # POST only by default
    @login_required
    def submit(slug): ...

Put it between the route and the access guard (the guard sets `view.access`,
which the wrapper keeps). Flask-Limiter checks route limits in a before-request
hook, so a request over its limit gets 429 before the guard or the view body
runs (before any password hashing).
"""

from __future__ import annotations

from flask import current_app, request
from flask_limiter.util import get_remote_address

from directory.extensions import limiter


def by_address() -> str:
    return "ip:" + (get_remote_address() or "-")


def by_account() -> str:
    """The account a login or reset form names (normalised e-mail), else the address."""
    email = (request.form.get("email") or "").strip().lower()[:254]
    return "account:" + email if email else by_address()


def by_user() -> str:
    from flask_login import current_user

    if current_user.is_authenticated:
        return f"user:{current_user.id}"
    return by_address()


def limit(name: str, key_func=by_address, methods=("POST",)):
    """Apply the limit string configured under `name` (read per request)."""
    return limiter.limit(
        lambda: current_app.config[name],
        key_func=key_func,
        methods=list(methods),
        scope=name.lower(),
    )
