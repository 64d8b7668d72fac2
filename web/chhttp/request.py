"""An HTTP request to ClickHouse's interface, taken apart: pure functions.

What ClickHouse's HTTP handler accepts and what clickhouse-connect and
clickhouse-go send: the query in the POST body, in `query=` or in both (the
parameter, a line break, then the body: how an INSERT's data follows it), or
as a multipart form field (clickhouse-connect does this when query parameters
are long); `param_<name>` query parameters; `database`, `default_format`,
`query_id`; every other parameter is a setting. The body may be compressed
(Content-Encoding lz4, zstd, gzip, deflate); the answer is compressed when the
client accepts it and `enable_http_compression` is on.
"""

from __future__ import annotations

import base64
import gzip
import re
import uuid
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import lz4.frame

from core.errors import ClickHouseHTTPError

try:  # clickhouse-connect depends on it before Python 3.14
    from backports import zstd as _zstd
except ImportError:  # pragma: no cover - Python 3.14 has it built in
    from compression import zstd as _zstd  # type: ignore[import-not-found,no-redef,unused-ignore]

# Parameters the HTTP layer consumes; they are not ClickHouse settings. The
# progress and session ones are accepted and ignored: every answer is sent whole
# (as with wait_end_of_query=1) and every request is its own session.
TRANSPORT = frozenset({
    "query", "database", "default_format", "query_id", "session_id", "session_timeout",
    "session_check", "compress", "decompress", "user", "password", "quota_key",
    "buffer_size", "wait_end_of_query", "client_protocol_version", "role",
    "send_progress_in_http_headers", "http_headers_progress_interval_ms",
    "add_http_cors_header", "stacktrace",
})  # fmt: skip
RESPONSE_ENCODINGS = ("lz4", "zstd", "gzip", "deflate")


@dataclass(frozen=True)
class ChRequest:
    method: str
    query: bytes  # statement bytes; an INSERT's data follows its FORMAT clause
    params: dict[str, str] = field(default_factory=dict)  # query parameters, bare names
    settings: dict[str, str] = field(default_factory=dict)
    database: str | None = None
    default_format: str | None = None
    query_id: str = ""
    token: str | None = None  # the password, whichever way it came
    user: str = "default"
    accept_encoding: str = ""


def parse(
    method: str, url_params: Sequence[tuple[str, str]], headers: Mapping[str, str], body: bytes
) -> ChRequest:
    """`headers` with lower-case names."""
    fields = list(url_params)
    given = dict(fields)
    if given.get("decompress") == "1" or given.get("compress") == "1":
        raise ClickHouseHTTPError(
            48, "NOT_IMPLEMENTED",
            "ClickHouse's internal block compression (compress=1 / decompress=1) is not "
            "served; use HTTP compression (Content-Encoding, enable_http_compression=1)",
            501,
        )  # fmt: skip
    body = decode_body(body, headers.get("content-encoding"))
    ctype = headers.get("content-type", "")
    if ctype.lower().startswith("multipart/form-data"):
        fields += form_fields(body, ctype)
        body = b""
    values = dict(fields)  # the last of a repeated name wins, as in ClickHouse
    query_param = values.get("query", "")
    query = (query_param.encode() + b"\n" + body) if query_param else body
    user, token = credentials(headers, values)
    return ChRequest(
        method=method.upper(),
        query=query,
        params={k[6:]: v for k, v in values.items() if k.startswith("param_")},
        settings={
            k: v for k, v in values.items() if k not in TRANSPORT and not k.startswith("param_")
        },
        database=values.get("database") or headers.get("x-clickhouse-database") or None,
        default_format=values.get("default_format") or headers.get("x-clickhouse-format"),
        query_id=values.get("query_id") or str(uuid.uuid4()),
        token=token,
        user=user,
        accept_encoding=headers.get("accept-encoding", ""),
    )


def credentials(headers: Mapping[str, str], values: Mapping[str, str]) -> tuple[str, str | None]:
    """(user, password): X-ClickHouse-User/Key, basic auth, a bearer token, or
    user=/password= parameters. The password is the statflow token; the user
    name is only shown in messages."""
    user = headers.get("x-clickhouse-user") or values.get("user") or "default"
    if headers.get("x-clickhouse-key"):
        return user, headers["x-clickhouse-key"]
    scheme, _, rest = headers.get("authorization", "").partition(" ")
    if scheme.lower() == "basic":
        try:
            name, _, password = (
                base64.b64decode(rest.strip(), validate=True).decode("utf-8").partition(":")
            )
        except (ValueError, UnicodeDecodeError):
            raise bad_request("the Authorization header is not valid basic auth") from None
        return name or user, password or None
    if scheme.lower() == "bearer" and rest.strip():
        return user, rest.strip()
    return user, values.get("password") or None


