"""Schemathesis against the generated OpenAPI document: every operation with
positive and negative data and every built-in check, then the stateful phase
that follows the document's links (search -> clinic -> results/testimonials ->
one item). Runs on demo data with public and non-public items alike.

The figures (operations, test cases, failures) are printed by the test:
`.venv/bin/python -m pytest -q -s tests/web/test_api_schemathesis.py`.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.generation.modes import GenerationMode

from directory import create_app, demo, services
from directory.extensions import db
from tests.conftest import make_config, reset_schema

FIGURES = {"cases": 0, "stateful_steps": 0, "failures": 0}
VISITED: dict[str, int] = {}
SETTINGS = settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
    database=None,
)


@pytest.fixture(scope="module")
def api_app(tmp_path_factory, worker_id):
    # Schemathesis' WSGI client does not undo Content-Encoding (HTTP clients do): the
    # API is checked uncompressed; compression itself is tested in tests/ops.
    app = create_app(
        make_config(tmp_path_factory.mktemp("api"), f"{worker_id}api", COMPRESS_REGISTER=False)
    )
    reset_schema(app)
    with app.app_context():
        demo.seed(n_clinics=8, seed_value=3, log=lambda *a: None)
        services.commit()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture(scope="module")
def api_schema(api_app):
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", api_app)


OPERATIONS = (
    "searchClinics",
    "getClinic",
    "listClinicResults",
    "listClinicTestimonials",
    "getResult",
    "getTestimonial",
    "suggestPlaces",
    "getScoreMethod",
    "getTransparency",
)


def operations(api_schema) -> dict:
    return {
        op.definition.raw["operationId"]: op
        for op in (r.ok() for r in api_schema.get_all_operations())
    }


# Operations without parameters have no invalid input to send.
WITHOUT_PARAMETERS = {"getScoreMethod", "getTransparency"}
RUNS = [(op, GenerationMode.POSITIVE) for op in OPERATIONS] + [
    (op, GenerationMode.NEGATIVE) for op in OPERATIONS if op not in WITHOUT_PARAMETERS
]


def run_operation(operation, mode) -> None:
    @given(case=operation.as_strategy(generation_mode=mode))
    @SETTINGS
    def check(case):
        FIGURES["cases"] += 1
        case.call_and_validate()

    check()


def run_stateful(api_schema) -> None:
    class Workflow(api_schema.as_state_machine()):
        def validate_response(self, response, case, **kwargs):
            FIGURES["stateful_steps"] += 1
            VISITED[case.operation.label] = VISITED.get(case.operation.label, 0) + 1
            return super().validate_response(response, case, **kwargs)

    Workflow.run(
        settings=settings(
            max_examples=40,
            stateful_step_count=8,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
    )


def test_schemathesis_every_operation_then_the_stateful_phase(api_schema):
    """One test on one seeded app (parallel workers would each seed a copy for
    separate tests); every run is attempted and every failure reported."""
    found = operations(api_schema)
    FIGURES["operations"] = len(found)
    assert sorted(found) == sorted(OPERATIONS)
    failures = []
    for operation_id, mode in RUNS:
        try:
            run_operation(found[operation_id], mode)
        except Exception as exc:  # noqa: BLE001 - collected, reported below
            failures.append(f"{operation_id} ({mode.value}): {exc}")
    try:
        run_stateful(api_schema)
    except Exception as exc:  # noqa: BLE001
        failures.append(f"stateful phase: {exc}")
    FIGURES["failures"] = len(failures)
    print(
        f"\nschemathesis: {FIGURES['operations']} operations, {FIGURES['cases']} test cases "
        f"({len(RUNS)} runs, positive and negative), {FIGURES['stateful_steps']} stateful "
        f"steps, {FIGURES['failures']} failures"
    )
    assert failures == [], "\n\n".join(failures)
    # The links were followed. (getResult is reached only when a generated filter
    # set leaves a result on the first page, which is luck; its link is the same kind.)
    for label in (
        "GET /api/v1/clinics/{slug}",
        "GET /api/v1/clinics/{slug}/results",
        "GET /api/v1/clinics/{slug}/testimonials",
        "GET /api/v1/testimonials/{review_id}",
    ):
        assert VISITED.get(label), (label, VISITED)
