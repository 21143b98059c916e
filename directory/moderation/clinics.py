"""Moderators' view of clinics: finding one, its profile history, and suspending
or reinstating it (through the one decision form and workflow)."""

from __future__ import annotations

from dataclasses import replace

from flask import abort, render_template, request, url_for

from directory.extensions import db
from directory.guards import moderator_required
from directory.models import Clinic
from directory.moderation.decisions import _decide, entries
from directory.moderation.views import bp
from directory.ratelimits import limited
from directory.services import profiles


@bp.get("/clinics/<slug>/history")
@moderator_required
def clinic_history(slug: str):
    clinic = db.session.execute(
        db.select(Clinic).where(Clinic.slug == slug[:120])
    ).scalar_one_or_none()
    if clinic is None:
        abort(404)
    return render_template(
        "moderation/clinics_history.html",
        clinic=clinic,
        changes=profiles.history(clinic),
        entry=replace(
            entries([clinic], "clinic")[0],
            action_url=url_for("moderation.set_clinic_status", clinic_id=clinic.id),
        ),
    )


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
    return _decide(clinic, back=url_for("moderation.clinic_history", slug=clinic.slug))
