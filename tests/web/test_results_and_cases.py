"""Results a person can judge: the author's case, like-for-like scores on the pages,
/results across clinics, the viewer's images, proof of treatment and follow-ups
with photos."""

from __future__ import annotations

import io
import os
import re

import pytest
from sqlalchemy import select

from directory.extensions import db
from directory.models import Clinic, FollowUp, Photo, Review, User
from directory.search import indexer
from directory.services import casescores, moderation, scores
from directory.services import reviews as review_service
from tests.conftest import login, post_form
from tests.factories import ClinicFactory, ResultCaseFactory, ReviewFactory, image_bytes
from tests.reviews_helpers import form_data, make_world, months_ago
from tests.web._mail import last_to

DARK = {"stage": "norwood-6", "skin_type": 6, "hair_colour": "black", "goal": "buzz"}
FAIR = {"stage": "norwood-2", "skin_type": 2, "hair_colour": "blond", "goal": "buzz"}


@pytest.fixture
def world(app):
    return make_world(app)


@pytest.fixture
def two_specialists(app):
    """Dark Skin Studio: excellent on dark skin, poor on fair; Fair Skin Studio the opposite,
    and better overall (more fair-skinned testimonials)."""
    with app.app_context():
        dark = ClinicFactory(name="Dark Skin Studio", slug="dark", city="Lagos", country="NG")
        fair = ClinicFactory(name="Fair Skin Studio", slug="fair", city="Oslo", country="NO")
        for _ in range(6):
            ReviewFactory(clinic=dark, overall=5, price_paid=400, price_currency="NGN", **DARK)
        for _ in range(2):
            ReviewFactory(clinic=dark, overall=2, **FAIR)
        for _ in range(10):
            ReviewFactory(clinic=fair, overall=5, price_paid=9000, price_currency="USD", **FAIR)
        for _ in range(3):
            ReviewFactory(clinic=fair, overall=2, **DARK)
        for c in (dark, fair):
            scores.recompute_clinic(c)
            ResultCaseFactory(clinic=c, notes=f"RESULT-{c.slug}", **DARK)
        db.session.commit()


def test_recompute_caches_case_evidence_without_price(app, two_specialists):
    with app.app_context():
        dark = db.session.execute(select(Clinic).where(Clinic.slug == "dark")).scalar_one()
        assert len(dark.case_evidence) == 8
        w, s, stage, skin, hair, goal = dark.case_evidence[0]
        assert (stage, skin, hair, goal) == ("norwood-6", 6, "black", "buzz") and s == 5.0
        before = casescores.score_for(dark, casescores.parse_case(DARK))
        for r in db.session.execute(select(Review)).scalars():
            r.price_paid, r.price_currency = 1_000_000, "USD"
        scores.recompute_clinic(dark)
        assert casescores.score_for(dark, casescores.parse_case(DARK)) == before


def test_case_scores_order_clinics_for_each_case(app, two_specialists):
    with app.app_context():
        by_name = {
            c.name: c
            for c in db.session.execute(select(Clinic)).scalars()
            if c.slug in ("dark", "fair")
        }
        assert by_name["Fair Skin Studio"].quality_score > by_name["Dark Skin Studio"].quality_score
        dark_top = casescores.top(casescores.parse_case(DARK), 2)
        fair_top = casescores.top(casescores.parse_case(FAIR), 2)
        assert [c.name for c, _ in dark_top] == ["Dark Skin Studio", "Fair Skin Studio"]
        assert [c.name for c, _ in fair_top] == ["Fair Skin Studio", "Dark Skin Studio"]
        cs = dark_top[0][1]
        assert cs.similar == 6 and cs.exact == 6


def test_search_sets_the_case_in_the_session_and_orders_by_it(client, two_specialists):
    html = client.get("/search").get_data(as_text=True)
    assert html.index("Fair Skin Studio") < html.index("Dark Skin Studio")
    assert "for cases like yours, from" not in html
    url = "/search?case=set&stage=norwood-6&skin_type=6&hair_colour=black&goal=buzz&sort=case"
    html = client.get(url).get_data(as_text=True)
    assert html.index("Dark Skin Studio") < html.index("Fair Skin Studio")
    assert "best for cases like yours first (Norwood VI, Fitzpatrick VI, black hair" in html
    assert re.search(r"<strong>[0-9.]+</strong> for cases like yours, from 6 similar", html)
    assert "; 1 published result of similar cases" in html
    # Remembered: a later search shows like-for-like scores without the parameters.
    html = client.get("/search?sort=case").get_data(as_text=True)
    assert html.index("Dark Skin Studio") < html.index("Fair Skin Studio")
    assert "Your case: Norwood VI" in html
    # Forgotten on request; "case" order then falls back to quality.
    html = client.get("/search?case=clear&sort=case").get_data(as_text=True)
    assert html.index("Fair Skin Studio") < html.index("Dark Skin Studio")
    assert "for cases like yours, from" not in html


