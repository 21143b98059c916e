"""Queues ordered by risk: the signals of a waiting item are stored when it is
submitted (and refreshed for the items it changes the picture of), never computed
on page view, and a moderator sees the flagged items first and can filter by signal."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from directory.extensions import db
from directory.models import Clinic, QueueRisk, Review, User
from directory.services import moderation, origin, risk
from directory.services import reviews as review_service
from tests.conftest import login
from tests.factories import ClinicFactory, ReviewFactory, UserFactory
from tests.reviews_helpers import make_world

KEY = "risk-test-origin-key"


def submit(clinic_id: int, user_id: int, address: str, device: str, text: str) -> int:
    where = origin.from_values(address, device, KEY)
    data = review_service.ReviewInput(
        treatment_type="full_scalp",
        sessions=3,
        last_session_month=date(2026, 3, 1),
        overall=5,
        ratings={k: 5 for k in ("realism", "hairline", "dots", "care")},
        text=text,
    )
    user = db.session.get(User, user_id)
    review = review_service.submit(
        db.session.get(Clinic, clinic_id), by=user, data=data, origin=where
    )
    return review.id


TEXTS = [
    "The hairline looks natural in daylight and the artist explained every step of the "
    "three sessions, including aftercare, healing and what to expect in the first month.",
    "Booked after a long consultation. Dots are small and even; nobody at work noticed, "
    "which was the point. Follow-up session was free and the studio was spotless.",
    "I was nervous about the colour turning blue, the practitioner showed healed results "
    "from years ago. Eight months on it still matches my shaved stubble perfectly.",
]


@pytest.fixture
def ring(app):
    """A clinic with one honest, older pending testimonial, then three accounts on one
    device submitting through the real service."""
    with app.app_context():
        clinic = ClinicFactory()
        honest = ReviewFactory(
            clinic=clinic,
            status="pending",
            author=UserFactory(
                email="margaret.oduya@example.org",
                created_at=datetime.now(UTC) - timedelta(days=400),
            ),
            created_at=datetime.now(UTC) - timedelta(days=2),
        )
        db.session.commit()
        ring_ids = []
        for i, name in enumerate(("amara", "bogdan", "chidi")):
            u = UserFactory(email=f"{name}.client@mail{i}.example")
            db.session.commit()
            ring_ids.append(submit(clinic.id, u.id, f"100.64.{i}.9", "one-phone", TEXTS[i]))
            db.session.commit()  # each submission is its own request
        return clinic.id, honest.id, ring_ids


def test_signals_are_stored_at_submission_and_flagged_items_come_first(app, ring):
    clinic_id, honest_id, ring_ids = ring
    with app.app_context():
        stored = risk.stored("review", ring_ids)
        assert set(stored) == set(ring_ids)
        # the first testimonial was refreshed when the later ones arrived (a ring of 3)
        first = {s.key for s in stored[ring_ids[0]] if s.flag}
        assert {"linked_accounts", "shared_origin"} <= first
        page = moderation.queue_page("reviews")  # default: riskiest first
        order = [r.id for r in page.items]
        assert order.index(honest_id) > max(order.index(i) for i in ring_ids)
        oldest = [
            r.id for r in moderation.queue_page("reviews", moderation.Filters("oldest")).items
        ]
        assert oldest[0] == honest_id
        shared = moderation.queue_page("reviews", moderation.Filters(signal="shared_origin"))
        assert {r.id for r in shared.items} == set(ring_ids) and shared.total == 3


def test_a_rolled_back_submission_stores_no_signals(app):
    with app.app_context():
        clinic = ClinicFactory()
        u = UserFactory()
        db.session.commit()
        rid = submit(clinic.id, u.id, "198.51.100.4", "dev-x", TEXTS[0])
        db.session.rollback()
        assert db.session.execute(select(QueueRisk).where(QueueRisk.item_id == rid)).first() is None


def test_a_queue_page_computes_nothing(app, client, ring):
    clinic_id, honest_id, ring_ids = ring
    world = make_world(app)
    with app.app_context():
        before = dict(db.session.execute(select(QueueRisk.item_id, QueueRisk.computed_at)).all())
    login(client, world.moderator_id, mfa=True)
    html = client.get("/moderation/reviews").get_data(as_text=True)
    assert "Riskiest first" in html and 'name="signal"' in html
    assert html.index(f'id="review-{ring_ids[0]}"') < html.index(f'id="review-{honest_id}"')
    assert "needs a closer look" in html
    with app.app_context():
        after = dict(db.session.execute(select(QueueRisk.item_id, QueueRisk.computed_at)).all())
    assert after == before
    only = client.get("/moderation/reviews?signal=linked_accounts").get_data(as_text=True)
    assert "3 waiting with this signal" in only and f'id="review-{honest_id}"' not in only
    assert client.get("/moderation/reviews?signal=nonsense").status_code == 400
    assert client.get("/moderation/reviews?signal=%25").status_code == 400
    # queues without signals keep age order and do not offer risk
    appeals = client.get("/moderation/appeals")
    assert appeals.status_code == 200 and "Riskiest first" not in appeals.get_data(as_text=True)
    assert client.get("/moderation/appeals?order=risk").status_code == 400


def test_the_worker_and_the_cli_recompute_what_waits(app, runner, ring):
    clinic_id, honest_id, ring_ids = ring
    with app.app_context():
        db.session.execute(QueueRisk.__table__.delete())
        db.session.commit()
        # never computed: listed after the computed ones would be wrong, so the job fills in
        assert risk.refresh_waiting(timedelta(minutes=30)) >= 4
        db.session.commit()
        assert set(risk.stored("review", [honest_id, *ring_ids])) == {honest_id, *ring_ids}
        assert risk.refresh_waiting(timedelta(minutes=30)) == 0  # nothing stale
    result = runner.invoke(args=["queue-risk"])
    assert result.exit_code == 0 and "waiting items" in result.output


def test_decided_items_leave_the_risk_order(app, ring):
    clinic_id, honest_id, ring_ids = ring
    with app.app_context():
        mod = UserFactory(role="moderator")
        db.session.commit()
        moderation.decide(
            db.session.get(Review, ring_ids[0]),
            "reject",
            by=mod,
            reason_code="conflict_of_interest",
            statement="Three accounts on one phone, posting within minutes.",
        )
        db.session.commit()
        ids = [r.id for r in moderation.queue_page("reviews").items]
        assert ring_ids[0] not in ids and honest_id in ids
