"""Test-side Kafka helpers: publish generated records, read a DLQ back."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition

from core.settings import Settings
from schemas.topics import BY_NAME
from streams.admin import ensure_topics
from streams.publish import produce


def publish(
    settings: Settings,
    topic: str,
    records: Sequence[dict[str, Any] | bytes],
    keys: Sequence[bytes | None] | None = None,
) -> int:
    async def go() -> int:
        await ensure_topics(settings)
        return await produce(settings, BY_NAME[topic], records, keys)

    return asyncio.run(go())


async def partitions(consumer: AIOKafkaConsumer, topic_full: str) -> set[int]:
    """The topic's partitions; a fresh consumer may need a metadata update first."""
    parts = consumer.partitions_for_topic(topic_full) or set()
    if not parts:
        await consumer._client.force_metadata_update()  # noqa: SLF001
        parts = consumer.partitions_for_topic(topic_full) or set()
    return set(parts)


def read_all(settings: Settings, topic_full: str, expected: int, timeout: float = 60) -> list[Any]:
    """Read a whole topic from the start until `expected` records or the timeout."""

    async def go() -> list[Any]:
        consumer = AIOKafkaConsumer(
            bootstrap_servers=settings.kafka_bootstrap,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
        )
        await consumer.start()
        try:
            tps = [TopicPartition(topic_full, p) for p in await partitions(consumer, topic_full)]
            consumer.assign(tps)
            await consumer.seek_to_beginning(*tps)
            out: list[Any] = []
            loop = asyncio.get_running_loop()
            deadline = loop.time() + timeout
            while len(out) < expected and loop.time() < deadline:
                batch = await consumer.getmany(timeout_ms=500)
                for records in batch.values():
                    out.extend(records)
            return out
        finally:
            await consumer.stop()

    return asyncio.run(go())
