"""Is a contract change backward compatible? Pure functions over two JSON Schema
documents (the files `python -m schemas.export` writes), no I/O.

Two readers of a contract, two questions:
- **producers**: does every message valid under OLD stay valid under NEW? A new
  required field, a removed type or enum value, a tighter bound or pattern, a
  changed default breaks them: statflow would start rejecting what they send.
- **consumers**: is every message valid under NEW still one a reader written
  for OLD understands? A removed field, a field made optional or nullable, a
  widened enum or type, a looser bound breaks them.
A new optional field breaks neither (statflow's contracts ignore unknown
fields). A change that breaks either needs a new topic version (`….v2`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

# bounds where a larger value is tighter, and where a smaller one is
_LOWER = ("minimum", "exclusiveMinimum", "minLength", "minItems", "minProperties")
_UPPER = ("maximum", "exclusiveMaximum", "maxLength", "maxItems", "maxProperties")
_JSON_TYPES = {bool: "boolean", int: "integer", float: "number", str: "string"}


@dataclass(frozen=True)
class Change:
    path: str  # e.g. "operation", "case_types[].kind"
    what: str  # a sentence a publishing team can act on
    breaks_producers: bool
    breaks_consumers: bool


@dataclass(frozen=True)
class Verdict:
    changes: tuple[Change, ...]

    @property
    def compatible_for_producers(self) -> bool:
        return not any(c.breaks_producers for c in self.changes)

    @property
    def compatible_for_consumers(self) -> bool:
        return not any(c.breaks_consumers for c in self.changes)

    @property
    def compatible(self) -> bool:
        return self.compatible_for_producers and self.compatible_for_consumers


def diff(old: Mapping[str, Any], new: Mapping[str, Any]) -> Verdict:
    """Every difference between the OLD and NEW contract that matters to a reader."""
    changes: list[Change] = []
    _compare(_Ctx(old), _Ctx(new), dict(old), dict(new), "", changes)
    return Verdict(tuple(changes))


class _Ctx:
    """Resolves `#/$defs/X` against one document."""

    def __init__(self, root: Mapping[str, Any]) -> None:
        self.defs: Mapping[str, Any] = root.get("$defs", {}) or {}

    def resolve(self, node: Mapping[str, Any]) -> dict[str, Any]:
        seen = 0
        while isinstance(node.get("$ref"), str) and seen < 32:
            ref = str(node["$ref"])
            if not ref.startswith("#/$defs/"):
                break
            node = self.defs.get(ref.removeprefix("#/$defs/"), {})
            seen += 1
        return dict(node)


def _flatten(ctx: _Ctx, node: Mapping[str, Any]) -> dict[str, Any]:
    """One schema from `anyOf`/`oneOf` alternatives: types and enums united,
    `null` as a type; the non-null alternative's keywords kept (msgspec writes
    an optional field as anyOf [T, null])."""
    node = ctx.resolve(node)
    alternatives = node.get("anyOf") or node.get("oneOf")
    if not alternatives:
        return node
    merged: dict[str, Any] = {k: v for k, v in node.items() if k not in ("anyOf", "oneOf")}
    types: set[str] = set()
    enum: list[Any] | None = []
    for alt in alternatives:
        alt = _flatten(ctx, alt)
        types |= _types(alt)
        if alt.get("type") == "null" and "enum" not in alt:
            continue
        if enum is not None and "enum" in alt:
            enum.extend(alt["enum"])
        else:
            enum = None
        for k, v in alt.items():
            if k not in ("type", "enum"):
                merged.setdefault(k, v)
    merged["type"] = sorted(types)
    if enum:
        merged["enum"] = enum + ([None] if "null" in types else [])
    return merged


def _types(node: Mapping[str, Any]) -> set[str]:
    t = node.get("type")
    if isinstance(t, str):
        return {t}
    if isinstance(t, list):
        return {str(x) for x in t}
    if "enum" in node:
        return {"null" if v is None else _JSON_TYPES.get(type(v), "object") for v in node["enum"]}
    if "properties" in node:
        return {"object"}
    return {"any"}


def _compare(
    oc: _Ctx, nc: _Ctx, old: dict[str, Any], new: dict[str, Any], path: str, out: list[Change]
) -> None:
    old, new = _flatten(oc, old), _flatten(nc, new)
    here = path or "(message)"
    ot, nt = _types(old), _types(new)
    if ot != nt and "any" not in ot:
        gone, came = ot - nt - {"any"}, nt - ot
        if gone and came:
            what = f"retyped from {'|'.join(sorted(ot))} to {'|'.join(sorted(nt))}"
        elif gone:
            what = f"no longer accepts {'|'.join(sorted(gone))}"
        else:
            what = f"now also accepts {'|'.join(sorted(came))}"
        out.append(Change(here, what, bool(gone), bool(came) or "any" in nt))
    _compare_enum(old, new, here, out)
    _compare_bounds(old, new, here, out)
    for word in ("pattern", "format", "const"):
        if old.get(word) != new.get(word):
            if word not in old:
                out.append(Change(here, f"{word} {new[word]!r} added", True, False))
            elif word not in new:
                out.append(Change(here, f"{word} {old[word]!r} removed", False, True))
            else:
                what = f"{word} changed from {old[word]!r} to {new[word]!r}"
                out.append(Change(here, what, True, True))
    if "default" in old and "default" in new and old["default"] != new["default"]:
        what = f"default changed from {old['default']!r} to {new['default']!r}: an omitted field now means something else"
        out.append(Change(here, what, True, True))
    if "properties" in old or "properties" in new:
        _compare_object(oc, nc, old, new, path, out)
    if isinstance(old.get("items"), dict) and isinstance(new.get("items"), dict):
        _compare(oc, nc, old["items"], new["items"], f"{here}[]", out)


def _compare_enum(old: dict[str, Any], new: dict[str, Any], here: str, out: list[Change]) -> None:
    oe, ne = old.get("enum"), new.get("enum")
    if oe is None and ne is None:
        return
    if oe is None:
        out.append(Change(here, f"now restricted to {sorted(map(str, ne or []))}", True, False))
        return
    if ne is None:
        out.append(Change(here, "no longer restricted to a list of values", False, True))
        return
    removed = [v for v in oe if v not in ne]
    added = [v for v in ne if v not in oe]
    if removed:
        out.append(Change(here, f"enum narrowed: {removed} no longer accepted", True, False))
    if added:
        out.append(Change(here, f"enum widened: {added} may now be sent", False, True))


def _compare_bounds(old: dict[str, Any], new: dict[str, Any], here: str, out: list[Change]) -> None:
    for word in _LOWER + _UPPER:
        a, b = old.get(word), new.get(word)
        if a == b:
            continue
        lower = word in _LOWER
        if a is None:
            tighter = True
        elif b is None:
            tighter = False
        else:
            tighter = (b > a) if lower else (b < a)
        what = f"{word} {a!r} -> {b!r} ({'tighter' if tighter else 'looser'})"
        out.append(Change(here, what, tighter, not tighter))


def _compare_object(
    oc: _Ctx, nc: _Ctx, old: dict[str, Any], new: dict[str, Any], path: str, out: list[Change]
) -> None:
    op, np_ = old.get("properties", {}) or {}, new.get("properties", {}) or {}
    oreq, nreq = set(old.get("required", [])), set(new.get("required", []))
    closed = new.get("additionalProperties") is False
    prefix = f"{path}." if path else ""
    for name in op:
        if name not in np_:
            what = "field removed" + (" (and now rejected when sent)" if closed else "")
            out.append(Change(prefix + name, what, closed, True))
    for name in np_:
        if name not in op:
            if name in nreq:
                out.append(Change(prefix + name, "new required field", True, False))
            else:
                out.append(Change(prefix + name, "new optional field", False, False))
            continue
        if name not in oreq and name in nreq:
            out.append(Change(prefix + name, "optional field became required", True, False))
        if name in oreq and name not in nreq:
            out.append(Change(prefix + name, "required field became optional", False, True))
        _compare(oc, nc, op[name], np_[name], prefix + name, out)
    if old.get("additionalProperties") is not False and closed:
        out.append(Change(path or "(message)", "unknown fields now rejected", True, False))


def render(verdict: Verdict) -> str:
    """The report `statflow contract diff` prints."""
    lines = []
    for c in verdict.changes:
        who = [
            w
            for w, b in (("producers", c.breaks_producers), ("consumers", c.breaks_consumers))
            if b
        ]
        tag = "BREAKS " + " and ".join(who) if who else "compatible"
        lines.append(f"{c.path}: {c.what} [{tag}]")
    if not verdict.changes:
        lines.append("no change that matters to producers or consumers")
    yes = {True: "compatible", False: "NOT compatible"}
    lines.append(f"producers: {yes[verdict.compatible_for_producers]}")
    lines.append(f"consumers: {yes[verdict.compatible_for_consumers]}")
    return "\n".join(lines) + "\n"
