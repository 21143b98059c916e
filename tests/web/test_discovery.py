"""Pages machines understand, checked on the whole demo (40 clinics): JSON-LD (parsed with
extruct) on every clinic page, the home page's WebSite, the page head
(canonical, Open Graph, Twitter, icons, manifest), the sitemap and the feeds."""

from __future__ import annotations

import html as html_lib
import json
import re
import xml.etree.ElementTree as ET
from statistics import mean

import extruct
import pytest

from directory import create_app, demo, services
from directory.extensions import db
from directory.models import Clinic, Review
from directory.vocab import PUBLIC_CLINIC_STATUSES
from tests.conftest import make_config, reset_schema

BASE = "http://localhost"
ATOM = "{http://www.w3.org/2005/Atom}"
SM = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


@pytest.fixture(scope="module")
def demo_app(tmp_path_factory, worker_id):
    app = create_app(make_config(tmp_path_factory.mktemp("demo"), f"{worker_id}demo"))
    reset_schema(app)
    with app.app_context():
        # The demo `make run` seeds, at 40 clinics instead of 150 (the same generator and
        # seed: every kind of clinic, page and image; 150 cost a minute of setup).
        demo.seed(40, log=lambda *a: None)
        # A suspended clinic must vanish from every machine-readable surface.
        clinic = db.session.execute(db.select(Clinic).order_by(Clinic.id.desc())).scalars().first()
        clinic.status = "suspended"
        services.commit()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture(scope="module")
def facts(demo_app):
    """Per public clinic: slug, name, score, count, plain mean of the overall ratings."""
    with demo_app.app_context():
        out = {}
        for c in db.session.execute(db.select(Clinic)).scalars():
            overall = db.session.execute(
                db.select(Review.overall).where(
                    Review.clinic_id == c.id, Review.status == "published"
                )
            ).scalars()
            out[c.slug] = {
                "name": c.name,
                "public": c.status in PUBLIC_CLINIC_STATUSES,
                "score": c.quality_score,
                "count": c.review_count,
                "overall": list(overall),
            }
        return out


def jsonld(html: str, url: str) -> list[dict]:
    return extruct.extract(html, base_url=url, syntaxes=["json-ld"])["json-ld"]


def fetch(client, path: str) -> int:
    """The status of a file response (closed at once)."""
    with client.get(path) as r:
        return r.status_code


def one(html: str, pattern: str) -> str:
    found = re.findall(pattern, html)
    assert len(found) == 1, (pattern, found)
    return html_lib.unescape(found[0])


def check_every_demo_clinic_page_has_complete_structured_data(demo_app, facts):
    client = demo_app.test_client()
    checked = 0
    for slug, f in facts.items():
        url = f"{BASE}/clinics/{slug}"
        r = client.get(f"/clinics/{slug}")
        if not f["public"]:
            assert r.status_code == 404
            continue
        html = r.get_data(as_text=True)
        items = jsonld(html, url)
        business = next(i for i in items if i["@type"] == "MedicalBusiness")
        crumbs = next(i for i in items if i["@type"] == "BreadcrumbList")
        assert business["@id"] == url + "#clinic"
        assert business["name"] == f["name"] and business["url"] == url
        assert business["description"].strip()
        assert business["image"].startswith(BASE + "/")
        assert fetch(client, business["image"].removeprefix(BASE)) == 200
        assert [e["position"] for e in crumbs["itemListElement"]] == [1, 2, 3]
        assert crumbs["itemListElement"][-1]["item"] == url

        reviews = business.get("review", [])
        assert len(reviews) == min(f["count"], demo_app.config["REVIEWS_PAGE_SIZE"])
        for rv in reviews:
            assert rv["@type"] == "Review"
            assert rv["itemReviewed"]["@id"] == business["@id"]
            assert rv["author"]["name"] and f"By {rv['author']['name']}" in html
            assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", rv["datePublished"])
            assert 1 <= rv["reviewRating"]["ratingValue"] <= 5
            assert rv["reviewRating"]["bestRating"] == 5
        if f["count"]:
            agg = business["aggregateRating"]
            assert agg["ratingValue"] == round(f["score"], 2)
            assert agg["ratingCount"] == f["count"] == len(f["overall"])
            assert "Bayesian mean" in agg["name"] and "trust-weighted" in agg["description"]
            props = {p["name"]: p["value"] for p in business["additionalProperty"]}
            assert props["Plain mean of the overall ratings"] == pytest.approx(
                mean(f["overall"]), abs=0.005
            )
            assert props["Published testimonials"] == f["count"]
        else:
            assert "aggregateRating" not in business

        # The head: one canonical, Open Graph and Twitter cards with an image.
        assert one(html, r'<link rel="canonical" href="([^"]+)"') == url
        og = extruct.extract(html, base_url=url, syntaxes=["opengraph"])["opengraph"][0]
        props = dict(og["properties"])
        assert props["og:url"] == url and props["og:image"] == business["image"]
        assert props["og:title"].startswith(f["name"].replace("&", "&"))
        assert one(html, r'<meta name="twitter:card" content="([^"]+)"') == "summary_large_image"
        assert f'href="/clinics/{slug}/feed.atom"' in html
        checked += 1
    assert checked == sum(f["public"] for f in facts.values()) >= 30


