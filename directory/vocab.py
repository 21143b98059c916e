"""The site's controlled vocabularies: one place for every choice list.

Pure data, no Flask: models, forms, services, quality and search all read it.
"""

from __future__ import annotations

ROLES = ("consumer", "clinic_owner", "moderator", "admin")

SERVICES: dict[str, str] = {
    "full_scalp": "Full scalp (buzz-cut look)",
    "hairline": "Hairline",
    "density": "Density for long hair",
    "scar": "Scar camouflage",
    "correction": "Correction / rescue",
    "removal": "Removal",
}
# Services that serve women who keep their long hair.
WOMENS_SERVICES = frozenset({"density"})

PUBLIC_CLINIC_STATUSES = ("listed", "claimed", "verified")


# The rubric of the score as docs/scoring.md and /how-we-rank explain it, in display order.
RUBRIC: dict[str, str] = {
    "overall": "How good is the result overall?",
    "realism": "Does it look like real stubble up close and from afar?",
    "hairline": "Is the hairline natural and suited to your face and age?",
    "pigment": "Is the colour right for your hair and skin, with no blue/green shift?",
    "dots": "Are dot size, spacing and density natural, with several shades?",
    "healing": "How has it healed and held?",
    "care": "Consultation, honesty, hygiene, aftercare",
}
RUBRIC_SHORT: dict[str, str] = {
    "overall": "Overall",
    "realism": "Realism",
    "hairline": "Hairline",
    "pigment": "Pigment colour",
    "dots": "Dots",
    "healing": "Healing",
    "care": "Care",
}
DIMENSIONS = tuple(k for k in RUBRIC if k != "overall")
HEALING_MIN_MONTHS = 6

_ROMAN = ("I", "II", "III", "IV", "V", "VI", "VII")
STAGES: dict[str, str] = {
    **{f"norwood-{n}": f"Norwood {r}" for n, r in enumerate(_ROMAN[:7], start=1)},
    **{f"ludwig-{n}": f"Ludwig {r}" for n, r in enumerate(_ROMAN[:3], start=1)},
}
SKIN_TYPES: dict[int, str] = {
    1: "Fitzpatrick I",
    2: "Fitzpatrick II",
    3: "Fitzpatrick III",
    4: "Fitzpatrick IV",
    5: "Fitzpatrick V",
    6: "Fitzpatrick VI",
}
HAIR_COLOURS: dict[str, str] = {
    "black": "Black",
    "dark_brown": "Dark brown",
    "light_brown": "Light brown",
    "blond": "Blond",
    "red": "Red",
    "grey": "Grey / white",
}
GOALS: dict[str, str] = {
    "buzz": "Buzz-cut look",
    "density": "Density for long hair",
    "scar": "Scar camouflage",
}
# The /search page's and the API's radii (km) and orders. Never price.
SEARCH_RADII = (10, 25, 50, 100, 250, 500)
SEARCH_SORTS: dict[str, str] = {
    "quality": "Quality of results",
    "reviews": "Number of testimonials",
    "distance": "Distance",
    "relevance": "Best match for your words",
    "case": "Best for cases like yours",  # like-for-like (services.casescores)
}

AGE_LABELS: dict[str, str] = {
    "fresh": "Fresh (under 4 weeks)",
    "healed": "Healed (4 weeks to 12 months)",
    "long_term": "Long-term (12 months or more)",
}

CURRENCIES = (
    "USD",
    "EUR",
    "GBP",
    "CAD",
    "AUD",
    "JPY",
    "BRL",
    "MXN",
    "ZAR",
    "INR",
    "TRY",
    "AED",
    "SGD",
    "NZD",
    "CHF",
    "SEK",
    "PLN",
    "THB",
    "KRW",
    "ARS",
    "EGP",
    "NGN",
    "KES",
    "PHP",
)

REASON_CODES: dict[str, str] = {
    "meets_guidelines": "Meets our guidelines",
    "verified_proof": "Treatment verified on proof",
    "not_first_hand": "Not a first-hand experience",
    "conflict_of_interest": "Conflict of interest (linked to the clinic)",
    "duplicate": "Duplicate or near-duplicate content",
    "spam": "Spam or advertising",
    "offensive": "Abusive or offensive content",
    "personal_data": "Contains personal data of others",
    "illegal": "Illegal content",
    "no_consent": "No consent from the person shown",
    "stolen_photo": "Photo taken from elsewhere",
    "off_topic": "Not about this clinic's SMP work",
    "insufficient_evidence": "Insufficient evidence",
    "cannot_confirm_control": "We could not confirm that you work at this clinic",
    "not_smp_clinic": "Not a scalp micropigmentation clinic",
    "fake_reviews": "Manipulating testimonials or ratings",
    "earlier_decision_wrong": "The earlier decision was mistaken",
    "other": "Other (see statement)",
}

REPORT_REASONS: dict[str, str] = {
    "fake": "Fake or not a real client",
    "conflict_of_interest": "Written by someone linked to the clinic or a competitor",
    "offensive": "Abusive or offensive",
    "spam": "Spam or advertising",
    "stolen_photo": "Photo taken from elsewhere",
    "personal_data": "Shares personal data",
    "illegal": "Illegal content",
    "other": "Other",
}
# Reports with these reasons hide the item while it is examined (docs/trust.md).
HIDING_REPORT_REASONS = frozenset({"illegal", "personal_data"})
