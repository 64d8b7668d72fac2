"""Statements as ClickHouse's lexer sees them: pure functions, no engine.

Before anything runs, the HTTP interface must know what a statement is (a
read, an insert, DDL, something else), where an INSERT's data begins, which
FORMAT it answers in, and which functions it calls. A regular expression over
the text is fooled by comments and string literals, so this lexer follows
ClickHouse's own rules for them: nested block comments, `--`, `# ` and `#!`
line comments, heredoc strings (`$tag$…$tag$`), backslash and doubled-quote
escapes. `SELECT 1 /* ; */` is one statement; `SELECT 1; DROP …` is two and is
refused (chDB, unlike ClickHouse's HTTP handler, would run both). The engine
also asks ClickHouse's parser for a second opinion (formatQuery) and
classifies its canonical text with the same function: a statement must pass
both readings.

The text is handled as Latin-1, so every character is one byte and offsets
are byte offsets into the request body: an INSERT's binary data (Native,
RowBinary) starts at such an offset.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, replace

from core.errors import ClickHouseHTTPError

READ_KINDS = frozenset({"select", "show", "describe", "exists", "explain"})
_KIND_OF = {
    "SELECT": "select",
    "WITH": "select",
    "SHOW": "show",
    "DESCRIBE": "describe",
    "DESC": "describe",
    "EXISTS": "exists",
    "EXPLAIN": "explain",
    "INSERT": "insert",
    **dict.fromkeys(
        ("CREATE", "ALTER", "DROP", "TRUNCATE", "RENAME", "EXCHANGE", "OPTIMIZE"), "ddl"
    ),
}
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "0": "\0", "b": "\b", "f": "\f"}
_HEREDOC = re.compile(r"\$([A-Za-z0-9_]*)\$")
_SPACE = " \t\n\r\f\v"
_PARAM_ESCAPES = str.maketrans({"\\": "\\\\", "\n": "\\n", "\t": "\\t", "\r": "\\r", "\0": "\\0"})


@dataclass(frozen=True)
class Token:
    kind: str  # "word" | "quoted" (identifier) | "string" | "number" | "punct"
    text: str  # a quoted identifier unescaped; otherwise as written
    start: int
    end: int


@dataclass(frozen=True)
class Statement:
    """One statement and what the policy needs to know about it."""

    kind: str  # select, show, describe, exists, explain, insert, ddl, other
    words: tuple[str, ...]  # its first bare words, upper-case (SHOW PROCESSLIST, …)
    text: str  # what runs: no trailing ';'; an INSERT … FORMAT only up to the format name
    output_format: str | None = None  # a read's own FORMAT clause
    format_span: tuple[int, int] | None = None  # where that clause is in `text`
    insert_format: str | None = None  # INSERT … FORMAT <name>: the data's format
    data_offset: int | None = None  # where that data starts in the request bytes
    infile_at: int | None = None  # where FROM INFILE goes in `text` (before SETTINGS/FORMAT)
    calls: frozenset[str] = frozenset()  # names followed by '(' (functions, table functions)
    names: frozenset[str] = frozenset()  # every identifier and keyword, lower-case
    qualified: tuple[tuple[str, str], ...] = ()  # the `a.b` heads of dotted names
    databases: tuple[str, ...] = ()  # names after the keyword DATABASE
    outfile: bool = False  # INTO OUTFILE (writes a file on the host)
    infile: bool = False  # FROM INFILE (reads a file on the host)
    into_function: bool = False  # INSERT INTO FUNCTION

    @property
    def is_read(self) -> bool:
        return self.kind in READ_KINDS


def syntax_error(message: str) -> ClickHouseHTTPError:
    return ClickHouseHTTPError(62, "SYNTAX_ERROR", message, 400)


def tokens(text: str) -> Iterator[Token]:
    """ClickHouse's tokens of `text`, comments and whitespace left out."""
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c in _SPACE:
            i += 1
        elif text.startswith("--", i) or (c == "#" and text[i + 1 : i + 2] in ("!", " ")):
            j = text.find("\n", i)
            i = n if j < 0 else j + 1
        elif c == "#":
            raise syntax_error(f"unrecognized token '#' at position {i}")
        elif text.startswith("/*", i):
            i = _block_comment_end(text, i)
        elif c in "'\"`":
            j, value = _quoted(text, i)
            yield Token("string" if c == "'" else "quoted", value, i, j)
            i = j
        elif c == "$" and (m := _HEREDOC.match(text, i)):
            close = text.find(m.group(0), m.end())
            if close < 0:
                raise syntax_error(f"heredoc {m.group(0)} at position {i} is not closed")
            yield Token("string", text[m.end() : close], i, close + len(m.group(0)))
            i = close + len(m.group(0))
        elif c.isascii() and c.isdigit():
            j = i + 1
            while j < n and (_word_char(text[j]) or text[j] == "." or
                             (text[j] in "+-" and text[j - 1] in "eEpP")):  # fmt: skip
                j += 1
            yield Token("number", text[i:j], i, j)
            i = j
        elif _word_char(c) and c != "$":
            j = i + 1
            while j < n and _word_char(text[j]):
                j += 1
            yield Token("word", text[i:j], i, j)
            i = j
        else:
            yield Token("punct", c, i, i + 1)
            i += 1


