"""The OpenAPI document lists every report's parameters and validates; one
error shape everywhere; `compare=previous|year` answers the comparison
period's rows beside the period's (issue 20, items 5 and 8)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openapi_spec_validator import validate

from core.settings import Settings
from reports import catalogue
from schemas.events import NtjpCall
from schemas.pipeline import Decoded, RawMessage
from sinks.events import EventSink
from sinks.ntjp import CALLS_TABLE
from streams.context import Context
from web.api import create_api

EVENTS = "/api/v1/reports/webbtidbokning/events-per-month"


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    """The API as `statflow api` builds it, in this process, on the test's store."""
    ctx = Context.open(settings)
    with TestClient(create_api(ctx), raise_server_exceptions=False) as c:
        c.ctx = ctx  # type: ignore[attr-defined]
        yield c
    ctx.store.close()


def calls(ctx: Context, per_day: dict[dt.date, int]) -> None:
    """The calls through the sink, as ingest writes them (every rollup the
    reports read, daily and monthly, fills from them)."""
    noon = dt.time(12, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    batch: Decoded[NtjpCall] = Decoded("t", 0, 0, 0)
    for day, n in per_day.items():
        for i in range(n):
            call = NtjpCall(
                f"{day}-{i}", dt.datetime.combine(day, noon), "MakeBooking", "SE-UNIT-1"
            )
            batch.accepted.append((RawMessage("t", 0, len(batch.accepted), None, None), call))
    batch.next_offset = len(batch.accepted)
    EventSink(ctx.store, CALLS_TABLE).write(batch, {})


def test_openapi_lists_every_report_parameter_and_validates(client: TestClient) -> None:
    doc = client.get("/api/openapi.json").json()
    validate(doc)  # openapi-spec-validator: the OpenAPI 3.1 schema and its rules
    assert client.get("/openapi.json").json() == doc
    assert "{service}" not in " ".join(doc["paths"])
    for svc in catalogue.services().values():
        for report in svc.reports:
            op = doc["paths"][f"/api/v1/reports/{svc.id}/{report.id}"]["get"]
            names = {p["name"] for p in op["parameters"]}
            common = {"from", "to", "format", "lang", "delimiter", "compare", "style"}
            assert names == common | set(report.filters) | ({"level"} if report.levels else set())
            fmt = next(p for p in op["parameters"] if p["name"] == "format")
            assert set(fmt["schema"]["enum"]) == {"json", "csv", "xlsx", "jsonstat", "pdf"}
            if report.levels:
                level = next(p for p in op["parameters"] if p["name"] == "level")
                assert level["schema"]["enum"] == list(report.levels)
            assert op["x-statflow-tiers"] == list(report.tiers)
            assert op["responses"]["400"]["content"]["application/json"]["schema"] == {
                "$ref": "#/components/schemas/Error"
            }
            assert ({} in op["security"]) == ("open" in report.tiers)
    assert doc["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    for page in ("/docs", "/api/docs"):
        r = client.get(page)
        assert r.status_code == 200 and "/api/openapi.json" in r.text


def test_one_error_shape_and_the_parameter_that_was_sent(client: TestClient) -> None:
    r = client.get("/api/v1/reports/webbtidbokning")
    assert r.status_code == 404 and set(r.json()) == {"error"}, r.text
    r = client.get(EVENTS, params={"to": "1999-01-01"})
    assert r.status_code == 400 and r.json()["parameter"] == "to", r.text
    r = client.get(EVENTS, params={"to": "2020-01-01"})  # after data_start, before default from
    assert r.status_code == 400 and r.json()["parameter"] == "to", r.text
    assert "from" in r.json()["error"]  # says to send from as well
    r = client.get(EVENTS, params={"from": "2025-05-01", "to": "2025-04-01"})
    assert r.status_code == 400 and r.json()["parameter"] == "from"


def test_compare_previous_and_year(client: TestClient) -> None:
    ctx: Context = client.ctx  # type: ignore[attr-defined]
    calls(ctx, {dt.date(2024, 3, 5): 7, dt.date(2024, 12, 2): 11, dt.date(2025, 3, 9): 13})
    period = {"from": "2025-01-01", "to": "2025-06-30"}

    def total(rows: list[list[Any]]) -> int:
        return sum(r[-1] for r in rows if isinstance(r[-1], int))

    body = client.get(EVENTS, params={**period, "compare": "previous"}).json()
    assert total(body["rows"]) == 13
    c = body["comparison"]
    assert (c["compare"], c["from"], c["to"]) == ("previous", "2024-07-01", "2024-12-31")
    assert total(c["rows"]) == 11 and body["params"]["compare"] == "previous"
    c = client.get(EVENTS, params={**period, "compare": "year"}).json()["comparison"]
    assert (c["from"], c["to"], total(c["rows"])) == ("2024-01-01", "2024-06-30", 7)
    assert "comparison" not in client.get(EVENTS, params=period).json()
    # before the first day of data: an empty comparison that says so
    c = client.get(EVENTS, params={"from": "2017-10-01", "to": "2017-12-31",
                                   "compare": "year"}).json()["comparison"]  # fmt: skip
    assert c["rows"] == [] and c["notes"]
    for bad, why in (
        ({"compare": "last"}, "one of"),
        ({"compare": "year", "format": "csv"}, "json"),
    ):
        r = client.get(EVENTS, params={**period, **bad})
        assert (
            r.status_code == 400 and r.json()["parameter"] == "compare" and why in r.json()["error"]
        )
    r = client.get(EVENTS, params=[*period.items(), ("compare", "year"), ("compare", "previous")])
    assert r.status_code == 400 and r.json()["parameter"] == "compare"