def check_home_page_is_a_website_with_a_search_action(demo_app):
    html = demo_app.test_client().get("/").get_data(as_text=True)
    site = next(i for i in jsonld(html, BASE + "/") if i["@type"] == "WebSite")
    action = site["potentialAction"]
    assert action["@type"] == "SearchAction"
    template = action["target"]["urlTemplate"]
    assert template == BASE + "/search?q={search_term_string}"
    assert action["query-input"] == "required name=search_term_string"
    # The search it describes works.
    filled = template.replace("{search_term_string}", "London").removeprefix(BASE)
    assert demo_app.test_client().get(filled).status_code == 200


CANONICAL = [
    ("/", "/"),
    ("/search?q=london&page=1", "/search?q=london"),
    ("/search?sort=reviews&page=2&utm_source=x", "/search?page=2&sort=reviews"),
    ("/search?service=&q=", "/search"),
    ("/guide", "/guide"),
    ("/cost", "/cost"),
    ("/how-we-rank", "/how-we-rank"),
    ("/compare", "/compare"),
    ("/auth/login", "/auth/login"),
    (
        "/clinics/atelier-follicle-london/reviews?page=1",
        "/clinics/atelier-follicle-london/reviews",
    ),
    ("/clinics/atelier-follicle-london/results", "/clinics/atelier-follicle-london/results"),
]


def check_page_has_one_canonical_link_and_a_card(demo_app, url, canonical):
    r = demo_app.test_client().get(url)
    assert r.status_code == 200, url
    html = r.get_data(as_text=True)
    assert one(html, r'<link rel="canonical" href="([^"]+)"') == BASE + canonical
    assert one(html, r'<meta property="og:url" content="([^"]+)"') == BASE + canonical
    assert one(html, r'<meta property="og:image" content="([^"]+)"').startswith(BASE)
    title = one(html, r"<title>([^<]+)</title>")
    assert one(html, r'<meta property="og:title" content="([^"]+)"') in title
    description = one(html, r'<meta name="description" content="([^"]+)"')
    assert len(description) > 40
    assert '<link rel="manifest" href="/site.webmanifest">' in html
    assert '<link rel="apple-touch-icon"' in html


