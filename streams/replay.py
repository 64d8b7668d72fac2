"""Dead letters read back from their DLQ topic, shown or replayed.

A replay takes the selected dead letters of one event topic, reads their
original bytes from `<topic>.dlq`, validates each again with the contract as
this process enforces it now (released + STATFLOW_CONTRACT_EXTENSIONS), and
produces those that pass to the source topic, keyed as the contract says. Every
step is recorded in ClickHouse, never in this process's memory, so a replay
killed half-way is finished by running it again, from any process:

  1. the refused and the vanished are recorded (`still_failing` with the new
     reason, `gone`) under the contract version;
  2. `producing` is recorded for those that pass, then they are produced and
     the broker's acks awaited, then `replayed` is recorded.

A second replay skips what is `replayed` (any version) or final under this
version; a `producing` without `replayed` is produced again, and the topic's
`event_id` deduplication (the seen store) keeps its effect exactly once — as it
does when the producer re-published the same event itself.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from core import faults, personnummer
from core.errors import ParameterError, SinkError, ValidationError
from core.settings import Settings
from schemas.dead_letters import Selection, source_of
from schemas.topics import TopicSpec, contract_version, decoder_for
from sinks import dead_letters as table
from sinks.clickhouse import ClickHouseStore

log = logging.getLogger("statflow.replay")

MAX_PER_RUN = 20_000  # dead letters one replay takes; run again for more
READ_SLACK = dt.timedelta(minutes=10)  # a DLQ message is sent after its row is written
READ_LIMIT = 2_000_000  # DLQ messages scanned at most for one request
IDLE_POLLS = 30  # one-second fetches without a record before the end: the broker is stuck


@dataclass(frozen=True)
class DlqMessage:
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes], ...]
    dlq_partition: int
    dlq_offset: int
    timestamp_ms: int


class KafkaUnavailable(SinkError):
    """The broker did not answer; the caller may try again."""


def replayable(spec: TopicSpec) -> None:
    """Reference topics are not replayed: the latest record per key is the
    truth there, and an old record produced again would replace a newer one."""
    if spec.compacted:
        raise ParameterError(
            "topic",
            f"{spec.name} is a reference topic: its producer resends the current record "
            "(the latest per key wins); replay takes event topics",
        )


async def read_dlq(
    settings: Settings,
    spec: TopicSpec,
    wanted: set[tuple[int, int]],
    since: dt.datetime | None,
) -> dict[tuple[int, int], DlqMessage]:
    """The first DLQ message for each wanted (source partition, offset) of
    `spec`'s topic, reading from `since` (minus slack) to the end."""
    found: dict[tuple[int, int], DlqMessage] = {}
    if not wanted:
        return found
    source, dlq = spec.full(settings), spec.dlq(settings)
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap,
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        max_partition_fetch_bytes=8 * 1024 * 1024,
        fetch_max_bytes=64 * 1024 * 1024,
    )
    try:
        await consumer.start()
    except Exception as exc:  # noqa: BLE001 - any connection failure
        await consumer.stop()
        raise KafkaUnavailable(f"Kafka is not answering ({type(exc).__name__})") from None
    try:
        if dlq not in await consumer.topics():
            return found  # nothing was ever rejected there (or it was deleted)
        parts = consumer.partitions_for_topic(dlq) or set()
        if not parts:  # a fresh consumer knows no topic's partitions until its metadata has it
            await consumer._client.force_metadata_update()  # noqa: SLF001
            parts = consumer.partitions_for_topic(dlq) or set()
        tps = [TopicPartition(dlq, p) for p in sorted(parts)]
        consumer.assign(tps)
        ends = await consumer.end_offsets(tps)
        starts: dict[TopicPartition, int] = {}
        if since is not None:
            ms = int((since - READ_SLACK).timestamp() * 1000)
            at = await consumer.offsets_for_times({tp: max(ms, 0) for tp in tps})
            # no message at or after that time: nothing to read there
            starts = {tp: (ends[tp] if o is None else o.offset) for tp, o in at.items()}
        for tp in tps:
            if tp in starts:
                consumer.seek(tp, starts[tp])
            else:
                await consumer.seek_to_beginning(tp)
        todo = {tp for tp in tps if ends.get(tp, 0) > 0}
        scanned, idle = 0, 0
        while todo and scanned < READ_LIMIT and len(found) < len(wanted):
            for tp in list(todo):
                if await consumer.position(tp) >= ends[tp]:
                    todo.discard(tp)
            if not todo:
                break
            batch = await consumer.getmany(*todo, timeout_ms=1000, max_records=5000)
            idle = 0 if batch else idle + 1
            if idle >= IDLE_POLLS:
                raise KafkaUnavailable(
                    f"{dlq} gave no records for {IDLE_POLLS} s before its end; try again"
                )
            for tp, records in batch.items():
                for r in records:
                    if r.offset >= ends[tp]:
                        continue
                    scanned += 1
                    headers = tuple((k, v) for k, v in (r.headers or ()) if v is not None)
                    src = source_of(dict(headers))
                    if src is None or src[0] != source:
                        continue
                    key = (src[1], src[2])
                    if key in wanted and key not in found:
                        found[key] = DlqMessage(
                            r.key, r.value, headers, tp.partition, r.offset, r.timestamp
                        )
        if todo and len(found) < len(wanted):
            # not read to the end: what is missing may still be there, so it
            # must not be recorded as gone
            raise ParameterError(
                "since",
                f"the DLQ holds more than {READ_LIMIT} messages from the selection's start; "
                "narrow the selection (since, until)",
            )
        return found
    finally:
        await consumer.stop()


