"""Leases in ClickHouse: one holder per name at a time, across processes.

A lease (table `leases`, migration 0022) is named, e.g. `backfill/<topic>` or
`reconcile`, and has a holder, an epoch and an expiry. No process memory and
no in-process lock takes part: `statflow api`, any number of `statflow
worker` and a `statflow reconcile` see the same rows.

Why acquiring is safe with several processes against one server (or chDB):
a claim of epoch N+1 is inserted under the deduplication token
`lease/<name>/<N+1>`; ClickHouse keeps one block per token (atomically, per
table on a single server and through Keeper on replicas), so when two
processes race for the same epoch exactly one claim row lands and the other
insert is dropped. Both then read the lease back and see the same holder; the
loser gives up. A claim that lands without its twin (a token out of the
deduplication window after a very long stall) is ordered by its server-side
time: the first claim of an epoch wins (`decide`), so a late claim never
displaces a holder. Times are the server's (`now64()`), never a process's
clock. A holder renews before expiry; a holder that stops renewing (killed,
stopped) loses the lease at expiry and the next claim takes epoch N+2.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from core.errors import StatflowError
from sinks.clickhouse import ClickHouseStore

log = logging.getLogger("statflow.leases")


class LeaseBusy(StatflowError):
    """Another process holds the lease; try again when it is done."""


@dataclass(frozen=True)
class LeaseRow:
    epoch: int
    kind: str  # claim | renew | release
    holder: str
    at: dt.datetime
    expires_at: dt.datetime


@dataclass(frozen=True)
class LeaseState:
    holder: str  # '' = never claimed
    epoch: int
    expires_at: dt.datetime | None
    released: bool

    def held(self, now: dt.datetime) -> bool:
        """Someone holds it at `now` (the server's time)."""
        return (
            bool(self.holder)
            and not self.released
            and self.expires_at is not None
            and (self.expires_at > now)
        )

    def held_by(self, holder: str, now: dt.datetime) -> bool:
        return self.held(now) and self.holder == holder


FREE = LeaseState("", 0, None, True)


def decide(rows: Sequence[LeaseRow]) -> LeaseState:
    """The lease as the rows say, pure. The highest epoch claimed is current;
    among its claims (one, unless a deduplication token fell out of the
    window) the first by server time, then holder, wins. Only the winner's
    renewals and release count: a fenced holder's renewal changes nothing."""
    claims = [r for r in rows if r.kind == "claim"]
    if not claims:
        return FREE
    top = max(r.epoch for r in claims)
    winner = min((r for r in claims if r.epoch == top), key=lambda r: (r.at, r.holder))
    mine = [r for r in rows if r.epoch == top and r.holder == winner.holder]
    expires = max(r.expires_at for r in mine if r.kind != "release")
    released = any(r.kind == "release" for r in mine)
    return LeaseState(winner.holder, top, expires, released)


def may_claim(state: LeaseState, holder: str, now: dt.datetime) -> bool:
    """A claim is worth inserting when nobody else holds the lease."""
    return not state.held(now) or state.holder == holder


ROWS = (
    "SELECT epoch, toString(kind), holder, at, expires_at FROM leases "
    "WHERE name = {n:String} AND epoch = (SELECT max(epoch) FROM leases "
    "WHERE name = {n:String} AND kind = 'claim')"
)
# the rows of each named lease's newest claimed epoch, for many names at once
ROWS_OF = (
    "SELECT name, epoch, toString(kind), holder, at, expires_at FROM leases "
    "WHERE name IN {ns:Array(String)} AND (name, epoch) IN (SELECT name, max(epoch) "
    "FROM leases WHERE name IN {ns:Array(String)} AND kind = 'claim' GROUP BY name)"
)
INSERT = (
    "INSERT INTO leases (name, epoch, kind, holder, at, expires_at) "
    "SELECT {n:String}, {e:UInt64}, {k:String}, {h:String}, now64(3), "
    "now64(3) + toIntervalMillisecond({ttl:UInt32})"
)


class Leases:
    """Claim, renew and release leases in the store's `leases` table."""

    def __init__(self, store: ClickHouseStore) -> None:
        self._store = store

    def now(self) -> dt.datetime:
        return _utc(self._store.query_rows("SELECT now64(3)")[0][0])

    def state(self, name: str) -> tuple[LeaseState, dt.datetime]:
        """The lease and the server's time it was read at."""
        rows = [
            LeaseRow(int(e), str(k), str(h), _utc(a), _utc(x))
            for e, k, h, a, x in self._store.query_rows(ROWS, {"n": name})
        ]
        return decide(rows), self.now()

    def states(self, names: Sequence[str]) -> tuple[dict[str, LeaseState], dt.datetime]:
        """Several leases at once (one query), and the server's time."""
        rows: dict[str, list[LeaseRow]] = {n: [] for n in names}
        if names:
            for n, e, k, h, a, x in self._store.query_rows(ROWS_OF, {"ns": list(names)}):
                rows.setdefault(str(n), []).append(
                    LeaseRow(int(e), str(k), str(h), _utc(a), _utc(x))
                )
        return {n: decide(r) for n, r in rows.items()}, self.now()

    def _insert(
        self, name: str, epoch: int, kind: str, holder: str, ttl: float, token: str
    ) -> None:
        self._store.command(
            INSERT,
            {"n": name, "e": epoch, "k": kind, "h": holder, "ttl": int(ttl * 1000)},
            {"insert_deduplicate": 1, "insert_deduplication_token": token},
        )

    def acquire(self, name: str, holder: str, ttl: float) -> LeaseState | None:
        """The lease if `holder` got it (or already held it), else None."""
        state, now = self.state(name)
        if state.held_by(holder, now):
            return state
        if not may_claim(state, holder, now):
            return None
        epoch = state.epoch + 1
        self._insert(name, epoch, "claim", holder, ttl, f"lease/{name}/{epoch}")
        state, now = self.state(name)
        if state.held_by(holder, now) and state.epoch == epoch:
            log.info("lease acquired", extra={"lease": name, "epoch": epoch})
            return state
        return None

    def renew(self, name: str, holder: str, epoch: int, ttl: float) -> bool:
        """Move the expiry on; False when the lease is no longer ours."""
        state, now = self.state(name)
        if not (state.held_by(holder, now) and state.epoch == epoch):
            return False
        self._insert(
            name, epoch, "renew", holder, ttl, f"lease/{name}/{epoch}/renew/{time.time_ns()}"
        )
        return True

    def release(self, name: str, holder: str, epoch: int) -> None:
        self._insert(name, epoch, "release", holder, 0, f"lease/{name}/{epoch}/release")

    def wait(self, name: str, holder: str, ttl: float, timeout: float,
             poll: float = 0.5) -> LeaseState:  # fmt: skip
        """Acquire, waiting up to `timeout` seconds for another holder."""
        deadline = time.monotonic() + timeout
        while True:
            got = self.acquire(name, holder, ttl)
            if got is not None:
                return got
            if time.monotonic() >= deadline:
                raise LeaseBusy(f"{name} is held by another process; try again when it is done")
            time.sleep(poll)

    @contextmanager
    def held(self, name: str, holder: str, ttl: float, timeout: float) -> Iterator[LeaseState]:
        """Hold the lease for a block, renewed every ttl/4 by a thread while it
        runs; released after, even on an error."""
        state = self.wait(name, holder, ttl, timeout)
        done = threading.Event()

        def renew() -> None:
            while not done.wait(ttl / 4):
                try:
                    if not self.renew(name, holder, state.epoch, ttl):
                        log.warning("lease lost", extra={"lease": name})
                        return
                except Exception:  # noqa: BLE001 - ClickHouse away: try again next round
                    log.warning("lease renewal failed", extra={"lease": name})

        renewer = threading.Thread(target=renew, name=f"lease {name}", daemon=True)
        renewer.start()
        try:
            yield state
        finally:
            done.set()
            renewer.join()
            self.release(name, holder, state.epoch)


def _utc(t: dt.datetime) -> dt.datetime:
    return t.replace(tzinfo=dt.UTC) if t.tzinfo is None else t.astimezone(dt.UTC)


def holder_id(role: str) -> str:
    """A holder name unique to this process (host, pid, a random part)."""
    import os
    import socket
    import uuid

    return f"{role}@{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
