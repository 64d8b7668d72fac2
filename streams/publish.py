"""Validate JSON lines against a topic's contract, then produce them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import orjson
from aiokafka import AIOKafkaProducer

from schemas.events import CONTRACT_TYPES, Decoder
from statflow.errors import ValidationError
from streams.settings import Settings
from streams.topics import BY_NAME, TopicSpec


@dataclass(frozen=True)
class BadLine:
    line: int
    reason: str


def check_lines(topic: str, lines: Sequence[bytes], max_bytes: int) -> list[BadLine]:
    """Every line must decode to the topic's contract type."""
    decode = Decoder(CONTRACT_TYPES[topic], max_bytes, instants=_instants(topic))
    bad = []
    for i, line in enumerate(lines, 1):
        try:
            decode(line)
        except ValidationError as exc:
            bad.append(BadLine(i, str(exc)))
    return bad


def _instants(topic: str) -> tuple[str, ...]:
    return {"ntjp.calls.v1": ("occurred_at",), "hsa.units.v1": ("updated_at",)}.get(topic, ())


def spec_of(topic: str) -> TopicSpec:
    spec = BY_NAME.get(topic)
    if spec is None:
        raise ValidationError(f"unknown topic {topic!r}; one of {', '.join(sorted(BY_NAME))}")
    return spec


async def produce(
    settings: Settings, spec: TopicSpec, values: Iterable[bytes | dict[str, object]],
    raw_keys: Iterable[bytes | None] | None = None,
) -> int:
    """Produce records (dicts are encoded; bytes go as they are, key from the spec)."""
    producer = AIOKafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap,
        acks="all",
        compression_type="lz4",
        linger_ms=20,
        max_batch_size=512 * 1024,
        max_request_size=4 * 1024 * 1024,
    )
    await producer.start()
    n = 0
    try:
        keys = iter(raw_keys) if raw_keys is not None else None
        batch = []
        for value in values:
            if isinstance(value, dict):
                key = spec.key_of(value)
                body: bytes = orjson.dumps(value)
            else:
                body = value
                key = next(keys) if keys is not None else None
                if key is None and keys is None:
                    try:
                        key = spec.key_of(orjson.loads(value))
                    except (orjson.JSONDecodeError, KeyError, TypeError):
                        key = None
            batch.append(await producer.send(spec.full(settings), body, key=key))
            n += 1
            if len(batch) >= 10000:
                await _drain(batch)
        await _drain(batch)
    finally:
        await producer.stop()
    return n


async def _drain(futures: list[object]) -> None:
    import asyncio

    await asyncio.gather(*futures)  # type: ignore[arg-type]
    futures.clear()


def read_lines(data: bytes) -> list[bytes]:
    return [ln for ln in data.splitlines() if ln.strip()]
