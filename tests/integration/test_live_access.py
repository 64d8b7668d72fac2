"""The live view is for operations staff (issue 19): it names the workers
(host and process id), the partitions each holds and the dead letters'
reasons. `GET /api/v1/live` answers 401 without a token and 403 to a
logged-in caller without the operator role, and neither answer names a
worker; Prometheus' `/metrics` still answers without a token (it is scraped
on the internal network)."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from core import auth as auth_
from core.settings import Settings
from sinks.clickhouse import ClickHouseStore
from streams.pause import heartbeat
from tests.integration.test_bounds import auth, make_client  # noqa: F401

WORKER = "worker@host-7:4242:abcd1234"


def test_the_live_view_needs_the_operator_role(
    make_client: Callable[..., TestClient],  # noqa: F811
    settings: Settings,
) -> None:
    client = make_client()
    store = ClickHouseStore(settings)
    try:
        heartbeat(store, WORKER, f"{settings.topic_prefix}ntjp.calls.v1", [0, 1])
    finally:
        store.close()

    anonymous = client.get("/api/v1/live")
    assert anonymous.status_code == 401
    assert anonymous.headers["WWW-Authenticate"].startswith("Bearer")
    for roles in [(), (auth_.AUDITOR,), (auth_.EXPORT_IDENTIFIED,), (auth_.SQL_READER,)]:
        other = client.get("/api/v1/live", headers=auth(*roles))
        assert other.status_code == 403, roles
        assert "operator" in other.text
    for answer in [anonymous, other]:
        assert "host-7" not in answer.text

    ops = client.get("/api/v1/live", headers=auth(auth_.OPERATOR))
    assert ops.status_code == 200
    assert [w["worker"] for w in ops.json()["workers"]] == [WORKER]

    metrics = client.get("/metrics")  # Prometheus: no token
    assert metrics.status_code == 200 and "statflow_workers_alive 1" in metrics.text
