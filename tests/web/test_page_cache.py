"""The page cache for anonymous visitors is never stale.

Two "workers" (two app instances on one database and one instance folder, so
they share the cache store) serve the pages: the visitor reads from one, the
owner and the moderator change things through the other's real routes. Each
change must show on every page that shows it; the tests wait on the page (a
generous deadline, never a timed assertion): by construction it shows at once.
"""

from __future__ import annotations

import re
import time

import pytest
from sqlalchemy import select

from directory import create_app
from directory.extensions import db
from directory.models import Clinic, PageVersion, Report, Review, User
from directory.services import reports
from tests.conftest import login, make_config, post_form
from tests.reviews_helpers import GOOD_TEXT, months_ago

PAGES = ("/", "/search", "/clinics/studio", "/clinics/studio/reviews", "/clinics/studio/results")
DECISION = {"reason_code": "meets_guidelines", "statement": "First-hand account, on topic."}


def wait_for(client, url, predicate, deadline_s=10.0):
    """The page once predicate(response) holds, polling until a generous deadline."""
    end = time.monotonic() + deadline_s
    while True:
        resp = client.get(url)
        if predicate(resp) or time.monotonic() > end:
            return resp
        time.sleep(0.05)


def shows(text):
    return lambda r: r.status_code == 200 and text in r.get_data(as_text=True)


def hides(text):
    return lambda r: r.status_code != 200 or text not in r.get_data(as_text=True)


def prime(client, paths=PAGES):
    """Fill the cache and check the second visit is served from it."""
    for path in paths:
        assert client.get(path).status_code == 200, path
        again = client.get(path)
        assert again.status_code == 200 and again.headers["X-Page-Cache"] == "hit", path


def card_count(html: str, name: str) -> str:
    m = re.search(re.escape(name) + r"</a></h\d>.*?(\d+) testimonials?", html, re.S)
    return m.group(1) if m else "0"


def submit_pending(app, world, text=GOOD_TEXT):
    from directory.services import reviews as review_service

    with app.app_context():
        r = review_service.submit(
            db.session.get(Clinic, world.clinic_id),
            by=db.session.get(User, world.author_id),
            data=review_service.ReviewInput(
                treatment_type="full_scalp",
                sessions=3,
                last_session_month=months_ago(9),
                overall=5,
                text=text,
                ratings={"realism": 4},
            ),
            origin="net-a",
        )
        db.session.commit()
        return r.id


def publish(staff_app, world, rid):
    mod = staff_app.test_client()
    login(mod, world.moderator_id, mfa=True)
    resp = post_form(
        mod,
        f"/moderation/reviews/{rid}/decide",
        {**DECISION, "action": "publish"},
        form_url="/moderation/reviews",
    )
    assert resp.status_code == 302


def test_a_published_testimonial_shows_on_every_page(worlds):
    app, staff, world = worlds
    rid = submit_pending(app, world)
    visitor = app.test_client()
    prime(visitor)
    assert GOOD_TEXT[:40] not in visitor.get("/clinics/studio").get_data(as_text=True)

    publish(staff, world, rid)

    for path in ("/clinics/studio", "/clinics/studio/reviews"):
        assert shows(GOOD_TEXT[:40])(wait_for(visitor, path, shows(GOOD_TEXT[:40]))), path
    for path in ("/", "/search"):  # the card's count of testimonials
        resp = wait_for(visitor, path, lambda r: card_count(r.get_data(True), "Studio SMP") == "1")
        assert card_count(resp.get_data(as_text=True), "Studio SMP") == "1", path


def test_an_owner_reply_shows_on_the_clinic_and_testimonials_pages(worlds):
    app, staff, world = worlds
    publish(staff, world, submit_pending(app, world))
    with app.app_context():
        rid = db.session.execute(select(Review.id)).scalar_one()
    visitor = app.test_client()
    prime(visitor)

    owner = staff.test_client()
    login(owner, world.owner_id)
    resp = post_form(owner, f"/manage/studio/reviews/{rid}/reply", {"text": "Thank you, Sam!"})
    assert resp.status_code == 302

    for path in ("/clinics/studio", "/clinics/studio/reviews"):
        assert shows("Thank you, Sam!")(wait_for(visitor, path, shows("Thank you, Sam!"))), path


