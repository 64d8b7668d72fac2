"""The command line against the real stack: publish validates every line before
sending anything; report, annotate and audit reach the running process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson

from core.auth import issue
from tests.integration.harness import ROOT, StatflowProcess

GOOD = {"event_id": "cli-1", "occurred_at": "2024-05-02T08:00:00+02:00",
        "operation": "MakeBooking", "logical_address": "SE-CLI-UNIT"}  # fmt: skip


def cli(settings: Any, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **settings.to_env(), "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "statflow", *args], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=120)  # fmt: skip


def test_publish_report_and_audit(settings: Any, statflow: StatflowProcess, tmp_path: Path) -> None:
    settings = settings.with_(jwt_secret="cli-test-secret-0123456789abcdef0123456789")
    statflow.settings = settings
    bad = tmp_path / "bad.jsonl"
    bad.write_bytes(orjson.dumps(GOOD) + b"\n" + b'{"event_id": "x"}\n')
    done = cli(settings, "publish", "ntjp.calls.v1", str(bad))
    assert (
        done.returncode == 2
        and "bad.jsonl:2:" in done.stderr
        and "nothing was published" in done.stderr
    )

    statflow.start()
    good = tmp_path / "good.jsonl"
    good.write_bytes(
        orjson.dumps(GOOD) + b"\n" + orjson.dumps({**GOOD, "event_id": "cli-2"}) + b"\n"
    )
    done = cli(settings, "publish", "ntjp.calls.v1", str(good))
    assert done.returncode == 0, done.stderr

    def booked() -> Any:
        out = cli(settings, "report", "webbtidbokning/events-per-month", "--from", "2024-05-01",
                  "--to", "2024-05-31", "--format", "json")  # fmt: skip
        rows = orjson.loads(out.stdout)["rows"] if out.returncode == 0 else []
        return rows == [["2024-05", "MakeBooking", 2], ["2024-05", "CancelBooking", 0],
                        ["2024-05", "UpdateBooking", 0]] or out.stdout[:300]  # fmt: skip

    statflow.wait_for(booked, what="the CLI sees both calls (through the running API)")
    out = cli(settings, "report", "webbtidbokning/events-per-month", "--from", "2024-05-01",
              "--to", "2024-05-31", "--format", "csv")  # fmt: skip
    assert out.stdout.splitlines()[:2] == ["month,activity,events", "2024-05,MakeBooking,2"]
    bad_param = cli(settings, "report", "webbtidbokning/events-per-month", "--filter", "county=99")
    assert bad_param.returncode == 2 and "county" in bad_param.stderr

    token = issue(settings.jwt_secret, "nurse-1", ["SE-CLI-CP"])
    statflow.get_with("/api/v1/reports/webbtidbokning/events-per-month",
                      {"Authorization": f"Bearer {token}"})  # fmt: skip
    listing = cli(settings, "audit", "--limit", "10")
    assert listing.returncode == 0, listing.stderr
