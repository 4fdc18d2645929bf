"""The JSON API checked against its own OpenAPI schema, property-based (schemathesis).

Schemathesis reads the schema the app serves at /api/docs/openapi.json, keeps the
dealer system's operations (/api/v1/...), generates requests from it (valid ones and,
in negative mode, ones the schema forbids) and checks every answer: no 5xx, only
documented status codes, the documented content type and body schema, invalid input
refused, and a request without the token refused. The database holds the demo data,
so the lists and details it reads are real orders.
"""

from __future__ import annotations

import asyncio
import os
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from litestar.serialization import decode_json, encode_json
from schemathesis import GenerationMode
from schemathesis.python import asgi as schemathesis_asgi
from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker

from app.cli import load_demo
from app.db import create_engine
from app.main import create_app
from app.models import WorkOrder
from app.services.api import clients as api_clients
from app.settings import Settings

API_PATHS = r"^/api/v1/"
# Examples per operation and generation mode. By default few and the same each run
# (derandomized), so `make test` stays quick and repeatable; for a longer, random look:
#   WALKAROUND_API_SCHEMA_EXAMPLES=2000 .venv/bin/pytest tests/test_api_schema.py
LONG_LOOK = os.environ.get("WALKAROUND_API_SCHEMA_EXAMPLES")
EXAMPLES = int(LONG_LOOK or "25")


@dataclass
class Api:
    schema: schemathesis.BaseSchema
    numbers: list[str]


@dataclass
class Seen:
    """What the generated calls got back, so the test cannot pass having checked nothing."""

    statuses: Counter[tuple[str, int]] = field(default_factory=Counter)
    listed_items: int = 0
    detailed: int = 0


async def _arrange(settings: Settings) -> tuple[str, list[str]]:
    engine = create_engine(settings.database_url)
    try:
        async with async_sessionmaker(engine, expire_on_commit=False)() as session:
            _client, token = await api_clients.create_client(session, "Schema check")
            await session.commit()
            numbers = list(await session.scalars(select(WorkOrder.number).order_by(WorkOrder.id)))
    finally:
        await engine.dispose()
    return token, numbers


def _api_schema(settings: Settings, token: str | None) -> schemathesis.BaseSchema:
    app = create_app(settings)
    # The schema exactly as /api/docs/openapi.json serves it (that page wants a staff session).
    served = decode_json(encode_json(app.openapi_schema.to_schema()))
    # The token goes in as the schema's bearer scheme, so schemathesis knows which
    # requests it sends without one on purpose (and expects a 401 for them).
    auth = {"openapi": {"BearerToken": {"bearer": token}}} if token else {}
    # Generated requests all carry the token, so the negative ones spend themselves on the
    # query (the missing and wrong token are the next test's, and the ignored_auth check's).
    generation = {"with-security-parameters": False}
    # A booking valid by the schema may still be refused by the dealership's rules (a slot
    # in the past, off the grid, a car that is not on file): a documented 422 with the field.
    accepted = ["2xx", "3xx", "401", "403", "404", "409", "422", "429", "5xx"]
    checks = {"positive_data_acceptance": {"expected-statuses": accepted}}
    config = schemathesis.Config.from_dict(
        {"auth": auth, "generation": generation, "checks": checks}
    )
    schema = schemathesis.openapi.from_dict(served, config=config).include(path_regex=API_PATHS)
    schema.app = app  # schemathesis calls the ASGI app in process
    return schema


@pytest.fixture(name="api")
def fx_api(settings: Settings) -> Iterator[Api]:
    load_demo(settings)
    token, numbers = asyncio.run(_arrange(settings))
    assert numbers, "the demo data has no work orders to read"
    yield Api(schema=_api_schema(settings, token), numbers=numbers)
    # Schemathesis keeps the app's lifespan running for later calls: end it with the test.
    schemathesis_asgi.shutdown_lifespans()


def _operations(schema: schemathesis.BaseSchema) -> list[schemathesis.APIOperation]:
    return [result.ok() for result in schema.get_all_operations()]


def _explore(
    api: Api,
    operation: schemathesis.APIOperation,
    cases: st.SearchStrategy[schemathesis.Case],
    seen: Seen,
) -> None:
    @hypothesis_settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=LONG_LOOK is None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    @given(case=cases)
    def explore(case: schemathesis.Case) -> None:
        response = case.call_and_validate()
        seen.statuses[(operation.label, response.status_code)] += 1
        if response.status_code == 200:
            body: Any = response.json()
            if "items" in body:
                seen.listed_items += len(body["items"])
            elif "number" in body:
                assert body["number"] in api.numbers
                seen.detailed += 1

    explore()


def test_the_api_answers_as_its_openapi_schema_says(api: Api) -> None:
    operations = _operations(api.schema)
    labels = {operation.label for operation in operations}
    assert labels == {
        "GET /api/v1/work-orders",
        "GET /api/v1/work-orders/{number}",
        "GET /api/v1/appointments",
        "POST /api/v1/appointments",
        "POST /api/v1/appointments/{appointment_id}/move",
        "POST /api/v1/appointments/{appointment_id}/cancel",
    }
    seen = Seen()
    for operation in operations:
        _explore(api, operation, operation.as_strategy(), seen)
        if any(parameter.location == "query" for parameter in operation.iter_parameters()):
            # Requests the schema forbids: each must be refused with a documented 4xx.
            # (A path's one string has no invalid value but an unknown number, a 404.)
            negative = operation.as_strategy(generation_mode=GenerationMode.NEGATIVE)
            _explore(api, operation, negative, seen)
        if "{number}" in operation.path:
            # Generated numbers are almost never real: also ask for the demo's orders.
            real = st.sampled_from(api.numbers).flatmap(
                lambda number, op=operation: op.as_strategy(path_parameters={"number": number})
            )
            _explore(api, operation, real, seen)
    # Not vacuous: both operations were called, lists came back with orders in them,
    # details of real orders validated against the schema, and errors were exercised.
    called = {label for label, _status in seen.statuses}
    assert called == labels, seen.statuses
    assert seen.listed_items > 0, seen.statuses
    assert seen.detailed > 0, seen.statuses
    statuses = {status for _label, status in seen.statuses}
    assert {200, 400, 404} <= statuses, seen.statuses
    assert not any(status >= 500 for status in statuses), seen.statuses
    print(seen)  # shown with -s


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_without_a_valid_token_every_operation_answers_a_documented_401(
    settings: Settings,
) -> None:
    asyncio.run(_arrange(settings))  # a client exists, just not one of these tokens
    schema = _api_schema(settings, token=None)
    operations = _operations(schema)
    assert len(operations) == 6
    try:
        for authorization in (None, "Bearer wa_not-a-real-token", "Basic d2E6cHc=", "Bearer "):
            headers = {} if authorization is None else {"Authorization": authorization}
            for operation in operations:
                case = operation.Case(path_parameters={"number": "WO-1", "appointment_id": 1})
                response = case.call(headers=headers)
                assert response.status_code == 401, (authorization, operation.label)
                assert response.headers["content-type"][0].startswith("application/json")
                assert response.json()["status"] == 401
                # The 401 is documented with the error body's schema: the answer conforms.
                case.validate_response(response, headers=headers)
    finally:
        schemathesis_asgi.shutdown_lifespans()
