"""Dead letters for operators: the listing, counts, one message's detail and
replays, as the API (web/api.py) and the CLI (statflow/dlq.py) answer them.
Every input is checked here (schemas/dead_letters.py) before a query runs."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from core.errors import ParameterError
from core.settings import Settings
from schemas import dead_letters as view
from schemas.topics import ALL_TOPICS, BY_NAME, TopicSpec
from sinks import dead_letters as table
from sinks.clickhouse import ClickHouseStore
from streams import replay as replaying

TOPICS = tuple(t.name for t in ALL_TOPICS)
Pairs = Sequence[tuple[str, str]]


def browse(store: ClickHouseStore, settings: Settings, pairs: Pairs) -> dict[str, Any]:
    sel = view.parse_selection(pairs, TOPICS, extra=("page", "per_page"))
    page = view.parse_page(pairs)
    out = table.listing(store, sel, page, settings.topic_prefix)
    for item in out["items"]:  # the declared name, as the detail route takes it
        item["topic_name"] = str(item["topic"]).removeprefix(settings.topic_prefix)
    out["topics"] = list(TOPICS)
    out["reason_classes"] = list(view.CLASSES)
    return out


def counts(store: ClickHouseStore, settings: Settings, pairs: Pairs) -> dict[str, Any]:
    sel = view.parse_selection(pairs, TOPICS, extra=("bucket",))
    return table.stats(store, sel, view.parse_bucket(pairs), settings.topic_prefix)


def replay_runs(store: ClickHouseStore, pairs: Pairs) -> dict[str, Any]:
    for k, _ in pairs:
        if k != "limit":
            raise ParameterError("(name)", "only limit is taken here")
    raw = dict(pairs).get("limit") or "50"
    if not raw.isascii() or not raw.isdigit() or len(raw) > 4 or not 1 <= int(raw) <= 1000:
        raise ParameterError("limit", "a whole number from 1 to 1000")
    return {"runs": table.runs(store, int(raw))}


def _spec(name: str) -> TopicSpec:
    spec = BY_NAME.get(name)
    if spec is None:
        raise ParameterError("topic", f"one of {', '.join(TOPICS)}")
    return spec


def _number(raw: str, name: str, high: int) -> int:
    if not raw.isascii() or not raw.isdigit() or len(raw) > 19 or int(raw) > high:
        raise ParameterError(name, f"a whole number from 0 to {high}")
    return int(raw)


async def detail(
    store: ClickHouseStore, settings: Settings, topic: str, partition: str, offset: str
) -> dict[str, Any] | None:
    """One dead letter, its replays and the message as the DLQ topic holds it,
    shown safely (schemas/dead_letters.safe_text); None if there is none."""
    spec = _spec(topic)
    p, o = _number(partition, "partition", 100_000), _number(offset, "offset", 2**63 - 1)
    row = await asyncio.to_thread(table.one, store, spec.full(settings), p, o)
    if row is None:
        return None
    since = dt.datetime.fromisoformat(str(row["at"]).replace("Z", "+00:00"))
    found = await replaying.read_dlq(settings, spec, {(p, o)}, since)
    m = found.get((p, o))
    row["message"] = (
        None
        if m is None
        else {
            "dlq_topic": spec.dlq(settings),
            "dlq_partition": m.dlq_partition,
            "dlq_offset": m.dlq_offset,
            "timestamp": dt.datetime.fromtimestamp(m.timestamp_ms / 1000, dt.UTC).isoformat(),
            "key": view.safe_header(m.key),
            "headers": view.safe_headers(m.headers),
            "value": view.safe_text(m.value),
        }
    )
    if m is None:
        row["message_note"] = (
            f"the DLQ topic no longer holds this message (kept {settings.dlq_retention_hours} h)"
        )
    return row


REPLAY_FIELDS = ("topic", "reason", "reason_class", "since", "until", "partition", "offset",
                 "dry_run")  # fmt: skip


def replay_request(body: Mapping[str, Any]) -> tuple[TopicSpec, view.Selection, bool]:
    """A replay's JSON body checked: `topic` required; `reason`, `reason_class`,
    `since`, `until`, `partition`, `offset` select; `dry_run` only reports."""
    for k in body:
        if k not in REPLAY_FIELDS:
            raise ParameterError(view.param_name(str(k)), "not a field of a replay")
    pairs: list[tuple[str, str]] = []
    for k in ("topic", "reason", "reason_class", "partition", "offset"):
        v = body.get(k)
        if v is None or v == "":
            continue
        if isinstance(v, bool) or not isinstance(v, str | int):
            raise ParameterError(
                k, "a string" if k in ("topic", "reason", "reason_class") else "a whole number"
            )
        pairs.append((k, str(v)))
    for k, name in (("since", "from"), ("until", "to")):
        v = body.get(k)
        if v not in (None, ""):
            if not isinstance(v, str):
                raise ParameterError(k, "an RFC 3339 timestamp or a date")
            pairs.append((name, v))
    dry = body.get("dry_run", False)
    if not isinstance(dry, bool):
        raise ParameterError("dry_run", "true or false")
    if not body.get("topic"):
        raise ParameterError(
            "topic", f"which topic's dead letters to replay: one of {', '.join(TOPICS)}"
        )
    try:
        sel = view.parse_selection(pairs, TOPICS)
    except ParameterError as exc:
        if exc.parameter in ("from", "to"):
            raise ParameterError(
                "since" if exc.parameter == "from" else "until", "an RFC 3339 timestamp or a date"
            ) from None
        raise
    spec = _spec(str(body["topic"]))
    replaying.replayable(spec)
    return spec, sel, dry


async def replay(
    store: ClickHouseStore, settings: Settings, body: Mapping[str, Any], by: str
) -> dict[str, Any]:
    spec, sel, dry = replay_request(body)
    report = await replaying.replay(settings, store, spec, sel, by, dry)
    return report.to_json()
