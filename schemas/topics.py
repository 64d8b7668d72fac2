"""Every topic statflow reads, declared once: name, key, compaction, DLQ and
its contract's decoder (DECODERS and CONTRACT_TYPES are derived from these)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import msgspec

from core.settings import Settings
from schemas import etj, events
from schemas.events import Decoder


@dataclass(frozen=True)
class TopicSpec:
    name: str
    key_fields: tuple[str, ...]  # the message key is these fields joined by '/'
    compacted: bool = False
    # topic contract: max message bytes -> decoder (schemas/events.py, etj.py)
    decoder: Callable[[int], Decoder[Any]] = field(kw_only=True, compare=False, repr=False)

    def key_of(self, record: dict[str, object]) -> bytes:
        return "/".join(str(record[f]) for f in self.key_fields).encode("utf-8")

    def full(self, settings: Settings) -> str:
        return settings.topic_prefix + self.name

    def dlq(self, settings: Settings) -> str:
        return self.full(settings) + ".dlq"


NTJP_CALLS = TopicSpec("ntjp.calls.v1", ("logical_address",), decoder=events.call_decoder)
HSA_UNITS = TopicSpec("hsa.units.v1", ("hsa_id",), compacted=True, decoder=events.unit_decoder)
NTJP_ROUTING = TopicSpec(
    "ntjp.routing.v1",
    ("logical_address", "operation"),
    compacted=True,
    decoder=events.routing_decoder,
)
SCB_POPULATION = TopicSpec(
    "scb.population.v1", ("county_code", "year"), compacted=True, decoder=events.population_decoder
)

SOB_TRANSACTIONS = TopicSpec("sob.transactions.v1", ("case_id",), decoder=events.sob_decoder)
HSA_PERSONS = TopicSpec(
    "hsa.persons.v1", ("hsa_id",), compacted=True, decoder=events.person_decoder
)

ETJ_CASES = TopicSpec("etj.cases.v1", ("case_id",), decoder=etj.case_decoder)
ETJ_LOGINS = TopicSpec("etj.logins.v1", ("account_id",), decoder=etj.login_decoder)
ETJ_ACCOUNTS = TopicSpec(
    "etj.accounts.v1", ("account_id",), compacted=True, decoder=etj.account_decoder
)
ETJ_UNITS = TopicSpec("etj.units.v1", ("unit_id",), compacted=True, decoder=etj.etj_unit_decoder)

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

# topic name -> decoder factory / contract type, read from the declarations above
DECODERS: dict[str, Callable[[int], Decoder[Any]]] = {t.name: t.decoder for t in ALL_TOPICS}
CONTRACT_TYPES: dict[str, type[msgspec.Struct]] = {t.name: t.decoder(1).kind for t in ALL_TOPICS}
