"""Redis as the lookup cache for enrichment: unit -> county as the catalogue says now.

Redis is a cache, never the authority: when it cannot answer, the lookup asks
ClickHouse's dimension table instead, so ingest goes on without Redis.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from sinks.clickhouse import ClickHouseStore
from streams.settings import Settings

log = logging.getLogger("statflow.redis")


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

    async def refill(self) -> None:
        """Load the whole current catalogue (after a restart or a Redis outage)."""
        rows = self._store.query_rows(
            "SELECT hsa_id, county_code FROM hsa_units FINAL WHERE deleted = 0"
        )
        try:
            await self._redis.delete(self._key)
            if rows:
                await self._redis.hset(self._key, mapping={h: c for h, c in rows})
        except (RedisError, OSError) as exc:
            log.warning("redis refill failed", extra={"error": str(exc)})

    async def county_of(self, hsa_ids: Iterable[str]) -> dict[str, str]:
        keys = sorted(set(hsa_ids))
        if not keys:
            return {}
        try:
            values = await self._redis.hmget(self._key, keys)
            return {
                k: v.decode() if isinstance(v, bytes) else str(v)
                for k, v in zip(keys, values, strict=True)
                if v is not None
            }
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
