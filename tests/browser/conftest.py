"""Browser-test fixtures: one real `statflow run` per module with generated
web-booking and support-and-treatment data, and headless Debian Chromium
driven by Playwright's Python package (never a downloaded browser).

The services (`services`: the local stack, or containers under
STATFLOW_TEST_DOCKER=1) are the integration suite's; the server here is module-scoped so the pages share one
ingest.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from core.settings import Settings
from synth import etj
from synth.ntjp import make_calls
from synth.ntjp_world import World, make_world
from synth.sob import SobWorld, make_sob_world, make_transactions
from tests import services as provided
from tests.integration.conftest import (  # noqa: F401
    free_port,
    service_provider,
    services,
    settings,
    statflow,
)
from tests.integration.harness import ROOT, StatflowProcess
from tests.integration.kafka_util import publish

CHROMIUM = os.environ.get("STATFLOW_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# For review, not for git (tests/results/ is ignored): every page the tests visit.
SCREENSHOTS = ROOT / "tests" / "results" / "screenshots"
TODAY = dt.datetime.now(dt.UTC).replace(hour=0, minute=0, second=0, microsecond=0)
# History ends before today so live calls published later never collide.
HISTORY = (TODAY - dt.timedelta(days=420), TODAY - dt.timedelta(days=1))
N_CALLS = 20_000
N_CASES = 1_500
N_ETJ_CASES = 1_000
FOUR = ("GetSubjectOfCareSchedule", "MakeBooking", "CancelBooking", "UpdateBooking")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/browser" in str(item.fspath):
            item.add_marker(pytest.mark.integration)


@dataclass
class Served:
    proc: StatflowProcess
    world: World
    sob: SobWorld
    calls: list[dict[str, Any]]
    txs: list[dict[str, Any]]

    @property
    def url(self) -> str:
        return self.proc.url


def publish_data(
    cfg: Settings,
) -> tuple[World, SobWorld, list[dict[str, Any]], list[dict[str, Any]]]:
    """Reference data first, then a year of calls and three years of SOB cases."""
    world = make_world(seed=7)
    sob = make_sob_world(seed=7)
    publish(cfg, "hsa.units.v1", world.units + world.unit_moves + list(sob.units))
    publish(cfg, "hsa.persons.v1", list(sob.practitioners))
    publish(cfg, "ntjp.routing.v1", world.routing)
    publish(cfg, "scb.population.v1", world.population)
    calls = make_calls(world, *HISTORY, N_CALLS, seed=7)
    txs = make_transactions(sob, TODAY - dt.timedelta(days=3 * 365), HISTORY[1], N_CASES, seed=7)
    publish(cfg, "ntjp.calls.v1", calls)
    publish(cfg, "sob.transactions.v1", txs)
    return world, sob, calls, txs


def publish_etj(cfg: Settings) -> int:
    """1177 e-services: units, staff, accounts, a year of cases and logins."""
    world = etj.make_etj_world(seed=7)
    publish(cfg, "etj.units.v1", world.units)
    publish(cfg, "hsa.persons.v1", world.persons)
    accounts = etj.make_accounts(world, *HISTORY, 400, seed=7)
    publish(cfg, "etj.accounts.v1", accounts)
    cases = etj.make_cases(world, *HISTORY, N_ETJ_CASES, seed=7)
    publish(cfg, "etj.cases.v1", cases)
    publish(cfg, "etj.logins.v1", etj.make_logins(world, *HISTORY, 3000, seed=7, accounts=accounts))
    return len({c["case_id"] for c in cases if c["event"] == "received"})


def wait_ingested(
    proc: StatflowProcess, calls: list[dict[str, Any]], txs: list[dict[str, Any]], received: int
) -> None:
    span = {"from": "2015-10-01", "to": TODAY.date().isoformat()}
    want_calls = sum(1 for c in calls if c["operation"] in FOUR)
    want_started = len(
        {t["case_id"] for t in txs if t["case_type"] == "Process" and t["status"] == "Inprogress"}
    )

    def done() -> Any:
        calls_in = sum(
            r[2] for r in proc.report("webbtidbokning", "events-per-weekday", **span)["rows"]
        )
        started = sum(
            r[1] for r in proc.report("stod-och-behandling", "moments-per-month", **span)["rows"]
        )
        etj_in = sum(r[2] for r in proc.report("e-tjanster", "cases-per-case-type", **span)["rows"])
        got = (calls_in, started, etj_in)
        return True if got == (want_calls, want_started, received) else got

    proc.wait_for(done, timeout=150, what="generated data ingested")


@pytest.fixture(scope="module")
def served(
    services: provided.Services,  # noqa: F811
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Served]:
    tmp = tmp_path_factory.mktemp("browser")
    tag = uuid.uuid4().hex[:10]
    cfg = Settings(
        home=tmp / "home",
        kafka_bootstrap=services.kafka_bootstrap,
        clickhouse_dsn=services.clickhouse_dsn or "",
        clickhouse_database=f"sf_{tag}",
        redis_url=services.redis_url,
        topic_prefix=f"t{tag}.",
        consumer_group=f"sf-{tag}",
        http_port=free_port(),
        batch_timeout_ms=100,
        clickhouse_http_port=0,  # a fixed 8123 would clash between parallel runs
        # every request of a test comes from 127.0.0.1; tests of the limit turn it on
        rate_limit_requests=0,
    )
    proc = StatflowProcess(cfg, tmp / "statflow.log")
    try:
        world, sob, calls, txs = publish_data(cfg)
        received = publish_etj(cfg)
        proc.start()
        wait_ingested(proc, calls, txs, received)
        yield Served(proc, world, sob, calls, txs)
    finally:
        proc.stop()


@pytest.fixture(scope="session")
def screenshots() -> Path:
    # Cleared once per run: pytest-xdist workers share the run's id, and a
    # second worker with browser tests must not delete the first one's pages.
    run = os.environ.get("PYTEST_XDIST_TESTRUNUID") or uuid.uuid4().hex
    marker = SCREENSHOTS / f".run-{run}"
    if not marker.exists():
        shutil.rmtree(SCREENSHOTS, ignore_errors=True)
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        marker.touch()
    return SCREENSHOTS


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(
        viewport={"width": 1280, "height": 900}, accept_downloads=True, locale="sv-SE"
    )
    context.set_default_timeout(20_000)
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    pg.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    pg.js_errors = errors
    yield pg
    context.close()
    # 400 (a bad parameter) and 403 (a logged-in report without a token) are
    # answers the page shows; any other console error is a fault.
    expected = ("status of 400", "status of 403")
    assert not [e for e in errors if not any(x in e for x in expected)], errors
