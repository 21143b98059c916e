"""Public guide pages: the SMP guide, the cost estimate and the comparison."""

from __future__ import annotations

from flask import abort, redirect, render_template, request, url_for

from directory import vocab
from directory.guards import public
from directory.public import forms
from directory.public.views import bp
from directory.services import compare as compare_service
from directory.services import costs
from directory.services.clinics import list_countries


@bp.get("/guide")
@public
def guide():
    return render_template("public/guide.html")


@bp.get("/cost")
@public
def cost():
    stage = forms.choice_arg(request.args, "stage", vocab.STAGES)
    service = forms.choice_arg(request.args, "service", vocab.SERVICES) or "full_scalp"
    country = forms.text_arg(request.args, "country", 2)
    if country and not (len(country) == 2 and country.isalpha()):
        abort(400, "“country” must be a two-letter country code.")
    country = country.upper() if country else None
    currency = forms.choice_arg(request.args, "currency", vocab.CURRENCIES)
    asked = bool(stage or country or request.args.get("service"))
    if currency is None:
        currency = (costs.country_currency(country) if country else None) or "USD"
    estimate = costs.estimate(stage, service, country, currency) if asked else None
    return render_template(
        "public/cost.html",
        estimate=estimate,
        listed=costs.listed_prices(country) if country else [],
        stage=stage,
        service=service,
        country=country or "",
        currency=currency,
        countries=list_countries(),
        repair=service in costs.REPAIR_SERVICES,
        min_points=costs.MIN_POINTS,
    )


@bp.get("/compare")
@public
def compare():
    slugs = request.args.getlist("c")
    if len(slugs) > 20 or any(len(s) > 120 for s in slugs):
        abort(400, "Too many clinics to compare.")
    add = forms.text_arg(request.args, "add", 120)
    if add:
        found = compare_service.find_by_name(add)
        if found is None:
            return render_template(
                "public/compare.html",
                columns=compare_service.columns(slugs),
                slugs=slugs,
                not_found=add,
            ), 200
        return redirect(url_for("public.compare", c=[*slugs, found.slug]))
    cols = compare_service.columns(slugs)
    return render_template(
        "public/compare.html", columns=cols, slugs=[c.clinic.slug for c in cols], not_found=None
    )
