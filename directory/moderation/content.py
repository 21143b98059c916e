"""The moderation dashboard (every queue with its size and oldest item) and the
decision log."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import abort, render_template, request, url_for
from sqlalchemy import select

from directory import formkit
from directory.extensions import db
from directory.guards import moderator_required
from directory.models import Clinic, ModerationDecision, User
from directory.moderation.views import bp
from directory.services import moderation as mod
from directory.vocab import REASON_CODES


def age(ts: datetime | None) -> str:
    if ts is None:
        return "—"
    secs = max(0, (datetime.now(UTC) - ts).total_seconds())
    if secs < 3600:
        return f"{int(secs // 60)} min"
    if secs < 86400 * 2:
        return f"{int(secs // 3600)} h"
    return f"{int(secs // 86400)} days"


@bp.get("/")
@moderator_required
def dashboard():
    sizes = mod.queue_sizes()
    rows = [
        (key, q.label, q.endpoint, sizes[key][0], age(sizes[key][1]))
        for key, q in mod.QUEUES.items()
    ]
    return render_template("moderation/dashboard.html", rows=rows)


def _int_arg(name: str) -> int | None:
    return formkit.int_arg(request.args, name, None, 1)


def item_link(d: ModerationDecision) -> str | None:
    if d.item_type not in mod.WORKFLOWS:
        return None
    return url_for("moderation.item", item_type=d.item_type, item_id=d.item_id)


@bp.get("/log")
@moderator_required
def log():
    moderator_id = _int_arg("moderator")
    clinic_id = _int_arg("clinic")
    action = request.args.get("action", "")
    item_type = request.args.get("type", "")
    reason = request.args.get("reason", "")
    if len(action) > 30:
        abort(400, "Unknown action.")
    if item_type and item_type not in mod.WORKFLOWS:
        abort(400, "Unknown kind of item.")
    if reason and reason not in REASON_CODES:
        abort(400, "Unknown reason.")
    page = formkit.int_arg(request.args, "page", 1, 1, 100_000)
    stmt = select(ModerationDecision).order_by(
        ModerationDecision.created_at.desc(), ModerationDecision.id.desc()
    )
    if moderator_id is not None:
        stmt = stmt.where(ModerationDecision.moderator_id == moderator_id)
    if clinic_id is not None:
        stmt = stmt.where(ModerationDecision.clinic_id == clinic_id)
    if action:
        stmt = stmt.where(ModerationDecision.action == action)
    if item_type:
        stmt = stmt.where(ModerationDecision.item_type == item_type)
    if reason:
        stmt = stmt.where(ModerationDecision.reason_code == reason)
    pagination = db.paginate(stmt, page=page, per_page=50, error_out=False)
    moderators = (
        db.session.execute(
            select(User).where(User.role.in_(("moderator", "admin"))).order_by(User.display_name)
        )
        .scalars()
        .all()
    )
    names = {u.id: u.display_name for u in moderators}
    clinics = {
        c.id: c
        for c in db.session.execute(
            select(Clinic).where(
                Clinic.id.in_({d.clinic_id for d in pagination.items if d.clinic_id})
            )
        ).scalars()
    }
    actions = [
        a
        for (a,) in db.session.execute(
            select(ModerationDecision.action).distinct().order_by(ModerationDecision.action)
        )
    ]
    return render_template(
        "moderation/log.html",
        pagination=pagination,
        moderators=moderators,
        names=names,
        clinics=clinics,
        actions=actions,
        item_link=item_link,
        labels=mod.ITEM_LABELS,
        filters={
            "moderator": moderator_id,
            "clinic": clinic_id,
            "action": action,
            "type": item_type,
            "reason": reason,
        },
    )
