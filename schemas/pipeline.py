"""The shapes that pass between the Kafka loop, the pure batch functions and
sinks, and the one pure decoding step every event topic shares."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Generic, Protocol, TypeVar

from core import personnummer
from core.errors import ValidationError


class HasEventId(Protocol):
    @property
    def event_id(self) -> str: ...


R = TypeVar("R")
E = TypeVar("E", bound=HasEventId)


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

    def __post_init__(self) -> None:
        # The one door every reason passes on its way to a DLQ header, the
        # dead_letters table and the operations view: whatever produced it, no
        # personal identity number goes through, in any written form.
        object.__setattr__(self, "reason", personnummer.redact(self.reason))


@dataclass
class Decoded(Generic[R]):
    """What a pure batch function makes of one partition's messages."""

    topic: str
    partition: int
    next_offset: int  # the offset after the last message of the batch
    # Where this batch began: the partition's checkpoint when it was read.
    # Derived writes carry it in their deduplication token, so a repair after a
    # crash can name the same batch again without knowing its messages.
    start_offset: int = -1
    accepted: list[tuple[RawMessage, R]] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)
    duplicates: int = 0


def decode_events(
    topic: str,
    partition: int,
    messages: Sequence[RawMessage],
    decode: Callable[[bytes | None], E],
) -> Decoded[E]:
    """Validate one partition's messages; keep the first of repeated event ids."""
    out: Decoded[E] = Decoded(topic, partition, messages[-1].offset + 1, messages[0].offset)
    ids: set[str] = set()
    for msg in messages:
        try:
            event = decode(msg.value)
        except ValidationError as exc:
            out.rejected.append(Rejected(msg, str(exc)))
            continue
        except Exception as exc:  # noqa: BLE001 - one poison message must not stop a partition
            out.rejected.append(Rejected(msg, f"undecodable message ({type(exc).__name__})"))
            continue
        if event.event_id in ids:
            out.duplicates += 1
            continue
        ids.add(event.event_id)
        out.accepted.append((msg, event))
    return out
