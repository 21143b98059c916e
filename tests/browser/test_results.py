"""Results a person can judge, in real Chromium: the viewer opens a result large and
zooms; /results filters to a case and leads to a clinic; a visitor's case brings
like-for-like scores to search; a testimonial with proof is verified by a
moderator; no public page scrolls sideways on a 360 px phone."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from directory.demo import DEMO_TOTP
from directory.extensions import db
from directory.models import Clinic, ResultCase, Review
from tests.browser import test_reviews
from tests.browser.conftest import log_in, screenshot, serious_violations
from tests.browser.test_reviews import pick
from tests.web._mail import texts

live_app = test_reviews.live_app  # the module-scoped app on the live server's database

PHONE = {"width": 360, "height": 740}
TEXT = (
    "Fourteen months after my last session the dots still read as stubble in daylight. "
    "The pigment matched my dark skin with no blue tint and the hairline suits my age."
)
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def slug_with_results(live_app) -> str:
    with live_app.app_context():
        return db.session.execute(
            select(Clinic.slug)
            .join(ResultCase, ResultCase.clinic_id == Clinic.id)
            .where(ResultCase.status == "published")
            .order_by(Clinic.id)
            .limit(1)
        ).scalar_one()


def test_open_a_result_large_and_zoom(page, live_app):
    slug = slug_with_results(live_app)
    page.goto(f"/clinics/{slug}/results")
    link = page.locator("a.viewer-link").first
    href = link.get_attribute("href")
    assert re.fullmatch(r"/media/\d+/web\.jpg", href)  # the plain link without JavaScript
    link.click()
    dialog = page.get_by_role("dialog")
    assert dialog.is_visible()
    assert dialog.get_by_role("heading").inner_text().startswith("Result #")
    img = dialog.locator(".viewer-inner img")
    page.wait_for_function(
        "() => { const i = document.querySelector('.viewer-inner img');"
        " return i && i.complete && i.naturalWidth > 360; }"
    )
    assert img.get_attribute("alt")  # alt text from the case's facts
    assert "Norwood" in img.get_attribute("alt") or "Ludwig" in img.get_attribute("alt")
    # The large image came as WebP (the <source> is picked by Chromium).
    assert page.evaluate("document.querySelector('.viewer-inner img').currentSrc").endswith(
        "/web.webp"
    )
    dialog.get_by_role("button", name="Zoom in").click()
    dialog.get_by_role("button", name="Zoom in").click()
    assert int(dialog.get_attribute("data-zoom")) > 200
    # Keyboard: the photo is focusable; arrows pan, minus zooms out, 0 resets.
    stage = dialog.get_by_role("group", name=re.compile("Photo"))
    stage.focus()
    before = page.evaluate("document.querySelector('.viewer-inner').style.transform")
    page.keyboard.press("ArrowLeft")
    assert page.evaluate("document.querySelector('.viewer-inner').style.transform") != before
    page.keyboard.press("-")
    assert int(dialog.get_attribute("data-zoom")) < 300
    # Before/after: the slider compares the two; moving it moves the split.
    dialog.get_by_role("button", name="Before/after slider").click()
    slider = dialog.get_by_label(re.compile("Before"))
    assert slider.is_visible()
    slider.fill("20")
    clip = page.evaluate("document.querySelector('.viewer-after').style.clipPath")
    assert "20%" in clip
    screenshot(page, "viewer-slider-desktop")
    page.keyboard.press("Escape")
    assert not dialog.is_visible()
    assert page.evaluate("document.activeElement.classList.contains('viewer-link')")
    assert serious_violations(page) == []


def test_filter_results_to_a_case_and_open_a_clinic(browser, live_server):
    context = browser.new_context(base_url=live_server.url, viewport=PHONE)
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto("/results")
    total = page.locator(".gallery .col").count()
    assert total >= 2
    screenshot(page, "results-all-phone")
    page.get_by_label("Goal").select_option("buzz")
    page.get_by_label("Healed only").check()
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url(re.compile(r"goal=buzz"))
    status = page.get_by_role("status").inner_text()
    assert "buzz-cut look" in status and "Ordered by each clinic’s score" in status
    cards = page.locator(".gallery .result-case")
    assert 0 < cards.count() <= total
    for text in cards.all_inner_texts():
        assert "Fresh (under 4 weeks)" not in text
    assert serious_violations(page) == []
    screenshot(page, "results-filtered-phone")
    first = cards.first.locator("figcaption a[href^='/clinics/']").first
    name = first.inner_text()
    first.click()
    page.wait_for_url(re.compile(r"/clinics/[^/]+$"))
    assert page.get_by_role("heading", level=1).inner_text() == name
    # The case set on /results is remembered on the clinic page.
    assert "buzz-cut look" in page.locator(".case-panel").inner_text()
    context.close()


def test_set_a_case_and_see_like_for_like_scores_on_search(page):
    page.goto("/search")
    assert page.locator(".case-score").count() == 0
    page.get_by_text("Set your case to see scores for people like you").click()
    page.get_by_label("Your hair-loss stage").select_option("norwood-6")
    page.get_by_label("Your skin type").select_option("5")
    page.get_by_role("button", name="Show scores for my case").click()
    page.wait_for_url(re.compile(r"sort=case"))
    assert (
        "best for cases like yours first (Norwood VI, Fitzpatrick V)"
        in page.get_by_role("status").inner_text()
    )
    scores = page.locator(".case-score")
    assert scores.count() >= 1
    assert re.search(
        r"for cases like yours|No testimonial from a case like yours", scores.first.inner_text()
    )
    assert page.get_by_label("Order by").input_value() == "case"
    screenshot(page, "search-case-desktop")
    # Remembered in the session: a new search keeps showing the case scores.
    page.goto("/search?q=scalp")
    assert page.locator(".case-score").count() >= 1
    page.get_by_role("link", name="Forget my case").click()
    assert page.locator(".case-score").count() == 0
    assert serious_violations(page) == []


def test_testimonial_with_proof_is_verified_by_a_moderator(
    browser, live_server, live_app, tmp_path
):
    email, slug, _ = pick(live_app)
    consumer = browser.new_context(base_url=live_server.url)
    page = consumer.new_page()
    page.set_default_timeout(15_000)
    page.goto("/")
    log_in(page, email)
    page.goto(f"/clinics/{slug}/review")
    assert page.get_by_text("How verification works").is_visible()
    page.get_by_label("Number of sessions").fill("4")
    overall = page.get_by_role("group", name=re.compile("How good is the result overall"))
    overall.get_by_label("4", exact=True).check()
    page.get_by_label("Your hair-loss stage (optional)").select_option("norwood-5")
    page.get_by_label("Your skin type (optional)").select_option("4")
    page.get_by_label("Your testimonial", exact=True).fill(TEXT)
    proof = tmp_path / "invoice.pdf"
    proof.write_bytes(PDF)
    page.get_by_label(re.compile("Proof you were treated")).set_input_files(str(proof))
    page.get_by_role("button", name="Send for moderation").click()
    page.wait_for_url(re.compile(rf"/clinics/{slug}"))
    assert page.get_by_text(re.compile("A moderator will look at your proof")).is_visible()
    with live_app.app_context():
        review = (
            db.session.execute(select(Review).where(Review.text == TEXT).order_by(Review.id.desc()))
            .scalars()
            .first()
        )
        rid, proof_name = review.id, review.proof_name
    assert proof_name
    # The author cannot open their own proof; only moderators can.
    assert page.request.get(f"/reviews/{rid}/proof").status in (403, 404)

    staff = browser.new_context(base_url=live_server.url)
    mpage = staff.new_page()
    mpage.set_default_timeout(15_000)
    mpage.goto("/")
    log_in(mpage, "moderator@example.com", totp_secret=DEMO_TOTP["moderator"])
    mpage.goto("/moderation/reviews")
    item = mpage.locator("article.moderation-item", has_text=TEXT[:40]).last
    link = item.get_by_role("link", name=re.compile("open the proof"))
    assert mpage.request.get(link.get_attribute("href")).body() == PDF
    item.get_by_label("Decision", exact=True).select_option("verify")
    item.get_by_label("Reason", exact=True).select_option("verified_proof")
    item.get_by_label(re.compile("Statement of reasons")).fill("Invoice names the clinic.")
    item.get_by_label(re.compile("Proof of treatment seen")).fill("PDF invoice, March")
    item.get_by_role("button", name="Record decision").click()
    mpage.wait_for_url(re.compile(r"/moderation/reviews"))
    with live_app.app_context():
        review = db.session.get(Review, rid)
        assert review.verified_at is not None and review.proof_name is None
    assert not (live_server.instance / "proofs" / proof_name).exists()
    assert mpage.request.get(f"/reviews/{rid}/proof").status == 404
    mail = [m for m in texts(live_server) if "Invoice names the clinic" in m]
    assert mail and "verified treatment" in mail[-1]
    page.goto(f"/clinics/{slug}")
    assert page.locator("#your-testimonial").get_by_text("Verified treatment").is_visible()
    consumer.close()
    staff.close()


PUBLIC_PAGES = [
    "/",
    "/search",
    "/search?q=hairline&sort=relevance",
    "/search?case=set&stage=norwood-7&skin_type=6&sort=case",
    "/results",
    "/results?goal=density",
    "/compare",
    "/cost",
    "/cost?stage=norwood-5&service=full_scalp&country=GB",
    "/cost?service=removal",
    "/guide",
    "/how-we-rank",
    "/auth/login",
    "/auth/register",
    "/no-such-page",
]


def public_pages(live_app) -> list[str]:
    with live_app.app_context():
        clinics = list(
            db.session.execute(
                select(Clinic.slug)
                .where(Clinic.status.in_(("listed", "claimed", "verified")))
                .order_by(Clinic.review_count.desc())
                .limit(3)
            ).scalars()
        )
    pages = list(PUBLIC_PAGES)
    for slug in clinics:
        pages += [f"/clinics/{slug}", f"/clinics/{slug}/results", f"/clinics/{slug}/reviews"]
    pages.append("/compare?" + "&".join(f"c={s}" for s in clinics))
    return pages


@pytest.mark.parametrize("viewport", [PHONE, {"width": 1280, "height": 900}], ids=["360", "1280"])
def test_no_public_page_scrolls_sideways(browser, live_server, live_app, viewport):
    context = browser.new_context(base_url=live_server.url, viewport=viewport)
    page = context.new_page()
    page.set_default_timeout(10_000)
    wide = []
    for url in public_pages(live_app):
        page.goto(url)
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > viewport["width"]:
            wide.append((url, width))
        name = re.sub(r"[^a-z0-9]+", "-", url.lower()).strip("-") or "home"
        screenshot(page, f"page-{viewport['width']}-{name}"[:80])
    assert wide == []
    context.close()
