"""Declare the topics on the broker: partitions, compaction, dead-letter topics."""

from __future__ import annotations

import contextlib

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from core.errors import ConfigError
from core.settings import Settings
from schemas.topics import ALL_TOPICS


def dlq_config(settings: Settings) -> dict[str, str]:
    """A dead-letter topic's configuration. It keeps the original bytes of every
    rejected message (the contract says so: a producer fixes its bug and resends
    them), personal data included, so it keeps them for a bounded time of its own
    and is never compacted, whatever the broker's defaults are."""
    if settings.dlq_retention_hours < 1:
        raise ConfigError(
            "STATFLOW_DLQ_RETENTION_HOURS must be at least 1 (dead letters hold personal "
            "data: they are kept for a bounded time)"
        )
    return {
        "max.message.bytes": str(8 * 1024 * 1024),
        "cleanup.policy": "delete",
        "retention.ms": str(settings.dlq_retention_hours * 3600 * 1000),
    }


async def ensure_topics(settings: Settings) -> list[str]:
    """Create what is missing; return the names created now."""
    wanted: dict[str, NewTopic] = {}
    for spec in ALL_TOPICS:
        config = {"cleanup.policy": "compact"} if spec.compacted else {}
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