def test_a_visitors_case_is_never_cached_for_others_nor_hidden_by_the_cache(app, two_specialists):
    """The page cache serves anonymous visitors; one who set a case sees their own scores,
    and nobody else ever sees them."""
    app.config["PAGE_CACHE"] = True
    with app.app_context():
        indexer.rebuild(app.config["INDEX_DIR"])
    other = app.test_client()
    for path in ("/search", "/clinics/dark", "/clinics/dark/results"):
        other.get(path)
        assert other.get(path).headers.get("X-Page-Cache") == "hit", path
    me = app.test_client()
    me.get("/search?case=set&stage=norwood-6&skin_type=6&hair_colour=black&goal=buzz")
    for path in ("/search", "/clinics/dark", "/clinics/dark/results"):
        mine = me.get(path)
        assert "Norwood VI" in mine.get_data(as_text=True), path
        assert mine.headers.get("X-Page-Cache") is None, path
        theirs = other.get(path).get_data(as_text=True)
        assert "for cases like yours, from" not in theirs, path
        assert "Your case: Norwood VI" not in theirs, path


@pytest.mark.parametrize(
    "query", ["case=set&stage=norwood-9", "case=set&skin_type=7", "case=set&goal=x", "case=maybe"]
)
def test_bad_case_values_are_400(client, two_specialists, query):
    assert client.get("/search?" + query).status_code == 400
    assert client.get("/results?" + query).status_code == 400
    assert client.get("/clinics/dark?" + query).status_code == 400


def test_clinic_page_shows_score_before_results_before_testimonials(client, two_specialists):
    html = client.get("/clinics/dark?case=set&skin_type=6&stage=norwood-6").get_data(as_text=True)
    assert "For cases like yours" in html and "from 6 similar testimonials" in html
    assert "1 published before/after result of similar cases" in html
    positions = [
        html.index('id="score-heading"'),
        html.index('id="case-heading"'),
        html.index('id="results-heading"'),
        html.index('id="reviews-heading"'),
        html.index('id="about-heading"'),
    ]
    assert positions == sorted(positions)
    assert "Author’s case:</span> Norwood VI, Fitzpatrick VI skin, black hair" in html


def test_results_across_clinics_filter_and_order_by_the_case(client, app, two_specialists):
    html = client.get("/results").get_data(as_text=True)
    assert "RESULT-dark" in html and "RESULT-fair" in html
    assert html.index("RESULT-fair") < html.index("RESULT-dark")  # overall order
    html = client.get("/results?case=set&skin_type=6&stage=norwood-6").get_data(as_text=True)
    assert html.index("RESULT-dark") < html.index("RESULT-fair")  # case order
    assert "Ordered by each clinic’s score for this case" in html
    assert 'href="/clinics/dark"' in html
    html = client.get("/results?stage=ludwig-2").get_data(as_text=True)
    assert "RESULT-" not in html and "No published result matches" in html
    assert client.get("/results?page=99").status_code == 404


def test_results_include_testimonial_photos_with_alt_text_from_the_case(client, app, world):
    with app.app_context():
        clinic = db.session.get(Clinic, world.clinic_id)
        r = ReviewFactory(clinic=clinic, last_session_month=months_ago(13), **DARK)
        from directory.services import media

        p = media.ingest(
            image_bytes(size=(400, 300)),
            uploader_id=r.author_id,
            kind="review",
            consent=True,
            review_id=r.id,
            clinic_id=clinic.id,
        )
        p.status = "published"
        db.session.commit()
        photo_id = p.id
    html = client.get("/results?healed=1").get_data(as_text=True)
    assert f'href="/media/{photo_id}/web.jpg"' in html  # plain link without JavaScript
    assert f"/media/{photo_id}/web.webp" in html and f"/media/{photo_id}/thumb.webp 360w" in html
    assert "Norwood VI, Fitzpatrick VI skin, black hair, buzz-cut look, 13 months after" in html
    resp = client.get(f"/media/{photo_id}/web.webp")
    assert resp.status_code == 200 and resp.mimetype == "image/webp"
    assert resp.data[:4] == b"RIFF" and resp.data[8:12] == b"WEBP"
    resp.close()


