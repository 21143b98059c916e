"""Every endpoint carries an access rule from directory/guards.py (docs/security.md §9)."""

from __future__ import annotations

EXEMPT = {"static", "bootstrap.static"}
KNOWN_RULES = ("public", "login", "login:fresh", "roles:", "staff:")


def inventory(app) -> dict[str, str | None]:
    return {
        endpoint: getattr(view, "access", None)
        for endpoint, view in app.view_functions.items()
        if endpoint not in EXEMPT
    }


def test_every_endpoint_is_public_or_guarded(app):
    routes = inventory(app)
    unguarded = sorted(e for e, access in routes.items() if access is None)
    unknown = sorted(
        e
        for e, access in routes.items()
        if access is not None and not access.startswith(KNOWN_RULES)
    )
    by_rule: dict[str, int] = {}
    for access in routes.values():
        by_rule[access or "NONE"] = by_rule.get(access or "NONE", 0) + 1
    print(
        f"route inventory: {len(routes)} endpoints checked "
        f"({len(list(app.url_map.iter_rules()))} URL rules); by rule: {by_rule}"
    )
    assert unguarded == [], f"endpoints without an access marker: {unguarded}"
    assert unknown == []


def test_staff_and_admin_endpoints_are_marked_as_such(app):
    routes = inventory(app)
    for endpoint, access in routes.items():
        if endpoint.startswith("admin."):
            assert access == "staff:admin", endpoint
        if endpoint.startswith("moderation."):
            assert access.startswith("staff:"), endpoint


def test_a_new_unguarded_route_fails_the_inventory(app_factory):
    app = app_factory()
    app.add_url_rule("/oops", "oops", lambda: "x")
    assert inventory(app)["oops"] is None
