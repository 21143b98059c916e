"""Schemathesis against the generated OpenAPI document: every operation with
positive and negative data and every built-in check, then the stateful phase
that follows the document's links (search -> clinic -> results/testimonials ->
one item). Runs on demo data with public and non-public items alike.

The figures (operations, test cases, failures) are printed at the end of the
module: `.venv/bin/python -m pytest -q -s tests/web/test_api_schemathesis.py`.
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
    max_examples=60,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
    database=None,
)


@pytest.fixture(scope="module")
def api_app(tmp_path_factory, worker_id):
    app = create_app(make_config(tmp_path_factory.mktemp("api"), f"{worker_id}api"))
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


@pytest.fixture(scope="module", autouse=True)
def report():
    yield
    print(
        f"\nschemathesis: {FIGURES.get('operations', '?')} operations, "
        f"{FIGURES['cases']} test cases, {FIGURES['stateful_steps']} stateful steps, "
        f"{FIGURES['failures']} failures"
    )


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


def test_the_document_lists_every_operation(api_schema):
    found = operations(api_schema)
    FIGURES["operations"] = len(found)
    assert sorted(found) == sorted(OPERATIONS)


# Operations without parameters have no invalid input to send.
WITHOUT_PARAMETERS = {"getScoreMethod", "getTransparency"}
RUNS = [(op, GenerationMode.POSITIVE) for op in OPERATIONS] + [
    (op, GenerationMode.NEGATIVE) for op in OPERATIONS if op not in WITHOUT_PARAMETERS
]


@pytest.mark.parametrize(("operation_id", "mode"), RUNS)
def test_every_operation_conforms(api_schema, operation_id, mode):
    operation = operations(api_schema)[operation_id]

    @given(case=operation.as_strategy(generation_mode=mode))
    @SETTINGS
    def check(case):
        FIGURES["cases"] += 1
        try:
            case.call_and_validate()
        except Exception:
            FIGURES["failures"] += 1
            raise

    check()


def test_stateful_links(api_schema):
    class Workflow(api_schema.as_state_machine()):
        def validate_response(self, response, case, **kwargs):
            FIGURES["stateful_steps"] += 1
            VISITED[case.operation.label] = VISITED.get(case.operation.label, 0) + 1
            try:
                return super().validate_response(response, case, **kwargs)
            except Exception:
                FIGURES["failures"] += 1
                raise

    Workflow.run(
        settings=settings(
            max_examples=40,
            stateful_step_count=6,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
    )
    # The links were followed: every operation they lead to was reached.
    for label in (
        "GET /api/v1/clinics/{slug}",
        "GET /api/v1/results/{case_id}",
        "GET /api/v1/testimonials/{review_id}",
    ):
        assert VISITED.get(label), (label, VISITED)
