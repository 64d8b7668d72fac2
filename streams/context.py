"""The long-lived resources one statflow process shares: built once at start."""

from __future__ import annotations

from dataclasses import dataclass

from core.settings import Settings
from sinks.clickhouse import ClickHouseStore
from sinks.migrate import migrate
from sinks.redis_store import LookupCache


@dataclass
class Context:
    settings: Settings
    store: ClickHouseStore
    cache: LookupCache

    @classmethod
    def open(cls, settings: Settings) -> Context:
        store = ClickHouseStore(settings)
        migrate(store)
        return cls(settings, store, LookupCache(settings, store))
