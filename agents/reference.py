"""Reference topics (compacted): HSA units, NTjP routing, SCB population.

Pure functions turn a batch of messages into dimension rows; a tombstone (null
value) becomes a row with deleted = 1 for the message key. The Kafka offset is
the row version, so the newest message per key wins in ReplacingMergeTree.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

import faust
import msgspec

from agents.batch import RawMessage, Rejected
from schemas.events import (
    HsaPerson,
    HsaUnit,
    NtjpRouting,
    ScbPopulation,
    person_decoder,
    population_decoder,
    routing_decoder,
    unit_decoder,
)
from sinks import dead_letters
from statflow.errors import ValidationError
from streams import metrics
from streams.context import Context
from streams.ingest import dlq_headers
from streams.retry import until_written
from streams.topics import HSA_PERSONS, HSA_UNITS, NTJP_ROUTING, SCB_POPULATION, TopicSpec

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


@dataclass
class DimensionBatch:
    table: str
    columns: dict[str, list[Any]]
    rejected: list[Rejected]
    # (hsa_id, county or None) for the Redis lookup cache, in offset order
    counties: list[tuple[str, str | None]]


def key_parts(msg: RawMessage, n: int) -> list[str]:
    if msg.key is None:
        raise ValidationError("tombstone without a key: nothing to delete")
    try:
        parts = msg.key.decode("utf-8").split("/")
    except UnicodeDecodeError:
        raise ValidationError("message key is not UTF-8") from None
    if len(parts) != n or not all(parts):
        raise ValidationError(f"tombstone key must have {n} part(s) separated by '/'")
    return parts


def dimension_rows(
    messages: Sequence[RawMessage],
    table: str,
    decode: Callable[[bytes | None], msgspec.Struct],
    row_of: Callable[[Any], dict[str, Any]],
    tombstone_of: Callable[[RawMessage], dict[str, Any]],
) -> DimensionBatch:
    out = DimensionBatch(table, {}, [], [])
    rows: list[dict[str, Any]] = []
    for msg in messages:
        try:
            if msg.value is None:
                row = tombstone_of(msg) | {"deleted": 1}
            else:
                row = row_of(decode(msg.value)) | {"deleted": 0}
        except ValidationError as exc:
            out.rejected.append(Rejected(msg, str(exc)))
            continue
        row["version"] = msg.offset
        rows.append(row)
        if table == "hsa_units":
            out.counties.append((row["hsa_id"], None if row["deleted"] else row["county_code"]))
    if rows:
        out.columns = {k: [r[k] for r in rows] for k in rows[0]}
    return out


def units(
    messages: Sequence[RawMessage], decode: Callable[[bytes | None], HsaUnit]
) -> DimensionBatch:
    def row(u: HsaUnit) -> dict[str, Any]:
        return {
            "hsa_id": u.hsa_id,
            "name": u.name,
            "kind": u.kind,
            "care_provider_id": u.care_provider_id
            or (u.hsa_id if u.kind == "care_provider" else ""),
            "county_code": u.county_code,
            "updated_at": u.updated_at.astimezone(dt.UTC),
        }

    def tomb(m: RawMessage) -> dict[str, Any]:
        (hsa_id,) = key_parts(m, 1)
        return {
            "hsa_id": hsa_id,
            "name": "",
            "kind": "unit",
            "care_provider_id": "",
            "county_code": "",
            "updated_at": _EPOCH,
        }

    return dimension_rows(messages, "hsa_units", decode, row, tomb)


def persons(
    messages: Sequence[RawMessage], decode: Callable[[bytes | None], HsaPerson]
) -> DimensionBatch:
    def row(p: HsaPerson) -> dict[str, Any]:
        return {
            "hsa_id": p.hsa_id,
            "given_name": p.given_name,
            "family_name": p.family_name,
            "care_provider_id": p.care_provider_id,
        }

    def tomb(m: RawMessage) -> dict[str, Any]:
        (hsa_id,) = key_parts(m, 1)
        return {"hsa_id": hsa_id, "given_name": "", "family_name": "", "care_provider_id": ""}

    return dimension_rows(messages, "hsa_persons", decode, row, tomb)


def routing(
    messages: Sequence[RawMessage], decode: Callable[[bytes | None], NtjpRouting]
) -> DimensionBatch:
    def row(r: NtjpRouting) -> dict[str, Any]:
        return {
            "logical_address": r.logical_address,
            "operation": r.operation,
            "active_from": r.active_from,
            "active_to": r.active_to,
        }

    def tomb(m: RawMessage) -> dict[str, Any]:
        address, operation = key_parts(m, 2)
        return {
            "logical_address": address,
            "operation": operation,
            "active_from": dt.date(1970, 1, 1),
            "active_to": None,
        }

    return dimension_rows(messages, "ntjp_routing", decode, row, tomb)


def population(
    messages: Sequence[RawMessage], decode: Callable[[bytes | None], ScbPopulation]
) -> DimensionBatch:
    def row(p: ScbPopulation) -> dict[str, Any]:
        return {"county_code": p.county_code, "year": p.year, "population": p.population}

    def tomb(m: RawMessage) -> dict[str, Any]:
        county, year = key_parts(m, 2)
        if not year.isdigit():
            raise ValidationError("tombstone key year must be digits")
        return {"county_code": county, "year": int(year), "population": 0}

    return dimension_rows(messages, "scb_population", decode, row, tomb)


async def _insert(ctx: Context, batch: DimensionBatch) -> None:
    await asyncio.to_thread(ctx.store.insert_columns, batch.table, batch.columns)


def register(app: faust.App, ctx: Context) -> None:
    """One Faust agent per reference topic; volume is low, so Faust's own
    per-message streams are fast enough here."""
    s = ctx.settings
    for spec, to_rows, decoder in (
        (HSA_UNITS, units, unit_decoder),
        (HSA_PERSONS, persons, person_decoder),
        (NTJP_ROUTING, routing, routing_decoder),
        (SCB_POPULATION, population, population_decoder),
    ):
        reference_agent(app, ctx, spec, to_rows, decoder(s.max_message_bytes))


def reference_agent(
    app: faust.App,
    ctx: Context,
    spec: TopicSpec,
    to_rows: Callable[[Sequence[RawMessage], Any], DimensionBatch],
    decode: Any,
) -> None:
    topic_name, dlq_name = spec.full(ctx.settings), spec.dlq(ctx.settings)
    topic = app.topic(
        topic_name,
        partitions=ctx.settings.topic_partitions,
        key_type=bytes,
        value_type=bytes,
        key_serializer="raw",
        value_serializer="raw",
    )
    dlq = app.topic(
        dlq_name,
        partitions=1,
        key_type=bytes,
        value_type=bytes,
        key_serializer="raw",
        value_serializer="raw",
    )

    async def agent(stream: faust.StreamT[bytes]) -> None:
        async for events in stream.take_events(1000, within=1.0):  # type: ignore[attr-defined]
            msgs = [
                RawMessage(
                    e.message.topic,
                    e.message.partition,
                    e.message.offset,
                    e.message.key,
                    e.message.value,
                )
                for e in events
            ]
            batch = to_rows(msgs, decode)
            if batch.columns:
                await until_written(partial(_insert, ctx, batch), topic_name)
            await ctx.cache.put_counties(batch.counties)
            for r in batch.rejected:
                await dlq.send(key=r.message.key, value=r.message.value, headers=dlq_headers(r))
            if batch.rejected:
                await app.producer.flush()
                await asyncio.to_thread(dead_letters.record, ctx.store, batch.rejected)
            metrics.inc(
                "statflow_events_accepted_total", len(msgs) - len(batch.rejected), topic=topic_name
            )
            metrics.inc("statflow_events_rejected_total", len(batch.rejected), topic=topic_name)

    app.agent(topic, name=f"reference-{topic_name}")(agent)
