"""Faults on the real stack; each scenario ends with every web-booking report
equal to the oracle (nothing lost, nothing counted twice)."""

from __future__ import annotations

import datetime as dt
import os
import random
import signal
import threading
import time
from typing import Any

import httpx

from deploy import stack
from schemas.topics import NTJP_CALLS
from synth.ntjp import make_calls
from synth.ntjp_invalid import malformed_messages
from synth.ntjp_world import make_world
from tests.faults.conftest import FULL, record
from tests.integration.harness import StatflowProcess
from tests.integration.kafka_util import partitions, publish, read_all
from tests.integration.test_ntjp_e2e import check_reports, publish_world
from tests.integration.test_restart import total_by_operation, want_by_operation

START, END = dt.datetime(2024, 1, 1, tzinfo=dt.UTC), dt.datetime(2024, 12, 31, tzinfo=dt.UTC)
REPORTS = ("events-per-month", "bookings-per-county", "share-per-service",
           "my-bookings-per-month", "events-per-weekday", "events-by-hierarchy")  # fmt: skip


def settle(proc: StatflowProcess, world: Any, calls: list[dict[str, Any]], what: str,
           timeout: float = 300) -> None:  # fmt: skip
    proc.wait_for(lambda: total_by_operation(proc) == want_by_operation(calls) or total_by_operation(proc),
                  timeout=timeout, what=what)  # fmt: skip
    time.sleep(2)  # a late double count would show now
    cases = [{"report": r, "from": "2024-01-01", "to": "2024-12-31"} for r in REPORTS]
    cases += [{"report": r, "from": "2024-03-15", "to": "2024-11-03"} for r in REPORTS]
    check_reports(proc, world, calls, cases)


def data(seed: int, n: int) -> tuple[Any, list[dict[str, Any]]]:
    world = make_world(seed=seed, n_units=50)
    return world, make_calls(world, START, END, n, seed=seed)


def in_background(settings: Any, chunks: list[list[Any]], pause: float) -> threading.Thread:
    def go() -> None:
        for chunk in chunks:
            publish(settings, "ntjp.calls.v1", chunk)
            time.sleep(pause)

    t = threading.Thread(target=go)
    t.start()
    return t


def test_sigkill_at_random_moments(settings: Any, statflow: StatflowProcess) -> None:
    kills = 12 if FULL else 3
    world, calls = data(91, 100_000 if FULL else 12_000)
    publish_world(settings, world)
    statflow.settings = settings.with_(batch_max_records=3000)
    statflow.start()
    size = len(calls) // (kills * 2)
    chunks = [calls[i : i + size] for i in range(0, len(calls), size)]
    producer = in_background(settings, chunks, 0.4)
    rng = random.Random(92)
    for _ in range(kills):
        time.sleep(rng.uniform(0.2, 2.5))
        statflow.kill()
        statflow.start()
    producer.join()
    settle(statflow, world, calls, f"exact totals after {kills} SIGKILLs")
    record(
        "sigkill", len(calls), want_by_operation(calls), total_by_operation(statflow), kills=kills
    )


def test_kafka_restarted_and_redis_stopped_mid_stream(
    settings: Any, statflow: StatflowProcess, local_stack: stack.StackConfig
) -> None:
    world, calls = data(93, 60_000 if FULL else 10_000)
    publish_world(settings, world)
    statflow.start()
    third = len(calls) // 3
    publish(settings, "ntjp.calls.v1", calls[:third])
    try:
        kafka = stack._our_kafka_pid(local_stack)  # noqa: SLF001
        assert kafka is not None
        os.kill(kafka, signal.SIGKILL)  # the broker dies mid-stream
        time.sleep(3)
        stack.up(local_stack)
        publish(settings, "ntjp.calls.v1", calls[third : 2 * third])
        redis = stack._our_redis_pid(local_stack)  # noqa: SLF001
        assert redis is not None
        os.kill(redis, signal.SIGKILL)  # the lookup cache is gone: ingest goes on
        publish(settings, "ntjp.calls.v1", calls[2 * third :])
        settle(statflow, world, calls, "exact totals after the broker and Redis went away")
    finally:
        stack.up(local_stack)
    record(
        "kafka-restart+redis-stop",
        len(calls),
        want_by_operation(calls),
        total_by_operation(statflow),
    )


def committed(settings: Any, topic: str) -> int:
    """Sum of the ingest group's committed offsets (Kafka's view, advisory)."""
    import asyncio

    from aiokafka import AIOKafkaConsumer, TopicPartition

    async def go() -> int:
        group = f"{settings.consumer_group}.{topic}"
        c = AIOKafkaConsumer(bootstrap_servers=settings.kafka_bootstrap, group_id=group,
                             enable_auto_commit=False)  # fmt: skip
        await c.start()
        try:
            parts = await partitions(c, topic)
            return sum([await c.committed(TopicPartition(topic, p)) or 0 for p in parts])
        finally:
            await c.stop()

    return asyncio.run(go())


def test_clickhouse_refuses_writes_for_a_while(settings: Any, statflow: StatflowProcess) -> None:
    world, calls = data(95, 40_000 if FULL else 8_000)
    publish_world(settings, world)
    statflow.settings = settings.with_(faults="sink.writes-fail:15")
    statflow.start()
    publish(settings, "ntjp.calls.v1", calls)
    time.sleep(5)  # inside the window: nothing written, nothing committed
    assert sum(total_by_operation(statflow).values()) == 0
    assert committed(settings, NTJP_CALLS.full(settings)) == 0, "no commit while writes fail"
    metrics = httpx.get(statflow.url + "/metrics", timeout=30).text
    assert "statflow_sink_failures_total" in metrics
    settle(statflow, world, calls, "caught up after ClickHouse came back", timeout=240)
    record("clickhouse-writes-fail", len(calls), want_by_operation(calls), total_by_operation(statflow),
           failing_seconds=15)  # fmt: skip


def test_a_corpus_of_bad_input_between_valid_events(
    settings: Any, statflow: StatflowProcess
) -> None:
    world, calls = data(97, 30_000 if FULL else 8_000)
    bad = [raw for raw, _ in malformed_messages(10_000 if FULL else 2_000, seed=98)]
    huge = [b'{"event_id": "big-%d", "note": "' % i + b"x" * 1_000_000 + b'"}' for i in range(3)]
    bad += huge + [b"\x00" * 64, b'{"event_id": "nul\x00byte"}', b"\xff\xfe\xfd"]
    stream: list[Any] = list(calls) + bad
    random.Random(99).shuffle(stream)
    publish_world(settings, world)
    statflow.start()
    publish(settings, "ntjp.calls.v1", stream)
    settle(statflow, world, calls, "every valid call counted once")
    dlq = read_all(settings, NTJP_CALLS.dlq(settings), len(bad), timeout=120)
    assert len(dlq) == len(bad), "every bad message is in the DLQ"
    assert all(dict(m.headers).get("error") for m in dlq), "each with its reason"
    log = statflow.log.read_text("utf-8", "replace")
    assert "ingest loop failed" not in log and "Traceback" not in log, "no crash"
    record("bad-input", len(stream), want_by_operation(calls), total_by_operation(statflow),
           bad_messages=len(bad), in_dlq=len(dlq))  # fmt: skip
