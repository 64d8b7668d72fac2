"""A zombie worker (issue 19): `statflow worker` A stops (SIGSTOP) in the
middle of a write, after its seen-id lookup and before its insert, and stays
stopped past its Kafka session timeout while calls arrive; worker B takes its
partitions over and counts those calls. When A runs again (SIGCONT) its late
insert and checkpoint are refused (sinks/fencing.py: B claimed a newer epoch
in ClickHouse), it says so in its log and its /metrics, and every call is
counted exactly once, in the reports (through `statflow api`, a process of
its own) and in the raw table. Without fencing A's late insert adds the
calls B already wrote a second time.

The stop is a real SIGSTOP that A sends itself at the fault point
`sink.before-insert` (core/faults.py), so it lands inside a write every
run; the test sends SIGCONT."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import time
from pathlib import Path

from synth.ntjp import make_calls
from synth.ntjp_world import make_world
from tests.integration.harness import StatflowProcess
from tests.integration.kafka_util import publish
from tests.integration.test_multi_worker import Cluster, cluster  # noqa: F401
from tests.integration.test_restart import total_by_operation, want_by_operation


def _stopped(p: StatflowProcess) -> bool:
    """The process is stopped by a signal (state T in /proc/<pid>/stat)."""
    assert p.proc is not None
    stat = Path(f"/proc/{p.proc.pid}/stat").read_text()
    return stat.rsplit(")", 1)[1].split()[0] == "T"


def _counted(api: StatflowProcess) -> dict[str, int]:
    try:
        return total_by_operation(api)
    except Exception:  # noqa: BLE001 - between answers: nothing yet
        return {}


def _count_now(api: StatflowProcess) -> dict[str, int]:
    """The reports' totals now; a busy API is asked again, not read as nothing."""
    for _ in range(10):
        try:
            return total_by_operation(api)
        except Exception:  # noqa: BLE001 - between answers: ask again
            time.sleep(1)
    return total_by_operation(api)


def _log_lines(p: StatflowProcess, msg: str) -> list[dict[str, object]]:
    out = []
    for line in p.log.read_text("utf-8", "replace").splitlines():
        if msg in line and line.startswith("{"):
            out.append(json.loads(line))
    return out


def test_a_worker_stopped_past_its_session_timeout_writes_nothing_late(
    cluster: Cluster,  # noqa: F811
) -> None:
    s = cluster.base
    world = make_world(seed=194, n_units=30)
    calls = make_calls(world, dt.datetime(2024, 1, 1, tzinfo=dt.UTC),
                       dt.datetime(2024, 12, 31, tzinfo=dt.UTC), 15_000, seed=194)  # fmt: skip
    first, during, after = calls[:5_000], calls[5_000:11_000], calls[11_000:]
    publish(s, "hsa.units.v1", world.units)
    publish(s, "ntjp.calls.v1", first)
    cluster.start()

    b = cluster.worker()
    want = want_by_operation(first)
    cluster.api.wait_for(lambda: _counted(cluster.api) == want or "not yet", 120, "first part")
    # A joins (the partitions are shared out again) and stops itself inside
    # its first write: the calls published now.
    a = cluster.worker(faults="sink.before-insert")
    time.sleep(6)  # the rebalance: A holds half the partitions
    publish(s, "ntjp.calls.v1", during)
    cluster.api.wait_for(lambda: _stopped(a) or "running", 60, f"A stopped\n{a.tail(20)}")

    # A's session times out (6 s in tests); B takes A's partitions and counts every call
    want = want_by_operation(first + during)
    cluster.api.wait_for(
        lambda: _counted(cluster.api) == want or _counted(cluster.api), 120,
        f"B counting A's partitions\n{cluster.logs()}",
    )  # fmt: skip
    assert _stopped(a), "A stayed stopped while B took over"
    assert b.proc is not None and a.proc is not None

    os.kill(a.proc.pid, signal.SIGCONT)  # A goes on where it stood: about to insert
    deadline = time.monotonic() + 30
    while not _log_lines(a, "write refused") and time.monotonic() < deadline:
        time.sleep(0.5)
    time.sleep(3)  # whatever A would still write lands now
    assert _count_now(cluster.api) == want, "A's late write counted nothing"
    rows, distinct = cluster.raw_counts()
    assert rows == distinct, f"{rows - distinct} calls stored twice by A's late write"
    refused = _log_lines(a, "write refused: partition fenced")
    assert refused, f"A's late write was refused\n{a.tail(30)}"
    # the stopped write is refused before anything of it is inserted; later
    # refusals may be checkpoints of A's first writes after it rejoined, when
    # the rebalance that follows moves a partition on (their rows stay, once)
    assert refused[0]["stage"] == "rows", refused
    assert all(int(str(r["current"])) > int(str(r["epoch"])) for r in refused)
    assert "statflow_fenced_writes_total" in a.get("/metrics").text

    # A rejoins the group and takes partitions again; calls go on arriving
    publish(s, "ntjp.calls.v1", after)
    want = want_by_operation(calls)
    cluster.api.wait_for(
        lambda: _counted(cluster.api) == want or _counted(cluster.api), 120,
        f"all calls counted once\n{cluster.logs()}",
    )  # fmt: skip
    rows, distinct = cluster.raw_counts()
    assert rows == distinct == len({x["event_id"] for x in calls}), "each event stored once"
    time.sleep(3)  # nothing arrives late
    assert _count_now(cluster.api) == want
