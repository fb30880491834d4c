"""Schema fuzzing: schemathesis generates requests for every /api/v1 operation of the served
OpenAPI spec and calls the WSGI app in-process. No 5xx, every status documented, every response
matching its schema. Bounded (MAX_EXAMPLES per operation) and deterministic (fixed seed)."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
)

from suggest.web import create_app
from tests.conftest import app_config

MAX_EXAMPLES = 40
SEED = 20260
FIXTURE_TITLES = ["Коло", "Радіус", "Діаметр", "Circle", "No such page", "Коло_"]

_DB = Path(tempfile.mkdtemp(prefix="ws-fuzz-")) / "events.sqlite3"
APP = create_app(app_config(f"sqlite:///{_DB}", RATE_LIMITS={"enabled": False}))

# Real wiki ids and titles (and junk) so the fuzzer reaches the 200 answers, not only the 400s.
schemathesis.openapi.format("wiki-id", st.sampled_from(
    ["fixture-ukwiki", "fixture-enwiki", "nosuchwiki", "en.wikipedia.org.evil.com"]))
schemathesis.openapi.format("page-title", st.one_of(st.sampled_from(FIXTURE_TITLES), st.text(max_size=40)))

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", APP)
schema.config.seed = SEED

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_headers_conformance, response_schema_conformance, negative_data_rejection,
          unsupported_method]


def test_spec_lists_every_api_route() -> None:
    """The fuzzer can only cover what the spec lists: every /api/v1 route must be in it."""
    routes = {rule.rule for rule in APP.url_map.iter_rules() if rule.rule.startswith("/api/v1/")}
    documented = set(schema.raw_schema["paths"])
    assert routes - {"/api/v1/openapi.json"} <= documented, routes - documented


@schema.parametrize()
@settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
def test_api_conforms_to_its_spec(case: Any) -> None:
    response = case.call_and_validate(checks=CHECKS)
    SEEN.setdefault(case.operation.label, set()).add(response.status_code)


SEEN: dict[str, set[int]] = {}


def test_fuzzer_reached_both_answers_and_refusals() -> None:
    """Runs after the fuzzing above: it must have got real answers, not only 400s."""
    if not SEEN:
        pytest.skip("run together with test_api_conforms_to_its_spec")
    print({label: sorted(codes) for label, codes in SEEN.items()})
    assert {200, 400} <= SEEN["GET /api/v1/suggestions"]
    assert {400, 404} <= SEEN["POST /api/v1/decisions"]
    assert 400 in SEEN["POST /api/v1/edits"]
    assert {200, 400} <= SEEN["GET /api/v1/dataset/decisions"]
    assert {200, 400} <= SEEN["GET /api/v1/dataset/reviews"]
    assert all(code < 500 for codes in SEEN.values() for code in codes)