def test_webp_twins_are_deleted_with_the_photo(app, world):
    with app.app_context():
        from directory.services import media

        p = media.ingest(image_bytes(), uploader_id=None, kind="review", consent=True)
        db.session.commit()
        twins = [media.webp_name(media.file_path(p, s)) for s in ("web", "thumb")]
        assert all(os.path.exists(t) for t in twins)
        media.delete_photo(p)
        db.session.commit()
        assert not any(os.path.exists(t) for t in twins)


def test_testimonial_form_takes_the_authors_case(client, app, world):
    login(client, world.author_id)
    data = form_data(**{k: str(v) for k, v in DARK.items()})
    assert post_form(client, f"/clinics/{world.slug}/review", data).status_code == 302
    with app.app_context():
        r = db.session.execute(select(Review)).scalar_one()
        assert (r.stage, r.skin_type, r.hair_colour, r.goal) == (
            "norwood-6",
            6,
            "black",
            "buzz",
        )


def test_testimonial_form_refuses_unknown_case_values(client, app, world):
    login(client, world.author_id)
    resp = post_form(client, f"/clinics/{world.slug}/review", form_data(skin_type="9"))
    assert resp.status_code == 400
    with app.app_context():
        assert db.session.execute(select(Review)).first() is None


def proof_post(client, world, proof: bytes, name="invoice.pdf"):
    data = form_data()
    data["proof"] = (io.BytesIO(proof), name)
    return post_form(
        client, f"/clinics/{world.slug}/review", data, content_type="multipart/form-data"
    )


PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def test_proof_is_seen_by_moderators_only_and_deleted_after_the_decision(client, app, world):
    login(client, world.author_id)
    assert proof_post(client, world, PDF).status_code == 302
    with app.app_context():
        r = db.session.execute(select(Review)).scalar_one()
        rid, path = r.id, os.path.join(app.instance_path, "proofs", r.proof_name)
    assert os.path.exists(path)
    # The author, the clinic's owner and the public cannot open it.
    assert client.get(f"/reviews/{rid}/proof").status_code == 403
    login(client, world.owner_id)
    assert client.get(f"/reviews/{rid}/proof").status_code == 403
    client.post("/auth/logout")
    login(client, world.moderator_id, mfa=True)
    resp = client.get(f"/reviews/{rid}/proof")
    assert resp.status_code == 200 and resp.data == PDF
    assert resp.headers["Cache-Control"] == "private, no-store"
    assert "attachment" in resp.headers["Content-Disposition"]
    resp.close()
    with app.app_context():
        r = db.session.get(Review, rid)
        moderation.decide(
            r,
            "verify",
            by=db.session.get(User, world.moderator_id),
            reason_code="verified_proof",
            statement="Invoice matches the clinic.",
            proof="Invoice of March",
        )
        db.session.commit()
        r = db.session.get(Review, rid)
        assert r.verified_at is not None and r.proof_name is None and r.proof_decided_at
    assert not os.path.exists(path)
    assert client.get(f"/reviews/{rid}/proof").status_code == 404
    mail = last_to(app, "author@mail.test").get_content()
    assert "verified treatment" in mail and "Invoice matches the clinic." in mail


def test_proof_not_accepted_is_deleted_and_the_author_told(client, app, world):
    login(client, world.author_id)
    png = image_bytes("PNG", size=(80, 60))
    assert proof_post(client, world, png, "booking.png").status_code == 302
    with app.app_context():
        r = db.session.execute(select(Review)).scalar_one()
        assert r.proof_mimetype == "image/jpeg"  # re-encoded: no metadata survives
        path = os.path.join(app.instance_path, "proofs", r.proof_name)
        moderation.decide(
            r,
            "publish",
            by=db.session.get(User, world.moderator_id),
            reason_code="meets_guidelines",
            statement="The booking does not name this clinic.",
        )
        db.session.commit()
        assert db.session.get(Review, r.id).verified_at is None
    assert not os.path.exists(path)
    mail = last_to(app, "author@mail.test").get_content()
    assert "does not name this clinic" in mail and "not accepted as verification" in mail


