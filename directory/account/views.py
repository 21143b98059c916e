"""The account page: profile, own items and decisions about them, password and
e-mail changes, data export and deletion (the last four need a fresh login)."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, Response, flash, redirect, render_template, session, url_for
from flask_login import current_user, logout_user

from directory import services
from directory.account import forms
from directory.guards import fresh_login_required, login_required
from directory.ratelimits import limited
from directory.services import Invalid, InvalidState, NotAllowed, accounts, moderation
from directory.websession import start_session

bp = Blueprint("account", __name__)


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


@bp.route("/password", methods=["GET", "POST"])
@limited("RATELIMIT_ACCOUNT")
@fresh_login_required
def password():
    form = forms.PasswordForm()
    if form.validate_on_submit():
        user = current_user._get_current_object()
        try:
            accounts.change_password(user, form.current.data, form.password.data)
        except NotAllowed as exc:
            form.current.errors.append(str(exc))
        except Invalid as exc:
            form.password.errors.append(str(exc))
        else:
            services.commit()
            # Every other session ended with the old token; this one continues.
            start_session(user)
            flash("Your password is changed. Every other session has ended.", "success")
            return redirect(url_for("account.index"))
    return render_template("account/password.html", form=form), (400 if form.errors else 200)


@bp.route("/email", methods=["GET", "POST"])
@limited("RATELIMIT_ACCOUNT")
@fresh_login_required
def email():
    form = forms.EmailForm()
    if form.validate_on_submit():
        try:
            accounts.change_email(current_user, form.password.data, form.email.data)
        except NotAllowed as exc:
            form.password.errors.append(str(exc))
        except (Invalid, InvalidState) as exc:
            form.email.errors.append(str(exc))
        else:
            services.commit()
            flash(
                "Your address is changed. Open the link we sent to the new address to confirm it.",
                "success",
            )
            return redirect(url_for("account.index"))
    return render_template("account/email.html", form=form), (400 if form.errors else 200)


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


@bp.route("/delete", methods=["GET", "POST"])
@limited("RATELIMIT_ACCOUNT")
@fresh_login_required
def delete():
    form = forms.DeleteForm()
    if form.validate_on_submit():
        try:
            accounts.delete_account(
                current_user._get_current_object(),
                form.password.data,
                keep_reviews=form.reviews.data == "anonymise",
            )
        except NotAllowed as exc:
            form.password.errors.append(str(exc))
        else:
            services.commit()
            logout_user()
            session.clear()
            flash("Your account and its personal data are deleted.", "info")
            return redirect(url_for("public.home"))
    return render_template("account/delete.html", form=form), (400 if form.errors else 200)
