"""A clinic's self-service journey in real Chromium: claim, approval, a price
edit, a result case, its publication, and a visitor filtering the gallery.

Logs in through the auth blueprint's form (/auth/login: email, password; then
/auth/totp: code for staff)."""

import re

import pytest

from directory.demo import DEMO_TOTP
from tests.browser.conftest import BROWSER_TIMEOUT_MS, log_in, screenshot, serious_violations
from tests.factories import image_bytes

CASE_NOTE = "Browser case: Norwood VI, three sessions"


def new_page(browser, live_server):
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(BROWSER_TIMEOUT_MS)
    return context, page


def score_text(page) -> str:
    return page.locator("section.explanation").inner_text()


def decide(page, queue_url: str, heading_text: str, statement: str, action: str) -> None:
    page.goto(queue_url + "?order=newest")
    assert serious_violations(page) == []
    item = page.locator("article.moderation-item").filter(has_text=heading_text).first
    item.get_by_label("Decision", exact=True).select_option(action)
    item.get_by_label("Reason", exact=True).select_option("meets_guidelines")
    item.get_by_label("Statement of reasons").fill(statement)
    screenshot(page, "queue-" + queue_url.rsplit("/", 1)[1])
    item.get_by_role("button", name="Record decision").click()
    page.wait_for_url(re.compile(re.escape(queue_url) + "$"))
    assert page.locator(".alert-success").count() == 1


def test_owner_claims_edits_price_adds_result_and_visitor_finds_it(browser, live_server, tmp_path):
    owner_ctx, owner = new_page(browser, live_server)
    mod_ctx, mod = new_page(browser, live_server)
    visitor_ctx, visitor = new_page(browser, live_server)
    try:
        # A visitor-facing clinic nobody manages yet.
        visitor.goto("/search")
        hrefs = visitor.locator(".clinic-card .card-title a").evaluate_all(
            "links => links.map(a => a.getAttribute('href'))"
        )
        for href in hrefs:
            visitor.goto(href)
            if visitor.locator(".claim-link").count():
                break
        else:
            pytest.fail("no unclaimed clinic in the demo data")
        slug = href.rsplit("/", 1)[1]
        name = visitor.locator("h1").inner_text()
        score_before = score_text(visitor)

        # The future owner claims it.
        log_in(owner, "consumer@example.com")
        owner.goto(href)
        owner.get_by_role("link", name="Claim it").click()
        owner.wait_for_url(re.compile(r"/manage/claim/"))
        assert serious_violations(owner) == []
        owner.get_by_label("Your role at the clinic", exact=True).fill("Owner")
        owner.get_by_label("Business e-mail", exact=True).fill("casey@clinic.example")
        owner.get_by_label("Anything else we should know", exact=True).fill("I opened it in 2019.")
        screenshot(owner, "manage-claim")
        owner.get_by_role("button", name="Send the claim").click()
        owner.wait_for_url(re.compile(r"/manage$"))
        assert "waiting for a moderator" in owner.content()

        # A moderator approves it.
        log_in(mod, "moderator@example.com", totp_secret=DEMO_TOTP["moderator"])
        decide(mod, "/moderation/claims", name, "Role and evidence checked by phone.", "approve")
        screenshot(mod, "moderation-claims")

        # The owner edits the price.
        owner.goto("/manage")
        assert serious_violations(owner) == []
        screenshot(owner, "manage-dashboard")
        panel = owner.locator("section.clinic-panel").filter(has_text=name)
        panel.get_by_role("link", name="Edit profile").click()
        owner.wait_for_url(re.compile(rf"/manage/{slug}/edit$"))
        assert serious_violations(owner) == []
        owner.get_by_label("Lowest price of a full course", exact=True).fill("1234")
        owner.get_by_label("Highest price of a full course", exact=True).fill("2345")
        owner.get_by_role("button", name="Save changes").click()
        owner.wait_for_url(re.compile(rf"/manage/{slug}/edit$"))
        assert "Saved: 2 changes, live now." in owner.locator(".alert-success").inner_text()
        screenshot(owner, "manage-edit")

        # ... and adds a result case.
        before, after = tmp_path / "before.png", tmp_path / "after.jpg"
        before.write_bytes(image_bytes("PNG", size=(320, 240), seed=701))
        after.write_bytes(image_bytes("JPEG", size=(320, 240), seed=702))
        owner.goto(f"/manage/{slug}/results/new")
        assert serious_violations(owner) == []
        owner.get_by_label("Before photo", exact=True).set_input_files(str(before))
        owner.get_by_label("After photo", exact=True).set_input_files(str(after))
        owner.get_by_label("Hair-loss stage", exact=True).select_option("norwood-6")
        owner.get_by_label("Skin type", exact=True).select_option("3")
        owner.get_by_label("Hair colour", exact=True).select_option("dark_brown")
        owner.get_by_label("Goal", exact=True).select_option("buzz")
        owner.get_by_label("Sessions", exact=True).fill("3")
        owner.get_by_label(re.compile("Months since the last session")).fill("8")
        owner.get_by_label("Notes", exact=True).fill(CASE_NOTE)
        owner.get_by_label(re.compile("agreed in writing")).check()
        screenshot(owner, "manage-result")
        owner.get_by_role("button", name="Send for checking").click()
        owner.wait_for_url(re.compile(r"/manage$"))
        assert "Result case #" in owner.content()

        # Not public before a moderator publishes it.
        visitor.goto(f"/clinics/{slug}/results")
        assert CASE_NOTE not in visitor.content()

        decide(mod, "/moderation/results", name, "Consent form and photos checked.", "publish")

        # A visitor finds it in the gallery, filtered by stage.
        visitor.goto(f"/clinics/{slug}/results")
        visitor.get_by_label("Hair-loss stage", exact=True).select_option("norwood-6")
        visitor.get_by_role("button", name="Filter").click()
        visitor.wait_for_url(re.compile(r"stage=norwood-6"))
        assert visitor.get_by_text(CASE_NOTE).is_visible()
        assert serious_violations(visitor) == []
        screenshot(visitor, "gallery-filtered")
        visitor.get_by_label("Hair-loss stage", exact=True).select_option("ludwig-1")
        visitor.get_by_role("button", name="Filter").click()
        visitor.wait_for_url(re.compile(r"stage=ludwig-1"))
        assert CASE_NOTE not in visitor.content()

        # The price changed on the public page; the score did not.
        visitor.goto(f"/clinics/{slug}")
        assert "1,234–2,345" in visitor.content()
        assert score_text(visitor) == score_before
    finally:
        for ctx in (owner_ctx, mod_ctx, visitor_ctx):
            ctx.close()
