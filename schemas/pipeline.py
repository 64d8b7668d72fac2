"""The shapes that pass between the Kafka loop, the pure batch functions and
sinks, and the one pure decoding step every event topic shares."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

from core import personnummer
from core.errors import ValidationError


class HasEventId(Protocol):
    @property
    def event_id(self) -> str: ...


R = TypeVar("R")
E = TypeVar("E", bound=HasEventId)


class Record(Protocol):
    """One Kafka record as the pipeline reads it: aiokafka's ConsumerRecord as
    it comes (no copy per message on the hot path), or a RawMessage."""

    @property
    def topic(self) -> str: ...
    @property
    def partition(self) -> int: ...
    @property
    def offset(self) -> int: ...
    @property
    def key(self) -> bytes | None: ...
    @property
    def value(self) -> bytes | None: ...


@dataclass(frozen=True, slots=True)
class RawMessage:
    """A record made here (a file's rows, a test), not read from Kafka."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None


@dataclass(frozen=True, slots=True)
class Rejected:
    message: Record
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
    accepted: list[tuple[Record, R]] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)
    duplicates: int = 0
    # the accepted events as the sink's Arrow table (pyarrow.Table), when
    # built in the decode stage (sinks/events.EventSink.prepare)
    table: Any = None


# Messages per call of a decoder's `batch`. A chunk with a poison message in it
# is decoded again one message at a time, so a poison message costs that to
# its chunk, not to its whole getmany of 20 000. And each call runs in C holding
# the GIL for about half a millisecond: the write thread (chDB), which needs the
# GIL back after each of its queries, gets it within Python's switch interval
# instead of after a whole getmany's 30 ms.
DECODE_CHUNK = 1000


def decode_events(
    topic: str,
    partition: int,
    messages: Sequence[Record],
    decode: Callable[[bytes | None], E],
) -> Decoded[E]:
    """Validate one partition's messages; keep the first of repeated event ids.

    A decoder with a `batch` method (schemas.events.Decoder) decodes a chunk
    of DECODE_CHUNK messages, every one valid, in one go; a chunk with a
    poison message in it is decoded again one message at a time, so that each reject carries
    the reason `decode` gives it, as before."""
    out: Decoded[E] = Decoded(topic, partition, messages[-1].offset + 1, messages[0].offset)
    batch: Callable[[list[bytes | None]], list[E] | None] | None = getattr(decode, "batch", None)
    pairs: list[tuple[Record, E]] = []
    for i in range(0, len(messages), DECODE_CHUNK):
        chunk = messages[i : i + DECODE_CHUNK]
        events = batch([m.value for m in chunk]) if batch is not None else None
        if events is not None and len(events) == len(chunk):
            pairs += zip(chunk, events, strict=True)
        else:
            pairs += _one_by_one(chunk, decode, out.rejected)
    event_ids = [e.event_id for _, e in pairs]
    if len(set(event_ids)) == len(event_ids):  # the common case: no id twice in the batch
        out.accepted = pairs
        return out
    seen: set[str] = set()
    for msg, event in pairs:
        if event.event_id in seen:
            out.duplicates += 1
            continue
        seen.add(event.event_id)
        out.accepted.append((msg, event))
    return out


def _one_by_one(
    messages: Sequence[Record], decode: Callable[[bytes | None], E], rejected: list[Rejected]
) -> list[tuple[Record, E]]:
    """The messages `decode` accepts, each decoded alone; the others are added
    to `rejected` with the reason `decode` gives."""
    out = []
    for msg in messages:
        try:
            event = decode(msg.value)
        except ValidationError as exc:
            rejected.append(Rejected(msg, str(exc)))
            continue
        except Exception as exc:  # noqa: BLE001 - one poison message must not stop a partition
            rejected.append(Rejected(msg, f"undecodable message ({type(exc).__name__})"))
            continue
        out.append((msg, event))
    return out
