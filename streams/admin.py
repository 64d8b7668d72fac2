"""Declare the topics on the broker: partitions, compaction, dead-letter topics."""

from __future__ import annotations

import contextlib

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from core.settings import Settings
from schemas.topics import ALL_TOPICS, dlq_config, topic_config

__all__ = ["dlq_config", "ensure_topics"]


async def ensure_topics(settings: Settings) -> list[str]:
    """Create what is missing; return the names created now."""
    wanted: dict[str, NewTopic] = {}
    for spec in ALL_TOPICS:
        config = topic_config(spec)
        wanted[spec.full(settings)] = NewTopic(
            spec.full(settings), settings.topic_partitions, 1, topic_configs=config
        )
        wanted[spec.dlq(settings)] = NewTopic(
            spec.dlq(settings), 1, 1, topic_configs=dlq_config(settings)
        )
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [t for name, t in wanted.items() if name not in existing]
        if missing:
            # another process may win the race; the outcome is the same
            with contextlib.suppress(TopicAlreadyExistsError):
                await admin.create_topics(missing)
        return [t.name for t in missing]
    finally:
        await admin.close()
