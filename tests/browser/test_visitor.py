"""A visitor's journey through the public site in real Chromium."""

import re

from tests.browser.conftest import screenshot, serious_violations


def test_visitor_goes_from_home_to_list_to_clinic_to_reviews(page):
    page.goto("/")
    assert page.locator("h1").count() == 1
    assert page.get_by_role("search").first.is_visible()
    assert serious_violations(page) == []
    screenshot(page, "home")

    page.get_by_role("link", name="Find a clinic").first.click()
    page.wait_for_url(re.compile(r"/search"))
    cards = page.locator(".clinic-card")
    assert cards.count() >= 10
    assert serious_violations(page) == []
    screenshot(page, "search")

    first = cards.first.locator(".card-title a")
    name = first.inner_text()
    first.click()
    page.wait_for_url(re.compile(r"/clinics/[a-z0-9-]+$"))
    assert page.locator("h1").inner_text() == name
    assert page.get_by_role("heading", name="Quality score").is_visible()
    assert serious_violations(page) == []
    screenshot(page, "clinic")

    page.get_by_role("link", name="Testimonials", exact=True).click()
    page.wait_for_url(re.compile(r"/reviews"))
    assert page.locator("article.review").count() >= 1
    assert serious_violations(page) == []
    screenshot(page, "reviews")


def test_results_gallery_filters_without_javascript(browser, live_server):
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto("/search")
    page.locator(".clinic-card .card-title a").first.click()
    page.get_by_role("link", name="Results", exact=True).click()
    page.get_by_label("Age of the result").select_option("long_term")
    page.get_by_role("button", name="Filter").click()
    assert "age=long_term" in page.url
    assert page.get_by_role("status").is_visible()
    context.close()


def test_unknown_page_shows_the_sites_404(page):
    resp = page.goto("/clinics/no-such-clinic")
    assert resp.status == 404
    assert page.get_by_role("heading", name="Page not found").is_visible()


def test_main_menu_opens_on_a_phone_and_always_shows_on_a_wide_screen(browser, live_server):
    """The menu is a <details>: it works without JavaScript, by touch and by keyboard."""
    for javascript in (True, False):
        context = browser.new_context(
            base_url=live_server.url,
            viewport={"width": 360, "height": 740},
            java_script_enabled=javascript,
        )
        page = context.new_page()
        page.goto("/")
        nav = page.get_by_role("navigation", name="Main")
        find = nav.get_by_role("link", name="Find a clinic")
        menu = nav.get_by_label("Menu")
        assert menu.is_visible() and not find.is_visible()
        menu.focus()
        page.keyboard.press("Enter")
        assert find.is_visible() and nav.get_by_role("link", name="Log in").is_visible()
        page.keyboard.press("Tab")  # the first link of the open menu is next
        assert page.evaluate("document.activeElement.textContent") == "Find a clinic"
        if javascript:  # axe runs in the page
            assert serious_violations(page) == []
        menu.click()
        assert not find.is_visible()
        context.close()

    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto("/")
    nav = page.get_by_role("navigation", name="Main")
    assert not nav.locator("summary").is_visible()
    page.keyboard.press("Tab")  # skip link
    page.keyboard.press("Tab")  # site name
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Find a clinic"
    nav.get_by_role("link", name="Register").click()
    page.wait_for_url(re.compile(r"/auth/register"))
    context.close()
