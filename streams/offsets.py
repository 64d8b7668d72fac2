"""The broker's end offsets of the event topics, for the live view's lag.

Read by whichever process serves the view (`statflow api` has no consumer of
its own): a short-lived consumer without a group asks the broker, so the
figure is the broker's, not a worker's memory. Kafka not answering gives no
figures (the view shows the lag as unknown), never an error.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence

from aiokafka import AIOKafkaConsumer, TopicPartition

from core.settings import Settings

log = logging.getLogger("statflow.offsets")


async def end_offsets(settings: Settings, topics: Sequence[str],
                      timeout: float = 5.0) -> dict[tuple[str, int], int] | None:  # fmt: skip
    """(topic, partition) -> end offset; None when the broker does not answer."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap, group_id=None, enable_auto_commit=False,
        request_timeout_ms=int(timeout * 1000),
    )  # fmt: skip
    try:
        await asyncio.wait_for(consumer.start(), timeout)
        await asyncio.wait_for(consumer._client.force_metadata_update(), timeout)  # noqa: SLF001
        tps = [
            TopicPartition(t, p)
            for t in topics
            for p in sorted(consumer.partitions_for_topic(t) or ())
        ]
        if not tps:
            return {}
        ends = await asyncio.wait_for(consumer.end_offsets(tps), timeout)
        return {(tp.topic, tp.partition): int(o) for tp, o in ends.items()}
    except Exception as exc:  # noqa: BLE001 - the view shows "unknown", the API stays up
        log.warning("end offsets unavailable", extra={"error": type(exc).__name__})
        return None
    finally:
        with contextlib.suppress(Exception):
            await consumer.stop()
