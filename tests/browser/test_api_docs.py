"""The API documentation page renders the document with no network beyond the site."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser


def test_api_docs_render_offline_from_local_files(page, live_server):
    outside: list[str] = []
    problems: list[str] = []

    def only_the_site(route):
        if route.request.url.startswith(live_server.url):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    page.route("**/*", only_the_site)
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.goto("/api/v1/docs")
    page.get_by_text("SMP Clinic Directory API").first.wait_for()
    for summary in ("Search clinics.", "One clinic.", "One published testimonial."):
        page.get_by_text(summary, exact=True).first.wait_for()
    # Open one operation: its parameters are listed.
    page.get_by_text("Search clinics.", exact=True).first.click()
    page.get_by_text("max_price").first.wait_for()
    assert outside == []
    assert problems == []
