"""Starting a logged-in session, shared by the auth and account blueprints."""

from __future__ import annotations

from flask import current_app, session
from flask_login import login_user


def start_session(user, remember: bool = False) -> None:
    """A fresh session for the user (nothing of the anonymous session survives)."""
    session.clear()
    login_user(
        user, remember=remember, duration=current_app.config["REMEMBER_COOKIE_DURATION"], fresh=True
    )
