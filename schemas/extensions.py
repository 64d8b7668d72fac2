"""A deployment's extensions of a contract: values an enum field of a topic
accepts beyond its release (`STATFLOW_CONTRACT_EXTENSIONS`).

Why a setting and not an edit of the contract: the released contract
(schemas/released/) is what every publishing team and downstream reader holds,
and widening one of its enums is, for a reader written against it, a breaking
change (schemas/compat.py says so); a new value for everyone is a release. An
operator who has checked that statflow's reports take the new value (an
operation or a login method is stored and counted as a string) accepts it
here for this deployment, replays the dead letters it caused, and the
repository's contract files, `statflow contract diff` and the released copies
stay as they are.

Syntax: `TOPIC:FIELD=VALUE|VALUE,...`, e.g.
`ntjp.calls.v1:operation=GetCareContacts,etj.logins.v1:method=eidas`. Only
enum fields at the top of a message can be extended. Pure: no I/O.
"""

from __future__ import annotations

import hashlib
import json
import re
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import msgspec

from core.errors import ConfigError

SETTING = "STATFLOW_CONTRACT_EXTENSIONS"
_VALUE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")
_ITEM = re.compile(r"^(?P<topic>[a-z0-9][a-z0-9._-]*):(?P<field>[a-z_][a-z0-9_]*)=(?P<values>.+)$")


@dataclass(frozen=True)
class Extension:
    topic: str
    field: str
    values: tuple[str, ...]


def parse(text: str, kinds: Mapping[str, type[msgspec.Struct]]) -> tuple[Extension, ...]:
    """The extensions a setting names, each checked against the topic's
    contract type (`kinds`: topic name -> type); a ConfigError says what is wrong."""
    out: dict[tuple[str, str], list[str]] = {}
    for item in (p.strip() for p in text.split(",") if p.strip()):
        m = _ITEM.match(item)
        if m is None:
            raise ConfigError(
                f"{SETTING}: each entry is TOPIC:FIELD=VALUE|VALUE (e.g. "
                "ntjp.calls.v1:operation=GetCareContacts); one is not"
            )
        topic, field = m.group("topic"), m.group("field")
        kind = kinds.get(topic)
        if kind is None:
            raise ConfigError(f"{SETTING}: {topic} is not a topic of statflow")
        allowed = enum_values(kind, field)
        if allowed is None:
            raise ConfigError(
                f"{SETTING}: {topic} has no enum field {field} at the top of its messages"
            )
        values = out.setdefault((topic, field), [])
        for v in m.group("values").split("|"):
            if not _VALUE.match(v):
                raise ConfigError(
                    f"{SETTING}: a value of {topic}:{field} must be 1-64 letters, digits, "
                    "'_', '.', ':' or '-'"
                )
            if v not in allowed and v not in values:
                values.append(v)
    return tuple(Extension(t, f, tuple(v)) for (t, f), v in sorted(out.items()) if v)


def for_topic(extensions: tuple[Extension, ...], topic: str) -> dict[str, tuple[str, ...]]:
    return {e.field: e.values for e in extensions if e.topic == topic}


def _literal_of(annotation: Any) -> tuple[tuple[str, ...], bool] | None:
    """(values, optional) of a `Literal[...]` or `Literal[...] | None` annotation."""
    if typing.get_origin(annotation) is Literal:
        return tuple(map(str, typing.get_args(annotation))), False
    args = typing.get_args(annotation)
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        rest = [a for a in args if a is not type(None)]
        if len(rest) == 1 and len(args) == 2 and typing.get_origin(rest[0]) is Literal:
            return tuple(map(str, typing.get_args(rest[0]))), True
    return None


def enum_values(kind: type[msgspec.Struct], field: str) -> tuple[str, ...] | None:
    for f in msgspec.structs.fields(kind):
        if f.encode_name == field:
            found = _literal_of(f.type)
            return found[0] if found else None
    return None


def extend(
    kind: type[msgspec.Struct], extra: Mapping[str, tuple[str, ...]]
) -> type[msgspec.Struct]:
    """A subclass of `kind` whose enum fields also accept `extra`'s values: its
    instances are `kind`s, so every column builder and check takes them."""
    if not extra:
        return kind
    changed: list[tuple[str, Any] | tuple[str, Any, Any]] = []
    for f in msgspec.structs.fields(kind):
        if f.encode_name not in extra:
            continue
        found = _literal_of(f.type)
        assert found is not None, f.name  # parse() checked it
        values, optional = found
        widened: Any = Literal[tuple(values) + tuple(extra[f.encode_name])]
        if optional:
            widened = widened | None
        if f.default is msgspec.NODEFAULT:
            changed.append((f.name, widened))
        else:
            changed.append((f.name, widened, f.default))
    config = kind.__struct_config__
    return msgspec.defstruct(
        kind.__name__, changed, bases=(kind,), module=kind.__module__, frozen=config.frozen
    )


def fingerprint(kind: type[msgspec.Struct]) -> str:
    """12 hex digits naming a contract as it is enforced (its JSON Schema,
    extensions included): the version a replay is recorded under."""
    schema = json.dumps(msgspec.json.schema(kind), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(schema.encode("utf-8")).hexdigest()[:12]
