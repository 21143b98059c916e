"""Writing testimonials, follow-ups, reports and appeals; the /how-we-rank page."""

from __future__ import annotations

from datetime import date

from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from flask_login import current_user

from directory import requestorigin, services
from directory.extensions import db
from directory.guards import login_required, moderator_required, public
from directory.models import Clinic, Review
from directory.ratelimits import limited
from directory.reviews import forms
from directory.services import (
    Invalid,
    InvalidState,
    NotAllowed,
    ServiceError,
    moderation,
    proofs,
    reports,
)
from directory.services import clinics as clinic_service
from directory.services import reviews as review_service

bp = Blueprint("reviews", __name__)


def _clinic_or_404(slug: str):
    clinic = clinic_service.get_public(slug)
    if clinic is None:
        abort(404)
    return clinic


def _fail(exc: ServiceError):
    abort(exc.status_code, str(exc))


@bp.route("/clinics/<slug>/review", methods=["GET", "POST"])
@limited("RATELIMIT_REVIEW")
@login_required
def write(slug: str):
    clinic = _clinic_or_404(slug)
    form = forms.ReviewForm(practitioners=clinic.active_practitioners)
    try:
        review_service.check_can_review(current_user, clinic)
    except review_service.DuplicateReview as exc:
        return _refused(clinic, exc, 409)
    except NotAllowed as exc:
        return _refused(clinic, exc, 403)
    if request.method == "GET":
        form.last_month.data = form.last_month.data or str(date.today().month)
        form.price_currency.data = clinic.currency or "USD"
        return render_template("reviews/write.html", clinic=clinic, form=form)
    if not form.validate_on_submit():
        return render_template("reviews/write.html", clinic=clinic, form=form), 400
    photos, proof = _uploads(form)
    try:
        review = review_service.submit(
            clinic,
            by=current_user,
            data=_review_input(form),
            photos=photos,
            consent=form.consent.data,
            origin=requestorigin.current(),
        )
        if proof is not None:
            proofs.attach(review, proof, by=current_user)
    except review_service.DuplicateReview as exc:
        db.session.rollback()
        return _refused(clinic, exc, 409)
    except ServiceError as exc:
        db.session.rollback()  # nothing staged survives, photo files included
        form.form_errors.append(str(exc))
        return render_template(
            "reviews/write.html", clinic=clinic, form=form
        ), exc.status_code if exc.status_code != 409 else 400
    services.commit()
    flash(_THANKS + (_THANKS_PROOF if proof is not None else ""), "success")
    return redirect(url_for("public.clinic", slug=clinic.slug) + "#your-testimonial")


_THANKS = (
    "Thank you. Your testimonial is waiting for a moderator; only you can see it until "
    "it is published."
)
_THANKS_PROOF = (
    " A moderator will look at your proof of treatment, mark the treatment verified "
    "if it checks out, and then delete the file; you will be told the decision."
)


def _refused(clinic: Clinic, exc: Exception, status: int):
    """The write page without a form: why this user cannot write here (and their
    testimonial, when they already wrote one)."""
    return render_template(
        "reviews/write.html",
        clinic=clinic,
        form=None,
        refusal=str(exc),
        existing=review_service.existing_for(current_user, clinic),
    ), status


def _review_input(form: forms.ReviewForm) -> review_service.ReviewInput:
    return review_service.ReviewInput(
        treatment_type=form.treatment_type.data,
        sessions=form.sessions.data,
        last_session_month=date(int(form.last_year.data), int(form.last_month.data), 1),
        overall=form.overall.data,
        ratings=form.ratings(),
        practitioner_id=form.practitioner_id.data,
        needed_correction=form.needed_correction.data,
        price_paid=form.price_paid.data,
        price_currency=form.price_currency.data,
        title=form.title.data,
        text=form.text.data,
        stage=form.stage.data or None,
        skin_type=form.skin_type.data,
        hair_colour=form.hair_colour.data or None,
        goal=form.goal.data or None,
    )


def _uploads(form: forms.ReviewForm) -> tuple[list[bytes], bytes | None]:
    """The photos' bytes and the proof's (None without one); empty file fields are skipped."""
    photos = [f.read() for f in (form.photos.data or []) if f and getattr(f, "filename", "")]
    proof_file = form.proof.data
    proof = proof_file.read() if proof_file and getattr(proof_file, "filename", "") else None
    return photos, proof


def _own_review(review_id: int) -> Review:
    review = db.session.get(Review, review_id)
    if review is None or review.author_id != current_user.id:
        abort(404)
    return review


