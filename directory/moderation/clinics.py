"""Moderation of clinic claims, newly registered clinics and result cases,
and the change history of a clinic's profile."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from directory import services
from directory.extensions import db
from directory.guards import moderator_required
from directory.models import Clinic, ClinicClaim, ResultCase, User
from directory.moderation.clinic_forms import ClinicDecisionForm, ClinicStatusForm
from directory.moderation.views import bp
from directory.ratelimits import limited
from directory.services import Invalid, ServiceError, claims, profiles, results


def _may_decide(clinic: Clinic | None, submitter_id: int | None) -> str | None:
    """Why the current moderator may not decide on this item, or None."""
    try:
        profiles.ensure_may_decide(current_user, clinic, submitter_id)
    except ServiceError as exc:
        return str(exc)
    return None


def _claims_page(form=None, form_for=None, status=200):
    items = [
        {
            "claim": c,
            "email_matches": claims.email_matches(c),
            "blocked": _may_decide(c.clinic, c.user_id),
            "form": form if form_for == c.id else ClinicDecisionForm(formdata=None),
        }
        for c in claims.pending()
    ]
    return render_template("moderation/clinics_claims.html", items=items), status


def _decide(item, action_approve, action_reject, page, page_endpoint, done_message):
    form = ClinicDecisionForm()
    if not form.validate_on_submit():
        return page(form=form, form_for=item.id, status=400)
    approve = form.decision.data == "approve"
    try:
        (action_approve if approve else action_reject)(
            item, by=current_user, reason_code=form.reason_code.data, statement=form.statement.data
        )
    except Invalid as exc:
        db.session.rollback()
        form.form_errors.append(str(exc))
        return page(form=form, form_for=item.id, status=400)
    except ServiceError as exc:
        db.session.rollback()
        abort(exc.status_code, str(exc))
    services.commit()
    flash(done_message(approve), "success")
    return redirect(url_for(page_endpoint))


@bp.get("/claims", endpoint="claims")
@moderator_required
def claims_queue():
    return _claims_page()


@bp.post("/claims/<int:claim_id>/decide")
@limited("RATELIMIT_MODERATION")
@moderator_required
def decide_claim(claim_id: int):
    claim = db.get_or_404(ClinicClaim, claim_id)
    return _decide(
        claim,
        claims.approve,
        claims.reject,
        _claims_page,
        "moderation.claims",
        lambda ok: (
            "Claim approved: the claimant now manages the clinic."
            if ok
            else "Claim rejected; the claimant has been told why."
        ),
    )


def _new_clinics_page(form=None, form_for=None, status=200):
    items = [
        {
            "clinic": c,
            "duplicates": profiles.find_duplicates(c.name, c.city, exclude_id=c.id),
            "blocked": _may_decide(c, c.submitted_by_id),
            "submitter": db.session.get(User, c.submitted_by_id) if c.submitted_by_id else None,
            "form": form if form_for == c.id else ClinicDecisionForm(formdata=None),
        }
        for c in profiles.pending_clinics()
    ]
    return render_template("moderation/clinics_new.html", items=items), status


@bp.get("/clinics/new")
@moderator_required
def new_clinics():
    return _new_clinics_page()


@bp.post("/clinics/<int:clinic_id>/decide")
@limited("RATELIMIT_MODERATION")
@moderator_required
def decide_clinic(clinic_id: int):
    clinic = db.get_or_404(Clinic, clinic_id)

    def approve(c, **kw):
        profiles.decide_clinic(c, publish=True, **kw)

    def reject(c, **kw):
        profiles.decide_clinic(c, publish=False, **kw)

    return _decide(
        clinic,
        approve,
        reject,
        _new_clinics_page,
        "moderation.new_clinics",
        lambda ok: "Clinic listed." if ok else "Clinic rejected; the registrant has been told why.",
    )


def _results_page(form=None, form_for=None, status=200):
    items = [
        {
            "case": c,
            "matches": results.photo_matches(c),
            "blocked": _may_decide(c.clinic, c.submitted_by_id),
            "form": form if form_for == c.id else ClinicDecisionForm(formdata=None),
        }
        for c in results.pending()
    ]
    return render_template("moderation/clinics_results.html", items=items), status


@bp.get("/results", endpoint="results")
@moderator_required
def results_queue():
    return _results_page()


@bp.post("/results/<int:case_id>/decide")
@limited("RATELIMIT_MODERATION")
@moderator_required
def decide_result(case_id: int):
    case = db.get_or_404(ResultCase, case_id)
    return _decide(
        case,
        results.publish,
        results.reject,
        _results_page,
        "moderation.results",
        lambda ok: (
            "Result case published."
            if ok
            else "Result case rejected; the clinic has been told why."
        ),
    )


@bp.get("/clinics/<slug>/history")
@moderator_required
def clinic_history(slug: str):
    clinic = db.session.execute(
        db.select(Clinic).where(Clinic.slug == slug[:120])
    ).scalar_one_or_none()
    if clinic is None:
        abort(404)
    return _history_page(clinic)


def _history_page(clinic: Clinic, form=None, status=200):
    return render_template(
        "moderation/clinics_history.html",
        clinic=clinic,
        changes=profiles.history(clinic),
        blocked=_may_decide(clinic, None),
        status_form=form or ClinicStatusForm(formdata=None),
    ), status


@bp.get("/clinics")
@moderator_required
def clinic_list():
    query = request.args.get("q", "")
    if len(query) > 120:
        abort(400, "The search text is too long.")
    return render_template(
        "moderation/clinics_list.html", query=query, clinics=profiles.find_for_moderation(query)
    )


@bp.post("/clinics/<int:clinic_id>/status")
@limited("RATELIMIT_MODERATION")
@moderator_required
def set_clinic_status(clinic_id: int):
    clinic = db.get_or_404(Clinic, clinic_id)
    form = ClinicStatusForm()
    suspend = request.form.get("action") == "suspend"
    if not form.validate_on_submit():
        return _history_page(clinic, form, 400)
    try:
        profiles.set_suspended(
            clinic,
            by=current_user,
            suspend=suspend,
            reason_code=form.reason_code.data,
            statement=form.statement.data,
        )
    except Invalid as exc:
        db.session.rollback()
        form.form_errors.append(str(exc))
        return _history_page(clinic, form, 400)
    except ServiceError as exc:
        db.session.rollback()
        abort(exc.status_code, str(exc))
    services.commit()
    flash(
        f"{clinic.name} is {'suspended' if suspend else 'reinstated'}; the owner has been told "
        "why.",
        "success",
    )
    return redirect(url_for("moderation.clinic_history", slug=clinic.slug))
