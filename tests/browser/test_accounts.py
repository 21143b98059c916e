"""Accounts in real Chromium: register, verify by the mailed link, log in and out
(the old cookie dies), and staff forced through their second factor."""

from __future__ import annotations

import re

from directory.demo import DEMO_PASSWORD, DEMO_TOTP
from tests.browser.conftest import log_in, screenshot, serious_violations
from tests.conftest import totp_now
from tests.web._mail import last_to, link_in


def test_visitor_registers_verifies_logs_in_and_out_and_the_old_cookie_dies(
    page, browser, live_server
):
    address = "browser.visitor@example.com"
    page.goto("/")
    page.get_by_role("link", name="Register").click()
    page.wait_for_url(re.compile(r"/auth/register"))
    assert serious_violations(page) == []
    screenshot(page, "register")
    page.get_by_label("E-mail address").fill("  Browser.Visitor@Example.com ")
    page.get_by_label("Display name").fill("Browser Visitor")
    page.get_by_label("Password").fill("password1234")  # common: refused
    page.get_by_role("button", name="Register").click()
    assert page.get_by_text("on a list of common passwords").is_visible()
    page.get_by_label("Password").fill("a genuinely long passphrase")
    page.get_by_role("button", name="Register").click()
    # The same answer whether or not the address has an account: check your mail.
    page.wait_for_url(re.compile(r"/auth/login$"))
    assert page.get_by_text("We have sent a message to that address").is_visible()
    assert serious_violations(page) == []
    screenshot(page, "registered-check-your-mail")

    link = link_in(last_to(live_server, address), "/auth/verify/")
    assert link.startswith(live_server.url)
    page.goto(link)
    assert serious_violations(page) == []
    page.get_by_role("button", name="Confirm my address").click()
    page.wait_for_url(re.compile(r"/auth/login$"))
    log_in(page, address, "a genuinely long passphrase")
    page.wait_for_url(re.compile(r"/account$"))
    assert page.locator(".badge", has_text="confirmed").first.inner_text() == "confirmed"

    page.get_by_role("button", name="Log out").click()
    page.wait_for_url(re.compile(r"/$"))
    log_in(page, address, "a genuinely long passphrase", remember=True)
    page.wait_for_url(re.compile(r"/account$"))
    assert serious_violations(page) == []
    old_cookies = page.context.cookies()
    assert {c["name"] for c in old_cookies} >= {"session", "remember_token"}
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url(re.compile(r"/$"))
    assert page.get_by_role("link", name="Log in").is_visible()

    replay = browser.new_context(base_url=live_server.url)
    replay.add_cookies(old_cookies)
    other = replay.new_page()
    other.goto("/account")
    assert re.search(r"/auth/login\?next=", other.url)
    assert other.get_by_role("heading", name="Log in").is_visible()
    replay.close()


def test_demo_moderator_is_forced_through_the_second_factor(page):
    log_in(page, "moderator@example.com", DEMO_PASSWORD)
    page.wait_for_url(re.compile(r"/auth/totp\?"))
    assert page.get_by_role("heading", name="Enter your code").is_visible()
    assert serious_violations(page) == []
    screenshot(page, "totp-verify")
    page.get_by_label("6-digit code").fill("000000")
    page.get_by_role("button", name="Continue").click()
    assert page.get_by_text("That code is not right").is_visible()
    page.get_by_label("6-digit code").fill(totp_now(DEMO_TOTP["moderator"]))
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(re.compile(r"/account$"))
    # A moderator is not an admin.
    assert page.goto("/admin/users").status == 403


def test_admin_reaches_the_user_list_only_after_the_second_factor(page):
    page.goto("/admin/users")
    assert "/auth/login" in page.url
    page.get_by_label("E-mail address").fill("admin@example.com")
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"/auth/totp\?"))
    page.get_by_label("6-digit code").fill(totp_now(DEMO_TOTP["admin"]))
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(re.compile(r"/admin/users"))
    assert page.get_by_role("heading", name="Users").is_visible()
    assert page.get_by_role("cell", name="consumer@example.com", exact=True).is_visible()
    assert serious_violations(page) == []
    screenshot(page, "admin-users")


def test_a_new_moderator_from_the_command_line_must_set_up_the_second_factor(page, live_server):
    out = live_server.flask(
        "users",
        "create",
        "new.moderator@example.com",
        "--role",
        "moderator",
        input="a new moderator passphrase\n",
    )
    assert "Created user" in out.stdout
    log_in(page, "new.moderator@example.com", "a new moderator passphrase")
    page.wait_for_url(re.compile(r"/auth/totp/setup"))
    assert page.locator(".totp-qr svg").is_visible()
    assert serious_violations(page) == []
    screenshot(page, "totp-setup")
    secret = page.locator("code.totp-secret").inner_text()
    page.get_by_label("6-digit code").fill(totp_now(secret))
    page.get_by_role("button", name="Confirm").click()
    page.wait_for_url(re.compile(r"/account$"))
    assert page.get_by_text("Your second factor is set up").is_visible()
