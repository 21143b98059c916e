"""Register, verify the address, log in (with the second factor for staff), log out,
reset a forgotten password."""

from __future__ import annotations

import pyotp
import segno
from flask import (
    Blueprint,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_login import current_user, logout_user
from markupsafe import Markup
from sqlalchemy.exc import IntegrityError

from directory import requestorigin, services
from directory.auth import forms
from directory.auth.redirects import safe_next
from directory.extensions import db
from directory.guards import login_required, mfa_passed, public, roles_required
from directory.ratelimits import by_account, limited
from directory.services import Invalid, accounts, origin
from directory.websession import start_session

bp = Blueprint("auth", __name__)

STAFF = ("moderator", "admin")
GENERIC_LOGIN_ERROR = "The e-mail address or the password is not correct."
REGISTERED = (
    "Thank you. We have sent a message to that address: open its link to confirm the "
    "address, then log in. If the address already has an account, the message says how "
    "to get back in."
)
RESET_SENT = (
    "If an account exists for that address, we have sent it a link to choose a new "
    "password. The link works for one hour."
)


def _after_login_target(user, next_url: str) -> str:
    if user.role in STAFF and not mfa_passed():
        endpoint = "auth.totp_verify" if user.totp_confirmed_at else "auth.totp_setup"
        return url_for(endpoint, next=next_url)
    return next_url


@bp.route("/register", methods=["GET", "POST"])
@limited("RATELIMIT_REGISTER")
@public
def register():
    if current_user.is_authenticated:
        return redirect(url_for("account.index"))
    form = forms.RegisterForm()
    if form.validate_on_submit():
        here = requestorigin.current()
        try:
            user = accounts.register(
                form.email.data,
                form.display_name.data,
                form.password.data,
                origin=here.network_hash if here else None,
            )
        except Invalid as exc:
            form.password.errors.append(str(exc))
        else:
            if user is not None:
                origin.record(user, "signup", origin=here)
            try:
                services.commit()
            except IntegrityError:
                # The same address registered a moment ago by another request: an
                # existing account, and the answer must not say so.
                db.session.rollback()
            # The same answer whether the address is new or already has an account;
            # nobody is logged in by registering (that would tell the difference).
            flash(REGISTERED, "success")
            return redirect(url_for("auth.login"))
    status = 400 if request.method == "POST" else 200
    return render_template("auth/register.html", form=form), status


@bp.route("/login", methods=["GET", "POST"])
@limited("RATELIMIT_LOGIN_ACCOUNT", origin="RATELIMIT_LOGIN_IP", account_key=by_account)
@public
def login():
    form = forms.LoginForm()
    if request.method == "GET":
        form.next.data = request.args.get("next", "")
        if current_user.is_authenticated and not request.args.get("reauth"):
            return redirect(safe_next(form.next.data, url_for("account.index")))
        return render_template(
            "auth/login.html", form=form, reauth=bool(request.args.get("reauth"))
        ), 200
    if form.validate_on_submit():
        user = accounts.authenticate(form.email.data, form.password.data)
        if user is not None:
            origin.record(user, "login", origin=requestorigin.current())
            services.commit()
            start_session(user, remember=bool(form.remember.data))
            target = safe_next(form.next.data, url_for("account.index"))
            return redirect(_after_login_target(user, target))
        form.password.errors.append(GENERIC_LOGIN_ERROR)
    return render_template("auth/login.html", form=form, reauth=False), 400


@bp.post("/logout")
@limited("RATELIMIT_WRITE")
@login_required
def logout():
    accounts.end_all_sessions(current_user)
    services.commit()
    logout_user()
    session.clear()
    flash("You are logged out everywhere.", "info")
    return redirect(url_for("public.home"))


@bp.get("/verify/<token>")
@public
def verify(token: str):
    try:
        accounts.user_for_verify(token)
    except Invalid as exc:
        return render_template("auth/message.html", title="Link not valid", message=str(exc)), 400
    return render_template("auth/verify.html", form=forms.ResendForm(), token=token)


@bp.post("/verify/<token>")
@limited("RATELIMIT_WRITE")
@public
def verify_confirm(token: str):
    form = forms.ResendForm()
    if not form.validate_on_submit():
        return render_template("auth/verify.html", form=form, token=token), 400
    try:
        accounts.verify_email(token)
    except Invalid as exc:
        return render_template("auth/message.html", title="Link not valid", message=str(exc)), 400
    services.commit()
    flash("Thank you: your e-mail address is confirmed.", "success")
    return redirect(
        url_for("account.index") if current_user.is_authenticated else url_for("auth.login")
    )


@bp.post("/verify/resend")
@limited("RATELIMIT_RESET")
@login_required
def resend_verification():
    form = forms.ResendForm()
    if not form.validate_on_submit():
        return redirect(url_for("account.index"))
    if current_user.email_verified:
        flash("Your address is already confirmed.", "info")
    else:
        accounts.send_verification(current_user)
        services.commit()  # the mail is staged in the transaction
        flash("We have sent you a new confirmation link.", "success")
    return redirect(url_for("account.index"))


@bp.route("/reset", methods=["GET", "POST"])
@limited("RATELIMIT_RESET", account_key=by_account)
@public
def reset_request():
    form = forms.ForgotForm()
    if form.validate_on_submit():
        accounts.request_reset(form.email.data)
        services.commit()  # the mail is staged in the transaction
        flash(RESET_SENT, "info")
        return redirect(url_for("auth.login"))
    status = 400 if request.method == "POST" else 200
    return render_template("auth/reset_request.html", form=form), status


@bp.route("/reset/<token>", methods=["GET", "POST"])
@limited("RATELIMIT_RESET")
@public
def reset_token(token: str):
    try:
        user = accounts.user_for_reset(token)
    except Invalid as exc:
        return render_template(
            "auth/message.html", title="Link not valid", message=str(exc), retry=True
        ), 400
    form = forms.ResetForm()
    if form.validate_on_submit():
        try:
            accounts.reset_password(token, form.password.data)
        except Invalid as exc:
            form.password.errors.append(str(exc))
        else:
            services.commit()
            if current_user.is_authenticated:
                logout_user()
            session.clear()
            flash(
                "Your password is changed and every session has ended. Log in with the new "
                "password.",
                "success",
            )
            return redirect(url_for("auth.login"))
    status = 400 if request.method == "POST" else 200
    return render_template("auth/reset.html", form=form, email=user.email), status


def _qr_svg(uri: str) -> Markup:
    # Generated by us from our own data (no user text reaches it), so it is safe inline.
    svg = segno.make(uri, error="m").svg_inline(
        scale=5, dark="#000", light="#fff", title="QR code of your second-factor secret"
    )
    return Markup(svg)  # noqa: S704


@bp.route("/totp/setup", methods=["GET", "POST"])
@limited("RATELIMIT_TOTP")
@roles_required(*STAFF)
def totp_setup():
    next_url = safe_next(request.values.get("next"), url_for("account.index"))
    if current_user.totp_confirmed_at is not None:
        return redirect(url_for("auth.totp_verify", next=next_url))
    # The pending secret lives in the (signed, HttpOnly) session until it is confirmed,
    # so opening this page changes nothing stored.
    secret = session.get("totp_pending")
    if not secret:
        secret = session["totp_pending"] = pyotp.random_base32()
    form = forms.TotpForm()
    if form.validate_on_submit():
        current_user.totp_secret = secret
        try:
            accounts.confirm_totp(current_user, form.code.data)
        except Invalid as exc:
            form.code.errors.append(str(exc))
            current_user.totp_secret = None
        else:
            services.commit()
            session.pop("totp_pending", None)
            session["mfa_ok"] = current_user.get_id()
            flash("Your second factor is set up.", "success")
            return redirect(next_url)
    form.next.data = next_url
    uri = pyotp.TOTP(secret).provisioning_uri(
        name=current_user.email, issuer_name="SMP Clinic Directory"
    )
    status = 400 if request.method == "POST" else 200
    return render_template("auth/totp.html", form=form, secret=secret, qr=_qr_svg(uri)), status


@bp.route("/totp", methods=["GET", "POST"])
@limited("RATELIMIT_TOTP")
@roles_required(*STAFF)
def totp_verify():
    next_url = safe_next(request.values.get("next"), url_for("account.index"))
    if current_user.totp_confirmed_at is None:
        return redirect(url_for("auth.totp_setup", next=next_url))
    form = forms.TotpForm()
    status = 400 if request.method == "POST" else 200
    if form.validate_on_submit():
        try:
            right = accounts.verify_second_factor(current_user, form.code.data)
        except accounts.SecondFactorLocked as exc:
            form.code.errors.append(str(exc))
            status = exc.status_code
        else:
            # Commit either way: a right code's step (no replay), a wrong code's count.
            services.commit()
            if right:
                session["mfa_ok"] = current_user.get_id()
                return redirect(next_url)
            until = accounts.second_factor_locked_until(current_user)
            if until is not None:
                form.code.errors.append(str(accounts.SecondFactorLocked(until)))
                status = 429
            else:
                form.code.errors.append(
                    "That code is not right. Check the time on your device and try again."
                )
    until = accounts.second_factor_locked_until(current_user)
    locked = str(accounts.SecondFactorLocked(until)) if until and request.method == "GET" else None
    form.next.data = next_url
    return render_template("auth/totp.html", form=form, locked=locked), status
