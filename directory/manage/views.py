"""Clinic self-service: the owner's dashboard, claiming and registering a
clinic, editing its profile and practitioners, result cases and replies.

Every route needs a login; which clinic a user may touch is decided by the
services (owner only), so another owner gets 403 and nothing changes.
"""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from directory import formkit, requestorigin, services
from directory.extensions import db
from directory.guards import confirmed_required, login_required
from directory.manage import forms
from directory.models import Clinic, ClinicClaim
from directory.ratelimits import limited
from directory.services import (
    InvalidState,
    claims,
    origin,
    profiles,
    replies,
    results,
)
from directory.services import dashboard as owner_dashboard

bp = Blueprint("manage", __name__)

# A ServiceError a view does not answer with its form goes to the app's handler:
# nothing staged survives, and the user sees its message with its 4xx status.


def _form_page(rule: str, limit: str = "RATELIMIT_WRITE", *, confirmed: bool = False):
    """A page with a form (GET shows it, POST sends it, rate-limited) for a logged-in
    user; `confirmed`: whose e-mail address is confirmed."""

    def register(view):
        if confirmed:
            view = confirmed_required(view)
        return bp.route(rule, methods=["GET", "POST"])(limited(limit)(login_required(view)))

    return register


def _owned(slug: str) -> Clinic:
    return profiles.owned_clinic(slug, current_user)


def _public_clinic(slug: str) -> Clinic:
    clinic = db.session.execute(
        db.select(Clinic).where(Clinic.slug == slug[:120])
    ).scalar_one_or_none()
    if clinic is None or not clinic.is_public:
        abort(404)
    return clinic


def _record_origin(kind: str, item_id: int) -> None:
    """Where the user sent a new claim, clinic or result case from (services.origin)."""
    origin.record(
        current_user, kind, item_type=kind, item_id=item_id, origin=requestorigin.current()
    )


@bp.get("")
@login_required
def dashboard():
    return render_template("manage/dashboard.html", board=owner_dashboard.dashboard(current_user))


@_form_page("/claims/<int:claim_id>/confirm", "RATELIMIT_RESET")
def confirm_claim_email(claim_id: int):
    """The claimant proves they read the clinic's business mailbox."""
    claim = db.get_or_404(ClinicClaim, claim_id)
    if claim.user_id != current_user.id:
        abort(404)
    form = forms.ClaimCodeForm()
    status = 200
    if form.validate_on_submit():
        try:
            if request.form.get("action") == "resend":
                claims.resend_code(claim, by=current_user)
                services.commit()
                flash(f"We sent a new code to {claim.business_email}.", "success")
                return redirect(url_for("manage.confirm_claim_email", claim_id=claim.id))
            ok = claims.confirm_code(claim, by=current_user, code=form.code.data)
        except InvalidState as exc:
            db.session.rollback()
            form.form_errors.append(str(exc))
            status = 409
        else:
            services.commit()  # a wrong code counts as a try
            if ok:
                flash("Thank you: the business e-mail is confirmed for the moderator.", "success")
                return redirect(url_for("manage.dashboard"))
            form.code.errors = ["That is not the code we sent."]
            status = 400
    elif form.is_submitted():
        status = 400
    return render_template("manage/claim_confirm.html", claim=claim, form=form), status


@_form_page("/claim/<slug>", "RATELIMIT_CLAIM", confirmed=True)
def claim(slug: str):
    clinic = _public_clinic(slug)
    form = forms.ClaimForm()
    existing = claims.open_claim(clinic, current_user)
    tried = formkit.attempt(
        form,
        lambda: claims.submit(
            clinic,
            by=current_user,
            role_at_clinic=form.role_at_clinic.data,
            business_email=form.business_email.data,
            phone=form.phone.data,
            evidence_links=form.evidence_links.data,
            evidence=form.evidence.data,
        ),
    )
    if tried.done:
        _record_origin("claim", tried.result.id)
        services.commit()
        flash("Thank you. A moderator will check your claim and write to you.", "success")
        return redirect(url_for("manage.dashboard"))
    return render_template(
        "manage/claim.html",
        clinic=clinic,
        form=form,
        existing=existing,
        claimable=claims.claimable(clinic),
    ), tried.status


@_form_page("/clinics/new", "RATELIMIT_NEW_CLINIC", confirmed=True)
def new_clinic():
    form = forms.NewClinicForm()
    tried = formkit.attempt(
        form,
        lambda: profiles.create_clinic(
            by=current_user,
            data=form.profile_data(),
            manual_coordinates=form.manual_coordinates.data,
        ),
    )
    if not tried.done:
        return render_template("manage/new_clinic.html", form=form), tried.status
    clinic = tried.result
    _record_origin("clinic", clinic.id)
    services.commit()
    flash(
        f"{clinic.name} is registered. A moderator will check it before it is "
        "listed; we will write to you.",
        "success",
    )
    similar = [
        c
        for c in profiles.find_duplicates(clinic.name, clinic.city, exclude_id=clinic.id)
        if c.is_public
    ]
    if similar:
        flash(
            f"A similar clinic is already listed: {similar[0].name} "
            f"({similar[0].city}). If it is yours, claim it from its page instead.",
            "warning",
        )
    return redirect(url_for("manage.dashboard"))