def bad_request(message: str) -> ClickHouseHTTPError:
    return ClickHouseHTTPError(36, "BAD_ARGUMENTS", message, 400)


def form_fields(body: bytes, content_type: str) -> list[tuple[str, str]]:
    """The fields of a multipart/form-data body. A part with a file name is
    external data (a temporary table), which is not served."""
    m = re.search(r'boundary="?([^";]+)"?', content_type)
    if not m:
        raise bad_request("multipart/form-data without a boundary")
    delimiter = b"--" + m.group(1).encode("latin-1")
    out: list[tuple[str, str]] = []
    for part in body.split(delimiter)[1:]:
        if part.startswith(b"--"):
            break
        head, sep, content = part.partition(b"\r\n\r\n")
        if not sep:
            raise bad_request("a multipart/form-data part has no header")
        disposition = next(
            (line for line in head.decode("latin-1").split("\r\n")
             if line.lower().startswith("content-disposition:")), "",
        )  # fmt: skip
        name = re.search(r'\bname="([^"]*)"', disposition)
        if not name:
            raise bad_request("a multipart/form-data part has no name")
        if re.search(r'\bfilename="', disposition):
            raise ClickHouseHTTPError(
                48, "NOT_IMPLEMENTED",
                "external data (temporary tables sent with the query) is not served",
                501,
            )  # fmt: skip
        value = content[:-2] if content.endswith(b"\r\n") else content
        out.append((name.group(1), value.decode("utf-8", "replace")))
    return out


def decode_body(body: bytes, encoding: str | None) -> bytes:
    enc = (encoding or "").strip().lower()
    if not body or enc in ("", "identity"):
        return body
    try:
        if enc == "gzip":
            return gzip.decompress(body)
        if enc == "deflate":
            return zlib.decompress(body)
        if enc == "zstd":
            return bytes(_zstd.decompress(body))
        if enc == "lz4":
            return _lz4_frames(body)
    except Exception as exc:  # each codec has its own error type
        raise ClickHouseHTTPError(
            271, "CANNOT_DECOMPRESS", f"the {enc} request body does not decompress: {exc}", 400
        ) from None
    raise ClickHouseHTTPError(
        89, "UNKNOWN_COMPRESSION_METHOD",
        f"Content-Encoding {enc[:32]!r} is not served; use lz4, zstd, gzip or deflate",
        400,
    )  # fmt: skip


def _lz4_frames(body: bytes) -> bytes:
    """clickhouse-connect compresses each block of an insert as its own frame."""
    out, rest = bytearray(), body
    while rest:
        d = lz4.frame.LZ4FrameDecompressor()
        out += d.decompress(rest)
        if not d.eof:
            raise ValueError("the last lz4 frame is cut short")
        rest = d.unused_data
    return bytes(out)


def response_encoding(accept: str, enabled: bool) -> str | None:
    """The first encoding in the client's Accept-Encoding this server can make."""
    if not enabled:
        return None
    for item in accept.split(","):
        name, _, params = item.strip().partition(";")
        q = re.search(r"\bq=([0-9.]+)", params)
        if name.strip().lower() in RESPONSE_ENCODINGS and not (q and _zero(q.group(1))):
            return name.strip().lower()
    return None


def _zero(q: str) -> bool:
    try:
        return float(q) == 0
    except ValueError:
        return False


def encode_body(data: bytes, encoding: str | None, level: int = 3) -> bytes:
    if encoding is None:
        return data
    if encoding == "gzip":
        return gzip.compress(data, compresslevel=level)
    if encoding == "deflate":
        return zlib.compress(data, level)
    if encoding == "zstd":
        return bytes(_zstd.compress(data))
    return bytes(lz4.frame.compress(data))


def summary(result: Any, body_len: int, inserted: bool) -> dict[str, str]:
    """X-ClickHouse-Summary from a chDB result (its read statistics are an
    INFILE insert's written rows, as clickhouse-connect's chDB backend counts)."""

    def num(name: str) -> int:
        try:
            return int(getattr(result, name)())
        except Exception:  # a result of a statement without rows
            return 0

    rows, size = num("rows_read"), num("bytes_read")
    elapsed = getattr(result, "elapsed", lambda: 0.0)
    return {
        "read_rows": str(rows),
        "read_bytes": str(size),
        "written_rows": str(rows if inserted else 0),
        "written_bytes": str(size if inserted else 0),
        "total_rows_to_read": str(rows),
        "result_bytes": str(body_len),
        "elapsed_ns": str(int(float(elapsed() or 0) * 1e9)),
    }
