"""The long-lived resources one statflow process shares: built once at start."""

from __future__ import annotations

from dataclasses import dataclass, field

from core.settings import Settings
from sinks.clickhouse import ClickHouseStore
from sinks.leases import holder_id
from sinks.migrate import migrate
from sinks.redis_store import LookupCache


@dataclass
class Context:
    settings: Settings
    store: ClickHouseStore
    cache: LookupCache
    # this process in heartbeats and leases (host, pid, a random part)
    worker_id: str = field(default_factory=lambda: holder_id("worker"))

    @classmethod
    def open(cls, settings: Settings) -> Context:
        store = ClickHouseStore(settings)
        migrate(store)
        return cls(settings, store, LookupCache(settings, store))
