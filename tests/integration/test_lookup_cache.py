"""The Redis lookup cache on real Redis and chDB: a Redis that comes back
empty must be refilled from ClickHouse, not read as "no such unit"."""

from __future__ import annotations

import datetime as dt

import pytest
import redis

from core.settings import Settings
from sinks.clickhouse import ClickHouseStore
from sinks.redis_store import LookupCache
from tests import services as provided


@pytest.fixture
def store(migrated_store: ClickHouseStore) -> ClickHouseStore:
    migrated_store.insert_columns(
        "hsa_units",
        {
            "hsa_id": ["SE-U1", "SE-U2", "SE-GONE"],
            "name": ["a", "b", "c"],
            "kind": ["unit"] * 3,
            "care_provider_id": ["SE-CP"] * 3,
            "county_code": ["01", "14", "12"],
            "updated_at": [dt.datetime(2024, 1, 1, tzinfo=dt.UTC)] * 3,
            "deleted": [0, 0, 1],
            "version": [1, 1, 1],
        },
    )
    return migrated_store


async def test_an_emptied_redis_is_refilled_from_clickhouse(
    store: ClickHouseStore, services: provided.Services
) -> None:
    cache = LookupCache(Settings(redis_url=services.redis_url, clickhouse_database="c1"), store)
    try:
        await cache.refill()
        assert await cache.county_of(["SE-U1", "SE-U2", "SE-GONE", "SE-NONE"]) == {
            "SE-U1": "01",
            "SE-U2": "14",
        }
        # Redis restarted without persistence (as in compose: --save "")
        redis.Redis.from_url(services.redis_url).delete(cache._key)  # noqa: SLF001
        assert await cache.county_of(["SE-U2", "SE-NONE"]) == {"SE-U2": "14"}
        # and the cache is whole again: Redis answers alone
        raw = redis.Redis.from_url(services.redis_url)
        assert raw.hget(cache._key, "SE-U1") == b"01"  # noqa: SLF001
    finally:
        await cache.close()


async def test_a_known_catalogue_answers_unknown_units_without_clickhouse(
    store: ClickHouseStore, services: provided.Services
) -> None:
    cache = LookupCache(Settings(redis_url=services.redis_url, clickhouse_database="c2"), store)
    try:
        await cache.refill()
        store.close()  # a refill now would fail: the answer must come from Redis
        assert await cache.county_of(["SE-U1", "SE-NONE"]) == {"SE-U1": "01"}
    finally:
        await cache.close()