def test_proof_that_is_not_a_document_is_refused_and_nothing_kept(client, app, world):
    login(client, world.author_id)
    resp = proof_post(client, world, b"MZ\x90\x00 not a pdf", "invoice.pdf")
    assert resp.status_code == 400 and "PDF or a photo" in resp.get_data(as_text=True)
    with app.app_context():
        assert db.session.execute(select(Review)).first() is None
    folder = os.path.join(app.instance_path, "proofs")
    assert not os.path.exists(folder) or os.listdir(folder) == []


def test_followup_with_photos_is_pending_for_its_author_then_published(client, app, world):
    with app.app_context():
        clinic = db.session.get(Clinic, world.clinic_id)
        r = ReviewFactory(
            clinic=clinic,
            author=db.session.get(User, world.author_id),
            last_session_month=months_ago(14),
        )
        db.session.commit()
        rid = r.id
    login(client, world.author_id)
    data = {
        "text": "Fourteen months on, the colour has held and nothing has blurred.",
        "healing": "5",
        "consent": "y",
        "photos": [(io.BytesIO(image_bytes(seed=3)), "healed.jpg")],
    }
    resp = post_form(client, f"/reviews/{rid}/followup", data, content_type="multipart/form-data")
    assert resp.status_code == 302
    html = client.get(f"/reviews/{rid}/followup").get_data(as_text=True)
    assert 'id="pending-followup"' in html and "<form" not in html.split('id="main"')[1]
    page = client.get(f"/clinics/{world.slug}").get_data(as_text=True)
    assert "Your follow-up is waiting for a moderator" in page and "Add a follow-up" not in page
    with app.app_context():
        fu = db.session.execute(select(FollowUp)).scalar_one()
        photo = db.session.execute(select(Photo).where(Photo.followup_id == fu.id)).scalar_one()
        assert photo.status == "pending" and photo.review_id == rid
        photo_id = photo.id
    client.post("/auth/logout")
    with client.session_transaction() as sess:
        sess.clear()
    assert client.get(f"/media/{photo_id}/web.jpg").status_code == 404
    with app.app_context():
        moderation.decide(
            db.session.get(FollowUp, fu.id),
            "publish",
            by=db.session.get(User, world.moderator_id),
            reason_code="meets_guidelines",
            statement="A genuine long-term update.",
        )
        db.session.commit()
    page = client.get(f"/clinics/{world.slug}").get_data(as_text=True)
    assert f"/media/{photo_id}/web.jpg" in page and "Follow-up photo 1" in page
    resp = client.get(f"/media/{photo_id}/web.jpg")
    assert resp.status_code == 200
    resp.close()


def test_followup_refused_while_one_is_pending(client, app, world):
    with app.app_context():
        r = ReviewFactory(
            clinic=db.session.get(Clinic, world.clinic_id),
            author=db.session.get(User, world.author_id),
            last_session_month=months_ago(14),
        )
        review_service.add_followup(
            r, by=db.session.get(User, world.author_id), text="Still fine after a year here."
        )
        db.session.commit()
        rid = r.id
    login(client, world.author_id)
    resp = post_form(
        client,
        f"/reviews/{rid}/followup",
        {"text": "Another update while the first is waiting."},
        form_url=f"/clinics/{world.slug}",
    )
    assert resp.status_code == 409


def test_compare_is_stacked_cards_on_phones(client, two_specialists):
    html = client.get("/compare?c=dark&c=fair").get_data(as_text=True)
    assert 'class="compare-cards d-md-none"' in html
    assert html.count('<section class="card mb-3"') == 2


def test_how_we_rank_explains_like_for_like_and_counts_every_decision(client, app, world):
    with app.app_context():
        from directory.services import audit

        mod = db.session.get(User, world.moderator_id)
        audit.record(
            by=mod,
            item_type="result_case",
            item_id=1,
            action="publish",
            reason_code="meets_guidelines",
            statement="Consent form checked.",
            previous_status="pending",
            new_status="published",
        )
        db.session.commit()
        assert moderation.figures().by_outcome == {"publish": 1}
    html = client.get("/how-we-rank").get_data(as_text=True)
    assert 'id="like-for-like"' in html and "One glowing match never beats many" in html
    assert 'id="fig-decided">1<' in html
