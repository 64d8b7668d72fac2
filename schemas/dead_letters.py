"""Dead letters as an operator browses and replays them: reason classes, the
selection a request or command makes, and a safe view of a message's bytes.

Pure: no I/O. The SQL that reads `dead_letters` (sinks/dead_letters.py) uses
`REASON_CLASSES` too, so Python and ClickHouse classify a reason alike.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from core import personnummer
from core.errors import ParameterError

# (class, a piece of text the decoder's reason holds), first match wins; the
# reasons come from schemas/events.py (Decoder, _reason) and the topic checks.
REASON_CLASSES: tuple[tuple[str, str], ...] = (
    ("empty", "empty message"),
    ("too_large", "exceeds the limit of"),
    ("encoding", "UTF-8"),  # before not_json: msgspec says "not valid JSON: Invalid UTF-8"
    ("not_json", "not valid JSON"),
    ("not_json", "undecodable message"),
    ("enum", "not one of the allowed values"),
    ("missing_field", "missing required field"),
    ("time", "timestamp"),
    ("time", "datetime"),
    ("format", "matching regex"),
    ("format", " of length "),
    ("type", "Expected `"),
)
OTHER_CLASS = "rule"  # a topic's own check (check digits, standard ids, ...)
CLASSES: tuple[str, ...] = tuple(dict.fromkeys([c for c, _ in REASON_CLASSES] + [OTHER_CLASS]))
STATUSES = ("dead", "replayed", "all")
MAX_PER_PAGE = 500
MAX_REASON_FILTER = 200
SHOWN_BYTES = 4096  # of a message's value in a detail view
_NAME = re.compile(r"^[a-z_]{1,40}$")  # a parameter name worth naming back


def reason_class(reason: str) -> str:
    for cls, piece in REASON_CLASSES:
        if piece in reason:
            return cls
    return OTHER_CLASS


@dataclass(frozen=True)
class Selection:
    """Which dead letters a listing, a count or a replay is about."""

    topic: str | None = None  # a declared topic name, without any prefix
    reason: str | None = None  # a piece of the current reason, any case
    reason_class: str | None = None
    status: str = "all"  # dead (not yet replayed), replayed, all
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    partition: int | None = None
    offset: int | None = None


@dataclass(frozen=True)
class Page:
    number: int = 1
    size: int = 50

    @property
    def skip(self) -> int:
        return (self.number - 1) * self.size


def _one(pairs: Sequence[tuple[str, str]], name: str) -> str | None:
    values = [v for k, v in pairs if k == name]
    if len(values) > 1:
        raise ParameterError(name, "give it once")
    return values[0] if values and values[0] != "" else None


def _whole(raw: str | None, name: str, low: int, high: int) -> int | None:
    if raw is None:
        return None
    if not raw.isascii() or not raw.isdigit() or len(raw) > 19 or not low <= int(raw) <= high:
        raise ParameterError(name, f"a whole number from {low} to {high}")
    return int(raw)


def parse_time(raw: str | None, name: str) -> dt.datetime | None:
    """An RFC 3339 timestamp or a date (midnight UTC); never echoed back."""
    if raw is None:
        return None
    if len(raw) > 40 or not raw.isascii():
        raise ParameterError(name, "an RFC 3339 timestamp (2026-01-31T12:00:00Z) or a date")
    try:
        if len(raw) == 10:
            value = dt.datetime.combine(dt.date.fromisoformat(raw), dt.time(), dt.UTC)
        else:
            value = dt.datetime.fromisoformat(raw.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise ParameterError(
            name, "an RFC 3339 timestamp (2026-01-31T12:00:00Z) or a date"
        ) from None
    if value.tzinfo is None:
        raise ParameterError(name, "give an offset or Z")
    if not dt.datetime(2000, 1, 1, tzinfo=dt.UTC) <= value < dt.datetime(2100, 1, 1, tzinfo=dt.UTC):
        raise ParameterError(name, "between 2000 and 2100")
    return value.astimezone(dt.UTC)


KNOWN = ("topic", "reason", "reason_class", "status", "from", "to", "partition", "offset")


def param_name(name: str) -> str:
    """A parameter's name as an error may repeat it: only plain lower-case
    words; anything else (it may be data sent in the wrong place) is "(name)"."""
    return name if _NAME.match(name) else "(name)"


def _encodable(text: str) -> bool:
    """False for a string with lone surrogates (JSON allows "\\ud800"), which
    no UTF-8 parameter can carry."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def parse_selection(
    pairs: Sequence[tuple[str, str]], topics: Sequence[str], extra: Sequence[str] = ()
) -> Selection:
    """The filters of a request, each checked; a bad one is a ParameterError
    that names the parameter and what it takes, never the value sent."""
    for k, _ in pairs:
        if k not in KNOWN and k not in extra:
            raise ParameterError(k if _NAME.match(k) else "(name)", "not a filter of dead letters")
    topic = _one(pairs, "topic")
    if topic is not None and topic not in topics:
        raise ParameterError("topic", f"one of {', '.join(topics)}")
    reason = _one(pairs, "reason")
    if reason is not None and (
        len(reason) > MAX_REASON_FILTER or "\x00" in reason or not _encodable(reason)
    ):
        raise ParameterError(
            "reason", f"a piece of a reason, at most {MAX_REASON_FILTER} characters"
        )
    cls = _one(pairs, "reason_class")
    if cls is not None and cls not in CLASSES:
        raise ParameterError("reason_class", f"one of {', '.join(CLASSES)}")
    status = _one(pairs, "status") or "all"
    if status not in STATUSES:
        raise ParameterError("status", f"one of {', '.join(STATUSES)}")
    since, until = parse_time(_one(pairs, "from"), "from"), parse_time(_one(pairs, "to"), "to")
    if since and until and until < since:
        raise ParameterError("to", "not before from")
    return Selection(
        topic=topic,
        reason=reason,
        reason_class=cls,
        status=status,
        since=since,
        until=until,
        partition=_whole(_one(pairs, "partition"), "partition", 0, 100_000),
        offset=_whole(_one(pairs, "offset"), "offset", 0, 2**63 - 1),
    )


