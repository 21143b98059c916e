"""Access guards for views. Every endpoint carries one of these.

Each guard records the rule on the view function (`view.access`), so the
route-inventory test can check that no endpoint was left unguarded by mistake:
`@public` marks a page anyone may open, the others require a login, a role or
a second factor.

Moderators and admins must have passed their second factor (TOTP) in the
current session before any moderation or admin page: the auth blueprint sets
`session["mfa_ok"]` to the user's session token after a good code, so a
rotated token (logout elsewhere, password change) also ends the MFA state.
"""

from __future__ import annotations

from functools import wraps

from flask import abort, redirect, request, session, url_for
from flask_login import current_user, login_fresh
from flask_login import login_required as _flask_login_required

__all__ = [
    "admin_required",
    "confirmed_required",
    "fresh_login_required",
    "login_required",
    "mfa_passed",
    "moderator_required",
    "owner_required",
    "public",
    "roles_required",
]


def public(view):
    """Anyone, logged in or not, may open this endpoint."""
    view.access = "public"
    return view


def login_required(view):
    wrapped = _flask_login_required(view)
    wrapped.access = "login"
    return wrapped


def fresh_login_required(view):
    """Logged in with a password in this session (not restored from a remember
    cookie): for sensitive actions such as export, deletion, e-mail, password or
    role changes. A stale session is sent to the login page to confirm."""

    @wraps(view)
    @_flask_login_required
    def wrapped(*args, **kwargs):
        if not login_fresh():
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?"), reauth=1))
        return view(*args, **kwargs)

    wrapped.access = "login:fresh"
    return wrapped


def confirmed_required(view):
    """The logged-in user has confirmed their e-mail address (accounts.ensure_confirmed):
    for registering or claiming a clinic and sending result photos. Others get a 403
    page that says how to confirm. Put it under the access guard, above the view."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        from directory.services import NotAllowed, accounts

        try:
            accounts.ensure_confirmed(current_user)
        except NotAllowed as exc:
            abort(403, str(exc))
        return view(*args, **kwargs)

    wrapped.confirmed = True
    return wrapped


def mfa_passed() -> bool:
    return bool(current_user.is_authenticated) and session.get("mfa_ok") == current_user.get_id()


def _role_guard(roles: tuple[str, ...], *, second_factor: bool):
    """One of `roles`, else 403; staff (`second_factor`) must also have passed the
    second factor in this session, else they are sent to enter (or set up) a code."""

    def decorator(view):
        @wraps(view)
        @_flask_login_required
        def wrapped(*args, **kwargs):
            if current_user.role not in roles:
                abort(403)
            if second_factor and not mfa_passed():
                target = "auth.totp_verify" if current_user.totp_confirmed_at else "auth.totp_setup"
                return redirect(url_for(target, next=request.full_path.rstrip("?")))
            return view(*args, **kwargs)

        wrapped.access = ("staff:" if second_factor else "roles:") + ",".join(roles)
        return wrapped

    return decorator


def roles_required(*roles: str):
    return _role_guard(roles, second_factor=False)


moderator_required = _role_guard(("moderator", "admin"), second_factor=True)
admin_required = _role_guard(("admin",), second_factor=True)
owner_required = roles_required("clinic_owner", "admin")
