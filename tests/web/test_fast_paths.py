"""The request's cheap paths (directory/application.py, templating.CallContext) give
what Flask and Jinja's own paths give."""

from __future__ import annotations

import pytest
from flask import Flask, url_for
from jinja2 import pass_context, pass_environment
from werkzeug.routing import BuildError


def test_urls_built_once_are_the_urls_flask_builds(app):
    cases = [
        ("static", {"filename": "css/site.css"}),
        ("public.clinic", {"slug": "some-clinic"}),
        ("public.search", {"q": "smp london", "city": None, "page": 2}),
        ("public.search", {"service": ["scar", "density"]}),  # unhashable: built each time
        ("public.clinic_reviews", {"slug": "x", "_anchor": "review-3"}),
        ("public.clinic", {"slug": "x", "_external": True}),
    ]
    with app.test_request_context("/", base_url="http://localhost/prefix"):
        for endpoint, values in cases:
            mine = [url_for(endpoint, **values) for _ in range(2)]
            flask = Flask.url_for(app, endpoint, **values)
            assert mine == [flask, flask], (endpoint, values)
        assert url_for("static", filename="css/site.css").startswith("/prefix/static/")
        with pytest.raises(BuildError):
            url_for("public.no_such_page")
    with app.test_request_context("/", base_url="http://other.example"):
        assert url_for("public.clinic", slug="x", _external=True).startswith("http://other.")


def test_a_visitor_without_cookies_gets_no_cookie_and_no_user(client):
    resp = client.get("/")
    assert resp.status_code == 200
    assert "Set-Cookie" not in resp.headers
    assert "Log in" in resp.get_data(as_text=True)


def test_template_calls_keep_jinja_rules(app):
    @pass_context
    def from_context(ctx, name):
        return ctx.get(name)

    @pass_environment
    def from_environment(env):
        return type(env).__name__

    def stops():
        raise StopIteration

    source = (
        "{% macro twice(x) %}{{ x }}{{ x }}{% endmacro %}"
        "{% for i in [1] %}{{ from_context('who') }}|{{ from_environment() }}|"
        "{{ twice(i) }}|{{ d.get('k') }}|{{ 'a-b'.split('-')|join }}|{{ stops() is undefined }}"
        "{% endfor %}"
    )
    with app.test_request_context("/"):
        html = app.jinja_env.from_string(source).render(
            who="visitor",
            from_context=from_context,
            from_environment=from_environment,
            stops=stops,
            d={"k": "v"},
        )
    assert html == "visitor|Environment|11|v|ab|True"
