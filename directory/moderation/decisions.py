"""Every moderation queue, the page of one item, holds, and the one decision view.

The queues are one table (services.moderation.QUEUES): each gets a paged GET page
and a POST decision URL. A decision goes through `_decide`: the form validated,
`moderation.decide()` called, one commit. A refused decision (bad input, a stale
state) re-renders the item's own page with the form and the message; refusals of
access (403) and missing items (404) go to the application's error handler.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from directory import formkit, services, trust
from directory.extensions import db
from directory.guards import moderator_required
from directory.models import ModerationDecision, Review, User
from directory.moderation.forms import DecisionForm
from directory.moderation.views import bp
from directory.ratelimits import limited
from directory.services import (
    Invalid,
    InvalidState,
    NotFound,
    claims,
    profiles,
    reports,
    results,
    risk,
)
from directory.services import moderation as mod

# queue key -> (queue URL, decision URL, decision endpoint, intro)
ROUTES = {
    "reviews": (
        "/reviews",
        "/reviews/<int:item_id>/decide",
        "decide_review",
        "Flags mark signals worth a closer look; they never decide on their own, and they "
        "never depend on whether the rating is good or bad.",
    ),
    "followups": ("/followups", "/followups/<int:item_id>/decide", "decide_followup", ""),
    "photos": (
        "/photos",
        "/photos/<int:item_id>/decide",
        "decide_photo",
        "Photos of pending testimonials are decided with the testimonial (publishing it "
        "publishes its photos with consent). Here: photos waiting on already published "
        "testimonials.",
    ),
    "reports": ("/reports", "/reports/<int:item_id>/decide", "decide_report", ""),
    "appeals": (
        "/appeals",
        "/appeals/<int:item_id>/decide",
        "decide_appeal",
        "An appeal is decided by a moderator other than the one who made the decision.",
    ),
    "claims": (
        "/claims",
        "/claims/<int:item_id>/decide",
        "decide_claim",
        "Approving makes the claimant the clinic's owner; it never changes the clinic's rank.",
    ),
    "new_clinics": (
        "/clinics/new",
        "/clinics/<int:item_id>/decide",
        "decide_clinic",
        "Listing publishes the clinic and makes the registrant its owner.",
    ),
    "results": (
        "/results",
        "/results/<int:item_id>/decide",
        "decide_result",
        "Check consent, that the photos belong together, and that they are not taken "
        "from elsewhere.",
    ),
}
QUEUE_OF_TYPE = {q.item_type: key for key, q in mod.QUEUES.items()}
ITEM_URL = "/items/<any(" + ", ".join(QUEUE_OF_TYPE) + "):item_type>/<int:item_id>"


@dataclass
class Entry:
    """One item as a queue or its own page shows it."""

    item: object
    item_type: str
    label: str
    form: DecisionForm
    blocked: str | None
    hold: object | None
    extra: dict = field(default_factory=dict)
    action_url: str | None = None  # where the form posts, when not the queue's URL

    @property
    def url(self) -> str:
        return url_for("moderation.item", item_type=self.item_type, item_id=self.item.id)

    @property
    def decide_url(self) -> str:
        if self.action_url:
            return self.action_url
        return url_for(
            "moderation." + ROUTES[QUEUE_OF_TYPE[self.item_type]][2], item_id=self.item.id
        )

    @property
    def mine(self) -> bool:
        return self.hold is not None and self.hold.moderator_id == current_user.id


def _target_or_none(item):
    try:
        return mod.subject_of(item)
    except NotFound:
        return None


def _review_extras(items: list) -> dict[int, dict]:
    out = {}
    for i in items:
        review = i if isinstance(i, Review) else i.review
        out[i.id] = {
            "review": review,
            "matches": {p.id: mod.photo_matches(p) for p in review.photos},
        }
    return out


def _report_extras(items: list) -> dict[int, dict]:
    targets = {i.id: _target_or_none(i) for i in items}
    profiles_ = reports.reporter_profiles(items, targets)
    return {i.id: {"target": targets[i.id], "reporter": profiles_.get(i.id)} for i in items}


def _appeal_extras(items: list) -> dict[int, dict]:
    return {
        i.id: {
            "target": _target_or_none(i),
            "decided_by": i.decision.moderator.display_name
            if i.decision.moderator
            else "automated",
        }
        for i in items
    }


def _clinic_extras(items: list) -> dict[int, dict]:
    return {
        i.id: {
            "duplicates": profiles.find_duplicates(i.name, i.city, exclude_id=i.id),
            "submitter": db.session.get(User, i.submitted_by_id) if i.submitted_by_id else None,
        }
        for i in items
    }


# item type -> what its card shows beside the item and its signals, for a page of items
EXTRAS = {
    "review": _review_extras,
    "followup": _review_extras,
    "photo": lambda items: {i.id: {"matches": {i.id: mod.photo_matches(i)}} for i in items},
    "report": _report_extras,
    "appeal": _appeal_extras,
    "claim": lambda items: {i.id: {"email_matches": claims.email_matches(i)} for i in items},
    "clinic": _clinic_extras,
    "result_case": lambda items: {i.id: {"matches": results.photo_matches(i)} for i in items},
}


def _extras(item_type: str, items: list, live: bool) -> dict[int, dict]:
    """What a moderator needs beside the item itself: the signals stored when the
    items came in (a queue page), or computed now (`live`: one item's own page)."""
    found = risk.of(item_type, items, live=live)
    more = EXTRAS[item_type](items)
    return {
        i.id: {
            "signals": found.get(i.id, []),
            "attention": trust.needs_attention(found.get(i.id, [])),
        }
        | more.get(i.id, {})
        for i in items
    }


def entries(
    items: list,
    item_type: str,
    failed: tuple[int, DecisionForm] | None = None,
    live: bool = False,
):
    extras = _extras(item_type, items, live)
    holds = mod.holds(item_type, [i.id for i in items])
    out = []
    for i in items:
        form = failed[1] if failed and failed[0] == i.id else DecisionForm.for_item(i)
        out.append(
            Entry(
                item=i,
                item_type=item_type,
                label=mod.ITEM_LABELS[item_type],
                form=form,
                blocked=mod.why_not(i, current_user, holds.get(i.id)),
                hold=holds.get(i.id),
                extra=extras[i.id],
            )
        )
    return out


@bp.context_processor
def _queues():
    return {"moderation_queues": list(mod.QUEUES.values())}


# --- queues ------------------------------------------------------------------------------


def _int_arg(name: str, default: int | None = None) -> int | None:
    return formkit.int_arg(request.args, name, default, 0)


def filters_from_request(q: mod.Queue) -> mod.Filters:
    order = request.args.get("order") or ("risk" if q.risky else "oldest")
    if order not in orders_of(q):
        abort(400, "Choose an order from the list.")
    signal = request.args.get("signal") or None
    if signal is not None and signal not in risk.FILTERS.get(q.item_type, {}):
        abort(400, "Choose a signal from the list.")
    return mod.Filters(
        order=order,
        clinic_id=_int_arg("clinic"),
        author_id=_int_arg("author"),
        min_age_days=formkit.int_arg(request.args, "older_than", None, 0, 36_500),
        signal=signal,
    )


def orders_of(q: mod.Queue) -> dict[str, str]:
    return {k: v for k, v in mod.ORDERS.items() if q.risky or k != "risk"}


def queue_view(key: str):
    q = mod.QUEUES[key]
    filters = filters_from_request(q)
    page = mod.queue_page(key, filters, page=_int_arg("page", 1) or 1)
    if page.page > page.pages:
        abort(404, "There is no such page in this queue.")
    return render_template(
        "moderation/queue.html",
        queue=q,
        intro=ROUTES[key][3],
        page=page,
        entries=entries(page.items, q.item_type),
        filters=filters,
        orders=orders_of(q),
        signal_choices=risk.FILTERS.get(q.item_type, {}),
        args={k: v for k, v in request.args.items() if k != "page"},
    )


def _decide(item, back: str | None = None):
    """Validate the form, decide, commit; a refused decision stays on the item's page."""
    form = DecisionForm.for_item(item, posted=True)
    if not form.validate_on_submit():
        return item_page(item, failed=form, status=400)
    try:
        mod.decide(
            item,
            form.action.data,
            by=current_user,
            reason_code=form.reason_code.data,
            statement=form.statement.data,
            proof=form.proof.data,
        )
    except (Invalid, InvalidState) as exc:
        db.session.rollback()
        form.form_errors.append(str(exc))
        return item_page(item, failed=form, status=exc.status_code)
    services.commit()
    label = mod.ITEM_LABELS[mod.item_type_of(item)]
    flash(f"Decision recorded on {label} #{item.id}: {form.action.data}.", "success")
    if back is None:
        back = url_for(mod.QUEUES[QUEUE_OF_TYPE[mod.item_type_of(item)]].endpoint)
    return redirect(back)


def _item_or_404(item_type: str, item_id: int):
    return mod.target_of(item_type, item_id).item  # NotFound: the error handler's 404


def _register(key: str) -> None:
    q = mod.QUEUES[key]
    queue_url, decide_url, decide_endpoint, _ = ROUTES[key]

    def show():
        return queue_view(key)

    def decide(item_id: int):
        item = db.session.get(mod.model_of(q.item_type), item_id)
        if item is None:
            abort(404)
        return _decide(item)

    show.__name__, decide.__name__ = q.endpoint.split(".")[1], decide_endpoint
    bp.add_url_rule(queue_url, view_func=moderator_required(show))
    bp.add_url_rule(
        decide_url,
        view_func=limited("RATELIMIT_MODERATION")(moderator_required(decide)),
        methods=["POST"],
    )


for _key in ROUTES:
    _register(_key)


# --- one item ----------------------------------------------------------------------------


def item_page(item, failed: DecisionForm | None = None, status: int = 200):
    item_type = mod.item_type_of(item)
    target = mod.subject_of(item)
    history = (
        db.session.execute(
            select(ModerationDecision)
            .where(
                ModerationDecision.item_type == target.item_type,
                ModerationDecision.item_id == target.item.id,
            )
            .order_by(ModerationDecision.id)
        )
        .scalars()
        .all()
    )
    entry = entries([item], item_type, failed=(item.id, failed) if failed else None, live=True)[0]
    return render_template(
        "moderation/item.html",
        entry=entry,
        history=history,
        queue=mod.QUEUES[QUEUE_OF_TYPE[item_type]],
    ), status


@bp.get(ITEM_URL)
@moderator_required
def item(item_type: str, item_id: int):
    return item_page(_item_or_404(item_type, item_id))


@bp.get("/reviews/<int:review_id>")
@moderator_required
def review(review_id: int):
    return item_page(db.get_or_404(Review, review_id))


@bp.post(ITEM_URL + "/take")
@limited("RATELIMIT_MODERATION")
@moderator_required
def take(item_type: str, item_id: int):
    item = _item_or_404(item_type, item_id)
    mod.take(item, current_user)
    services.commit()
    flash(
        f"You are working on this {mod.ITEM_LABELS[item_type]}: other moderators see it is "
        f"yours for {mod.HOLD_MINUTES} minutes.",
        "success",
    )
    return redirect(url_for("moderation.item", item_type=item_type, item_id=item_id))


@bp.post(ITEM_URL + "/release")
@limited("RATELIMIT_MODERATION")
@moderator_required
def release(item_type: str, item_id: int):
    item = _item_or_404(item_type, item_id)
    mod.release(item, current_user)
    services.commit()
    flash("You released the item; any moderator can take it.", "success")
    return redirect(url_for(mod.QUEUES[QUEUE_OF_TYPE[item_type]].endpoint))
