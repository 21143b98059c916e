"""Moderation as a moderator works through it: paged queues, a refused decision
that stays on the item, the log in plain words, appeals from the account page."""

from __future__ import annotations

import pytest

from directory.extensions import db
from directory.models import Clinic, Review, User
from directory.services import moderation
from tests.conftest import login, post_form
from tests.factories import ReviewFactory, UserFactory
from tests.reviews_helpers import make_world
from tests.web._mail import last_to, link_in, path_of
from tests.web.test_moderation_content import DECISION, decide, pending_review


@pytest.fixture
def world(app):
    return make_world(app)


def many_pending(app, world, n):
    with app.app_context():
        clinic = db.session.get(Clinic, world.clinic_id)
        ids = [
            ReviewFactory(clinic=clinic, status="pending", author=UserFactory()).id
            for _ in range(n)
        ]
        return ids


def test_queue_pages_show_every_item_once_with_the_count(client, app, world):
    ids = many_pending(app, world, 30)
    login(client, world.moderator_id, mfa=True)
    one = client.get("/moderation/reviews").get_data(as_text=True)
    two = client.get("/moderation/reviews?page=2").get_data(as_text=True)
    assert "30 waiting · page 1 of 2" in one and "page 2 of 2" in two
    seen_one = {i for i in ids if f'id="review-{i}"' in one}
    seen_two = {i for i in ids if f'id="review-{i}"' in two}
    assert len(seen_one) == 25 and len(seen_two) == 5 and seen_one | seen_two == set(ids)
    assert 'rel="next"' in one and 'rel="prev"' in two
    newest = client.get("/moderation/reviews?order=newest").get_data(as_text=True)
    assert f'id="review-{ids[-1]}"' in newest and f'id="review-{ids[0]}"' not in newest
    assert client.get("/moderation/reviews?page=3").status_code == 404
    assert client.get("/moderation/reviews?order=random").status_code == 400
    assert client.get("/moderation/reviews?clinic=abc").status_code == 400


def test_a_refused_decision_stays_on_the_item_with_the_message(client, app, world):
    rid = pending_review(app, world)
    login(client, world.moderator_id, mfa=True)
    resp = decide(client, f"/moderation/reviews/{rid}/decide", {"action": "verify"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 400
    assert "Decision not recorded" in html and "proof of treatment" in html
    # The item itself is on the page, with the form filled in as it was sent.
    assert f"Testimonial #{rid}" in html and "First-hand account, on topic." in html
    resp = decide(client, f"/moderation/reviews/{rid}/decide", {"statement": "short"})
    assert resp.status_code == 400 and "at least 10 characters" in resp.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Review, rid).status == "pending"


def test_pending_items_are_not_offered_remove_and_claims_get_claim_reasons(client, app, world):
    rid = pending_review(app, world)
    login(client, world.moderator_id, mfa=True)
    html = client.get(f"/moderation/reviews/{rid}").get_data(as_text=True)
    assert 'value="publish"' in html and 'value="remove"' not in html
    assert "Not a first-hand experience" in html


def test_dashboard_lists_every_queue_with_size_and_age(client, app, world):
    many_pending(app, world, 3)
    login(client, world.moderator_id, mfa=True)
    html = client.get("/moderation/").get_data(as_text=True)
    for q in moderation.QUEUES.values():
        assert q.label in html
    assert '<tr data-queue="reviews">' in html and '<td class="count">3</td>' in html


def test_log_shows_names_links_and_plain_reasons_and_filters(client, app, world):
    rid = pending_review(app, world)
    login(client, world.moderator_id, mfa=True)
    decide(client, f"/moderation/reviews/{rid}/decide")
    html = client.get("/moderation/log").get_data(as_text=True)
    assert "Mod One" in html and "moderator #" not in html
    assert f'href="/moderation/items/review/{rid}"' in html
    assert "Meets our guidelines" in html and "meets_guidelines</td>" not in html
    assert "Mod One" in client.get("/moderation/log?type=review").get_data(as_text=True)
    assert "No decisions match" in client.get("/moderation/log?type=claim").get_data(as_text=True)
    assert client.get("/moderation/log?type=nonsense").status_code == 400


def test_appeal_from_the_account_page_to_another_moderator(client, app, world):
    rid = pending_review(app, world)
    login(client, world.moderator_id, mfa=True)
    resp = decide(
        client,
        f"/moderation/reviews/{rid}/decide",
        {"action": "reject", "reason_code": "off_topic", "statement": "Not about SMP work."},
    )
    assert resp.status_code == 302
    msg = last_to(app, "author@mail.test")
    account = path_of(link_in(msg, "/account"))
    author = app.test_client()
    login(author, world.author_id)
    page = author.get(account).get_data(as_text=True)
    assert "Appeal this decision" in page and f"/appeal/review/{rid}" in page
    resp = post_form(
        author, f"/appeal/review/{rid}", {"text": "It is my own experience of this clinic."}
    )
    assert resp.status_code == 302
    assert "waiting for a moderator" in author.get("/account").get_data(as_text=True)
    # The moderator who rejected it is told why they cannot decide; no form.
    html = client.get("/moderation/appeals").get_data(as_text=True)
    assert "A different moderator must decide" in html
    assert "/moderation/appeals/" not in html.split("A different moderator")[1][:400]
    other = app.test_client()
    login(other, world.moderator2_id, mfa=True)
    with app.app_context():
        appeal_id = moderation.queue_page("appeals").items[0].id
    resp = post_form(
        other,
        f"/moderation/appeals/{appeal_id}/decide",
        {**DECISION, "action": "uphold", "reason_code": "earlier_decision_wrong"},
        form_url="/moderation/appeals",
    )
    assert resp.status_code == 302
    with app.app_context():
        assert db.session.get(Review, rid).status == "published"
    assert "was upheld" in last_to(app, "author@mail.test")["Subject"]


def test_take_an_item_so_that_no_one_else_decides_it(client, app, world):
    rid = pending_review(app, world)
    login(client, world.moderator_id, mfa=True)
    resp = post_form(client, f"/moderation/items/review/{rid}/take", {})
    assert resp.status_code == 302
    other = app.test_client()
    login(other, world.moderator2_id, mfa=True)
    html = other.get("/moderation/reviews").get_data(as_text=True)
    assert "Being handled by Mod One" in html or "Mod One is working on this item" in html
    resp = decide(other, f"/moderation/reviews/{rid}/decide")
    assert resp.status_code == 403
    assert decide(client, f"/moderation/reviews/{rid}/decide").status_code == 302
    with app.app_context():
        assert db.session.get(User, world.moderator_id) is not None
        assert db.session.get(Review, rid).status == "published"
