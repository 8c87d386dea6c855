"""The JSON API against its own OpenAPI schema (schemathesis): whatever a client sends within the schema, or
outside it, never gets a server error; ids, offsets and days beyond what the database can hold get 404 or
422, and the schema states those limits.

Bounded: a few examples per operation and a deadline per example, so the whole module takes seconds.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import factories
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy.engine import Engine
from web_helpers import make_app, make_client

from monitor.catalog.first_run import initialise
from monitor.storage.engine import session_scope
from monitor.web.filters import MAX_ID

TOO_BIG = 2**63  # one more than any id or offset the database can hold
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture
def api_app(sqlite_engine: Engine) -> Iterator[object]:
    with session_scope(sqlite_engine) as session:
        initialise(session)
        factories.match(session)
    yield make_app(sqlite_engine)


@pytest.fixture
def api_schema(api_app: object) -> object:
    schema = schemathesis.openapi.from_asgi("/openapi.json", api_app)
    # Writes without a token are taken at a loopback Host only: address the app as the server it is.
    schema.config.base_url = "http://127.0.0.1"
    return schema


def test_no_request_gets_a_server_error(api_schema: Any) -> None:
    """Every operation, with generated valid and invalid input: never a 5xx, always a documented answer."""
    checked = []
    for result in api_schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(
            max_examples=12,
            deadline=timedelta(seconds=2),
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def exercise(case: Any) -> None:
            case.call_and_validate(checks=CHECKS)

        exercise()
        checked.append(operation.label)
    assert len(checked) >= 15, checked


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", f"/api/matches/{TOO_BIG}"),
        ("GET", f"/api/matches?offset={TOO_BIG}"),
        ("GET", f"/api/articles?offset={TOO_BIG}"),
        ("PATCH", f"/api/sources/{TOO_BIG}"),
        ("DELETE", f"/api/sources/{TOO_BIG}"),
        ("PATCH", f"/api/watch-terms/{TOO_BIG}"),
        ("DELETE", f"/api/watch-terms/{TOO_BIG}"),
        ("POST", f"/api/matches/{TOO_BIG}/review"),
        ("PATCH", f"/api/matches/{TOO_BIG}"),
        ("GET", "/api/digests/9999-12-31"),
        ("GET", "/api/digests/0001-01-01"),
        ("GET", "/api/matches?from=9999-12-31"),
        ("GET", "/api/matches?to=0001-01-01"),
        ("GET", "/api/articles?since=9999-12-31"),
        ("GET", f"/baseline/{TOO_BIG}"),
        ("GET", f"/articles/{TOO_BIG}"),
        ("GET", "/digests/9999-12-31"),
        ("GET", "/digests/0001-01-01"),
        ("GET", f"/matches?claim={TOO_BIG}&article={TOO_BIG}&page={TOO_BIG}"),
    ],
)
def test_out_of_range_ids_offsets_and_days_are_client_errors(api_app: object, method: str, path: str) -> None:
    body = {"status": "confirmed"} if "review" in path or path.startswith("/api/matches/") else {"enabled": False}
    response = make_client(api_app).request(method, path, json=body if method in ("POST", "PATCH") else None)  # type: ignore[arg-type]
    assert response.status_code in (400, 404, 422), (path, response.status_code, response.text[:200])


def test_the_schema_states_the_limits(api_app: object) -> None:
    document = make_client(api_app).get("/openapi.json").json()  # type: ignore[arg-type]
    operation = document["paths"]["/api/matches/{match_id}"]["get"]
    match_id = next(parameter for parameter in operation["parameters"] if parameter["name"] == "match_id")
    assert match_id["schema"]["maximum"] == MAX_ID and match_id["schema"]["minimum"] == 0
    listing = document["paths"]["/api/matches"]["get"]["parameters"]
    assert next(p for p in listing if p["name"] == "offset")["schema"]["maximum"] == MAX_ID
    digest = document["paths"]["/api/digests/{day}"]["get"]["parameters"][0]
    assert digest["schema"]["format"] == "date" and "0001-01-02 to 9999-12-30" in digest["description"]