@_form_page("/<slug>/edit")
def edit(slug: str):
    clinic = _owned(slug)
    if request.method == "GET":
        form = forms.ProfileForm(obj=clinic)
        form.languages.data = ", ".join(clinic.languages or [])
        form.latitude.data = "" if clinic.latitude is None else f"{clinic.latitude:.6f}"
        form.longitude.data = "" if clinic.longitude is None else f"{clinic.longitude:.6f}"
    else:
        form = forms.ProfileForm()
    tried = formkit.attempt(
        form,
        lambda: profiles.update_profile(
            clinic,
            by=current_user,
            data=form.profile_data(),
            manual_coordinates=form.manual_coordinates.data,
        ),
    )
    if tried.done:
        services.commit()
        changes = tried.result
        flash(
            f"Saved: {len(changes)} change{'' if len(changes) == 1 else 's'}, live now."
            if changes
            else "Nothing changed.",
            "success",
        )
        return redirect(url_for("manage.edit", slug=clinic.slug))
    return render_template("manage/edit.html", clinic=clinic, form=form), tried.status


def _practitioner_fields(form: forms.PractitionerForm) -> dict:
    return {
        "name": form.name.data,
        "years_practice": form.years_practice.data,
        "training": form.training.data,
    }


@_form_page("/<slug>/practitioners")
def practitioners(slug: str):
    clinic = _owned(slug)
    form = forms.PractitionerForm()
    tried = formkit.attempt(
        form,
        lambda: profiles.add_practitioner(clinic, by=current_user, **_practitioner_fields(form)),
    )
    if tried.done:
        services.commit()
        flash(f"{form.name.data} added.", "success")
        return redirect(url_for("manage.practitioners", slug=clinic.slug))
    return render_template("manage/practitioners.html", clinic=clinic, form=form), tried.status


@_form_page("/<slug>/practitioners/<int:practitioner_id>")
def edit_practitioner(slug: str, practitioner_id: int):
    clinic = _owned(slug)
    practitioner = profiles.owned_practitioner(clinic, practitioner_id)
    form = forms.PractitionerForm(obj=practitioner if request.method == "GET" else None)
    tried = formkit.attempt(
        form,
        lambda: profiles.update_practitioner(
            practitioner, by=current_user, **_practitioner_fields(form)
        ),
    )
    if tried.done:
        services.commit()
        flash("Practitioner saved.", "success")
        return redirect(url_for("manage.practitioners", slug=clinic.slug))
    return render_template(
        "manage/practitioner_edit.html", clinic=clinic, practitioner=practitioner, form=form
    ), tried.status


@bp.post("/<slug>/practitioners/<int:practitioner_id>/retire")
@limited("RATELIMIT_WRITE")
@login_required
def retire_practitioner(slug: str, practitioner_id: int):
    clinic = _owned(slug)
    form = forms.ConfirmForm()
    if not form.validate_on_submit():
        abort(400, "The form expired; reload the page and try again.")
    practitioner = profiles.owned_practitioner(clinic, practitioner_id)
    profiles.retire_practitioner(practitioner, by=current_user)
    services.commit()
    flash(f"{practitioner.name} is marked as retired.", "success")
    return redirect(url_for("manage.practitioners", slug=clinic.slug))


@_form_page("/<slug>/results/new", "RATELIMIT_UPLOAD", confirmed=True)
def new_result(slug: str):
    clinic = _owned(slug)
    form = forms.ResultForm()
    form.practitioner_id.choices = forms.options(
        [(0, "Not named")] + [(p.id, p.name) for p in clinic.active_practitioners]
    )

    def submit():
        healed = form.healed.data
        return results.submit(
            clinic,
            by=current_user,
            before=form.before.data.read(),
            after=form.after.data.read(),
            healed=healed.read() if healed else None,
            **form.case_data(),
        )

    tried = formkit.attempt(form, submit)
    if tried.done:
        _record_origin("result_case", tried.result.id)
        services.commit()
        flash(
            "Result case sent. A moderator checks it before it appears in your gallery.",
            "success",
        )
        return redirect(url_for("manage.dashboard"))
    return render_template("manage/result_new.html", clinic=clinic, form=form), tried.status


@bp.get("/<slug>/reviews")
@login_required
def reviews(slug: str):
    clinic = _owned(slug)
    return render_template(
        "manage/reviews.html", clinic=clinic, reviews=replies.reviews_for_owner(clinic)
    )


@_form_page("/<slug>/reviews/<int:review_id>/reply")
def reply(slug: str, review_id: int):
    clinic = _owned(slug)
    review = replies.review_of(clinic, review_id)
    form = forms.ReplyForm()
    if request.method == "GET" and review.reply is not None:
        form.text.data = review.reply.text
    tried = formkit.attempt(
        form, lambda: replies.save(review, by=current_user, text=form.text.data)
    )
    if tried.done:
        services.commit()
        flash("Your reply is published under the testimonial.", "success")
        return redirect(url_for("manage.reviews", slug=clinic.slug) + f"#review-{review.id}")
    return render_template(
        "manage/reply.html", clinic=clinic, review=review, form=form
    ), tried.status
