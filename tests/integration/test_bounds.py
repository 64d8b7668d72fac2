"""Bounded answers and no 5xx at the door (issue 15.4), against the real app
on the real stack: chDB for the store, redis-server for the rate limit.

- a period past today is clamped to today (said in the notes), so
  `from=0001-01-01&to=9999-12-31` is the data's period, not 120,000 months;
- an answer over STATFLOW_MAX_CELLS is a 400 naming the limit: before the
  query where the period alone decides it (no SQL runs), after it otherwise;
- open requests are limited per client address with a counter in Redis that
  several `statflow api` processes share (429 with Retry-After), and pass
  (fail-open, logged) when Redis does not answer;
- the bodies and types that answered 5xx answer 400 in the API's error shape.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
from fastapi.testclient import TestClient

from core import auth as auth_
from core.errors import AnswerTooLarge
from core.settings import Settings
from reports import engine
from reports.periods import months
from sinks.clickhouse import ClickHouseStore
from streams.context import Context
from tests.integration.conftest import free_port
from tests.integration.harness import StatflowProcess
from web.api import create_api

SECRET = "bounds-test-secret-0123456789abcdef0123"
EVENTS = "/api/v1/reports/webbtidbokning/events-per-month"


@pytest.fixture
def make_client(settings: Settings) -> Iterator[Callable[..., TestClient]]:
    """The API as `statflow api` builds it, in this process, on the test's store."""
    opened: list[tuple[TestClient, Context]] = []

    def make(**changes: Any) -> TestClient:
        ctx = Context.open(settings.with_(jwt_secret=SECRET, **changes))
        client = TestClient(create_api(ctx), raise_server_exceptions=False)
        client.__enter__()
        opened.append((client, ctx))
        return client

    yield make
    for client, ctx in opened:
        client.__exit__(None, None, None)
        ctx.store.close()


def auth(*roles: str, providers: tuple[str, ...] = ("SE-CP-1",)) -> dict[str, str]:
    return {"Authorization": f"Bearer {auth_.issue(SECRET, 'tester', providers, roles)}"}


def today() -> dt.date:
    return engine.today_in_stockholm()


def test_periods_end_today(make_client: Callable[..., TestClient]) -> None:
    client = make_client()
    r = client.get(EVENTS, params={"from": "0001-01-01", "to": "9999-12-31"})
    assert r.status_code == 200, r.text
    body = r.json()
    want = months(dt.date(2017, 10, 1), today())
    assert sorted({row[0] for row in body["rows"]}) == want
    assert body["params"] == {"from": "2017-10-01", "to": today().isoformat()}
    assert any("9999-12-31" in n and today().isoformat() in n for n in body["notes"])
    assert len(r.content) < 100_000  # was 8.4 MB of zero rows up to year 9999

    # next year's months are not zeros indistinguishable from real ones
    r = client.get(EVENTS, params={"from": f"{today().year}-01-01", "to": "2999-12-31"})
    assert r.status_code == 200, r.text
    assert max(row[0] for row in r.json()["rows"]) == f"{today():%Y-%m}"

    # the date overflow (to=9999-12-31 answered 500) and a period wholly ahead
    for service_report in ("e-tjanster/cases-per-unit", "e-tjanster/handling-times",
                           "stod-och-behandling/ongoing-over-time"):  # fmt: skip
        r = client.get(f"/api/v1/reports/{service_report}", params={"to": "9999-12-31"})
        assert r.status_code == 200, (service_report, r.text)
    r = client.get(EVENTS, params={"from": "9999-01-01", "to": "9999-12-31"})
    assert r.status_code == 400 and r.json()["parameter"] == "from"


class Recording:
    """The real store, with a record of the SQL it was asked."""

    def __init__(self, store: ClickHouseStore) -> None:
        self.store = store
        self.asked: list[str] = []

    def query_rows(
        self,
        sql: str,
        parameters: Mapping[str, Any] | None = None,
        settings: Mapping[str, Any] | None = None,
    ) -> list[tuple[Any, ...]]:
        self.asked.append(sql)
        return self.store.query_rows(sql, parameters, settings)