def _word_char(c: str) -> bool:
    # Bytes of UTF-8 sequences count as word characters, like ClickHouse's lexer.
    return c.isalnum() or c in "_$" or ord(c) >= 0x80


def _block_comment_end(text: str, i: int) -> int:
    depth, j = 0, i
    while j < len(text):
        if text.startswith("/*", j):
            depth, j = depth + 1, j + 2
        elif text.startswith("*/", j):
            depth, j = depth - 1, j + 2
            if depth == 0:
                return j
        else:
            j += 1
    raise syntax_error(f"comment at position {i} is not closed")


def _quoted(text: str, i: int) -> tuple[int, str]:
    quote, j, out = text[i], i + 1, []
    while j < len(text):
        c = text[j]
        if c == "\\" and j + 1 < len(text):
            out.append(_ESCAPES.get(text[j + 1], text[j + 1]))
            j += 2
        elif c == quote and text[j + 1 : j + 2] == quote:
            out.append(quote)
            j += 2
        elif c == quote:
            return j + 1, "".join(out)
        else:
            out.append(c)
            j += 1
    raise syntax_error(f"quoted text at position {i} is not closed")


def classify(raw: bytes) -> Statement:
    """Read one statement from a request's query bytes (for an INSERT … FORMAT,
    the statement followed by its data)."""
    text = raw.decode("latin-1")
    stream = tokens(text)
    sig: list[Token] = []
    depths: list[int] = []  # parenthesis depth of each token
    depth, end, fmt_at, kind = 0, len(text), None, ""
    for tok in stream:
        punct = tok.text if tok.kind == "punct" else ""
        if punct == ";":
            end = tok.start
            _only_semicolons_after(stream)
            break
        depth -= punct == ")"
        sig.append(tok)
        depths.append(depth)
        depth += punct == "("
        if not kind:
            if tok.kind in ("word", "quoted"):  # a quoted name is never a keyword
                kind = _KIND_OF.get(tok.text.upper(), "other") if tok.kind == "word" else "other"
            elif punct != "(":
                raise syntax_error(f"a statement cannot start with {tok.text!r}")
        elif kind == "insert" and _is_format_clause(sig, depths, len(sig) - 2):
            fmt_at = len(sig) - 2
            break  # what follows the format name is data, not SQL
    if not kind:
        raise syntax_error("Empty query")
    words = tuple(t.text.upper() for t in sig[:12] if t.kind == "word")[:6]
    if fmt_at is not None:
        name = sig[fmt_at + 1]
        cut = next(
            (t.start for t, d in zip(sig[:fmt_at], depths, strict=False)
             if d == 0 and t.kind == "word" and t.text.upper() == "SETTINGS"),
            sig[fmt_at].start,
        )  # fmt: skip
        head = Statement(kind, words, _utf8(raw[: name.end]).rstrip())
        return _with_references(
            replace(head, insert_format=name.text, data_offset=_data_start(text, name.end),
                    infile_at=len(_utf8(raw[:cut]))),
            sig,
        )  # fmt: skip
    stmt = Statement(kind, words, _utf8(raw[:end]).strip())
    at = _output_format_at(sig, depths) if kind in READ_KINDS else None
    if at is not None:
        # Offsets in the decoded text: the statement starts after its leading blanks.
        lead = len(raw[:end]) - len(raw[:end].lstrip())
        span = (len(_utf8(raw[lead : sig[at].start])), len(_utf8(raw[lead : sig[at + 1].end])))
        stmt = replace(stmt, output_format=sig[at + 1].text, format_span=span)
    return _with_references(stmt, sig)


def _only_semicolons_after(stream: Iterator[Token]) -> None:
    for tok in stream:
        if not (tok.kind == "punct" and tok.text == ";"):
            raise syntax_error("Multi-statements are not allowed: send one statement per request")