@bp.route("/reviews/<int:review_id>/followup", methods=["GET", "POST"])
@limited("RATELIMIT_REVIEW")
@login_required
def followup(review_id: int):
    review = _own_review(review_id)
    form = forms.FollowUpForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            return render_template("reviews/followup.html", review=review, form=form), 400
        try:
            uploads = [f for f in (form.photos.data or []) if f and getattr(f, "filename", "")]
            review_service.add_followup(
                review,
                by=current_user,
                text=form.text.data,
                healing=form.healing.data,
                needed_correction=form.needed_correction.data,
                photos=[f.read() for f in uploads],
                consent=form.consent.data,
                origin=requestorigin.current(),
            )
        except ServiceError as exc:
            db.session.rollback()
            form.form_errors.append(str(exc))
            return render_template(
                "reviews/followup.html", review=review, form=form
            ), exc.status_code
        services.commit()
        flash("Your follow-up is waiting for a moderator.", "success")
        return redirect(url_for("public.clinic", slug=review.clinic.slug) + "#your-testimonial")
    allowed = review.status == "published" and review_service.can_follow_up(review)
    waiting = review_service.pending_followup(review)
    return render_template(
        "reviews/followup.html", review=review, form=form, allowed=allowed, waiting=waiting
    )


@bp.get("/reviews/<int:review_id>/proof")
@moderator_required
def proof(review_id: int):
    """The author's proof of treatment, for moderators only (never cached, a download)."""
    review = db.session.get(Review, review_id)
    path = proofs.path_of(review) if review is not None else None
    if path is None:
        abort(404, "No proof of treatment is waiting for this testimonial.")
    response = send_file(
        path,
        mimetype=review.proof_mimetype,
        as_attachment=review.proof_mimetype == "application/pdf",
        download_name=f"proof-testimonial-{review.id}.{path.rsplit('.', 1)[-1]}",
        max_age=0,
    )
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@bp.post("/reviews/<int:review_id>/delete")
@limited("RATELIMIT_WRITE")
@login_required
def delete(review_id: int):
    review = _own_review(review_id)
    if not forms.DeleteForm().validate_on_submit():
        abort(400)
    slug = review.clinic.slug
    try:
        review_service.delete(review, by=current_user)
    except ServiceError as exc:
        _fail(exc)
    services.commit()
    flash("Your testimonial and its photos were deleted.", "success")
    return redirect(url_for("public.clinic", slug=slug))


@bp.route(
    "/report/<any(review, photo, result_case):target_type>/<int:target_id>", methods=["GET", "POST"]
)
@limited("RATELIMIT_REPORT")
@login_required
def report(target_type: str, target_id: int):
    try:
        target = moderation.target_of(target_type, target_id)
    except ServiceError:
        abort(404)
    if not reports.is_public_target(target):
        abort(404)
    form = forms.ReportForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            return render_template("reviews/report.html", target=target, form=form), 400
        try:
            reports.file(
                target_type,
                target_id,
                by=current_user,
                reason=form.reason.data,
                text=form.text.data or "",
                origin=requestorigin.current(),
            )
        except ServiceError as exc:
            db.session.rollback()
            form.form_errors.append(str(exc))
            return render_template("reviews/report.html", target=target, form=form), exc.status_code
        services.commit()
        flash("Thank you. A moderator will examine your report.", "success")
        return redirect(url_for("public.clinic", slug=target.clinic.slug))
    return render_template("reviews/report.html", target=target, form=form)


@bp.route(
    "/appeal/<any(review, followup, photo, result_case, claim, clinic):item_type>/<int:item_id>",
    methods=["GET", "POST"],
)
@limited("RATELIMIT_APPEAL")
@login_required
def appeal(item_type: str, item_id: int):
    target = moderation.target_of(item_type, item_id)  # NotFound: the handler's 404
    if target.author_id != current_user.id:
        abort(404)
    decision = moderation.appealable_decision(target) or moderation.last_adverse_decision(
        item_type, item_id
    )
    form = forms.AppealForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            return render_template(
                "reviews/appeal.html", target=target, decision=decision, form=form
            ), 400
        try:
            moderation.file_appeal(item_type, item_id, by=current_user, text=form.text.data)
        except (Invalid, InvalidState) as exc:
            db.session.rollback()
            form.form_errors.append(str(exc))
            return render_template(
                "reviews/appeal.html", target=target, decision=decision, form=form
            ), exc.status_code
        services.commit()
        flash(
            "Your appeal was sent. A moderator other than the one who decided will answer.",
            "success",
        )
        return redirect(url_for("account.index") + "#appeals-heading")
    return render_template("reviews/appeal.html", target=target, decision=decision, form=form)


@bp.get("/how-we-rank")
@public
def how_we_rank():
    from directory import quality

    return render_template("reviews/how_we_rank.html", figures=moderation.figures(), q=quality)