def test_max_cells(make_client: Callable[..., TestClient], settings: Settings) -> None:
    client = make_client(max_cells=140)
    assert client.get("/api/v1/config").json()["limits"]["max_cells"] == 140

    # months x columns already over the limit: refused before any SQL runs
    r = client.get(EVENTS, params={"from": "2018-01-01", "to": "2023-12-31"})
    assert r.status_code == 400, r.text
    body = r.json()
    assert body["max_cells"] == 140 and "140" in body["error"] and body["cells"] == 72 * 3
    store = ClickHouseStore(settings)
    try:
        reader = Recording(store)
        with pytest.raises(AnswerTooLarge):
            engine.run("webbtidbokning", "events-per-month",
                       [("from", "2018-01-01"), ("to", "2023-12-31")], reader, max_cells=200)  # fmt: skip
        assert reader.asked == []
        # within the estimate, over it in rows (3 months x 3 activities x 3 = 27 cells)
        with pytest.raises(AnswerTooLarge) as err:
            engine.run("webbtidbokning", "events-per-month",
                       [("from", "2018-01-01"), ("to", "2018-03-31")], reader, max_cells=20)  # fmt: skip
        assert err.value.cells == 27 and reader.asked
    finally:
        store.close()

    # sized by the data: every county is a row, counted after the query
    r = client.get("/api/v1/reports/webbtidbokning/bookings-per-county")
    assert r.status_code == 400, r.text
    assert r.json()["max_cells"] == 140 and r.json()["cells"] == 21 * 7
    assert client.get(EVENTS, params={"from": "2018-01-01", "to": "2018-03-31"}).status_code == 200

    # the default is SCB PxWeb's 150,000, and the catalogue's answers fit in it
    default = make_client()
    announced = default.get("/api/v1/config").json()["limits"]
    assert (announced["max_cells"], announced["max_pdf_cells"]) == (150_000, 10_000)
    assert default.get(EVENTS, params={"from": "0001-01-01"}).status_code == 200

    # a PDF (slow to lay out: 150,000 cells took 75 s) has its own lower limit
    pdf = make_client(max_pdf_cells=100)
    r = pdf.get(EVENTS, params={"from": "2018-01-01", "to": "2023-12-31", "format": "pdf"})
    assert r.status_code == 400 and r.json()["max_cells"] == 100 and "PDF" in r.json()["error"]
    r = pdf.get(EVENTS, params={"from": "2018-01-01", "to": "2023-12-31", "format": "csv"})
    assert r.status_code == 200


def test_bodies_and_types_answer_400(make_client: Callable[..., TestClient]) -> None:
    client = make_client()
    exporter = auth("export_aggregated")
    operator = auth("operator")
    cases: list[tuple[str, dict[str, str], dict[str, Any]]] = [
        ("/api/v1/exports", exporter, {"json": {"kind": ["aggregated"]}}),
        ("/api/v1/exports", exporter, {"json": {"kind": {"a": 1}, "format": ["csv"]}}),
        ("/api/v1/exports", exporter, {"content": b"kind=aggregated"}),
        ("/api/v1/annotations", operator, {"content": b"not json"}),
        ("/api/v1/annotations", operator, {"content": b"\xff\xfe\x00"}),
        ("/api/v1/annotations", operator, {"content": b"[" * 100_000}),
        ("/api/v1/annotations", operator, {"json": ["a list"]}),
        ("/api/v1/annotations", operator,
         {"json": {"service": "webbtidbokning", "reports": [{"x": 1}]}}),
        ("/api/v1/annotations", operator,
         {"json": {"service": "webbtidbokning", "from": "0001-01-01", "to": "0001-01-02",
                   "text": "x"}}),
        ("/api/v1/backfill", operator, {"content": b"{"}),
        ("/api/v1/backfill", operator, {"json": {"topic": "ntjp.calls.v1", "from_offset": True}}),
        ("/api/v1/backfill", operator, {"json": {"topic": "ntjp.calls.v1", "from_time": 5}}),
        ("/api/v1/reconciliation/run", operator, {"content": b"dir=/tmp"}),
        ("/api/v1/reconciliation/run", operator, {"json": {"dir": "a\x00b"}}),
        ("/api/v1/reconciliation/run", operator, {"json": {"dir": "x" * 5000}}),
        ("/api/v1/reconciliation/run", operator, {"json": {"dir": "y" * 300}}),
        ("/api/v1/reconciliation/run", operator, {"json": {"dir": ["/tmp"]}}),
    ]  # fmt: skip
    for path, headers, body in cases:
        r = client.post(path, headers=headers, **body)
        assert r.status_code == 400, (path, body, r.status_code, r.text[:300])
        assert set(r.json()) == {"error", "parameter"} and r.json()["error"], r.text
    # FastAPI's own checks and unknown paths speak the same shape
    r = client.get("/api/v1/audit", params={"limit": "many"}, headers=auth("auditor"))
    assert r.status_code == 400 and r.json() == {
        "error": r.json()["error"], "parameter": "limit"
    }, r.text  # fmt: skip
    assert "many" not in r.text  # no echo of the value
    r = client.get("/api/v1/reconciliation", params={"limit": "1e99"})
    assert r.status_code == 400 and r.json()["parameter"] == "limit"
    r = client.get("/api/v1/no-such-thing")
    assert r.status_code == 404 and set(r.json()) == {"error"}


