"""A consumer writes a testimonial with a photo; a moderator sees its signals and
publishes it; the visitor then sees it and the clinic's score moves to quality.py's value.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from directory import create_app
from directory.demo import DEMO_TOTP
from directory.extensions import db
from directory.models import Clinic, Review, User
from directory.services import scores
from tests.browser.conftest import log_in, screenshot, serious_violations
from tests.factories import image_bytes

TEXT = (
    "Eight months after my last session the dots still look like a real buzz cut, even "
    "in bright light. The hairline was drawn with me and suits my age; no blue tint at all."
)


@pytest.fixture(scope="module")
def live_app(live_server):
    env = live_server.env
    app = create_app(
        {
            "TESTING": True,
            "SECRET_KEY": env["DIRECTORY_SECRET_KEY"],
            "INSTANCE_PATH": str(live_server.instance),
            "SQLALCHEMY_DATABASE_URI": env.get("DIRECTORY_SQLALCHEMY_DATABASE_URI")
            or "sqlite:///" + str(live_server.instance / "directory.sqlite3"),
            "LIVE_URL": live_server.url,
        }
    )
    yield app
    with app.app_context():
        db.engine.dispose()


def pick(live_app) -> tuple[str, str, str | None]:
    """A demo reviewer and a rated public clinic they have not reviewed."""
    with live_app.app_context():
        reviewers = db.session.execute(
            select(User)
            .where(User.role == "consumer", User.email != "consumer@example.com")
            .order_by(User.id)
            .limit(60)
        ).scalars()
        for user in reviewers:
            done = set(
                db.session.execute(
                    select(Review.clinic_id).where(Review.author_id == user.id)
                ).scalars()
            )
            for clinic in db.session.execute(
                select(Clinic)
                .where(
                    Clinic.status.in_(("listed", "claimed", "verified")),
                    Clinic.quality_score.is_not(None),
                )
                .order_by(Clinic.id)
            ).scalars():
                if clinic.id not in done and clinic.owner_id != user.id:
                    return user.email, clinic.slug, clinic.name
    raise AssertionError("no reviewer/clinic pair left in the demo data")


def expected_score(live_app, slug: str) -> float:
    with live_app.app_context():
        clinic = db.session.execute(select(Clinic).where(Clinic.slug == slug)).scalar_one()
        # The score rules as they stand (down-weights, provisional cap), computed from the
        # database now and thrown away: the page must show the same number.
        score = scores.recompute_clinic(clinic).score
        db.session.rollback()
        return score


def shown_score(page) -> str:
    return page.locator(".explanation .display-6").inner_text().split("/")[0].strip()


def test_testimonial_with_photo_goes_through_moderation(browser, live_server, live_app, tmp_path):
    email, slug, name = pick(live_app)
    before = expected_score(live_app, slug)

    consumer = browser.new_context(base_url=live_server.url)
    page = consumer.new_page()
    page.set_default_timeout(15_000)
    page.goto("/")
    log_in(page, email)
    page.goto(f"/clinics/{slug}")
    page.get_by_role("link", name="Write a testimonial").click()
    page.wait_for_url(re.compile(rf"/clinics/{slug}/review$"))
    screenshot(page, "review-form")
    assert page.locator("h1").count() == 1
    assert serious_violations(page) == []
    screenshot(page, "review-form")

    last = date.today().replace(day=1)
    y, m = divmod(last.year * 12 + last.month - 1 - 8, 12)
    page.get_by_label("Treatment").select_option("full_scalp")
    page.get_by_label("Number of sessions").fill("3")
    healing_5 = page.get_by_role("group", name=re.compile("healed and held")).get_by_label(
        "5", exact=True
    )
    page.get_by_label("Month", exact=True).select_option(str(last.month))
    page.get_by_label("Year", exact=True).select_option(str(last.year))
    assert healing_5.is_disabled()  # offered only 6 months after the last session
    page.get_by_label("Month", exact=True).select_option(str(m + 1))
    page.get_by_label("Year", exact=True).select_option(str(y))
    assert healing_5.is_enabled()
    overall = page.get_by_role("group", name=re.compile("How good is the result overall"))
    overall.get_by_label("5", exact=True).check()
    page.get_by_role("group", name=re.compile("real stubble")).get_by_label("5", exact=True).check()
    page.get_by_role("group", name=re.compile("healed and held")).get_by_label(
        "4", exact=True
    ).check()
    page.get_by_label("Your testimonial", exact=True).fill(TEXT)
    photo = tmp_path / "result.jpg"
    photo.write_bytes(image_bytes("JPEG", size=(320, 240), seed=77))
    page.get_by_label(re.compile("Photos of your result")).set_input_files(str(photo))
    page.get_by_label(re.compile("consents to their publication")).check()
    page.get_by_role("button", name="Send for moderation").click()
    page.wait_for_url(re.compile(rf"/clinics/{slug}"))
    assert page.get_by_text("Your testimonial (pending)").is_visible()
    assert page.get_by_text(TEXT[:40]).is_visible()
    assert serious_violations(page) == []
    screenshot(page, "review-pending-author")

    visitor = browser.new_context(base_url=live_server.url)
    vpage = visitor.new_page()
    vpage.goto(f"/clinics/{slug}")
    assert vpage.get_by_text(TEXT[:40]).count() == 0
    assert shown_score(vpage) == f"{before:.2f}"

    staff = browser.new_context(base_url=live_server.url)
    mpage = staff.new_page()
    mpage.set_default_timeout(15_000)
    mpage.goto("/")
    log_in(mpage, "moderator@example.com", totp_secret=DEMO_TOTP["moderator"])
    mpage.goto("/moderation/reviews")
    item = mpage.locator("article.moderation-item", has_text=TEXT[:40])
    assert item.count() == 1
    for label in (
        "Account age",
        "E-mail verified",
        "Near-duplicate text",
        "Shared network origin",
        "Photos matching",
    ):
        assert item.get_by_text(re.compile(label)).count() >= 1
    assert item.locator("img").count() == 1
    assert serious_violations(mpage) == []
    screenshot(mpage, "moderation-queue")
    item.get_by_label("Decision", exact=True).select_option("publish")
    item.get_by_label("Reason", exact=True).select_option("meets_guidelines")
    item.get_by_label(re.compile("Statement of reasons")).fill(
        "First-hand account with a matching photo."
    )
    item.get_by_role("button", name="Record decision").click()
    mpage.wait_for_url(re.compile(r"/moderation/reviews$"))
    assert mpage.get_by_text(re.compile("Decision recorded")).is_visible()

    after = expected_score(live_app, slug)
    assert after != before
    vpage.reload()
    assert vpage.get_by_text(TEXT[:40]).is_visible()
    assert shown_score(vpage) == f"{after:.2f}"
    assert vpage.locator("img.review-photo").count() >= 1
    assert serious_violations(vpage) == []
    screenshot(vpage, "review-published-visitor")

    mpage.goto("/moderation/log")
    assert mpage.locator("tr.log-row", has_text="publish").count() >= 1
    assert serious_violations(mpage) == []

    vpage.goto("/how-we-rank")
    assert vpage.get_by_role("heading", name="How we rank clinics").is_visible()
    assert int(vpage.locator("#fig-decided").inner_text()) >= 1
    assert serious_violations(vpage) == []
    for ctx in (consumer, visitor, staff):
        ctx.close()
    assert datetime.now(UTC)  # the journey finished
