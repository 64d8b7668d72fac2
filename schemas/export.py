"""Write the JSON Schema files platform teams read, from the msgspec types."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import msgspec

from schemas.topics import CONTRACT_TYPES

HERE = Path(__file__).parent


_FORMATS = {dt.datetime: "date-time", dt.date: "date"}


def _add_formats(kind: type[msgspec.Struct], body: dict[str, object]) -> None:
    # msgspec leaves RFC 3339 strings as plain "string"; readers need the format.
    props = body["properties"]
    assert isinstance(props, dict)
    for f in msgspec.structs.fields(kind):
        for typ, fmt in _FORMATS.items():
            if f.type is typ:
                props[f.encode_name] = {**props[f.encode_name], "format": fmt}
            elif f.type == (typ | None):
                props[f.encode_name] = {
                    **props[f.encode_name],
                    "anyOf": [{"type": "string", "format": fmt}, {"type": "null"}],
                }


def schema_for(topic: str) -> dict[str, object]:
    kind = CONTRACT_TYPES[topic]
    schema = msgspec.json.schema(kind)
    # msgspec puts the record under $defs; lift it so the file reads as one object.
    name = kind.__name__
    body = dict(schema["$defs"][name])
    # nested structs (etj.units' case_types) stay under $defs, which the file must
    # carry too, or their "$ref": "#/$defs/..." points at nothing
    others = {k: v for k, v in schema["$defs"].items() if k != name}
    if others:
        body["$defs"] = others
    _add_formats(kind, body)
    body["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    body["$id"] = f"https://statflow.example/schemas/{topic}.schema.json"
    body["title"] = topic
    body["description"] = (kind.__doc__ or "").strip()
    return body


def render(topic: str) -> str:
    return json.dumps(schema_for(topic), indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def main() -> None:
    for topic in CONTRACT_TYPES:
        (HERE / f"{topic}.schema.json").write_text(render(topic), encoding="utf-8")
    # schemas/asyncapi.json is written by its sibling, python -m schemas.asyncapi


if __name__ == "__main__":
    main()
