"""Request and response models of the public API (pydantic, read by SpecTree).

SpecTree validates every request's query string against these models and every
response body before it leaves; the OpenAPI 3.1 document is generated from
them. The choice lists come from the same vocabularies the pages use.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, WithJsonSchema

from directory import vocab
from directory.services.search import PRICE_BUCKETS
from directory.vocab import SEARCH_RADII as RADII
from directory.vocab import SEARCH_SORTS

# The same bounds as the pages' query strings (directory/public/forms.py).
MAX_PAGE = 10_000
MAX_TEXT = 200
MAX_PLACE = 120
MAX_PER_PAGE = 50


def one_of(values, kind: type, description: str):
    """An optional query parameter restricted to `values` (documented as an enum)."""
    allowed = tuple(values)

    def check(value):
        if value is not None and value not in allowed:
            raise ValueError("must be one of " + ", ".join(map(str, allowed)))
        return value

    schema = {
        "type": "integer" if kind is int else "string",
        "enum": list(allowed),
        "description": description,
    }
    return Annotated[kind | None, AfterValidator(check), WithJsonSchema(schema)]


def text(limit: int, description: str, min_length: int = 0):
    return Field("", min_length=min_length, max_length=limit, description=description)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Paging(BaseModel):
    page: int = Field(1, ge=1, le=MAX_PAGE, description="Page number, from 1.")
    per_page: int = Field(20, ge=1, le=MAX_PER_PAGE, description="Items per page.")


class ClinicSearch(Paging):
    """The filters and orders of the /search page. Price is a filter, never an order."""

    q: str = text(MAX_TEXT, "Free text: names, places, services, testimonials.")
    place: str = text(MAX_PLACE, "A city or place name; results within `radius` km.")
    radius: Annotated[
        int,
        AfterValidator(lambda v: _member(v, RADII)),
        WithJsonSchema({"type": "integer", "enum": list(RADII), "description": "km"}),
    ] = 50
    service: one_of(vocab.SERVICES, str, "Only clinics offering this service.") = None
    country: str = Field(
        "",
        pattern="^([A-Za-z]{2})?$",
        description="ISO 3166-1 alpha-2 country code.",
    )
    city: str = text(120, "Only clinics in this city (exact name).")
    max_price: one_of(
        PRICE_BUCKETS, int, "Only clinics whose lowest price is at most this (US dollars)."
    ) = None
    women: bool = Field(False, description="Only clinics offering density for long hair.")
    sort: Literal[tuple(SEARCH_SORTS)] = Field(  # type: ignore[valid-type]
        "quality",
        description=(
            "quality (default), reviews (number of testimonials), distance (needs `place`; "
            "without one the quality order is used) or relevance. Never price."
        ),
    )


def _member(value, allowed):
    if value not in allowed:
        raise ValueError("must be one of " + ", ".join(map(str, allowed)))
    return value


class ResultFilters(Paging):
    stage: one_of(vocab.STAGES, str, "Hair-loss stage (Norwood or Ludwig).") = None
    skin_type: one_of(vocab.SKIN_TYPES, int, "Fitzpatrick skin type 1-6.") = None
    hair_colour: one_of(vocab.HAIR_COLOURS, str, "Hair colour.") = None
    goal: one_of(vocab.GOALS, str, "The goal of the treatment.") = None
    age: one_of(
        vocab.AGE_LABELS, str, "fresh (< 1 month), healed (1-11 months), long_term (12+)."
    ) = None


class PageOnly(Paging):
    pass


class PlaceQuery(BaseModel):
    q: str = Field(..., min_length=2, max_length=60, description="What the user typed so far.")


# --- responses --------------------------------------------------------------


class Links(Strict):
    self: str
    first: str
    last: str
    next: str | None
    prev: str | None


class Price(Strict):
    min: int | None
    max: int | None
    currency: str
    note: str


class ScoreSummary(Strict):
    value: float | None = Field(description="Quality score 1-5 (None: not yet rated).")
    rated: bool
    testimonials: int
    verified: int
    effective_weight: float
    plain_mean_overall: float | None = Field(
        description="Plain mean of the overall ratings (no weights, no prior)."
    )


class PractitionerRef(Strict):
    id: int
    name: str


class Practitioner(Strict):
    id: int
    name: str
    years_practice: int | None
    training: str | None
    score: float | None
    testimonials: int
    effective_weight: float


class Explanation(Strict):
    score: float | None
    rated: bool
    kind: str
    published: int
    verified: int
    effective_weight: float
    dimension_means: dict[str, float]
    plain_mean_overall: float | None
    corrections: int
    healed: int
    down_weighted: dict[str, int] = Field(
        description="How many testimonials count less, per reason (trust rules)."
    )
    capped_at: float | None = Field(
        description="Set when a provisional clinic's score is held at the established median."
    )
    prior_mean: float
    prior_weight: float
    results: int


class ClinicUrls(Strict):
    html: str
    api: str
    results: str
    testimonials: str
    feed: str


class ClinicSummary(Strict):
    id: int
    slug: str
    name: str
    city: str
    region: str | None
    country: str
    latitude: float | None
    longitude: float | None
    services: list[str]
    status: Literal["listed", "claimed", "verified"]
    price: Price
    score: ScoreSummary
    results: int
    updated_at: str
    distance_km: float | None = None
    urls: ClinicUrls


class Clinic(ClinicSummary):
    description: str
    address: str | None
    postal_code: str | None
    phone: str | None
    website: str | None
    languages: list[str]
    year_founded: int | None
    explanation: Explanation
    practitioners: list[Practitioner]


class PlaceUsed(Strict):
    query: str
    found: bool
    name: str | None
    country: str | None
    latitude: float | None
    longitude: float | None


class ClinicPage(Strict):
    items: list[ClinicSummary]
    total: int
    page: int
    per_page: int
    pages: int
    sort: str
    place: PlaceUsed | None
    did_you_mean: str | None
    partial: bool = Field(description="True when the time limit cut the search short.")
    links: Links


class PhotoUrls(Strict):
    web: str
    thumb: str
    width: int
    height: int


class CasePhotos(Strict):
    before: PhotoUrls | None
    after: PhotoUrls | None
    healed: PhotoUrls | None


class ResultCase(Strict):
    id: int
    clinic: str
    title: str | None
    notes: str | None
    treatment_type: str
    sessions: int
    months_since_last_session: int
    age: Literal["fresh", "healed", "long_term"]
    stage: str
    skin_type: int
    hair_colour: str
    goal: str
    practitioner: PractitionerRef | None
    photos: CasePhotos
    published_at: str
    url: str


class ResultPage(Strict):
    items: list[ResultCase]
    total: int
    page: int
    per_page: int
    pages: int
    links: Links


class PricePaid(Strict):
    amount: int
    currency: str | None


class FollowUp(Strict):
    id: int
    text: str
    healing: int | None
    needed_correction: bool
    published_at: str


class Reply(Strict):
    id: int
    text: str
    updated_at: str


class Testimonial(Strict):
    id: int
    clinic: str
    author: str = Field(description="The author's name as the site shows it.")
    title: str | None
    text: str
    treatment_type: str
    sessions: int
    last_session_month: str = Field(description="YYYY-MM")
    practitioner: PractitionerRef | None
    ratings: dict[str, int] = Field(description="The rubric: overall and the other dimensions.")
    needed_correction: bool
    verified: bool
    price_paid: PricePaid | None = Field(description="Shown for information; never scored.")
    photos: list[PhotoUrls]
    followups: list[FollowUp]
    reply: Reply | None
    written_at: str
    published_at: str
    url: str


class TestimonialPage(Strict):
    items: list[Testimonial]
    total: int
    page: int
    per_page: int
    pages: int
    links: Links


class Suggestion(Strict):
    kind: Literal["clinic", "place"]
    label: str
    value: str
    detail: str
    url: str


class Suggestions(Strict):
    q: str
    suggestions: list[Suggestion]


class ScoreFormula(Strict):
    review_score: str
    review_weight: str
    clinic_score: str


class ScoreMethod(Strict):
    formula: ScoreFormula
    prior_mean: float
    prior_weight: float
    overall_share: float
    verified_trust: float
    unverified_trust: float
    photo_bonus: float
    half_life_months: float
    days_per_month: float
    healed_months: int
    down_weight_factors: dict[str, float]
    provisional_under: int
    established_min: int
    dimensions: list[str]
    rubric: dict[str, str]
    price_is_an_input: Literal[False]
    not_rated: str


class Transparency(Strict):
    decisions: int
    decisions_by_outcome: dict[str, int]
    median_hours_to_decision: float | None
    appeals: int
    appeals_decided: int
    reversals: int
    public_clinics: int
    published_testimonials: int
    published_results: int


class Problem(BaseModel):
    """An error, as RFC 9457 problem details."""

    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None
    request_id: str | None = None
