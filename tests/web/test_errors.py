"""Error pages in the site's style for every status the site returns."""

import pytest
from flask import abort


@pytest.mark.parametrize(
    "code,title",
    [
        (400, "Bad request"),
        (403, "Not allowed"),
        (404, "Page not found"),
        (409, "Conflict"),
        (413, "Too large"),
        (429, "Too many requests"),
        (500, "Something went wrong"),
    ],
)
def test_error_pages_render_in_site_style(app_factory, code, title):
    app = app_factory(TESTING=False)

    @app.get("/fail")
    def fail():
        abort(code)

    resp = app.test_client().get("/fail")
    html = resp.get_data(as_text=True)
    assert resp.status_code == code
    assert f'<h1 class="h2">{title}</h1>' in html
    assert "Find a clinic" in html  # navigation still there
    assert resp.headers["X-Request-ID"] in html


def test_a_message_given_with_abort_reaches_the_user(app_factory):
    app = app_factory(TESTING=False)

    @app.get("/fail")
    def fail():
        abort(403, "You can only edit your own clinic.")

    assert "You can only edit your own clinic." in app.test_client().get("/fail").get_data(
        as_text=True
    )


def test_too_large_upload_is_413(app_factory):
    app = app_factory(TESTING=False, MAX_CONTENT_LENGTH=1000)

    @app.post("/upload")
    def upload():
        from flask import request

        return str(len(request.form))

    app.config["WTF_CSRF_ENABLED"] = False
    resp = app.test_client().post("/upload", data={"x": "y" * 5000})
    assert resp.status_code == 413


def test_wrong_method_is_405_with_allow_header(client):
    resp = client.post("/search")
    assert resp.status_code in (400, 405)  # CSRF protection may answer first
    resp = client.delete("/search")
    assert resp.status_code == 405 and "GET" in resp.headers["Allow"]
