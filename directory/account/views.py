"""The account page: profile, own items and decisions about them, password and
e-mail changes, data export and deletion (the last four need a fresh login)."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, Response, flash, redirect, render_template, session, url_for
from flask_login import current_user, logout_user

from directory import formkit, services
from directory.account import forms
from directory.guards import fresh_login_required, login_required
from directory.ratelimits import limited
from directory.services import Invalid, InvalidState, NotAllowed, accounts, moderation
from directory.websession import start_session

bp = Blueprint("account", __name__)


def _settings_page(rule: str):
    """A settings page with a form (GET shows it, POST sends it): rate-limited, and
    only after a fresh login, like the data export."""

    def register(view):
        return bp.route(rule, methods=["GET", "POST"])(
            limited("RATELIMIT_ACCOUNT")(fresh_login_required(view))
        )

    return register


@bp.get("")
@login_required
def index():
    return render_template(
        "account/index.html",
        user=current_user,
        ov=accounts.overview(current_user),
        appeals=moderation.appeals_of(current_user),
        moderation_labels=moderation.ITEM_LABELS,
    )


@_settings_page("/password")
def password():
    form = forms.PasswordForm()
    user = current_user._get_current_object()
    tried = formkit.attempt(
        form,
        lambda: accounts.change_password(user, form.current.data, form.password.data),
        refused=(),
        field_errors={NotAllowed: form.current, Invalid: form.password},
    )
    if tried.done:
        services.commit()
        # Every other session ended with the old token; this one continues.
        start_session(user)
        flash("Your password is changed. Every other session has ended.", "success")
        return redirect(url_for("account.index"))
    return render_template("account/password.html", form=form), tried.status


@_settings_page("/email")
def email():
    form = forms.EmailForm()
    tried = formkit.attempt(
        form,
        lambda: accounts.change_email(current_user, form.password.data, form.email.data),
        refused=(),
        field_errors={NotAllowed: form.password, (Invalid, InvalidState): form.email},
    )
    if tried.done:
        services.commit()
        flash(
            "Your address is changed. Open the link we sent to the new address to confirm it.",
            "success",
        )
        return redirect(url_for("account.index"))
    return render_template("account/email.html", form=form), tried.status


@bp.get("/export")
@fresh_login_required
def export():
    data = accounts.export_zip(current_user)
    name = f"smp-directory-account-{datetime.now(UTC):%Y%m%d}.zip"
    return Response(
        data,
        mimetype="application/zip",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "private, no-store",
        },
    )


@_settings_page("/delete")
def delete():
    form = forms.DeleteForm()
    tried = formkit.attempt(
        form,
        lambda: accounts.delete_account(
            current_user._get_current_object(),
            form.password.data,
            keep_reviews=form.reviews.data == "anonymise",
        ),
        refused=(),
        field_errors={NotAllowed: form.password},
    )
    if tried.done:
        services.commit()
        logout_user()
        session.clear()
        flash("Your account and its personal data are deleted.", "info")
        return redirect(url_for("public.home"))
    return render_template("account/delete.html", form=form), tried.status