def test_a_removed_testimonial_leaves_every_page(worlds):
    app, staff, world = worlds
    publish(staff, world, submit_pending(app, world))
    with app.app_context():
        rid = db.session.execute(select(Review.id)).scalar_one()
        reports.file(
            "review", rid, by=db.session.get(User, world.other_id), reason="fake", text="Staff."
        )
        db.session.commit()
        rep_id = db.session.execute(select(Report.id)).scalar_one()
    visitor = app.test_client()
    prime(visitor)
    assert GOOD_TEXT[:40] in visitor.get("/clinics/studio/reviews").get_data(as_text=True)

    mod = staff.test_client()
    login(mod, world.moderator_id, mfa=True)
    resp = post_form(
        mod,
        f"/moderation/reports/{rep_id}/decide",
        {**DECISION, "action": "remove", "reason_code": "not_first_hand"},
        form_url="/moderation/reports",
    )
    assert resp.status_code == 302

    for path in ("/clinics/studio", "/clinics/studio/reviews"):
        assert hides(GOOD_TEXT[:40])(wait_for(visitor, path, hides(GOOD_TEXT[:40]))), path
    for path in ("/", "/search"):
        resp = wait_for(visitor, path, lambda r: card_count(r.get_data(True), "Studio SMP") == "0")
        assert card_count(resp.get_data(as_text=True), "Studio SMP") == "0", path


def test_a_suspended_clinic_leaves_every_page(worlds):
    app, staff, world = worlds
    publish(staff, world, submit_pending(app, world))
    visitor = app.test_client()
    prime(visitor)
    assert "Studio SMP" in visitor.get("/search").get_data(as_text=True)

    mod = staff.test_client()
    login(mod, world.moderator_id, mfa=True)
    resp = post_form(
        mod,
        f"/moderation/clinics/{world.clinic_id}/status",
        {"action": "suspend", "reason_code": "offensive", "statement": "Abusive replies."},
        form_url="/moderation/clinics/studio/history",
    )
    assert resp.status_code == 302

    for path in ("/clinics/studio", "/clinics/studio/reviews", "/clinics/studio/results"):
        assert wait_for(visitor, path, lambda r: r.status_code == 404).status_code == 404, path
    for path in ("/", "/search"):
        assert hides("Studio SMP")(wait_for(visitor, path, hides("Studio SMP"))), path


def test_anonymous_pages_set_no_cookie_and_revalidate_with_304(worlds):
    app, _staff, _world = worlds
    visitor = app.test_client()
    for path in PAGES:
        first = visitor.get(path)
        assert first.status_code == 200
        assert "Set-Cookie" not in first.headers, path
        assert first.headers["Cache-Control"] == "public, no-cache"
        assert "Cookie" in first.headers["Vary"]
        etag = first.headers["ETag"]
        again = visitor.get(path, headers={"If-None-Match": etag})
        assert again.status_code == 304 and again.get_data() == b"", path
        assert "Set-Cookie" not in again.headers


def test_cached_pages_carry_a_fresh_nonce_and_the_same_bytes(worlds):
    # The pages run no inline script (their JSON-LD is data, which a policy does
    # not govern), so a cached page is the same bytes for every visitor while each
    # response's policy has its own nonce.
    app, _staff, _world = worlds
    visitor = app.test_client()
    nonces, bodies = set(), set()
    for _ in range(3):
        resp = visitor.get("/clinics/studio")
        nonces.add(re.search(r"'nonce-([^']+)'", resp.headers["Content-Security-Policy"]).group(1))
        bodies.add(resp.get_data())
    assert len(nonces) == 3 and len(bodies) == 1
    assert b"nonce=" not in bodies.pop()


def test_a_page_holding_its_nonce_is_sent_but_never_stored(app):
    # A stored page is the same bytes for everyone: an inline script's nonce would
    # be someone else's, so such a page is rendered each time.
    from flask import render_template_string

    from directory import pagecache

    @app.get("/nonce-page")
    def nonce_page():
        page = '<script nonce="{{ csp_nonce() }}">1</script>'
        return pagecache.serve(("nonce-page",), lambda: render_template_string(page))

    visitor = app.test_client()
    for _ in range(2):
        resp = visitor.get("/nonce-page")
        nonce = re.search(r"'nonce-([^']+)'", resp.headers["Content-Security-Policy"]).group(1)
        assert f'nonce="{nonce}"' in resp.get_data(as_text=True)
        assert "X-Page-Cache" not in resp.headers and resp.headers["Cache-Control"] == "no-cache"


def test_logged_in_visitors_never_get_or_fill_cached_pages(worlds):
    app, _staff, world = worlds
    visitor = app.test_client()
    prime(visitor, ["/clinics/studio"])
    member = app.test_client()
    login(member, world.author_id)
    resp = member.get("/clinics/studio")
    assert resp.headers["Cache-Control"] == "private, no-store"  # personal: never stored
    assert "X-Page-Cache" not in resp.headers and "ETag" not in resp.headers
    assert "Log out" in resp.get_data(as_text=True)
    # ... and what they saw was not stored for anonymous visitors.
    assert "Log out" not in visitor.get("/clinics/studio").get_data(as_text=True)


def test_a_rolled_back_change_keeps_the_versions(worlds):
    app, _staff, world = worlds
    with app.app_context():
        before = dict(db.session.execute(select(PageVersion.scope, PageVersion.version)).all())
        db.session.get(Clinic, world.clinic_id).name = "Never Saved"
        db.session.flush()
        db.session.rollback()
        after = dict(db.session.execute(select(PageVersion.scope, PageVersion.version)).all())
    assert before == after


