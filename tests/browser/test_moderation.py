"""An appeal from end to end in Chromium: moderator A rejects a testimonial, its author
follows the link in the e-mail to /account and appeals, A is not offered the appeal,
moderator B upholds it, and the testimonial is public."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from directory.demo import DEMO_TOTP
from directory.extensions import db
from directory.models import Clinic, Review, User
from tests.browser.conftest import log_in, serious_violations
from tests.browser.test_reviews import live_app  # noqa: F401  (fixture)
from tests.web._mail import last_to

pytestmark = pytest.mark.browser

TEXT = (
    "Four sessions with the same practitioner; a year on the dots are still crisp and "
    "nobody at work has noticed anything but a close buzz cut."
)


def pending_testimonial(live_app) -> tuple[int, str]:  # noqa: F811
    """Casey's testimonial waiting for a moderator, about a clinic Casey has not reviewed."""
    with live_app.app_context():
        casey = db.session.execute(
            select(User).where(User.email == "consumer@example.com")
        ).scalar_one()
        reviewed = select(Review.clinic_id).where(Review.author_id == casey.id)
        clinic = db.session.execute(
            select(Clinic)
            .where(Clinic.status.in_(("listed", "claimed", "verified")), Clinic.id.not_in(reviewed))
            .where(Clinic.owner_id.is_(None))
            .order_by(Clinic.id)
            .limit(1)
        ).scalar_one()
        review = Review(
            clinic_id=clinic.id,
            author_id=casey.id,
            treatment_type=clinic.services[0],
            sessions=4,
            last_session_month=datetime.now(UTC).date().replace(day=1, year=2025),
            overall=4,
            text=TEXT,
            status="pending",
        )
        db.session.add(review)
        db.session.commit()
        return review.id, clinic.slug


def decide(page, card, action: str, reason: str, statement: str) -> None:
    card.get_by_label("Decision", exact=True).select_option(action)
    card.get_by_label("Reason", exact=True).select_option(reason)
    card.get_by_label(re.compile("Statement of reasons")).fill(statement)
    card.get_by_role("button", name="Record decision").click()
    page.wait_for_load_state()


def test_rejected_author_appeals_and_another_moderator_restores(browser, live_server, live_app):  # noqa: F811
    rid, slug = pending_testimonial(live_app)
    contexts = [browser.new_context(base_url=live_server.url) for _ in range(3)]
    morgan, casey, riley = (c.new_page() for c in contexts)
    for p in (morgan, casey, riley):
        p.set_default_timeout(20_000)

    # Moderator A rejects, from the testimonial's own page.
    log_in(morgan, "moderator@example.com", totp_secret=DEMO_TOTP["moderator"])
    morgan.goto(f"/moderation/items/review/{rid}")
    card = morgan.locator(f"#review-{rid}")
    decide(morgan, card, "reject", "not_first_hand", "It reads like an advert, not a treatment.")
    assert morgan.get_by_text(re.compile("Decision recorded")).is_visible()

    # The author follows the link the e-mail names, to /account, and appeals.
    msg = last_to(live_server, "consumer@example.com")
    body = msg.get_content()
    assert "Not a first-hand experience" in body and "not_first_hand" not in body
    account = re.search(r"https?://\S+/account\b", body).group(0)
    log_in(casey, "consumer@example.com")
    casey.goto(account)
    row = casey.locator("li.appeal-row", has_text=re.compile("advert, not a treatment"))
    row.get_by_role("link", name="Appeal this decision").click()
    casey.wait_for_url(re.compile(rf"/appeal/review/{rid}$"))
    casey.get_by_label("Why the decision should change").fill(
        "I was treated there four times; I can show the booking e-mails."
    )
    casey.get_by_role("button", name="Send the appeal").click()
    casey.wait_for_url(re.compile(r"/account"))
    assert casey.get_by_text("Your appeal of").first.is_visible()
    assert serious_violations(casey) == []

    # Moderator A is not offered the appeal: the card says why and has no form.
    morgan.goto("/moderation/appeals?order=newest")
    mine = morgan.locator("article.moderation-item", has_text="I was treated there four times")
    assert mine.get_by_text(re.compile("A different moderator must decide")).is_visible()
    assert mine.get_by_role("button", name="Record decision").count() == 0

    # Moderator B upholds it; the testimonial is public.
    log_in(riley, "moderator2@example.com", totp_secret=DEMO_TOTP["moderator2"])
    riley.goto("/moderation/appeals?order=newest")
    theirs = riley.locator("article.moderation-item", has_text="I was treated there four times")
    decide(riley, theirs, "uphold", "earlier_decision_wrong", "The bookings show a real client.")
    assert riley.get_by_text(re.compile("Decision recorded")).is_visible()
    assert serious_violations(riley) == []
    visitor = browser.new_context(base_url=live_server.url).new_page()
    visitor.goto(f"/clinics/{slug}")
    assert visitor.get_by_text(TEXT[:40]).is_visible()
    assert "was upheld" in last_to(live_server, "consumer@example.com")["Subject"]
    visitor.context.close()
    for c in contexts:
        c.close()
