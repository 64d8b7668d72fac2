"""An export whose API process dies while it runs is run by the next API
process its creator asks (reports/exports.py: the run lease in Redis lapses,
the job and its request are in Redis too). Two `statflow api` processes
apart, one killed inside the job by a crash point."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from core.auth import issue
from tests.integration.conftest import free_port
from tests.integration.harness import StatflowProcess
from tests.integration.test_multi_worker import SECRET, Cluster, cluster  # noqa: F401
from tests.integration.test_tiers_exports import auth, httpx_post

BODY = {"kind": "aggregated", "service": "webbtidbokning", "report": "events-per-month",
        "params": {"from": "2024-01-01", "to": "2024-12-31"}}  # fmt: skip


def test_an_export_left_by_a_dead_api_is_finished_by_another(
    cluster: Cluster,  # noqa: F811
    tmp_path: Path,
) -> None:
    # the API that takes the job and dies inside it
    doomed = StatflowProcess(
        cluster.base.with_(http_port=free_port(), faults="export.mid-run"),
        tmp_path / "doomed.log",
        "api",
    )
    cluster.start()
    doomed.start()
    token = issue(SECRET, "exp-a", ["SE2321000016-0001"], ["export_aggregated"])
    r = httpx_post(doomed, token, BODY)
    assert r.status_code == 202, r.text
    job = r.json()["id"]
    deadline = time.monotonic() + 30
    while doomed.proc is not None and doomed.proc.poll() is None:
        assert time.monotonic() < deadline, "the crash point was never reached"
        time.sleep(0.1)

    # the other API: the job waits for its lease to lapse, then runs here. No
    # calls were ingested, so the caller's organisation is not connected and
    # the job ends as that says; what matters is that it ends, run here.
    other = cluster.api
    deadline = time.monotonic() + 90
    status: dict[str, Any] = {}
    while time.monotonic() < deadline:
        status = other.get_with(f"/api/v1/exports/{job}", auth(token)).json()
        if status["status"] not in ("queued", "running"):
            break
        time.sleep(0.5)
    assert status.get("status") == "failed" and "not connected" in status["error"], status
    assert "export taken over" in other.log.read_text("utf-8")
    # asked again, a finished job is not run again
    again = other.get_with(f"/api/v1/exports/{job}", auth(token)).json()
    assert again["status"] == "failed"
    assert other.log.read_text("utf-8").count("export taken over") == 1
