"""Moderation of testimonials, follow-ups, photos, reports and appeals; dashboard and log."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from directory import formkit, services, trust
from directory.extensions import db
from directory.guards import moderator_required
from directory.models import (
    Appeal,
    Clinic,
    FollowUp,
    ModerationDecision,
    Photo,
    Report,
    Review,
    User,
)
from directory.moderation import forms
from directory.moderation.views import bp
from directory.ratelimits import limited
from directory.services import ServiceError
from directory.services import moderation as mod

QUEUES = (
    ("reviews", "Testimonials", "moderation.reviews"),
    ("followups", "Follow-ups", "moderation.followups"),
    ("photos", "Photos of published testimonials", "moderation.photos"),
    ("reports", "Reports", "moderation.reports"),
    ("appeals", "Appeals", "moderation.appeals"),
    ("claims", "Clinic claims", "moderation.claims"),
    ("new_clinics", "New clinics", "moderation.new_clinics"),
    ("results", "Before/after results", "moderation.results"),
)


def _age(ts: datetime | None) -> str:
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
        (
            key,
            label,
            endpoint if endpoint in current_app.view_functions else None,
            sizes[key][0],
            _age(sizes[key][1]),
        )
        for key, label, endpoint in QUEUES
    ]
    return render_template("moderation/dashboard.html", rows=rows)


def _decide(kind: str, item, actions, call, render):
    """Validate the decision form, call the service, commit; on bad input re-render
    the queue with the form and its messages (400, or 409 for a stale state)."""
    form = forms.DecisionForm(actions=actions)
    if not form.validate_on_submit():
        return render(failed=(item.id, form)), 400
    try:
        call(form)
    except ServiceError as exc:
        db.session.rollback()
        if exc.status_code in (403, 404):
            abort(exc.status_code, str(exc))
        form.form_errors.append(str(exc))
        return render(failed=(item.id, form)), exc.status_code
    services.commit()
    flash(f"Decision recorded on {kind} #{item.id}: {form.action.data}.", "success")
    # moderation.decide_review -> moderation.reviews, and so on for each queue
    return redirect(url_for(request.endpoint.replace("decide_", "") + "s"))


# --- testimonials -----------------------------------------------------------------------


def _render_reviews(failed=None):
    items = mod.pending_reviews()
    now = datetime.now(UTC)
    signals = {r.id: mod.signals_for_review(r, now) for r in items}
    return render_template(
        "moderation/reviews.html",
        items=items,
        signals=signals,
        attention={k: trust.needs_attention(v) for k, v in signals.items()},
        matches={p.id: mod.photo_matches(p) for r in items for p in r.photos},
        actions=forms.REVIEW_ACTIONS,
        failed=failed,
    )


@bp.get("/reviews")
@moderator_required
def reviews():
    return _render_reviews()


@bp.get("/reviews/<int:review_id>")
@moderator_required
def review(review_id: int):
    item = db.get_or_404(Review, review_id)
    sigs = mod.signals_for_review(item)
    history = (
        db.session.execute(
            select(ModerationDecision)
            .where(ModerationDecision.item_type == "review", ModerationDecision.item_id == item.id)
            .order_by(ModerationDecision.id)
        )
        .scalars()
        .all()
    )
    return render_template(
        "moderation/review.html",
        item=item,
        signals=sigs,
        history=history,
        actions=forms.REVIEW_ACTIONS,
        failed=None,
        matches={p.id: mod.photo_matches(p) for p in item.photos},
    )


@bp.post("/reviews/<int:review_id>/decide")
@limited("RATELIMIT_MODERATION")
@moderator_required
def decide_review(review_id: int):
    item = db.get_or_404(Review, review_id)
    return _decide(
        "testimonial",
        item,
        forms.REVIEW_ACTIONS,
        lambda f: mod.decide_review(
            item,
            by=current_user,
            action=f.action.data,
            reason_code=f.reason_code.data,
            statement=f.statement.data,
            proof=f.proof.data,
        ),
        _render_reviews,
    )


# --- follow-ups -------------------------------------------------------------------------


def _render_followups(failed=None):
    return render_template(
        "moderation/followups.html",
        items=mod.pending_followups(),
        actions=forms.FOLLOWUP_ACTIONS,
        failed=failed,
    )


@bp.get("/followups")
@moderator_required
def followups():
    return _render_followups()


@bp.post("/followups/<int:followup_id>/decide")
@limited("RATELIMIT_MODERATION")
@moderator_required
def decide_followup(followup_id: int):
    item = db.get_or_404(FollowUp, followup_id)
    return _decide(
        "follow-up",
        item,
        forms.FOLLOWUP_ACTIONS,
        lambda f: mod.decide_followup(
            item,
            by=current_user,
            action=f.action.data,
            reason_code=f.reason_code.data,
            statement=f.statement.data,
        ),
        _render_followups,
    )


# --- photos -----------------------------------------------------------------------------


def _render_photos(failed=None):
    items = mod.pending_photos()
    return render_template(
        "moderation/photos.html",
        items=items,
        matches={p.id: mod.photo_matches(p) for p in items},
        actions=forms.PHOTO_ACTIONS,
        failed=failed,
    )


@bp.get("/photos")
@moderator_required
def photos():
    return _render_photos()


@bp.post("/photos/<int:photo_id>/decide")
@limited("RATELIMIT_MODERATION")
@moderator_required
def decide_photo(photo_id: int):
    item = db.get_or_404(Photo, photo_id)
    return _decide(
        "photo",
        item,
        forms.PHOTO_ACTIONS,
        lambda f: mod.decide_photo(
            item,
            by=current_user,
            action=f.action.data,
            reason_code=f.reason_code.data,
            statement=f.statement.data,
        ),
        _render_photos,
    )


# --- reports ----------------------------------------------------------------------------


@bp.get("/reports")
@moderator_required
def reports():
    return _render_reports()


def _render_reports(failed=None):
    items = mod.open_reports()
    targets = {}
    for r in items:
        try:
            targets[r.id] = mod.target_of(r.target_type, r.target_id)
        except ServiceError:
            targets[r.id] = None
    return render_template(
        "moderation/reports.html",
        items=items,
        targets=targets,
        actions=forms.REPORT_ACTIONS,
        failed=failed,
    )


@bp.post("/reports/<int:report_id>/decide")
@limited("RATELIMIT_MODERATION")
@moderator_required
def decide_report(report_id: int):
    item = db.get_or_404(Report, report_id)
    return _decide(
        "report",
        item,
        forms.REPORT_ACTIONS,
        lambda f: mod.decide_report(
            item,
            by=current_user,
            uphold=f.action.data == "remove",
            reason_code=f.reason_code.data,
            statement=f.statement.data,
        ),
        _render_reports,
    )


# --- appeals ----------------------------------------------------------------------------


@bp.get("/appeals")
@moderator_required
def appeals():
    return _render_appeals()


def _render_appeals(failed=None):
    items = mod.open_appeals()
    targets = {}
    for a in items:
        try:
            targets[a.id] = mod.target_of(a.item_type, a.item_id)
        except ServiceError:
            targets[a.id] = None
    return render_template(
        "moderation/appeals.html",
        items=items,
        targets=targets,
        actions=forms.APPEAL_ACTIONS,
        failed=failed,
    )


@bp.post("/appeals/<int:appeal_id>/decide")
@limited("RATELIMIT_MODERATION")
@moderator_required
def decide_appeal(appeal_id: int):
    item = db.get_or_404(Appeal, appeal_id)
    return _decide(
        "appeal",
        item,
        forms.APPEAL_ACTIONS,
        lambda f: mod.decide_appeal(
            item,
            by=current_user,
            uphold=f.action.data == "uphold",
            reason_code=f.reason_code.data,
            statement=f.statement.data,
        ),
        _render_appeals,
    )


# --- the log ----------------------------------------------------------------------------


def _int_arg(name: str) -> int | None:
    return formkit.int_arg(request.args, name, None, 1)


@bp.get("/log")
@moderator_required
def log():
    moderator_id = _int_arg("moderator")
    clinic_id = _int_arg("clinic")
    action = request.args.get("action", "")
    if len(action) > 30:
        abort(400, "Unknown action.")
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
    pagination = db.paginate(stmt, page=page, per_page=50, error_out=False)
    moderators = (
        db.session.execute(
            select(User).where(User.role.in_(("moderator", "admin"))).order_by(User.display_name)
        )
        .scalars()
        .all()
    )
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
        clinics=clinics,
        actions=actions,
        filters={"moderator": moderator_id, "clinic": clinic_id, "action": action},
    )
