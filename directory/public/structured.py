"""schema.org structured data (JSON-LD) for the public pages.

A clinic page describes the clinic (`MedicalBusiness`, with a stable `@id`), its
breadcrumb trail, and the testimonials shown on the page as `Review` items. The
`aggregateRating` is our quality score, and says so: a trust-weighted Bayesian
mean of the published testimonials (not a plain average), with the plain mean
of the overall ratings and the count beside it as `additionalProperty`.
"""

from __future__ import annotations

from urllib.parse import urlencode

from flask import current_app, url_for

from directory import quality
from directory.models import Clinic, ResultCase, Review
from directory.services import opendata


def _base() -> str:
    return current_app.config["CANONICAL_URL"].rstrip("/")


def clinic_id(clinic: Clinic) -> str:
    return _base() + url_for("public.clinic", slug=clinic.slug) + "#clinic"


def clinic_image(clinic: Clinic, results: list[ResultCase]) -> str:
    """The newest published 'after' photo of the clinic's results, else the site's card."""
    for case in results:
        for photo in (case.after_photo, case.healed_photo):
            if photo is not None and photo.status == "published":
                return _base() + url_for("media.photo", photo_id=photo.id, size="web")
    return _base() + url_for("static", filename="img/og-image.png")


def _rating_description(clinic: Clinic) -> str:
    mean = opendata.plain_mean(clinic)
    plain = f" The plain mean of their overall ratings is {mean:.2f}." if mean is not None else ""
    return (
        f"Quality score: a trust-weighted Bayesian mean of {clinic.review_count} published "
        "testimonials (verified treatments and photos weigh more, older ones less; it starts "
        f"from {quality.PRIOR_MEAN:g} worth {quality.PRIOR_WEIGHT:g} testimonials). Price is "
        "never an input." + plain
    )


def review_item(review: Review, item_reviewed: str) -> dict:
    data = {
        "@type": "Review",
        "@id": _base()
        + url_for("public.clinic_reviews", slug=review.clinic.slug)
        + f"#review-{review.id}",
        "author": {"@type": "Person", "name": opendata.author_label(review)},
        "datePublished": opendata.published_time(review).date().isoformat(),
        "reviewRating": {
            "@type": "Rating",
            "ratingValue": review.overall,
            "bestRating": 5,
            "worstRating": 1,
        },
        "reviewBody": review.text,
        "itemReviewed": {"@id": item_reviewed},
    }
    if review.title:
        data["name"] = review.title
    return data


def clinic_jsonld(clinic: Clinic, reviews: list[Review], results: list[ResultCase]) -> dict:
    base = _base()
    url = base + url_for("public.clinic", slug=clinic.slug)
    ident = clinic_id(clinic)
    business: dict = {
        "@context": "https://schema.org",
        "@type": "MedicalBusiness",
        "@id": ident,
        "name": clinic.name,
        "url": url,
        "description": clinic.description
        or f"{clinic.name}, a scalp micropigmentation clinic in {clinic.city}.",
        "image": clinic_image(clinic, results),
        "address": {
            "@type": "PostalAddress",
            "streetAddress": clinic.address or "",
            "addressLocality": clinic.city,
            "addressRegion": clinic.region or "",
            "postalCode": clinic.postal_code or "",
            "addressCountry": clinic.country,
        },
    }
    if clinic.latitude is not None and clinic.longitude is not None:
        business["geo"] = {
            "@type": "GeoCoordinates",
            "latitude": clinic.latitude,
            "longitude": clinic.longitude,
        }
    if clinic.price_min is not None or clinic.price_max is not None:
        from directory.templating import format_price_range

        business["priceRange"] = format_price_range(clinic)
    if clinic.phone:
        business["telephone"] = clinic.phone
    if clinic.website:
        business["sameAs"] = [clinic.website]
    if clinic.quality_score is not None and clinic.review_count:
        business["aggregateRating"] = {
            "@type": "AggregateRating",
            "name": "Quality score (trust-weighted Bayesian mean)",
            "description": _rating_description(clinic),
            "ratingValue": round(clinic.quality_score, 2),
            "ratingCount": clinic.review_count,
            "reviewCount": clinic.review_count,
            "bestRating": 5,
            "worstRating": 1,
        }
        mean = opendata.plain_mean(clinic)
        business["additionalProperty"] = [
            {
                "@type": "PropertyValue",
                "name": "Plain mean of the overall ratings",
                "value": mean,
                "minValue": 1,
                "maxValue": 5,
            },
            {
                "@type": "PropertyValue",
                "name": "Published testimonials",
                "value": clinic.review_count,
            },
            {
                "@type": "PropertyValue",
                "name": "Testimonials with a verified treatment",
                "value": clinic.verified_count,
            },
        ]
    if reviews:
        business["review"] = [review_item(r, ident) for r in reviews]
    return business


def breadcrumb_jsonld(clinic: Clinic) -> dict:
    """The trail the clinic pages show: Clinics > city > clinic."""
    base = _base()
    url = base + url_for("public.clinic", slug=clinic.slug)
    return {
        "@context": "https://schema.org",
        "@type": "BreadcrumbList",
        "itemListElement": [
            {
                "@type": "ListItem",
                "position": 1,
                "name": "Clinics",
                "item": base + url_for("public.search"),
            },
            {
                "@type": "ListItem",
                "position": 2,
                "name": clinic.city,
                "item": base + url_for("public.search") + "?" + urlencode({"city": clinic.city}),
            },
            {"@type": "ListItem", "position": 3, "name": clinic.name, "item": url},
        ],
    }


def website_jsonld() -> dict:
    base = _base()
    return {
        "@context": "https://schema.org",
        "@type": "WebSite",
        "@id": base + "/#website",
        "url": base + "/",
        "name": "SMP Clinic Directory",
        "description": "Find a scalp micropigmentation clinic by the quality of its verified "
        "results, never by price.",
        "potentialAction": {
            "@type": "SearchAction",
            "target": {
                "@type": "EntryPoint",
                "urlTemplate": base + url_for("public.search") + "?q={search_term_string}",
            },
            "query-input": "required name=search_term_string",
        },
    }
