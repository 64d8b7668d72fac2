"""Fencing: one writer per topic partition, decided in ClickHouse.

Kafka moves a partition to another worker when its owner misses heartbeats
for the session timeout, e.g. while the owner is stopped (SIGSTOP, a frozen
VM). The old owner does not know it lost the partition until it runs again,
and it may then be in the middle of a write. Its late write must not land
beside the new owner's: the rows would be counted twice (the new owner's
seen-id lookup ran before the late rows arrived), and its checkpoint would
describe rows it no longer owns.

Every assignment claims the partition's epoch in ClickHouse before it reads
the checkpoint (`Fence.claim`, rows of the `leases` table named
`checkpoint/<topic>/<partition>`). Epochs only grow: the next one is above
every epoch claimed so far and above the server's clock in milliseconds, so
rows the table's TTL removed cannot let an epoch be claimed twice. A claim is
inserted under the deduplication token `lease/<name>/<epoch>`; of two claims
of one epoch one lands and the other claims again.

A worker's write is admitted only while no newer epoch than its own has been
claimed for any of the write's partitions (`refusals`, pure):
- the rows: checked after the seen-id lookup and the columns are built, right
  before the first block is inserted, and again before each further month
  block once the last check is older than FRESH seconds (a stall long enough
  for a takeover is far longer: the monotonic clock keeps running while a
  process is stopped);
- the checkpoint: checked before unless the write's last check is fresher
  than FRESH, and inserted by a check-and-set in the server (`CHECKPOINT`:
  the row is inserted only where its epoch is still the newest), so a claim
  landing between the check and the insert still wins.

A refusal is logged (`write refused: partition fenced`) and counted
(`statflow_fenced_writes_total`), and raises PartitionFenced: the loop drops
the partitions until Kafka assigns them again (a stopped worker that runs
again finds itself out of the group and rejoins, which rebalances every
member: each owner then claims afresh). What no check can close is a
process frozen after its last check and before its insert reaches the server
(ClickHouse has no transaction spanning a read and an insert): that is at
most one block of one write, in a window of one round trip.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from core import metrics
from core.errors import PartitionFenced, SinkError
from sinks.clickhouse import ClickHouseStore
from sinks.leases import INSERT

log = logging.getLogger("statflow.fencing")

FRESH = 0.5  # seconds a passed check covers the next block of the same write
CLAIM_TRIES = 20


def fence_prefix(topic: str) -> str:
    return f"checkpoint/{topic}/"


def fence_name(topic: str, partition: int) -> str:
    return f"{fence_prefix(topic)}{partition}"


def next_epoch(top: int, now_ms: int) -> int:
    """The epoch a new claim takes, pure: above every epoch claimed so far and
    above the server's clock, so it grows even after old rows expired."""
    return max(top + 1, now_ms)


@dataclass(frozen=True)
class Refusal:
    partition: int
    epoch: int  # the one this worker claimed (0: never claimed here)
    current: int  # the newest claimed, by another worker


def refusals(mine: Mapping[int, int], current: Mapping[int, int]) -> list[Refusal]:
    """The partitions a write may not touch, pure: those where a newer epoch
    than this worker's has been claimed. A partition nobody claimed (rows of
    a store older than fencing) is not refused."""
    return [Refusal(p, e, current[p]) for p, e in sorted(mine.items()) if current.get(p, 0) > e]


TOP = (
    "SELECT max(epoch), toUnixTimestamp64Milli(now64(3)) FROM leases "
    "WHERE name = {n:String} AND kind = 'claim'"
)
WINNER = (
    "SELECT holder FROM leases WHERE name = {n:String} AND epoch = {e:UInt64} "
    "AND kind = 'claim' ORDER BY at, holder LIMIT 1"
)
TOPS = (
    "SELECT name, max(epoch) FROM leases WHERE name IN {n:Array(String)} "
    "AND kind = 'claim' GROUP BY name"
)
# The check-and-set: a partition's checkpoint row is inserted only if no newer
# epoch than the writer's has been claimed (a missing claim joins as 0).
CHECKPOINT = (
    "INSERT INTO ingest_checkpoints (topic, partition, next_offset) "
    "SELECT {t:String}, w.p, w.o FROM ("
    "SELECT tupleElement(c, 1) AS p, tupleElement(c, 2) AS o, tupleElement(c, 3) AS e, "
    "concat({prefix:String}, toString(tupleElement(c, 1))) AS name FROM ("
    "SELECT arrayJoin(arrayZip({ps:Array(Int32)}, {os:Array(Int64)}, {es:Array(UInt64)})) AS c)"
    ") AS w LEFT JOIN ("
    "SELECT name, max(epoch) AS top FROM leases WHERE name IN {names:Array(String)} "
    "AND kind = 'claim' GROUP BY name) AS l ON w.name = l.name "
    "WHERE w.e >= l.top"
)


