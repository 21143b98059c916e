"""User text is always escaped (docs/security.md §14): a display name on the accounts
pages, a clinic's name and description on search results."""

from __future__ import annotations

import re

from markupsafe import escape

from directory.extensions import db
from directory.models import User
from tests.conftest import login, post_form
from tests.factories import UserFactory
from tests.web.test_auth import staff

XSS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "<svg onload=alert(1)>",
    '"><script>alert(1)</script>',
    "'><img src=x onerror=alert(1)>",
    "<iframe src=javascript:alert(1)>",
    "<a href=javascript:alert(1)>x</a>",
    "<body onload=alert(1)>",
    "<input autofocus onfocus=alert(1)>",
    "<details open ontoggle=alert(1)>",
    "<math><mtext><script>alert(1)</script>",
    "<scr<script>ipt>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    '<img src="x" onerror="alert(1)">',
    "<video><source onerror=alert(1)>",
    "<object data=javascript:alert(1)>",
    "<embed src=javascript:alert(1)>",
    "<link rel=import href=//evil>",
    "<meta http-equiv=refresh content=0;url=javascript:alert(1)>",
    "<style>@import'//evil'</style>",
    "<base href=//evil.example/>",
    "<form action=javascript:alert(1)><button>x",
    "<isindex action=javascript:alert(1)>",
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "{{ 7*7 }}",
    "{% raw %}x",
    "${7*7}",
    "<%= 7*7 %>",
    "&lt;script&gt;alert(1)&lt;/script&gt;",
    "&#60;script&#62;alert(1)",
    "\u003cscript\u003ealert(1)",
    "<img src=x:alert(alt) onerror=eval(src) alt=0>",
    "<svg><animate onbegin=alert(1) attributeName=x>",
    "<marquee onstart=alert(1)>",
    "<audio src onerror=alert(1)>",
    "<select autofocus onfocus=alert(1)>",
    "<textarea autofocus onfocus=alert(1)>",
    "<keygen autofocus onfocus=alert(1)>",
    '" onmouseover="alert(1)',
    "' onmouseover='alert(1)",
    "` onmouseover=`alert(1)",
    "</title><script>alert(1)</script>",
    "</textarea><script>alert(1)</script>",
    "<!--<script>alert(1)//-->",
    "<![CDATA[<script>alert(1)</script>]]>",
    "<xss id=x tabindex=1 onfocusin=alert(1)></xss>",
    '<div style="background:url(javascript:alert(1))">',
    "<table background=javascript:alert(1)>",
    "<img srcset=x onerror=alert(1)>",
    '<a href="&#106;avascript:alert(1)">x</a>',
]


def rendered_safely(html: str, payload: str) -> bool:
    shown = payload.strip()[:80]
    if any(ch in shown for ch in "<>\"'&"):
        return shown not in html and str(escape(shown)) in html
    return shown in html


def test_xss_corpus_through_the_display_name(app):
    assert len(XSS) >= 50
    admin, _ = staff(app, "admin")
    admin_client = app.test_client()
    login(admin_client, admin, mfa=True)
    checked = 0
    for i, payload in enumerate(XSS):
        with app.app_context():
            user = UserFactory(display_name=payload[:80], email=f"xss{i}@example.com")
            db.session.refresh(user)
            db.session.expunge(user)
        client = app.test_client()
        login(client, user)
        for html in (
            client.get("/account").get_data(as_text=True),
            admin_client.get("/admin/users?q=" + f"xss{i}@").get_data(as_text=True),
        ):
            assert rendered_safely(html, payload), payload
            assert not re.search(r"<[^>]+\son[a-z]+\s*=\s*['\"]?alert", html)
            assert not re.search(r"<[^>]*(href|src|action)\s*=\s*['\"]?\s*javascript:", html, re.I)
            checked += 1
    print(f"XSS: {len(XSS)} payloads x 1 field (display name) x 2 pages = {checked} renders")


def test_registration_keeps_markup_in_a_display_name_as_text(app, client):
    post_form(
        client,
        "/auth/register",
        {
            "email": "m@example.com",
            "display_name": "<b>Bold</b> <script>x</script>",
            "password": "a long enough passphrase",
        },
    )
    # Registering logs nobody in (the answer is the same for a taken address).
    post_form(
        client, "/auth/login", {"email": "m@example.com", "password": "a long enough passphrase"}
    )
    with app.app_context():
        assert db.session.query(User).one().display_name == "<b>Bold</b> <script>x</script>"
    html = client.get("/account").get_data(as_text=True)
    assert "&lt;b&gt;Bold&lt;/b&gt; &lt;script&gt;x&lt;/script&gt;" in html


def _word(i: int) -> str:
    """A made-up word per payload ("zqaa", "zqab", ...): each search finds its clinic."""
    return "zq" + chr(97 + i // 26) + chr(97 + i % 26)


def test_xss_corpus_through_a_clinic_name_and_description_in_search_results(app_factory):
    """The search card (kept per worker by templating.MacroMemo) and its snippet (built
    from escaped pieces by search.highlight) show a clinic owner's text as text, on
    the first render and when the card comes from the memo (page cache off)."""
    from directory.extensions import db as _db
    from tests.factories import ClinicFactory
    from tests.search.conftest import rebuild

    app = app_factory(PAGE_CACHE=False)
    with app.app_context():
        for i, payload in enumerate(XSS):
            ClinicFactory(name=payload[:80], description=f"Studio {_word(i)} {payload} after.")
        _db.session.commit()
    rebuild(app)
    client = app.test_client()
    checked = 0
    for i, payload in enumerate(XSS):
        for _ in range(2):  # rendered, then from the card memo
            html = client.get(f"/search?q={_word(i)}").get_data(as_text=True)
            assert rendered_safely(html, payload), payload
            assert f"<mark>{_word(i)}</mark>" in html
            assert not re.search(r"<[^>]+\son[a-z]+\s*=\s*['\"]?alert", html)
            assert not re.search(r"<[^>]*(href|src|action)\s*=\s*['\"]?\s*javascript:", html, re.I)
            checked += 1
    print(f"XSS: {len(XSS)} payloads x 2 fields (clinic name, description) on search = {checked}")
