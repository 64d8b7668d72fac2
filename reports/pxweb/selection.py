"""Selections of a PxWeb data request: which categories of each dimension; pure.

A request names, per dimension, value codes and selection expressions
(`valueCodes[Tid]=top(12)` in the query string, or the POST body's
`selection`). Expressions, as PxWebApi 2.0 has them (function names in any
case): `*` (every value), wildcards `01*`, `*0`, `*x*` and `?` (one
character), `from(x)`, `to(x)`, `range(x,y)`, `top(n)` / `top(n,offset)`,
`bottom(n)` / `bottom(n,offset)`. On the time dimension `top(n)` is the n
latest months and `bottom(n)` the n earliest (months are listed oldest
first); on any other dimension they are the first and last n in its order.
Expressions are stored as written (saved queries), so `top(12)` moves with
time: it is resolved against the months that exist when it is answered.

Every refusal is a ParameterError naming `valueCodes[<dimension>]` and
never quotes stored data (it may quote, shortened, what the caller sent).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from core.errors import ParameterError

MAX_EXPRESSIONS = 10_000  # every dimension together: a request is not a data dump
MAX_TEXT = 256  # one code or expression
_FUNCTION = re.compile(r"^(top|bottom|from|to|range)\((.*)\)$", re.IGNORECASE | re.DOTALL)
_COUNT = re.compile(r"^\d{1,7}$")
_KEY = re.compile(r"^(valuecodes|codelist)\[([^\[\]]{1,128})\]$", re.IGNORECASE)


@dataclass(frozen=True)
class Selection:
    """What was asked, unresolved: dimension -> expressions (as written), and
    dimension -> code list."""

    values: dict[str, tuple[str, ...]] = field(default_factory=dict)
    codelists: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "selection": [
                {"variableCode": dim, "valueCodes": list(codes),
                 **({"codelist": self.codelists[dim]} if dim in self.codelists else {})}
                for dim, codes in self.values.items()
            ]
        }  # fmt: skip


def _param(dim: str) -> str:
    return f"valueCodes[{dim[:64]}]"


def split(raw: str) -> list[str]:
    """A comma-separated list of expressions; commas inside parentheses
    (`range(a,b)`, `top(3,1)`) belong to their expression."""
    out, depth, start = [], 0, 0
    for i, ch in enumerate(raw):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth = max(0, depth - 1)
        elif ch == "," and depth == 0:
            out.append(raw[start:i])
            start = i + 1
    out.append(raw[start:])
    return [s.strip() for s in out if s.strip()]


def _check_text(dim: str, text: str) -> str:
    if not text or len(text) > MAX_TEXT or any(ord(c) < 32 or ord(c) == 127 for c in text):
        raise ParameterError(_param(dim), f"a value code or expression of 1–{MAX_TEXT} "
                             "printable characters")  # fmt: skip
    return text


def _add(values: dict[str, list[str]], dim: str, exprs: Iterable[str]) -> None:
    values.setdefault(dim, []).extend(_check_text(dim, e) for e in exprs)
    if sum(map(len, values.values())) > MAX_EXPRESSIONS:
        raise ParameterError(_param(dim), f"at most {MAX_EXPRESSIONS} codes in one request")


def from_query(pairs: Iterable[tuple[str, str]]) -> tuple[Selection, list[tuple[str, str]]]:
    """`valueCodes[dim]=...` and `codelist[dim]=...` (names in any case, as
    clients send either); the other parameters are returned as they came."""
    values: dict[str, list[str]] = {}
    codelists: dict[str, str] = {}
    rest = []
    for key, value in pairs:
        found = _KEY.match(key)
        if found is None:
            rest.append((key, value))
            continue
        kind, dim = found[1].lower(), found[2]
        if kind == "valuecodes":
            _add(values, dim, split(value))
            if not split(value):
                raise ParameterError(_param(dim), "give at least one value code or expression")
        else:
            if dim in codelists:
                raise ParameterError(f"codelist[{dim[:64]}]", "give it once")
            codelists[dim] = _check_text(dim, value)
    return Selection({k: tuple(v) for k, v in values.items()}, codelists), rest


def from_body(body: Any) -> Selection:
    """The POST body: {"selection": [{"variableCode", "valueCodes", "codelist"?}],
    "placement"?: ...} (placement is accepted and has no effect)."""
    if not isinstance(body, Mapping):
        raise ParameterError("body", 'expected a JSON object {"selection": [...]}')
    raw = body.get("selection", [])
    if not isinstance(raw, list):
        raise ParameterError("selection", "expected a list of {variableCode, valueCodes}")
    values: dict[str, list[str]] = {}
    codelists: dict[str, str] = {}
    for item in raw:
        if not isinstance(item, Mapping) or not isinstance(item.get("variableCode"), str):
            raise ParameterError("selection", "each item needs a variableCode (a string)")
        dim = _check_text("?", item["variableCode"])
        codes = item.get("valueCodes", [])
        if isinstance(codes, str):
            codes = [codes]
        if not isinstance(codes, list) or not all(isinstance(c, str) for c in codes):
            raise ParameterError(_param(dim), "valueCodes is a list of strings")
        if dim in values:
            raise ParameterError(_param(dim), "name each variable once")
        _add(values, dim, codes)
        if not codes:
            raise ParameterError(_param(dim), "give at least one value code or expression")
        if item.get("codelist") not in (None, ""):
            if not isinstance(item["codelist"], str):
                raise ParameterError(f"codelist[{dim[:64]}]", "a code list id (a string)")
            codelists[dim] = _check_text(dim, item["codelist"])
    return Selection({k: tuple(v) for k, v in values.items()}, codelists)


def _count(dim: str, text: str, what: str) -> int:
    if not _COUNT.match(text.strip()):
        raise ParameterError(_param(dim), f"{what} takes a whole number")
    return int(text.strip())


def _at(dim: str, code: str, categories: Sequence[str]) -> int:
    try:
        return categories.index(code.strip())
    except ValueError:
        raise ParameterError(
            _param(dim), f"no value {code.strip()[:40]!r}; see the table's metadata"
        ) from None


def _wildcard(pattern: str) -> re.Pattern[str]:
    parts = ("." if ch == "?" else ".*" if ch == "*" else re.escape(ch) for ch in pattern)
    return re.compile("".join(parts), re.DOTALL)


def resolve(dim: str, exprs: Sequence[str], categories: Sequence[str], time: bool) -> list[str]:
    """The categories the expressions select, in the dimension's order."""
    chosen: set[int] = set()
    n = len(categories)
    for expr in exprs:
        found = _FUNCTION.match(expr)
        if expr == "*":
            chosen.update(range(n))
        elif found is not None:
            name, args = found[1].lower(), [a for a in found[2].split(",")]
            if name in ("top", "bottom"):
                if len(args) > 2:
                    raise ParameterError(_param(dim), f"{name}(n) or {name}(n,offset)")
                count = _count(dim, args[0], name)
                offset = _count(dim, args[1], name) if len(args) == 2 else 0
                # top on the time dimension is the latest months, listed oldest first
                latest = (name == "top") == time
                span = (
                    range(n - offset - count, n - offset)
                    if latest
                    else range(offset, offset + count)
                )
                chosen.update(i for i in span if 0 <= i < n)
            elif name in ("from", "to"):
                if len(args) != 1:
                    raise ParameterError(_param(dim), f"{name}(x) takes one value code")
                at = _at(dim, args[0], categories)
                chosen.update(range(at, n) if name == "from" else range(at + 1))
            else:
                if len(args) != 2:
                    raise ParameterError(_param(dim), "range(x,y) takes two value codes")
                a, b = sorted((_at(dim, args[0], categories), _at(dim, args[1], categories)))
                chosen.update(range(a, b + 1))
        elif "*" in expr or "?" in expr:
            pattern = _wildcard(expr)
            chosen.update(i for i, c in enumerate(categories) if pattern.fullmatch(c))
        else:
            chosen.add(_at(dim, expr, categories))
    if not chosen and categories:  # a dimension with no values yet (no data) selects none
        raise ParameterError(_param(dim), "the expressions select no value")
    return [categories[i] for i in sorted(chosen)]


def cells(sizes: Iterable[int]) -> int:
    out = 1
    for n in sizes:
        out *= n
    return out
