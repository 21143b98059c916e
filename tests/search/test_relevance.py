"""The judged relevance set (benchmarks/relevance.py) through the real /search page:
every judged query must put its judged clinics first."""

from __future__ import annotations

import pytest

from benchmarks import relevance


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory):
    app = relevance.demo_app(tmp_path_factory.mktemp("relevance"))
    found = relevance.run_all(app)
    print("\n" + relevance.summary(found))
    return found


def test_the_judged_set_is_large_and_covers_every_demo_city():
    assert len(relevance.JUDGED) >= 60
    judged_cities = {j[1] for _, j in relevance.JUDGED if j[0] == "city"}
    assert judged_cities == {c[0] for c in relevance.CITIES}


@pytest.mark.parametrize("index", range(len(relevance.JUDGED)), ids=lambda i: str(i))
def test_judged_query_puts_the_judged_clinics_first(outcomes, index):
    o = outcomes[index]
    assert o.passed, (
        f"{o.label!r} (HTTP {o.status}): expected first {o.expected[:6]}, got {o.got[:6]}"
    )
