"""Admin pages: the user list with role changes (logged, fresh login, second factor)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_fresh
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

from directory import formkit, services
from directory.extensions import db
from directory.formkit import SingleLine
from directory.guards import admin_required
from directory.models import User
from directory.ratelimits import limited
from directory.services import Invalid, NotAllowed, accounts
from directory.vocab import ROLES

bp = Blueprint("admin", __name__)


class RoleForm(FlaskForm):
    role = SelectField(
        "New role",
        choices=[SelectChoice(r, r.replace("_", " ")) for r in ROLES],
        validators=[DataRequired()],
    )
    statement = StringField(
        "Why (kept in the audit log)",
        validators=[SingleLine(), DataRequired(), Length(min=10, max=500)],
    )


def _page(errors_for: int | None = None, form: RoleForm | None = None, status: int = 200):
    q = (request.args.get("q") or "").strip().lower()[:100]
    stmt = select(User).order_by(User.id)
    if q:
        stmt = stmt.where(User.email.contains(q) | User.display_name.contains(q))
    number = formkit.int_arg(request.args, "page", 1, 1, 100_000)
    page = db.paginate(stmt, page=number, per_page=50, error_out=False)
    return render_template(
        "admin/users.html", page=page, q=q, form=form or RoleForm(), errors_for=errors_for
    ), status


@bp.get("/users")
@admin_required
def users():
    return _page()


@bp.post("/users/<int:user_id>/role")
@limited("RATELIMIT_MODERATION")
@admin_required
def set_role(user_id: int):
    if not login_fresh():
        return redirect(url_for("auth.login", next=url_for("admin.users"), reauth=1))
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    form = RoleForm()
    if not form.validate_on_submit():
        return _page(user_id, form, 400)
    try:
        accounts.set_role(user, form.role.data, by=current_user, statement=form.statement.data)
    except NotAllowed as exc:
        abort(403, str(exc))
    except Invalid as exc:
        form.role.errors.append(str(exc))
        return _page(user_id, form, 400)
    services.commit()
    flash(f"{user.email} is now {user.role.replace('_', ' ')}.", "success")
    return redirect(url_for("admin.users"))
