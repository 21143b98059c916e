"""Rate limits: one decorator, `limited`, on every state-changing route.

    from directory.ratelimits import limited

    @bp.route("/clinics/<slug>/review", methods=["GET", "POST"])
    @limited("RATELIMIT_REVIEW")
    @login_required
    def write(slug): ...

`limited(NAME)` counts each POST twice, against the limit string configured under
NAME (e.g. RATELIMIT_REVIEW = "5/hour", or "5/minute;30/hour" for several windows):

- per account: the logged-in user (or, for login and reset forms, the e-mail
  address the form names; for anonymous visitors, their address);
- per origin: the client's address (what ProxyFix makes `remote_addr`), against
  NAME_ORIGIN when that is configured (a shared office or carrier NAT may need
  more room than one account), otherwise NAME again.

The strings are read per request, so tests and instance config can change them.
Flask-Limiter checks route limits in a before-request hook, so a request over its
limit gets 429 before the guard or the view body runs (before any password
hashing). The decorator records NAME on the view (`view.rate_limits`), and a test
walks the URL map and fails on a POST route without one.

Put it on its own line under the route decorator, above the access guard (the
guard copies the mark through functools.wraps either way).
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


def _mark(view, name: str):
    view.rate_limits = tuple(getattr(view, "rate_limits", ())) + (name,)
    return view


def limit(name: str, key_func=by_address, methods=("POST",)):
    """One configured limit with one key (the building block of `limited`)."""
    decorate = limiter.limit(
        lambda: current_app.config[name],
        key_func=key_func,
        methods=list(methods),
        scope=name.lower(),
    )
    return lambda view: _mark(decorate(view), name)


def limited(
    name: str,
    *,
    origin: str | None = None,
    account_key=by_user,
    methods=("POST",),
):
    """Limit a route per account and per origin from configured values.

    name: config key of the per-account limit; origin: config key of the
    per-origin limit (default: NAME_ORIGIN if configured, else NAME);
    account_key: what identifies the account (default: the logged-in user);
    methods: which methods count (default POST: showing a form is free).
    """
    origin_name = origin or f"{name}_ORIGIN"

    def origin_limit() -> str:
        cfg = current_app.config
        return cfg.get(origin_name) or cfg[name]

    per_account = limiter.limit(
        lambda: current_app.config[name],
        key_func=account_key,
        methods=list(methods),
        scope=f"{name.lower()}:account",
    )
    per_origin = limiter.limit(
        origin_limit,
        key_func=by_address,
        methods=list(methods),
        scope=f"{origin_name.lower()}:origin",
    )

    def decorator(view):
        return _mark(per_origin(per_account(view)), name)

    return decorator
