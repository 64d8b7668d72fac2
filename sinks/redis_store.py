"""Redis as the lookup cache for enrichment: unit -> county as the catalogue says now.

Redis is a cache, never the authority: when it cannot answer, the lookup asks
ClickHouse's dimension table instead, so ingest goes on without Redis. A Redis
that came back empty (restarted without persistence, flushed, evicted) is told
apart from a unit the catalogue does not know by a sentinel field written with
every refill: without it the hash is not the catalogue, and the lookup refills
it from ClickHouse rather than storing calls under county "00".
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Sequence
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from core.settings import Settings
from sinks.clickhouse import ClickHouseStore

log = logging.getLogger("statflow.redis")

# A field no HSA id can be: present exactly when the hash holds a whole catalogue.
FILLED = "\x00filled"


class LookupCache:
    def __init__(self, settings: Settings, store: ClickHouseStore) -> None:
        self._redis = aioredis.from_url(
            settings.redis_url, socket_timeout=2, socket_connect_timeout=2
        )
        self._store = store
        self._key = f"statflow:{settings.clickhouse_database}:hsa:county"

    async def put_counties(self, changes: Sequence[tuple[str, str | None]]) -> None:
        """Apply (hsa_id, county or None for deleted) in order; later wins."""
        if not changes:
            return
        try:
            pipe = self._redis.pipeline(transaction=False)
            for hsa_id, county in changes:
                if county is None:
                    pipe.hdel(self._key, hsa_id)
                else:
                    pipe.hset(self._key, hsa_id, county)
            await pipe.execute()
        except (RedisError, OSError) as exc:
            # The dimension table already holds the change; the cache heals on refill.
            log.warning("redis update failed", extra={"error": str(exc)})

    def _catalogue(self) -> dict[str, str]:
        rows = self._store.query_rows(
            "SELECT hsa_id, county_code FROM hsa_units FINAL WHERE deleted = 0"
        )
        return {str(h): str(c) for h, c in rows}

    async def refill(self, catalogue: dict[str, str] | None = None) -> None:
        """Load the whole current catalogue (after a restart or a Redis outage).

        Built under a key of its own and renamed into place, so a concurrent
        lookup (another worker's, too) sees the old hash or the new one, never
        a half-filled one."""
        # redis-py's Mapping type is invariant in its key union: Any says "str keys"
        mapping: dict[Any, Any] = {
            **(self._catalogue() if catalogue is None else catalogue),
            FILLED: "1",
        }
        tmp = f"{self._key}:refill:{uuid.uuid4().hex}"
        try:
            pipe = self._redis.pipeline(transaction=True)
            pipe.hset(tmp, mapping=mapping)
            pipe.rename(tmp, self._key)
            await pipe.execute()
        except (RedisError, OSError) as exc:
            log.warning("redis refill failed", extra={"error": str(exc)})

    async def county_of(self, hsa_ids: Iterable[str]) -> dict[str, str]:
        keys = sorted(set(hsa_ids))
        if not keys:
            return {}
        try:
            *values, filled = await self._redis.hmget(self._key, [*keys, FILLED])
            if filled is not None:
                return {
                    k: v.decode() if isinstance(v, bytes) else str(v)
                    for k, v in zip(keys, values, strict=True)
                    if v is not None
                }
            log.warning("redis lookup cache is empty; refilling it from ClickHouse")
            catalogue = self._catalogue()
            await self.refill(catalogue)
            return {k: catalogue[k] for k in keys if k in catalogue}
        except (RedisError, OSError) as exc:
            log.warning("redis lookup failed, asking ClickHouse", extra={"error": str(exc)})
        rows = self._store.query_rows(
            "SELECT hsa_id, county_code FROM hsa_units FINAL "
            "WHERE deleted = 0 AND hsa_id IN {ids:Array(String)}",
            {"ids": keys},
        )
        return {str(h): str(c) for h, c in rows}

    async def ping(self) -> bool:
        try:
            return bool(await self._redis.ping())
        except (RedisError, OSError):
            return False

    async def close(self) -> None:
        await self._redis.aclose()
