"""A row per rejected message (topic, partition, offset, reason) for the
operations view, browsing and replay; the message itself goes to the DLQ topic,
never here. Replays are recorded beside it (dead_letter_replays, one row per
message, outcome and contract version; dead_letter_replay_runs, one per run)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol

from core import personnummer
from schemas.dead_letters import OTHER_CLASS, REASON_CLASSES, Page, Selection
from schemas.pipeline import Decoded, Rejected
from sinks.clickhouse import ClickHouseStore


class Reader(Protocol):
    """What reading needs of a store (reports.reader.Reader has the same shape)."""

    def query_rows(
        self,
        sql: str,
        parameters: Mapping[str, Any] | None = None,
        settings: Mapping[str, Any] | None = None,
    ) -> list[tuple[Any, ...]]: ...


def batch_token(batch: Decoded[object]) -> str:
    """The deduplication token of a batch's dead-letter rows.

    It names the batch's end as well as its start: a batch read again after a
    crash starts at the same checkpoint but may end elsewhere, and a token of
    the start alone made ClickHouse drop the re-read batch's insert, losing
    its new rejects (1,056 of 1,069 in a fault run)."""
    return f"dlq|{batch.topic}|{batch.partition}|{batch.start_offset}-{batch.next_offset}"


def record(store: ClickHouseStore, rejected: Sequence[Rejected], token: str | None = None) -> None:
    """Insert the reasons; `token` makes a replayed batch's insert a no-op."""
    if not rejected:
        return
    settings = {"insert_deduplication_token": token} if token else None
    store.insert_columns(
        "dead_letters",
        {
            "topic": [r.message.topic for r in rejected],
            "source_partition": [r.message.partition for r in rejected],
            "source_offset": [r.message.offset for r in rejected],
            "reason": [r.reason for r in rejected],
        },
        settings,
    )


# -- reading them: one row per source message ---------------------------------
#
# `dead_letters` is keyed by (topic, source_partition, source_offset) (migration
# 0021) and read FINAL, so a message the DLQ holds twice is one dead letter.
# Its current state is its newest replay outcome: a message replayed under any
# contract version is `replayed`; one the current contract still refuses keeps
# its new reason.


def _class_sql() -> tuple[str, dict[str, str]]:
    """The reason class in SQL, from the same table as `reason_class`."""
    parts, params = [], {}
    for i, (cls, piece) in enumerate(REASON_CLASSES):
        parts.append(f"position(reason, {{rc_p{i}:String}}) > 0, {{rc_c{i}:String}}")
        params[f"rc_p{i}"], params[f"rc_c{i}"] = piece, cls
    params["rc_other"] = OTHER_CLASS
    return f"multiIf({', '.join(parts)}, {{rc_other:String}})", params


_CLASS_SQL, _CLASS_PARAMS = _class_sql()

_LATEST = (
    "SELECT topic, source_partition, source_offset, argMax(outcome, at) AS outcome, "
    "argMax(reason, at) AS new_reason, argMax(contract_version, at) AS version, "
    "argMax(run_id, at) AS run_id, max(at) AS replayed_at "
    "FROM dead_letter_replays GROUP BY topic, source_partition, source_offset"
)

# every dead letter with its state; filters apply to these columns
_BASE = f"""
SELECT at, topic, source_partition, source_offset, first_reason, reason,
       {_CLASS_SQL} AS reason_class, status, outcome, version, replayed_at
FROM
(
    SELECT d.at AS at, d.topic AS topic, d.source_partition AS source_partition,
           d.source_offset AS source_offset, d.reason AS first_reason,
           if(r.outcome = 'still_failing', r.new_reason, d.reason) AS reason,
           if(r.outcome = 'replayed', 'replayed', 'dead') AS status,
           r.outcome AS outcome, r.version AS version, r.replayed_at AS replayed_at
    FROM dead_letters AS d FINAL
    LEFT JOIN ({_LATEST}) AS r
      ON d.topic = r.topic AND d.source_partition = r.source_partition
     AND d.source_offset = r.source_offset
)
"""