def _utf8(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise syntax_error("the query is not valid UTF-8") from None


def _is_format_clause(sig: list[Token], depths: list[int], i: int) -> bool:
    """Whether sig[i] is a top-level FORMAT keyword followed by a format name."""
    if i < 1 or i + 1 >= len(sig) or depths[i]:
        return False
    fmt, name = sig[i], sig[i + 1]
    return fmt.kind == "word" and fmt.text.upper() == "FORMAT" and name.kind == "word"


def _data_start(text: str, i: int) -> int:
    """ClickHouse's rule: the data starts after the format name, spaces and
    tabs, and at most one line break."""
    while i < len(text) and text[i] in " \t":
        i += 1
    if text.startswith("\r\n", i):
        return i + 2
    return i + 1 if i < len(text) and text[i] == "\n" else i


def _output_format_at(sig: list[Token], depths: list[int]) -> int | None:
    """The last top-level `FORMAT name` that ends the statement (a SETTINGS
    clause may follow it): `SELECT x AS format FROM t` has none."""
    for i in range(len(sig) - 2, 0, -1):
        if not _is_format_clause(sig, depths, i):
            continue
        rest = sig[i + 2 : i + 3]
        if not rest or (rest[0].kind == "word" and rest[0].text.upper() == "SETTINGS"):
            return i
    return None


def _with_references(stmt: Statement, sig: list[Token]) -> Statement:
    """What the statement calls and names, and the file/function clauses."""
    calls: set[str] = set()
    qualified: list[tuple[str, str]] = []
    databases: list[str] = []
    flags = {"outfile": False, "infile": False, "into_function": False}
    for i, t in enumerate(sig):
        nxt = sig[i + 1] if i + 1 < len(sig) else None
        prev = sig[i - 1] if i else None
        name = t.kind in ("word", "quoted")
        if name and nxt is not None and nxt.kind == "punct" and nxt.text == "(":
            calls.add(t.text.lower())
        if (name and nxt is not None and nxt.text == "." and nxt.kind == "punct"
                and not (prev is not None and prev.kind == "punct" and prev.text == ".")
                and i + 2 < len(sig) and sig[i + 2].kind in ("word", "quoted")):  # fmt: skip
            qualified.append((t.text, sig[i + 2].text))
        if t.kind != "word" or nxt is None:
            continue
        pair = (t.text.upper(), nxt.text.upper() if nxt.kind == "word" else "")
        flags["outfile"] |= pair == ("INTO", "OUTFILE")
        flags["infile"] |= pair == ("FROM", "INFILE")
        flags["into_function"] |= pair == ("INTO", "FUNCTION")
        if pair[0] == "DATABASE":
            target = _database_target(sig, i + 1)
            if target is not None:
                databases.append(target)
    return replace(
        stmt,
        calls=frozenset(calls),
        names=frozenset(t.text.lower() for t in sig if t.kind in ("word", "quoted")),
        qualified=tuple(qualified),
        databases=tuple(databases),
        outfile=flags["outfile"],
        infile=flags["infile"],
        into_function=flags["into_function"],
    )


def _database_target(sig: list[Token], i: int) -> str | None:
    while i < len(sig) and sig[i].kind == "word" and sig[i].text.upper() in ("IF", "NOT", "EXISTS"):
        i += 1
    if i < len(sig) and sig[i].kind in ("word", "quoted"):
        return sig[i].text
    return None


def infile_insert(stmt: Statement, path: str) -> str:
    """`INSERT INTO t (…) [SETTINGS …] FORMAT f` as `INSERT INTO t (…) FROM
    INFILE 'path' [SETTINGS …] FORMAT f`: chDB reads the client's data from a
    file without re-encoding it."""
    if stmt.infile_at is None:
        raise ValueError("not an INSERT … FORMAT statement")
    head, tail = stmt.text[: stmt.infile_at].rstrip(), stmt.text[stmt.infile_at :]
    return f"{head} FROM INFILE {quote_string(path)} {tail}"


def without_format(stmt: Statement) -> str:
    """The statement with its own FORMAT clause left out (to EXPLAIN it)."""
    if stmt.format_span is None:
        return stmt.text
    a, b = stmt.format_span
    return f"{stmt.text[:a]}{stmt.text[b:]}".strip()


def quote_string(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def escape_param(value: str) -> str:
    """A query parameter value in the escaped text form chDB (like ClickHouse's
    HTTP `param_` values) parses."""
    return value.translate(_PARAM_ESCAPES)
