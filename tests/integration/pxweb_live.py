"""One `statflow run` with web booking and support-and-treatment data, shared by
the PxWeb table API's tests (test_pxweb.py, test_pxweb_clients.py), and the
comparison of a PxWeb answer with the report API's."""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from core.settings import Settings
from reports.pxweb import tables
from reports.pxweb.cube import code_of
from synth.ntjp import make_calls
from synth.ntjp_world import make_world
from synth.sob import make_sob_world, make_transactions
from tests import services as provided
from tests.integration import test_ntjp_e2e
from tests.integration.conftest import free_port
from tests.integration.harness import HTTP, StatflowProcess
from tests.integration.kafka_util import publish

BASE = "/api/pxweb/v2"
WTB = "webbtidbokning"
# Lower than the default 150,000 so that a request over it is small enough to
# run here: every month of every unit is about 17,000 cells.
MAX_CELLS = 10_000


def start(services: provided.Services, home: Path) -> Iterator[tuple[StatflowProcess, set[str]]]:
    """A live process with data; yields it and the care providers that opted in."""
    tag = uuid.uuid4().hex[:10]
    settings = Settings(
        home=home, kafka_bootstrap=services.kafka_bootstrap,
        clickhouse_dsn=services.clickhouse_dsn or "", clickhouse_database=f"sf_{tag}",
        redis_url=services.redis_url, topic_prefix=f"t{tag}.", consumer_group=f"sf-{tag}",
        http_port=free_port(), batch_timeout_ms=100, clickhouse_http_port=0,
        rate_limit_requests=0, max_cells=MAX_CELLS,
    )  # fmt: skip
    world = make_world(seed=71)
    calls = make_calls(world, test_ntjp_e2e.START, test_ntjp_e2e.END,
                       8_000, seed=71)  # fmt: skip
    providers = sorted(u["hsa_id"] for u in world.units if u.get("kind") == "care_provider")
    sob = make_sob_world(seed=31)
    sob_providers = sorted(u["hsa_id"] for u in sob.units if u.get("kind") == "care_provider")
    # A partial opt-in: every provider but one in three of each world.
    opted = {p for ps in (providers, sob_providers) for i, p in enumerate(ps) if i % 3 != 1}
    settings = settings.with_(open_care_providers=",".join(sorted(opted)))
    txs = make_transactions(sob, dt.datetime(2023, 1, 1, tzinfo=dt.UTC),
                            dt.datetime(2024, 7, 1, tzinfo=dt.UTC), 1_500, seed=31)  # fmt: skip
    proc = StatflowProcess(settings, home / "statflow.log")
    test_ntjp_e2e.publish_world(settings, world)
    publish(settings, "hsa.units.v1", sob.units)
    publish(settings, "hsa.persons.v1", sob.practitioners)
    proc.start()
    try:
        publish(settings, "ntjp.calls.v1", calls)
        publish(settings, "sob.transactions.v1", txs)
        proc.wait_for(lambda: _settled(proc), timeout=300, what="data ingested and settled")
        yield proc, opted
    finally:
        proc.stop()


def _totals(proc: StatflowProcess) -> tuple[int, int]:
    wtb = proc.report(WTB, "events-by-hierarchy", **{"from": "2023-01-01", "to": "2025-03-31",
                      "level": "county"})["rows"]  # fmt: skip
    sob = proc.report("stod-och-behandling", "moments-per-month",
                      **{"from": "2023-01-01", "to": "2024-06-30"})["rows"]  # fmt: skip
    return sum(r[-1] for r in wtb), sum(r[1] for r in sob)


def _settled(proc: StatflowProcess) -> bool:
    """Both services have data and it no longer moves (every message is in)."""
    before = _totals(proc)
    time.sleep(3)
    return min(before) > 0 and _totals(proc) == before


def px_get(proc: StatflowProcess, path: str, params: list[tuple[str, Any]] | None = None,
           ) -> httpx.Response:  # fmt: skip
    return HTTP.get(proc.url + BASE + path, params=httpx.QueryParams(params or []), timeout=120)


def cells_of(body: dict[str, Any]) -> dict[tuple[str, ...], tuple[Any, str | None]]:
    """A JSON-stat dataset as {(codes by id order): (value, status)}."""
    ids, sizes = body["id"], body["size"]
    codes = [
        sorted(body["dimension"][d]["category"]["index"],
               key=body["dimension"][d]["category"]["index"].get)
        for d in ids
    ]  # fmt: skip
    out: dict[tuple[str, ...], tuple[Any, str | None]] = {}
    status = body.get("status") or {}
    for pos, value in enumerate(body["value"]):
        rest, key = pos, []
        for n, cs in zip(reversed(sizes), reversed(codes), strict=True):
            key.append(cs[rest % n])
            rest //= n
        out[tuple(reversed(key))] = (value, status.get(str(pos)))
    return out


def expected(
    proc: StatflowProcess, table_id: str, body: dict[str, Any], filters: dict[str, str]
) -> dict[tuple[str, ...], tuple[Any, str | None]]:
    """The cells the report API answers for the same months and filters, keyed
    like `cells_of`: asked of /api/v1 once for the months (a report with a
    month column) or once per month."""
    table = tables.find(table_id)
    months = sorted(body["dimension"][tables.TIME]["category"]["index"],
                    key=body["dimension"][tables.TIME]["category"]["index"].get)  # fmt: skip
    dims = body["id"]
    wanted = {d: set(body["dimension"][d]["category"]["index"]) for d in dims}
    asks: list[tuple[str | None, dict[str, str]]] = []
    level = {"level": table.level} if table.level else {}
    if table.monthly:
        first, _ = tables.month_of(months[0])
        _, last = tables.month_of(months[-1])
        asks.append((None, {"from": str(first), "to": str(last), **level, **filters}))
    else:
        for m in months:
            first, last = tables.month_of(m)
            asks.append((m, {"from": str(first), "to": str(last), **level, **filters}))
    out: dict[tuple[str, ...], tuple[Any, str | None]] = {}
    for month, params in asks:
        answer = proc.report(table.report.service, table.report.id, **params)
        names = [c["name"] for c in answer["columns"]]
        for row in answer["rows"]:
            r = dict(zip(names, row, strict=True))
            for content in wanted[tables.CONTENTS]:
                key = []
                for d in dims:
                    if d == tables.CONTENTS:
                        key.append(content)
                    elif d == tables.TIME:
                        key.append(tables.month_code(r["month"]) if month is None else month)
                    else:
                        key.append(code_of(r[d]))
                if all(k in wanted[d] for k, d in zip(key, dims, strict=True)):
                    v = r[content]
                    v = int(v) if isinstance(v, bool) else v
                    out[tuple(key)] = (v, ".." if v is None else None)
    additive = {c.name for c in table.contents if c.is_additive}
    for cell in cells_of(body):
        if cell not in out:
            content = cell[dims.index(tables.CONTENTS)]
            out[cell] = (0, None) if content in additive else (None, ".")
    return out
