"""Every topic statflow reads, declared once: name, key, compaction, DLQ and
its contract's decoder (DECODERS and CONTRACT_TYPES are derived from these)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import msgspec

from core.errors import ConfigError
from core.settings import Settings
from schemas import etj, events, extensions
from schemas.events import Decoder


@dataclass(frozen=True)
class TopicSpec:
    name: str
    key_fields: tuple[str, ...]  # the message key is these fields joined by '/'
    compacted: bool = False
    # topic contract: max message bytes -> decoder (schemas/events.py, etj.py)
    decoder: Callable[[int], Decoder[Any]] = field(kw_only=True, compare=False, repr=False)
    # one valid message, beside the contract it obeys (the AsyncAPI document shows it)
    example: Mapping[str, object] = field(kw_only=True, compare=False, repr=False)

    def key_of(self, record: Mapping[str, object]) -> bytes:
        return "/".join(str(record[f]) for f in self.key_fields).encode("utf-8")

    def full(self, settings: Settings) -> str:
        return settings.topic_prefix + self.name

    def dlq(self, settings: Settings) -> str:
        return self.full(settings) + ".dlq"


NTJP_CALLS = TopicSpec(
    "ntjp.calls.v1", ("logical_address",), decoder=events.call_decoder, example=events.CALL_EXAMPLE
)
HSA_UNITS = TopicSpec(
    "hsa.units.v1",
    ("hsa_id",),
    compacted=True,
    decoder=events.unit_decoder,
    example=events.UNIT_EXAMPLE,
)
NTJP_ROUTING = TopicSpec(
    "ntjp.routing.v1",
    ("logical_address", "operation"),
    compacted=True,
    decoder=events.routing_decoder,
    example=events.ROUTING_EXAMPLE,
)
SCB_POPULATION = TopicSpec(
    "scb.population.v1",
    ("county_code", "year"),
    compacted=True,
    decoder=events.population_decoder,
    example=events.POPULATION_EXAMPLE,
)

SOB_TRANSACTIONS = TopicSpec(
    "sob.transactions.v1", ("case_id",), decoder=events.sob_decoder, example=events.SOB_EXAMPLE
)
HSA_PERSONS = TopicSpec(
    "hsa.persons.v1",
    ("hsa_id",),
    compacted=True,
    decoder=events.person_decoder,
    example=events.PERSON_EXAMPLE,
)

ETJ_CASES = TopicSpec(
    "etj.cases.v1", ("case_id",), decoder=etj.case_decoder, example=etj.CASE_EXAMPLE
)
ETJ_LOGINS = TopicSpec(
    "etj.logins.v1", ("account_id",), decoder=etj.login_decoder, example=etj.LOGIN_EXAMPLE
)
ETJ_ACCOUNTS = TopicSpec(
    "etj.accounts.v1",
    ("account_id",),
    compacted=True,
    decoder=etj.account_decoder,
    example=etj.ACCOUNT_EXAMPLE,
)
ETJ_UNITS = TopicSpec(
    "etj.units.v1",
    ("unit_id",),
    compacted=True,
    decoder=etj.etj_unit_decoder,
    example=etj.ETJ_UNIT_EXAMPLE,
)

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
EXAMPLES: dict[str, Mapping[str, object]] = {t.name: t.example for t in ALL_TOPICS}


def topic_config(spec: TopicSpec) -> dict[str, str]:
    """A topic's configuration as statflow creates it (streams/admin.py) and
    documents it (schemas/asyncapi.py): reference topics are compacted (the
    latest record per key is the truth), event topics keep the broker's policy."""
    return {"cleanup.policy": "compact"} if spec.compacted else {}


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


# The headers statflow sets on every message it sends to `<topic>.dlq`
# (streams/ingest.dlq_headers): name -> what it holds.
DLQ_HEADERS: dict[str, str] = {
    "error": "why the message was rejected: the contract field and rule it broke",
    "source-topic": "the topic the message was read from",
    "source-partition": "its partition there (decimal)",
    "source-offset": "its offset there (decimal)",
}


def extensions_of(settings: Settings) -> tuple[extensions.Extension, ...]:
    """The deployment's contract extensions (STATFLOW_CONTRACT_EXTENSIONS), checked."""
    return extensions.parse(settings.contract_extensions, CONTRACT_TYPES)


def decoder_for(spec: TopicSpec, settings: Settings) -> Decoder[Any]:
    """The topic's contract as this deployment enforces it: the released one,
    with the enum values the operator added (schemas/extensions.py)."""
    decoder = spec.decoder(settings.max_message_bytes)
    extra = extensions.for_topic(extensions_of(settings), spec.name)
    return decoder.with_kind(extensions.extend(decoder.kind, extra)) if extra else decoder


def contract_version(spec: TopicSpec, settings: Settings) -> str:
    """`<topic>@<fingerprint>` of the contract as enforced: it changes with a
    release that changes the schema and with an extension, and names what a
    dead letter was replayed against."""
    return f"{spec.name}@{extensions.fingerprint(decoder_for(spec, settings).kind)}"
