"""A visitor searches for a clinic near a misspelt city, in real Chromium."""

import re

from tests.browser.conftest import screenshot, serious_violations


def _scores(page):
    values = []
    for card in page.locator(".clinic-card").all():
        score = card.locator(".score-value")
        values.append(float(score.inner_text()) if score.count() else None)
    return values


def test_visitor_finds_clinics_near_a_misspelt_city_with_a_service(page):
    page.goto("/search")
    page.get_by_label("Near (town or city)").fill("Lonndon")
    page.get_by_label("Within").select_option("500")
    page.get_by_label("Service").select_option("full_scalp")
    page.get_by_role("button", name="Search").click()
    page.wait_for_url(re.compile(r"/search\?.*place=Lonndon"))
    assert "closest match" in page.locator("main").inner_text()
    status = page.get_by_role("status").first.inner_text()
    assert "within 500 km of London, GB" in status
    cards = page.locator(".clinic-card")
    assert cards.count() >= 2
    texts = page.locator(".clinic-card .distance").all_inner_texts()
    distances = [int(t.split()[0]) for t in texts]
    assert len(distances) == cards.count() and all(d <= 500 for d in distances)
    scores = _scores(page)
    rated = [s for s in scores if s is not None]
    assert rated == sorted(rated, reverse=True)
    assert scores[: len(rated)] == rated  # unrated (if any) come last
    assert serious_violations(page) == []
    screenshot(page, "search-near")

    first = cards.first.locator(".card-title a")
    name = first.inner_text()
    first.click()
    page.wait_for_url(re.compile(r"/clinics/[a-z0-9-]+$"))
    assert page.locator("h1").inner_text() == name
    page.go_back()

    page.get_by_label("Words").fill("camuflage")
    page.get_by_role("button", name="Search").click()
    page.wait_for_url(re.compile(r"q=camuflage"))
    suggestion = page.locator(".did-you-mean a")
    assert suggestion.inner_text() == "camouflage"
    assert serious_violations(page) == []
    screenshot(page, "search-did-you-mean")
    suggestion.click()
    page.wait_for_url(re.compile(r"q=camouflage"))
    assert page.locator(".did-you-mean").count() == 0
    assert page.locator(".clinic-card").count() >= 1
    assert "place=Lonndon" in page.url  # the other filters are kept


def test_search_box_suggests_clinics_and_places(page):
    page.goto("/")
    box = page.get_by_label("Clinic, city or treatment")
    box.press_sequentially("Atel", delay=30)
    page.locator("#home-q-suggestions option").first.wait_for(state="attached")
    values = page.locator("#home-q-suggestions option").evaluate_all(
        "opts => opts.map(o => o.value)"
    )
    assert any(v.startswith("Atelier") for v in values)


def test_near_you_on_the_home_page(page):
    page.goto("/")
    page.get_by_label("Your town or city").fill("Manchster")
    page.get_by_role("button", name="Show clinics near me").click()
    section = page.locator("section", has=page.locator("#near-heading"))
    assert "Manchester, GB" in section.inner_text()
    assert section.locator(".clinic-card").count() >= 1
    assert serious_violations(page) == []
    screenshot(page, "home-near-you")


def test_visitor_types_smp_london_and_sees_every_london_clinic_best_first(page):
    # What the place box alone finds within 500 km of London, best first.
    page.goto("/search?place=London&radius=500")
    page.get_by_role("status").first.wait_for()
    reference = page.locator(".clinic-card .card-title a").all_inner_texts()
    assert len(reference) >= 3

    page.goto("/")
    box = page.get_by_label("Clinic, city or treatment")
    box.fill("smp london")
    box.press("Enter")
    page.wait_for_url(re.compile(r"/search\?.*q=smp\+london"))
    chip = page.locator(".place-chip")
    assert chip.inner_text().startswith("near London, GB")
    assert "near London, GB" in page.title()
    # Atelier Follicle's own text never says "smp": it is still there, first.
    assert page.locator(".clinic-card .card-title a").first.inner_text() == "Atelier Follicle"

    page.get_by_label("Within").select_option("500")
    page.get_by_role("button", name="Search").click()
    page.wait_for_url(re.compile(r"radius=500"))
    names = page.locator(".clinic-card .card-title a").all_inner_texts()
    assert names == reference
    rated = [s for s in _scores(page) if s is not None]
    assert rated == sorted(rated, reverse=True)
    assert serious_violations(page) == []
    screenshot(page, "search-smp-london")

    chip.click()
    page.wait_for_url(re.compile(r"q=smp(&|$)"))
    assert page.locator(".place-chip").count() == 0
    assert page.locator(".clinic-card").count() > len(reference) or len(reference) == 16
