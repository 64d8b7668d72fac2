"""The shapes that pass between the Kafka loop, the pure batch functions and sinks."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Generic, TypeVar

R = TypeVar("R")


@dataclass(frozen=True, slots=True)
class RawMessage:
    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None


@dataclass(frozen=True, slots=True)
class Rejected:
    message: RawMessage
    reason: str


@dataclass
class Decoded(Generic[R]):
    """What a pure batch function makes of one partition's messages."""

    topic: str
    partition: int
    next_offset: int  # the offset after the last message of the batch
    accepted: list[tuple[RawMessage, R]] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)
    duplicates: int = 0
