"""The public pages' reads (services.pagedata) run on a raw pooled connection
(database.read_statement): each statement's rows are exactly what the session
gives, on SQLite and on PostgreSQL, with every column type the pages show and
lists of values of every length."""

from __future__ import annotations

from sqlalchemy import select

from directory import demo
from directory.database import read_statement
from directory.extensions import db
from directory.models import Clinic, FollowUp, Photo, ResultCase
from directory.services import pagedata
from directory.vocab import PUBLIC_CLINIC_STATUSES


def session_rows(stmt, params):
    return [dict(row) for row in db.session.execute(stmt, params).mappings()]


def test_raw_reads_give_the_sessions_rows_for_every_public_statement(app, client):
    with app.app_context():
        demo.seed(16, 7, with_images=True, log=lambda *_: None)
        db.session.commit()
        # Clinics with follow-ups, photos and results among their testimonials.
        rich = db.session.execute(
            select(Clinic.id, Clinic.slug)
            .join(ResultCase, ResultCase.clinic_id == Clinic.id)
            .where(ResultCase.status == "published")
            .limit(3)
        ).all()
        plain = db.session.execute(select(Clinic.id, Clinic.slug).limit(3)).all()
        assert rich and db.session.query(FollowUp).count() and db.session.query(Photo).count()
        checked = 0
        for clinic_id, slug in [*rich, *plain]:
            cases = [
                (pagedata._CLINIC_PAGE[False], {"slug": slug}),
                (pagedata._CLINIC_PAGE[True], {"slug": slug}),
                (pagedata._LATEST, {"clinic_id": clinic_id, "limit": 10, "offset": 0}),
                (pagedata._REVIEWS_PAGE, {"clinic_id": clinic_id, "limit": 3, "offset": 2}),
                (pagedata._RESULTS, {"clinic_id": clinic_id, "limit": 6}),
            ]
            for stmt, params in cases:
                raw = read_statement(stmt, params)
                assert raw == session_rows(stmt, params)
                assert [list(r) for r in raw] == [list(r) for r in session_rows(stmt, params)]
                checked += len(raw)
        assert checked > 30
        # Lists of values for an IN: the cards (every shape), follow-ups and photos.
        ids = list(db.session.execute(select(Clinic.id).order_by(Clinic.id)).scalars())
        review_ids = list(db.session.execute(select(FollowUp.review_id)).scalars())
        assert review_ids
        lists = [
            *((pagedata._CARDS[key], {"ids": ids[:n]}) for key in pagedata._CARDS for n in (1, 7)),
            (pagedata._CARDS[False, False], {"ids": []}),
            (pagedata._FOLLOWUPS, {"ids": review_ids}),
            (pagedata._PHOTOS, {"ids": review_ids}),
        ]
        for stmt, params in lists:
            raw = read_statement(stmt, params)
            assert raw == session_rows(stmt, params)
            assert [list(r) for r in raw] == [list(r) for r in session_rows(stmt, params)]
        assert read_statement(pagedata._PHOTOS, {"ids": review_ids})  # photos were read
        # A clinic that is not public, an unknown slug: no rows either way.
        hidden = db.session.execute(
            select(Clinic.slug).where(Clinic.status.not_in(PUBLIC_CLINIC_STATUSES))
        ).scalar()
        for slug in (hidden, "no-such-clinic"):
            if slug is not None:
                assert read_statement(pagedata._CLINIC_PAGE[False], {"slug": slug}) == []

        # Through the pages: the clinic, its testimonials and its results render from
        # the raw reads (dates with their zone, booleans, JSON lists, practitioners).
        slug = rich[0].slug
        clinic = pagedata.public_clinic(slug)
        assert clinic is not None and clinic.practitioners and clinic.has_results
        reviews = pagedata.latest_reviews(clinic, 10).items
        assert reviews and all(r.created_at.tzinfo is not None for r in reviews)
    for path in (f"/clinics/{slug}", f"/clinics/{slug}/reviews", f"/clinics/{slug}/results"):
        resp = client.get(path)
        assert resp.status_code == 200, path
        assert clinic.name in resp.get_data(as_text=True)