def test_a_backfill_of_a_topic_that_is_not_replayable_says_why(
    make_client: Callable[..., TestClient],
) -> None:
    """`statflow api` apart from its workers may start a backfill of an event
    topic (issue 19: workers pause through a lease in ClickHouse; see
    test_coordination.py); a reference topic is refused, naming the reason."""
    client = make_client()
    r = client.post("/api/v1/backfill", headers=auth("operator"), json={"topic": "hsa.units.v1"})
    assert r.status_code == 400 and "a batched event topic" in r.json()["error"], r.text


def test_rate_limit_fails_open_without_redis(
    make_client: Callable[..., TestClient], caplog: pytest.LogCaptureFixture
) -> None:
    client = make_client(rate_limit_requests=2, redis_url=f"redis://127.0.0.1:{free_port()}/0")
    with caplog.at_level(logging.WARNING, logger="statflow.ratelimit"):
        for _ in range(5):
            assert client.get("/api/v1/reports").status_code == 200
    assert any("fail-open" in rec.getMessage() for rec in caplog.records)


def test_rate_limit_holds_across_api_processes(settings: Settings, tmp_path: Path) -> None:
    """Two `statflow api` processes over one store: the count is shared in Redis."""
    base = settings.with_(jwt_secret=SECRET, rate_limit_requests=6, rate_limit_window_seconds=30)
    store = StatflowProcess(
        base.with_(clickhouse_http_port=free_port()), tmp_path / "store.log", "store"
    )
    token = auth_.issue(SECRET, "api", [], ["service"])
    dsn = f"http://api:{token}@127.0.0.1:{store.settings.clickhouse_http_port}"
    shared = base.with_(clickhouse_dsn=dsn, clickhouse_http_port=0)
    apis = [
        StatflowProcess(shared.with_(http_port=free_port()), tmp_path / f"api{i}.log", "api")
        for i in range(2)
    ]
    try:
        store.start()
        for a in apis:
            a.start()  # its readiness probe (/readyz) is not counted
        a, b = apis
        seen = [x.get("/api/v1/reports").status_code for x in (a, b, a, b, a, b)]
        assert seen == [200] * 6
        refused = [x.get("/api/v1/reports") for x in (a, b)]
        for r in refused:
            assert r.status_code == 429, r.text
            assert 1 <= int(r.headers["Retry-After"]) <= 30
            assert set(r.json()) == {"error", "retry_after"} and "6 per 30 s" in r.json()["error"]
        # a logged-in caller is not counted as open
        r = b.get_with("/api/v1/reports", auth())
        assert r.status_code == 200
        # the count lives in Redis with the window's expiry, under no address
        client = redis.Redis.from_url(settings.redis_url)
        keys = client.keys(f"statflow:{settings.clickhouse_database}:ratelimit:*")
        assert len(keys) == 1 and b"127.0.0.1" not in keys[0]
        assert 0 < client.ttl(keys[0]) <= 30
        # another address has its own window (behind a proxy on 127.0.0.1)
        r = httpx.get(a.url + "/api/v1/reports", headers={"X-Forwarded-For": "192.0.2.7"})
        assert r.status_code == 200, r.text
        # the window ends: allowed again
        client.expire(keys[0], 1)
        time.sleep(1.5)
        assert a.get("/api/v1/reports").status_code == 200
    finally:
        for p in [*apis, store]:
            p.stop()


def test_asyncapi_document_is_served_with_this_deployments_topics(
    make_client: Callable[..., TestClient],
) -> None:
    client = make_client(topic_prefix="acme.", dlq_retention_hours=48)
    r = client.get("/asyncapi.json")
    assert r.status_code == 200
    doc = r.json()
    assert doc["asyncapi"] == "3.0.0"
    calls = doc["channels"]["ntjp-calls-v1"]
    assert calls["address"] == "acme.ntjp.calls.v1"
    dlq = doc["channels"]["ntjp-calls-v1-dlq"]["bindings"]["kafka"]
    assert dlq["topic"] == "acme.ntjp.calls.v1.dlq"
    assert dlq["topicConfiguration"]["retention.ms"] == 48 * 3600 * 1000
