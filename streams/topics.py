"""Every topic statflow reads, declared once: name, key, compaction, DLQ."""

from __future__ import annotations

from dataclasses import dataclass

from streams.settings import Settings


@dataclass(frozen=True)
class TopicSpec:
    name: str
    key_fields: tuple[str, ...]  # the message key is these fields joined by '/'
    compacted: bool = False

    def key_of(self, record: dict[str, object]) -> bytes:
        return "/".join(str(record[f]) for f in self.key_fields).encode("utf-8")

    def full(self, settings: Settings) -> str:
        return settings.topic_prefix + self.name

    def dlq(self, settings: Settings) -> str:
        return self.full(settings) + ".dlq"


NTJP_CALLS = TopicSpec("ntjp.calls.v1", ("logical_address",))
HSA_UNITS = TopicSpec("hsa.units.v1", ("hsa_id",), compacted=True)
NTJP_ROUTING = TopicSpec("ntjp.routing.v1", ("logical_address", "operation"), compacted=True)
SCB_POPULATION = TopicSpec("scb.population.v1", ("county_code", "year"), compacted=True)

SOB_TRANSACTIONS = TopicSpec("sob.transactions.v1", ("case_id",))
HSA_PERSONS = TopicSpec("hsa.persons.v1", ("hsa_id",), compacted=True)

ETJ_CASES = TopicSpec("etj.cases.v1", ("case_id",))
ETJ_LOGINS = TopicSpec("etj.logins.v1", ("account_id",))
ETJ_ACCOUNTS = TopicSpec("etj.accounts.v1", ("account_id",), compacted=True)
ETJ_UNITS = TopicSpec("etj.units.v1", ("unit_id",), compacted=True)

ALL_TOPICS: tuple[TopicSpec, ...] = (
    NTJP_CALLS,
    SOB_TRANSACTIONS,
    HSA_UNITS,
    HSA_PERSONS,
    NTJP_ROUTING,
    SCB_POPULATION,
    ETJ_CASES,
    ETJ_LOGINS,
    ETJ_ACCOUNTS,
    ETJ_UNITS,
)
BY_NAME: dict[str, TopicSpec] = {t.name: t for t in ALL_TOPICS}