class Fence:
    """One worker loop's claims on its topic's partitions. The epochs are
    this worker's own tickets; which one counts is decided by the rows in
    ClickHouse, which every process reads alike."""

    def __init__(self, store: ClickHouseStore, topic: str, holder: str) -> None:
        self.store, self.topic, self.holder = store, topic, holder
        self.epochs: dict[int, int] = {}
        self._checked = float("-inf")  # monotonic time of the last check passed

    def claim(self, partition: int) -> int:
        """Claim the partition's next epoch (on assignment, before reading its
        checkpoint); every earlier claimer's writes are refused from now."""
        name = fence_name(self.topic, partition)
        for _ in range(CLAIM_TRIES):
            top, now_ms = self.store.query_rows(TOP, {"n": name})[0]
            epoch = next_epoch(int(top), int(now_ms))
            self.store.command(
                INSERT,
                {"n": name, "e": epoch, "k": "claim", "h": self.holder, "ttl": 0},
                {"insert_deduplicate": 1, "insert_deduplication_token": f"lease/{name}/{epoch}"},
            )
            won = self.store.query_rows(WINNER, {"n": name, "e": epoch})
            if won and won[0][0] == self.holder:
                self.epochs[partition] = epoch
                log.info(
                    "partition claimed",
                    extra={"topic": self.topic, "partition": partition, "epoch": epoch},
                )
                return epoch
            # another claim of the same epoch landed first: claim the next one
        raise SinkError(f"could not claim {name}: other claims kept landing first; retrying")

    def current(self, partitions: Sequence[int]) -> dict[int, int]:
        """The newest epoch claimed per partition, as ClickHouse has it now."""
        names = {fence_name(self.topic, p): p for p in partitions}
        rows = self.store.query_rows(TOPS, {"n": sorted(names)})
        return {names[str(n)]: int(e) for n, e in rows}

    def check(self, partitions: Sequence[int], stage: str, stale_only: bool = False) -> None:
        """Raise PartitionFenced (after logging each refusal) if another
        worker claimed any of `partitions` after this one did. With
        `stale_only`, a check passed less than FRESH seconds ago stands."""
        if stale_only and time.monotonic() - self._checked < FRESH:
            return
        started = time.monotonic()
        mine = {p: self.epochs.get(p, 0) for p in partitions}
        refused = refusals(mine, self.current(sorted(mine)))
        if not refused:
            self._checked = started
            return
        self._checked = float("-inf")  # once refused, no earlier pass stands
        for r in refused:
            log.warning(
                "write refused: partition fenced",
                extra={
                    "topic": self.topic,
                    "partition": r.partition,
                    "epoch": r.epoch,
                    "current": r.current,
                    "stage": stage,
                },
            )
            metrics.inc("statflow_fenced_writes_total", topic=self.topic, stage=stage)
        raise PartitionFenced(self.topic, tuple(r.partition for r in refused))

    def checkpoint(self, topic: str, next_offsets: Mapping[int, int]) -> None:
        """Write the checkpoints of one write as a check-and-set on each
        partition's epoch (`CHECKPOINT`); refused, and raising
        PartitionFenced, where another worker claimed a partition since."""
        parts = sorted(next_offsets)
        # The rows' check of the same write usually passed well within FRESH:
        # a takeover since then is what the check-and-set below refuses.
        self.check(parts, "checkpoint", stale_only=True)
        self.store.command(
            CHECKPOINT,
            {
                "t": topic,
                "prefix": fence_prefix(topic),
                "ps": parts,
                "os": [next_offsets[p] for p in parts],
                "es": [self.epochs.get(p, 0) for p in parts],
                "names": [fence_name(topic, p) for p in parts],
            },
        )