def check_public_pages_have_their_own_titles_and_descriptions(demo_app):
    client = demo_app.test_client()
    pages = [
        "/",
        "/search",
        "/guide",
        "/cost",
        "/how-we-rank",
        "/compare",
        "/clinics/atelier-follicle-london",
        "/clinics/atelier-follicle-london/results",
        "/clinics/atelier-follicle-london/reviews",
    ]
    heads = []
    for url in pages:
        html = client.get(url).get_data(as_text=True)
        heads.append(
            (
                one(html, r"<title>([^<]+)</title>"),
                one(html, r'<meta name="description" content="([^"]+)"'),
            )
        )
    assert len({t for t, _ in heads}) == len(pages)
    assert len({d for _, d in heads}) == len(pages)


def check_favicon_touch_icon_and_manifest(demo_app):
    client = demo_app.test_client()
    with client.get("/favicon.ico") as ico:
        assert ico.status_code == 200 and ico.mimetype == "image/x-icon"
        assert ico.get_data()[:4] == b"\x00\x00\x01\x00"
    assert fetch(client, "/static/icons/apple-touch-icon.png") == 200
    manifest = client.get("/site.webmanifest")
    assert manifest.mimetype == "application/manifest+json"
    data = json.loads(manifest.get_data())
    assert data["name"] and data["start_url"] == "/"
    for icon in data["icons"]:
        assert fetch(client, icon["src"]) == 200


def check_sitemap_lists_every_public_page_with_lastmod(demo_app, facts):
    r = demo_app.test_client().get("/sitemap.xml")
    root = ET.fromstring(r.get_data())
    entries = {
        u.find(f"{SM}loc").text: u.find(f"{SM}lastmod").text for u in root.findall(f"{SM}url")
    }
    for path in ("/", "/search", "/guide", "/cost", "/how-we-rank"):
        assert BASE + path in entries, path
    for slug, f in facts.items():
        for path in ("", "/results", "/reviews"):
            assert (f"{BASE}/clinics/{slug}{path}" in entries) == f["public"], (slug, path)
    for loc, lastmod in entries.items():
        assert lastmod and re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z", lastmod), (
            loc
        )
    assert len(entries) == 5 + 3 * sum(f["public"] for f in facts.values())


def check_atom_feeds_of_new_testimonials(demo_app, facts):
    client = demo_app.test_client()
    site = ET.fromstring(client.get("/feed.atom").get_data())
    assert site.tag == f"{ATOM}feed"
    entries = site.findall(f"{ATOM}entry")
    assert len(entries) == 50
    published = [e.find(f"{ATOM}published").text for e in entries]
    assert published == sorted(published, reverse=True)
    assert site.find(f"{ATOM}updated").text == published[0]
    slug = "atelier-follicle-london"
    r = client.get(f"/clinics/{slug}/feed.atom")
    assert r.mimetype == "application/atom+xml"
    feed = ET.fromstring(r.get_data())
    assert len(feed.findall(f"{ATOM}entry")) == min(50, facts[slug]["count"])
    for e in feed.findall(f"{ATOM}entry"):
        assert e.find(f"{ATOM}author/{ATOM}name").text
        assert e.find(f"{ATOM}link").get("href").startswith(f"{BASE}/clinics/{slug}/reviews#")
    hidden = next(s for s, f in facts.items() if not f["public"])
    assert client.get(f"/clinics/{hidden}/feed.atom").status_code == 404
    assert facts[hidden]["name"] not in client.get("/feed.atom").get_data(as_text=True)


def test_machines_understand_every_page_of_the_demo(demo_app, facts):
    """One test over one seeded demo (seeding the full demo is the slow part, and
    parallel workers would each seed their own copy for separate tests)."""
    check_every_demo_clinic_page_has_complete_structured_data(demo_app, facts)
    check_home_page_is_a_website_with_a_search_action(demo_app)
    for url, canonical in CANONICAL:
        check_page_has_one_canonical_link_and_a_card(demo_app, url, canonical)
    check_public_pages_have_their_own_titles_and_descriptions(demo_app)
    check_favicon_touch_icon_and_manifest(demo_app)
    check_sitemap_lists_every_public_page_with_lastmod(demo_app, facts)
    check_atom_feeds_of_new_testimonials(demo_app, facts)