def parse_page(pairs: Sequence[tuple[str, str]]) -> Page:
    number = _whole(_one(pairs, "page"), "page", 1, 1_000_000) or 1
    size = _whole(_one(pairs, "per_page"), "per_page", 1, MAX_PER_PAGE) or 50
    return Page(number, size)


def parse_bucket(pairs: Sequence[tuple[str, str]]) -> str:
    bucket = _one(pairs, "bucket") or "day"
    if bucket not in ("hour", "day"):
        raise ParameterError("bucket", "hour or day")
    return bucket


# -- a message shown safely --------------------------------------------------


def _visible(text: str) -> tuple[str, int]:
    """`text` without control and format characters (NUL, escape sequences,
    bidi overrides, zero-width spaces), and how many there were. Removed, not
    escaped: nothing in a message may steer a terminal or a page, and a
    zero-width character between the digits of a personal identity number
    must not hide it from redaction."""
    kept = [c for c in text if c in "\n\t" or unicodedata.category(c)[0] != "C"]
    return "".join(kept), len(text) - len(kept)


def safe_text(raw: bytes | None, cap: int = SHOWN_BYTES) -> dict[str, object]:
    """What a person may see of a message's bytes: text, personal identity
    numbers redacted in every written form, at most `cap` characters.

    JSON is shown re-serialised, so `\\u0031…` escapes are read as the digits
    they stand for before redaction; other bytes are decoded as UTF-8 with
    replacement characters. Redaction runs on the whole text before it is cut,
    so a cut never leaves a number's first digits standing."""
    if raw is None:
        return {"bytes": 0, "text": None, "json": False, "truncated": False, "hidden_characters": 0}
    is_json = False
    try:
        text = json.dumps(json.loads(raw), ensure_ascii=False, indent=1)
        is_json = True
    except (ValueError, RecursionError):
        text = raw.decode("utf-8", "replace")
    text, hidden = _visible(text)
    text = personnummer.redact(text)
    cut = len(text) > cap
    return {
        "bytes": len(raw),
        "text": text[:cap] + ("…" if cut else ""),
        "json": is_json,
        "truncated": cut,
        "hidden_characters": hidden,
    }


def safe_header(value: bytes | None, cap: int = 512) -> str:
    if value is None:
        return ""
    text = personnummer.redact(_visible(value.decode("utf-8", "replace"))[0])
    return text if len(text) <= cap else text[:cap] + "…"


def safe_headers(headers: Sequence[tuple[str, bytes | None]]) -> list[dict[str, str]]:
    return [
        {"name": safe_header(k.encode("utf-8"), 64), "value": safe_header(v)} for k, v in headers
    ]


def source_of(headers: Mapping[str, bytes]) -> tuple[str, int, int] | None:
    """(topic, partition, offset) a DLQ message names in its source headers."""
    try:
        return (
            headers["source-topic"].decode("utf-8"),
            int(headers["source-partition"]),
            int(headers["source-offset"]),
        )
    except (KeyError, ValueError, UnicodeDecodeError):
        return None
