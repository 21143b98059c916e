"""A testimonial's card as a visitor sees it is rendered once per content
(templating.MacroMemo, `public_review_card`): every change still shows on the next
visit with the page cache off, and a signed-in author never gets the visitor's card."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from directory import services
from directory.extensions import db
from directory.models import ClinicReply, FollowUp, Review, User
from tests.conftest import login
from tests.factories import ClinicFactory, ReviewFactory

REPORT = "Report this testimonial"


def page(client, url: str) -> str:
    """The page without its per-response CSP nonce."""
    return re.sub(r'nonce="[^"]+"', "", client.get(url).get_data(as_text=True))


def test_every_change_to_a_testimonial_shows_on_the_next_visit(app_factory):
    app = app_factory(PAGE_CACHE=False)
    with app.app_context():
        clinic = ClinicFactory(slug="memo-reviews")
        review = ReviewFactory(clinic=clinic, text="Crisp dots, even shade.")
        ReviewFactory(clinic=clinic, text="Crisp dots, even shade.")  # the same words twice
        services.commit()
        rid, uid = review.id, review.author_id
        author_name = review.author.display_name
    client = app.test_client()
    pages = ["/clinics/memo-reviews", "/clinics/memo-reviews/reviews"]
    for url in pages:
        first = page(client, url)
        assert first.count("<p>Crisp dots, even shade.</p>") == 2 and first.count(REPORT) == 2
        assert page(client, url) == first  # the second visit: the same page
        assert f"/report/review/{rid}" in first and author_name in first

    # One change at a time: each is a field of the testimonial or of a record in it.
    def change(edit, shown, gone=None):
        with app.app_context():
            edit(db.session.get(Review, rid))
            services.commit()
        for url in pages:
            html = page(client, url)
            assert shown in html and html.count(REPORT) == 2, (url, shown)
            assert gone is None or gone not in html, (url, gone)

    def rename_author(review):
        db.session.get(User, uid).display_name = "Renamed Author"

    def reply(review):
        db.session.add(
            ClinicReply(review_id=rid, clinic_id=review.clinic_id, text="Thank you, kind words.")
        )

    def follow_up(review):
        db.session.add(
            FollowUp(
                review_id=rid,
                text="A year on, still sharp.",
                status="published",
                published_at=datetime.now(UTC),
            )
        )

    def edit_text(review):
        review.text = "Crisp dots, even shade. Healed well."

    change(rename_author, "Renamed Author", gone=author_name)
    change(reply, "Thank you, kind words.")
    change(follow_up, "A year on, still sharp.")
    change(edit_text, "<p>Crisp dots, even shade. Healed well.</p>")

    with app.app_context():
        db.session.get(ClinicReply, db.session.query(ClinicReply.id).scalar()).status = "removed"
        db.session.get(Review, rid).status = "removed"
        services.commit()
    for url in pages:
        html = page(client, url)
        assert "Thank you, kind words." not in html and "Healed well." not in html
        assert html.count(REPORT) == 1


def test_the_author_signed_in_gets_the_follow_up_link_not_the_visitors_card(app_factory):
    app = app_factory(PAGE_CACHE=False)
    with app.app_context():
        review = ReviewFactory(clinic=ClinicFactory(slug="memo-author"), text="Natural look.")
        services.commit()
        rid, uid = review.id, review.author_id
    visitor, author = app.test_client(), app.test_client()
    assert REPORT in visitor.get("/clinics/memo-author").get_data(as_text=True)  # memo filled
    login(author, uid)
    html = author.get("/clinics/memo-author").get_data(as_text=True)
    assert f"/reviews/{rid}/followup" in html
    assert REPORT not in html