def _ts(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


def where(sel: Selection, prefix: str) -> tuple[str, dict[str, Any]]:
    """The WHERE clause of a selection, parameterised (no value is ever
    written into the SQL text)."""
    terms: list[str] = ["1"]
    params: dict[str, Any] = dict(_CLASS_PARAMS)
    if sel.topic is not None:
        terms.append("topic = {f_topic:String}")
        params["f_topic"] = prefix + sel.topic
    if sel.reason is not None:
        terms.append("positionCaseInsensitiveUTF8(reason, {f_reason:String}) > 0")
        params["f_reason"] = sel.reason
    if sel.reason_class is not None:
        terms.append("reason_class = {f_class:String}")
        params["f_class"] = sel.reason_class
    if sel.status != "all":
        terms.append("status = {f_status:String}")
        params["f_status"] = sel.status
    if sel.since is not None:
        terms.append("at >= {f_since:DateTime64(3, 'UTC')}")
        params["f_since"] = _ts(sel.since)
    if sel.until is not None:
        terms.append("at < {f_until:DateTime64(3, 'UTC')}")
        params["f_until"] = _ts(sel.until)
    if sel.partition is not None:
        terms.append("source_partition = {f_partition:Int32}")
        params["f_partition"] = sel.partition
    if sel.offset is not None:
        terms.append("source_offset = {f_offset:Int64}")
        params["f_offset"] = sel.offset
    return " AND ".join(terms), params


_ISO = "formatDateTime({}, '%Y-%m-%dT%H:%i:%S.%fZ')"
_COLUMNS = ("at", "topic", "partition", "offset", "reason", "reason_class", "status",
            "first_reason", "replayed_at", "contract_version")  # fmt: skip


def _item(row: tuple[Any, ...]) -> dict[str, Any]:
    out = dict(zip(_COLUMNS, row, strict=True))
    if out["status"] != "replayed":
        out["replayed_at"] = None
        out["contract_version"] = out["contract_version"] or None
    return out


_SELECT = (
    f"SELECT {_ISO.format('at')}, topic, source_partition, source_offset, reason, reason_class, "
    f"status, first_reason, {_ISO.format('replayed_at')}, version FROM ({_BASE}) "
)


def listing(reader: Reader, sel: Selection, page: Page, prefix: str) -> dict[str, Any]:
    cond, params = where(sel, prefix)
    (total,) = reader.query_rows(f"SELECT count() FROM ({_BASE}) WHERE {cond}", params)[0]
    rows = reader.query_rows(
        _SELECT + f"WHERE {cond} ORDER BY at DESC, topic, source_partition, source_offset DESC "
        "LIMIT {p_size:UInt32} OFFSET {p_skip:UInt64}",
        {**params, "p_size": page.size, "p_skip": page.skip},
    )
    return {
        "total": int(total),
        "page": page.number,
        "per_page": page.size,
        "items": [_item(r) for r in rows],
    }


def stats(reader: Reader, sel: Selection, bucket: str, prefix: str) -> dict[str, Any]:
    """Counts per time bucket, topic and reason class, and per topic and class."""
    cond, params = where(sel, prefix)
    start = {"hour": "toStartOfHour(at)", "day": "toStartOfDay(at)"}[bucket]
    rows = reader.query_rows(
        f"SELECT formatDateTime({start}, '%Y-%m-%dT%H:%i:%SZ') AS t, topic, reason_class, "
        f"countIf(status = 'dead'), countIf(status = 'replayed') FROM ({_BASE}) WHERE {cond} "
        "GROUP BY t, topic, reason_class ORDER BY t, topic, reason_class LIMIT 10000",
        params,
    )
    totals: dict[tuple[str, str], list[int]] = {}
    for _, topic, cls, dead, replayed in rows:
        acc = totals.setdefault((topic, cls), [0, 0])
        acc[0] += int(dead)
        acc[1] += int(replayed)
    return {
        "bucket": bucket,
        "series": [
            {"at": t, "topic": topic, "reason_class": cls, "dead": int(d), "replayed": int(r)}
            for t, topic, cls, d, r in rows
        ],
        "totals": [
            {"topic": topic, "reason_class": cls, "dead": d, "replayed": r}
            for (topic, cls), (d, r) in sorted(totals.items())
        ],
    }


def one(reader: Reader, topic: str, partition: int, offset: int) -> dict[str, Any] | None:
    sel = Selection(partition=partition, offset=offset)
    cond, params = where(sel, "")
    rows = reader.query_rows(
        _SELECT + f"WHERE {cond} AND topic = {{o_topic:String}} LIMIT 1",
        {**params, "o_topic": topic},
    )
    if not rows:
        return None
    out = _item(rows[0])
    history = reader.query_rows(
        f"SELECT {_ISO.format('max(at)')}, contract_version, argMax(run_id, at), "
        "argMax(outcome, at), argMax(reason, at), argMax(replayed_by, at) "
        "FROM dead_letter_replays WHERE topic = {t:String} AND source_partition = {p:Int32} "
        "AND source_offset = {o:Int64} GROUP BY contract_version ORDER BY max(at)",
        {"t": topic, "p": partition, "o": offset},
    )
    out["replays"] = [
        dict(zip(("at", "contract_version", "run_id", "outcome", "reason", "by"), h, strict=True))
        for h in history
    ]
    return out


# -- replay bookkeeping --------------------------------------------------------

FINAL_OUTCOMES = ("still_failing", "gone")


@dataclass(frozen=True)
class Candidate:
    partition: int
    offset: int
    at: dt.datetime


@dataclass(frozen=True)
class Candidates:
    take: list[Candidate]  # oldest first, at most the limit
    dead: int  # dead letters the selection matches (not replayed yet)
    done_here: int  # of those, refused or gone under this contract version already
    replayed: int  # dead letters the selection matches that were replayed before


def replay_candidates(
    reader: Reader, sel: Selection, topic: str, version: str, limit: int
) -> Candidates:
    """The dead letters of `topic` a replay under contract `version` takes, at
    most `limit`, oldest first, and what the selection matched besides.

    Taken: not replayed under any version, and not already refused (or found
    gone) under this one. A `producing` left by a killed replay is taken again."""
    cond, params = where(replace(sel, topic=None, status="all"), "")
    params |= {"c_topic": topic, "c_version": version, "c_limit": limit}
    done = (
        "SELECT source_partition, source_offset FROM dead_letter_replays "
        "WHERE topic = {c_topic:String} AND contract_version = {c_version:String} "
        "GROUP BY source_partition, source_offset "
        f"HAVING argMax(outcome, at) IN ('{FINAL_OUTCOMES[0]}', '{FINAL_OUTCOMES[1]}')"
    )
    matched = f"FROM ({_BASE}) WHERE {cond} AND topic = {{c_topic:String}}"
    dead, done_here, replayed = reader.query_rows(
        f"SELECT countIf(status = 'dead'), "
        f"countIf(status = 'dead' AND (source_partition, source_offset) IN ({done})), "
        f"countIf(status = 'replayed') {matched}",
        params,
    )[0]
    rows = reader.query_rows(
        f"SELECT source_partition, source_offset, at {matched} AND status = 'dead' "
        f"AND (source_partition, source_offset) NOT IN ({done}) "
        "ORDER BY source_partition, source_offset LIMIT {c_limit:UInt32}",
        params,
    )
    return Candidates(
        [Candidate(int(p), int(o), _aware(a)) for p, o, a in rows],
        int(dead),
        int(done_here),
        int(replayed),
    )


def _aware(value: Any) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    return dt.datetime.fromisoformat(str(value)).replace(tzinfo=dt.UTC)


@dataclass(frozen=True)
class Outcome:
    partition: int
    offset: int
    outcome: str  # producing | replayed | still_failing | gone
    reason: str = ""


def record_outcomes(
    store: ClickHouseStore, topic: str, version: str, run_id: str, by: str, rows: Sequence[Outcome]
) -> None:
    if not rows:
        return
    n = len(rows)
    store.insert_columns(
        "dead_letter_replays",
        {
            "topic": [topic] * n,
            "source_partition": [r.partition for r in rows],
            "source_offset": [r.offset for r in rows],
            "contract_version": [version] * n,
            "run_id": [run_id] * n,
            "outcome": [r.outcome for r in rows],
            # a new reason passes the same door as every reason (no identity numbers)
            "reason": [personnummer.redact(r.reason) for r in rows],
            "replayed_by": [by] * n,
        },
    )


RUN_COUNTS = ("selected", "replayed", "still_failing", "skipped", "gone")


def record_run(store: ClickHouseStore, run: Mapping[str, Any]) -> None:
    store.insert_columns(
        "dead_letter_replay_runs",
        {
            "run_id": [run["run_id"]],
            "started_at": [run["started_at"]],
            "replayed_by": [run["by"]],
            "topic": [run["topic"]],
            "contract_version": [run["contract_version"]],
            "selection": [run["selection"]],
            "dry_run": [1 if run["dry_run"] else 0],
            "state": [run["state"]],
            **{k: [int(run[k])] for k in RUN_COUNTS},
        },
    )


def runs(reader: Reader, limit: int) -> list[dict[str, Any]]:
    rows = reader.query_rows(
        f"SELECT run_id, {_ISO.format('any(started_at)')}, any(replayed_by), any(topic), "
        "any(contract_version), any(selection), any(dry_run), argMax(state, at), "
        + ", ".join(f"argMax({k}, at)" for k in RUN_COUNTS)
        + " FROM dead_letter_replay_runs GROUP BY run_id ORDER BY any(started_at) DESC "
        "LIMIT {n:UInt32}",
        {"n": limit},
    )
    names = ("run_id", "started_at", "by", "topic", "contract_version", "selection", "dry_run",
             "state", *RUN_COUNTS)  # fmt: skip
    out = []
    for r in rows:
        item = dict(zip(names, r, strict=True))
        item["dry_run"] = bool(item["dry_run"])
        for k in RUN_COUNTS:
            item[k] = int(item[k])
        out.append(item)
    return out
