"""`statflow backfill` on the real stack: a topic is replayed into fresh tables
and swapped in while the reports keep answering and live events keep arriving;
afterwards every total is exact (nothing lost, nothing twice)."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from synth.ntjp import make_calls
from synth.ntjp_world import make_world
from tests.integration.harness import ROOT, StatflowProcess
from tests.integration.kafka_util import publish
from tests.integration.test_restart import total_by_operation, want_by_operation


@pytest.mark.parametrize("source", ["kafka", "raw"])
def test_backfill_swaps_fresh_tables_in_without_downtime(
    settings: Any, statflow: StatflowProcess, tmp_path: Path, source: str
) -> None:
    """From Kafka (a replay) or from the raw table (rollups recomputed)."""
    world = make_world(seed=81, n_units=40)
    calls = make_calls(world, dt.datetime(2024, 1, 1, tzinfo=dt.UTC),
                       dt.datetime(2024, 12, 31, tzinfo=dt.UTC), 40_000, seed=81)  # fmt: skip
    first, later = calls[:30_000], calls[30_000:]
    publish(settings, "hsa.units.v1", world.units)
    publish(settings, "ntjp.calls.v1", first)
    statflow.start()
    statflow.wait_for(lambda: total_by_operation(statflow) == want_by_operation(first) or "not yet",
                      timeout=180, what="the first calls ingested")  # fmt: skip

    # Reports are read the whole time; a total may only grow.
    seen: list[tuple[int, int]] = []
    stop = threading.Event()

    def read_reports() -> None:
        while not stop.is_set():
            r = statflow.get("/api/v1/reports/webbtidbokning/events-per-weekday",
                             **{"from": "2017-10-01", "to": "2026-12-31"})  # fmt: skip
            seen.append((r.status_code, sum(row[2] for row in r.json()["rows"])
                         if r.status_code == 200 else -1))  # fmt: skip

    reader = threading.Thread(target=read_reports)
    reader.start()
    env = {**os.environ, **statflow.settings.to_env(), "PYTHONPATH": str(ROOT)}
    errors = tmp_path / "backfill.stderr"
    with errors.open("wb") as err_file:
        cli = subprocess.Popen([sys.executable, "-m", "statflow", "backfill", "ntjp.calls.v1",
                                *(["--from-raw"] if source == "raw" else [])],
                               cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=err_file)  # fmt: skip
        publish(settings, "ntjp.calls.v1", later)  # live traffic during the replay
        try:
            out, _ = cli.communicate(timeout=300)
        finally:
            cli.kill()
            stop.set()
            reader.join(60)
    err = errors.read_bytes()

    assert cli.returncode == 0, err.decode()
    assert b"100.0%" in err and b"ETA" in err, err.decode()[-500:]
    assert b"ntjp_calls" in out and b"ntjp_calls_daily" in out
    statflow.wait_for(lambda: total_by_operation(statflow) == want_by_operation(calls) or "not yet",
                      timeout=120, what="every call counted once after the swap")  # fmt: skip
    assert seen and {code for code, _ in seen} == {200}, "reports answered throughout"
    totals = [n for _, n in seen]
    assert totals == sorted(totals), "no answer ever saw fewer calls than the one before"

    r = statflow.get("/api/v1/backfill/nope")
    assert r.status_code == 404