@dataclass
class Report:
    run_id: str
    topic: str
    contract_version: str
    dry_run: bool
    selected: int = 0  # dead letters the selection matched
    replayed: int = 0
    still_failing: int = 0
    skipped: int = 0  # refused or gone under this contract version already
    gone: int = 0  # the DLQ topic no longer holds them (retention)
    already_replayed: int = 0  # matched, but replayed before
    remaining: int = 0  # beyond this run's limit: run again
    reasons: dict[str, int] | None = None  # the new reasons of those still failing

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _selection_text(sel: Selection) -> str:
    out = {k: (v.isoformat() if isinstance(v, dt.datetime) else v) for k, v in asdict(sel).items()}
    return json.dumps({k: v for k, v in out.items() if v not in (None, "all")}, sort_keys=True)


def _key(spec: TopicSpec, value: bytes, original: bytes | None) -> bytes | None:
    """The key the contract gives the message (its key fields joined by '/')."""
    try:
        record = orjson.loads(value)
        return spec.key_of(record) if isinstance(record, dict) else original
    except (orjson.JSONDecodeError, KeyError):
        return original


async def replay(
    settings: Settings,
    store: ClickHouseStore,
    spec: TopicSpec,
    sel: Selection,
    by: str,
    dry_run: bool = False,
    limit: int = MAX_PER_RUN,
) -> Report:
    replayable(spec)
    topic = spec.full(settings)
    version = contract_version(spec, settings)
    decode = decoder_for(spec, settings)
    started = dt.datetime.now(dt.UTC)
    report = Report(uuid.uuid4().hex, topic, version, dry_run)
    found = await asyncio.to_thread(table.replay_candidates, store, sel, topic, version, limit)
    report.selected, report.skipped = found.dead, found.done_here
    report.already_replayed = found.replayed
    report.remaining = max(0, found.dead - found.done_here - len(found.take))
    since = min((c.at for c in found.take), default=None)
    messages = await read_dlq(settings, spec, {(c.partition, c.offset) for c in found.take}, since)

    final: list[table.Outcome] = []
    passing: list[tuple[table.Candidate, DlqMessage]] = []
    reasons: dict[str, int] = {}
    for c in found.take:
        m = messages.get((c.partition, c.offset))
        if m is None:
            final.append(table.Outcome(c.partition, c.offset, "gone"))
            continue
        try:
            decode(m.value)
        except ValidationError as exc:
            reason = str(exc)
        except Exception as exc:  # noqa: BLE001 - as the ingest loop: one poison message
            reason = f"undecodable message ({type(exc).__name__})"
        else:
            passing.append((c, m))
            continue
        reason = personnummer.redact(reason)
        final.append(table.Outcome(c.partition, c.offset, "still_failing", reason))
        reasons[reason] = reasons.get(reason, 0) + 1
    report.gone = sum(o.outcome == "gone" for o in final)
    report.still_failing = len(final) - report.gone
    report.reasons = dict(sorted(reasons.items(), key=lambda kv: -kv[1])[:20])
    run = {"run_id": report.run_id, "started_at": started, "by": by, "topic": topic,
           "contract_version": version, "selection": _selection_text(sel), "dry_run": dry_run,
           "state": "dry_run" if dry_run else "started", "selected": report.selected,
           "replayed": 0, "still_failing": report.still_failing, "skipped": report.skipped,
           "gone": report.gone}  # fmt: skip
    if dry_run:
        report.replayed = len(passing)  # would be
        run["replayed"] = report.replayed
        await asyncio.to_thread(table.record_run, store, run)
        return report
    await asyncio.to_thread(table.record_run, store, run)
    record = table.record_outcomes
    await asyncio.to_thread(record, store, topic, version, report.run_id, by, final)
    intents = [table.Outcome(c.partition, c.offset, "producing") for c, _ in passing]
    await asyncio.to_thread(record, store, topic, version, report.run_id, by, intents)
    await _produce(settings, spec, report.run_id, passing)
    done = [table.Outcome(c.partition, c.offset, "replayed") for c, _ in passing]
    await asyncio.to_thread(record, store, topic, version, report.run_id, by, done)
    report.replayed = len(done)
    run |= {"state": "done", "replayed": report.replayed}
    await asyncio.to_thread(table.record_run, store, run)
    log.info(
        "dead letters replayed",
        extra={"topic": topic, "replayed": report.replayed, "still_failing": report.still_failing,
               "run_id": report.run_id},
    )  # fmt: skip
    return report


async def _produce(
    settings: Settings,
    spec: TopicSpec,
    run_id: str,
    passing: Sequence[tuple[table.Candidate, DlqMessage]],
) -> None:
    if not passing:
        return
    producer = AIOKafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap,
        acks="all",
        max_request_size=4 * 1024 * 1024,
        linger_ms=5,
    )
    try:
        await producer.start()
    except Exception as exc:  # noqa: BLE001 - any connection failure
        await producer.stop()
        raise KafkaUnavailable(f"Kafka is not answering ({type(exc).__name__})") from None
    try:
        topic = spec.full(settings)
        half = len(passing) // 2
        pending = []
        for i, (c, m) in enumerate(passing):
            assert m.value is not None  # it passed the contract
            headers = [
                ("statflow-replay-run", run_id.encode()),
                ("statflow-replayed-from", f"{c.partition}/{c.offset}".encode()),
            ]
            pending.append(
                await producer.send(topic, m.value, key=_key(spec, m.value, m.key), headers=headers)
            )
            if i + 1 == half:
                await asyncio.gather(*pending)
                # a crash here leaves half produced and none recorded as replayed
                faults.point("dlq.replay-mid-produce")
        await asyncio.gather(*pending)
    finally:
        await producer.stop()