def test_views_are_counted_on_cached_pages_and_written_in_batches(app_factory):
    from directory.models import ClinicViewDay
    from directory.services import counters
    from tests.factories import ClinicFactory

    app = app_factory(VIEW_COUNT_FLUSH_S=3600)
    with app.app_context():
        cid = ClinicFactory(slug="viewed").id
        db.session.commit()
    visitor = app.test_client()
    etag = visitor.get("/clinics/viewed").headers["ETag"]
    assert visitor.get("/clinics/viewed").headers["X-Page-Cache"] == "hit"
    assert visitor.get("/clinics/viewed", headers={"If-None-Match": etag}).status_code == 304

    def views():
        with app.app_context():
            return db.session.execute(
                select(ClinicViewDay.views).where(ClinicViewDay.clinic_id == cid)
            ).scalar()

    assert views() is None  # still in the worker's buffer
    counters.flush_views()
    assert views() == 3


REDIS_URL = "redis://127.0.0.1:6379/8"


def _redis_up() -> bool:
    try:
        import redis

        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=0.5).ping())
    except Exception:  # noqa: BLE001
        return False


@pytest.mark.skipif(not _redis_up(), reason="no Redis on 127.0.0.1:6379")
def test_workers_share_pages_through_redis(app, tmp_path, worker_id):
    import redis

    from tests.factories import ClinicFactory

    redis.Redis.from_url(REDIS_URL).flushdb()
    app.config["PAGE_CACHE_URL"] = REDIS_URL
    from directory import pagecache

    pagecache.init_app(app)
    other = create_app(make_config(tmp_path, worker_id, PAGE_CACHE_URL=REDIS_URL))
    pagecache.init_app(other)  # started the same way as app above: same build id
    try:
        with app.app_context():
            ClinicFactory(slug="shared", name="Shared Studio")
            db.session.commit()
        assert app.test_client().get("/clinics/shared").headers["X-Page-Cache"] == "miss"
        resp = other.test_client().get("/clinics/shared")
        assert resp.headers["X-Page-Cache"] == "hit" and "Shared Studio" in resp.get_data(True)
        assert redis.Redis.from_url(REDIS_URL).keys("directory:page:*")
    finally:
        with other.app_context():
            db.session.remove()
            db.engine.dispose()


def test_every_table_is_classified_for_the_page_cache():
    """A new model must say whether public pages show it: scopes_for() maps shown
    rows to their clinic; unclassified ones would invalidate every page."""
    from directory import pagecache

    known = set(pagecache.SHOWN) | set(pagecache.NOT_SHOWN)
    mapped = {m.class_ for m in db.Model.registry.mappers}
    assert mapped - known == set(), "classify in directory/pagecache.py (SHOWN or NOT_SHOWN)"


def test_an_author_renaming_and_a_bulk_update_show_at_once(app):
    from sqlalchemy import text, update

    from directory import services
    from tests.factories import ClinicFactory, ReviewFactory, UserFactory

    with app.app_context():
        clinic = ClinicFactory(slug="named", name="Named Studio")
        author = UserFactory(display_name="Old Name")
        ReviewFactory(clinic=clinic, author=author)
        db.session.commit()
        author_id = author.id
    visitor = app.test_client()
    prime(visitor, ["/clinics/named", "/clinics/named/reviews"])
    with app.app_context():
        db.session.get(User, author_id).display_name = "New Name"
        services.commit()
    for path in ("/clinics/named", "/clinics/named/reviews"):
        assert shows("By New Name")(wait_for(visitor, path, shows("By New Name"))), path
    with app.app_context():  # a statement no row event sees: every page is renewed
        db.session.execute(update(Clinic).values(name="Bulk Renamed"))
        services.commit()
    assert shows("Bulk Renamed")(wait_for(visitor, "/clinics/named", shows("Bulk Renamed")))
    with app.app_context():  # ... and so does a textual one
        db.session.execute(text("UPDATE clinics SET name = 'Text Renamed'"))
        services.commit()
    assert shows("Text Renamed")(wait_for(visitor, "/clinics/named", shows("Text Renamed")))


def test_a_change_after_a_rolled_back_savepoint_still_renews_the_page(app):
    from directory import services
    from tests.factories import ClinicFactory

    with app.app_context():
        cid = ClinicFactory(slug="nested", name="First Name").id
        db.session.commit()
    visitor = app.test_client()
    prime(visitor, ["/clinics/nested"])
    with app.app_context():
        clinic = db.session.get(Clinic, cid)
        savepoint = db.session.begin_nested()
        clinic.description = "Never kept."
        db.session.flush()  # versions written inside the savepoint ...
        savepoint.rollback()  # ... and undone with it
        db.session.get(Clinic, cid).name = "Second Name"
        services.commit()
    resp = wait_for(visitor, "/clinics/nested", shows("Second Name"))
    assert shows("Second Name")(resp)
