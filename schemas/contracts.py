"""Every topic's contract, declared once: topic name -> decoder factory and type."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import msgspec

from schemas import etj, events
from schemas.events import Decoder

DECODERS: dict[str, Callable[[int], Decoder[Any]]] = {
    "ntjp.calls.v1": events.call_decoder,
    "sob.transactions.v1": events.sob_decoder,
    "hsa.units.v1": events.unit_decoder,
    "hsa.persons.v1": events.person_decoder,
    "ntjp.routing.v1": events.routing_decoder,
    "scb.population.v1": events.population_decoder,
    "etj.cases.v1": etj.case_decoder,
    "etj.logins.v1": etj.login_decoder,
    "etj.accounts.v1": etj.account_decoder,
    "etj.units.v1": etj.etj_unit_decoder,
}
CONTRACT_TYPES: dict[str, type[msgspec.Struct]] = {
    topic: make(1).kind for topic, make in DECODERS.items()
}
