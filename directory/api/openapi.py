"""The OpenAPI 3.1 document: SpecTree's output plus what it has no words for.

SpecTree writes paths, parameters, request and response schemas from the
routes and pydantic models. This module adds, in code and for every operation:
the conditional-request headers and the 304 answer, the response headers
(ETag, Last-Modified, RateLimit-*, CORS), the 429 answer, problem+json as the
media type of every error, and links between operations (which the stateful
phase of schemathesis follows: a search result leads to its clinic, a clinic
to its results and testimonials, and each of those to one item).
"""

from __future__ import annotations

import copy

DESCRIPTION = """\
Read-only public data of the SMP Clinic Directory: clinics ranked by the quality of
their verified results and testimonials (never by price), their published before/after
result cases and testimonials, and the method behind the score.

* **Only public data.** Everything here is also on the public pages: nothing pending,
  rejected, removed or suspended is ever returned. Ids and slugs are stable.
* **Caching.** Every 200 carries a strong `ETag` (authoritative) and, where it is known,
  `Last-Modified`; send `If-None-Match` or `If-Modified-Since` to get `304 Not Modified`.
* **Rate limits** are counted per client address; each answer carries `RateLimit-Limit`,
  `RateLimit-Remaining`, `RateLimit-Reset` (seconds) and `RateLimit-Policy`. Over the
  limit: `429` with `Retry-After`.
* **CORS**: any origin may GET (no credentials are used or needed).
* **Errors** are `application/problem+json` (RFC 9457).
* **Bulk data**: `flask export-open-data` writes the whole public dataset, with the
  inputs of every score, as JSON Lines with a README.
"""

CONDITIONAL_PARAMETERS = [
    {
        "name": "If-None-Match",
        "in": "header",
        "required": False,
        "description": "An ETag from an earlier answer: 304 when it still matches.",
        "schema": {"type": "string"},
    },
    {
        "name": "If-Modified-Since",
        "in": "header",
        "required": False,
        "description": "An HTTP date: 304 when nothing changed since (ETag wins when both).",
        "schema": {"type": "string"},
    },
]


def _header(description: str, kind: str = "string") -> dict:
    return {"description": description, "schema": {"type": kind}}


RATE_HEADERS = {
    "RateLimit-Limit": _header("Requests allowed in the window.", "integer"),
    "RateLimit-Remaining": _header("Requests left in the window.", "integer"),
    "RateLimit-Reset": _header("Seconds until the window resets.", "integer"),
    "RateLimit-Policy": _header("The limit and its window, e.g. `120;w=60`."),
}
OK_HEADERS = {
    "ETag": {**_header("Strong validator of the body."), "required": True},
    "Last-Modified": _header("When the data behind this answer last changed."),
    "Cache-Control": _header("How long the answer may be cached."),
    "Link": _header("Paging links (RFC 8288) on lists."),
    "Access-Control-Allow-Origin": _header("`*`: any origin may read."),
    **RATE_HEADERS,
}

# (operation, response) -> {link name: (target operation, parameters)}
LINKS = {
    "searchClinics": {
        "GetFirstClinic": ("getClinic", {"slug": "$response.body#/items/0/slug"}),
        "FirstClinicResults": ("listClinicResults", {"slug": "$response.body#/items/0/slug"}),
        "FirstClinicTestimonials": (
            "listClinicTestimonials",
            {"slug": "$response.body#/items/0/slug"},
        ),
    },
    "getClinic": {
        "Results": ("listClinicResults", {"slug": "$response.body#/slug"}),
        "Testimonials": ("listClinicTestimonials", {"slug": "$response.body#/slug"}),
    },
    "listClinicResults": {
        "GetFirstResult": ("getResult", {"case_id": "$response.body#/items/0/id"}),
    },
    "listClinicTestimonials": {
        "GetFirstTestimonial": ("getTestimonial", {"review_id": "$response.body#/items/0/id"}),
    },
    "getResult": {"Clinic": ("getClinic", {"slug": "$response.body#/clinic"})},
    "getTestimonial": {"Clinic": ("getClinic", {"slug": "$response.body#/clinic"})},
}


# Slugs as services/profiles.py makes them (ASCII words joined by hyphens).
SLUG_SCHEMA = {"type": "string", "pattern": "^[a-z0-9]+(-[a-z0-9]+)*$", "maxLength": 120}


def _drop_null_defaults(node) -> None:
    """pydantic writes `default: null` beside an enum for optional parameters; a
    missing parameter is simply absent, so the default goes."""
    if isinstance(node, dict):
        if node.get("default", 0) is None and "enum" in node:
            del node["default"]
        for value in node.values():
            _drop_null_defaults(value)
    elif isinstance(node, list):
        for value in node:
            _drop_null_defaults(value)


def document(spec, how_we_rank: str) -> dict:
    """The complete document for `spec` (a SpecTree); `how_we_rank` is the address of
    the page that explains the ranking in plain words."""
    doc = copy.deepcopy(spec.spec)
    _drop_null_defaults(doc)
    schemas = doc.get("components", {}).get("schemas", {})
    problem_ref = next(
        (f"#/components/schemas/{name}" for name in schemas if name.startswith("Problem")),
        None,
    )
    problem = {"application/problem+json": {"schema": {"$ref": problem_ref}}}
    doc["info"]["summary"] = "Clinics, results and testimonials: the public data, read-only."
    doc["externalDocs"] = {"description": "How clinics are ranked", "url": how_we_rank}
    for path_item in doc.get("paths", {}).values():
        for op in path_item.values():
            for param in op.get("parameters", []):
                if param["in"] == "path" and param["name"] == "slug":
                    param["schema"] = dict(SLUG_SCHEMA)
            op.setdefault("parameters", []).extend(copy.deepcopy(CONDITIONAL_PARAMETERS))
            responses = op["responses"]
            for code, response in responses.items():
                if code.startswith("4"):
                    response["content"] = copy.deepcopy(problem)
            ok = responses.get("200")
            if ok is not None:
                ok["headers"] = copy.deepcopy(OK_HEADERS)
                links = LINKS.get(op.get("operationId"), {})
                if links:
                    ok["links"] = {
                        name: {"operationId": target, "parameters": params}
                        for name, (target, params) in links.items()
                    }
            responses["304"] = {
                "description": "Not Modified: the validators sent still match.",
                "headers": {"ETag": _header("The current validator.")},
            }
            responses["429"] = {
                "description": "Too many requests from this address; wait `Retry-After` s.",
                "headers": {"Retry-After": _header("Seconds to wait.", "integer"), **RATE_HEADERS},
                "content": copy.deepcopy(problem),
            }
    return doc
