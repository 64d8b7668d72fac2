"""The AsyncAPI 3.0 document of statflow's topics, generated from the topic
declarations (schemas/topics.py) and their contracts (schemas/export.py), so a
publishing team reads what statflow actually enforces: key, value schema,
partitions, compaction, the dead-letter topic with its headers and retention,
and an example message per topic. Written to schemas/asyncapi.json by
`python -m schemas.asyncapi` (after `python -m schemas.export`) and served at GET /asyncapi.json."""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from typing import Any

from core.errors import ValidationError
from core.settings import Settings
from schemas.export import HERE, schema_for
from schemas.topics import ALL_TOPICS, DLQ_HEADERS, TopicSpec, dlq_config, topic_config

KAFKA_BINDING_VERSION = "0.5.0"


def _ident(topic: str) -> str:
    # channel/message ids are also JSON-pointer segments: keep them to [A-Za-z0-9_-]
    return topic.replace(".", "-")


def _inline_defs(schema: dict[str, Any]) -> dict[str, Any]:
    """The schema with every `#/$defs/X` replaced by X itself: inside an AsyncAPI
    document a local `$ref` resolves against the document, not the schema."""
    defs = schema.pop("$defs", {})

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                return walk(copy.deepcopy(defs[ref.removeprefix("#/$defs/")]))
            return {k: walk(v) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    out: dict[str, Any] = walk(schema)
    return out


def _payload(topic: str) -> dict[str, Any]:
    schema = dict(schema_for(topic))
    # the standalone file's identity fields; the document's own schemas have none
    schema.pop("$schema", None)
    schema.pop("$id", None)
    return _inline_defs(schema)


def _key_schema(spec: TopicSpec) -> dict[str, Any]:
    fields = " + '/' + ".join(spec.key_fields)
    return {
        "type": "string",
        "description": f"UTF-8 bytes of {fields} (the value's fields); it decides the "
        "partition, so all records of one key keep their order"
        + ("; compaction keeps the latest record per key" if spec.compacted else ""),
    }


def _kafka_channel(name: str, partitions: int, config: dict[str, str]) -> dict[str, Any]:
    topic_configuration: dict[str, Any] = {}
    if "cleanup.policy" in config:
        topic_configuration["cleanup.policy"] = [config["cleanup.policy"]]
    if "retention.ms" in config:
        topic_configuration["retention.ms"] = int(config["retention.ms"])
    if "max.message.bytes" in config:
        topic_configuration["max.message.bytes"] = int(config["max.message.bytes"])
    binding: dict[str, Any] = {
        "topic": name,
        "partitions": partitions,
        "replicas": 1,
        "bindingVersion": KAFKA_BINDING_VERSION,
    }
    if topic_configuration:
        binding["topicConfiguration"] = topic_configuration
    return {"kafka": binding}


def _rejected_example(
    spec: TopicSpec, payload: dict[str, Any], example: Mapping[str, object]
) -> tuple[dict[str, object], str]:
    """The example without its first required field, and the reason the topic's
    own decoder gives for it: the `error` header a publisher would really see."""
    missing = payload["required"][0]
    bad = {k: v for k, v in example.items() if k != missing}
    try:
        spec.decoder(Settings().max_message_bytes)(json.dumps(bad).encode("utf-8"))
    except ValidationError as exc:
        return bad, str(exc)
    raise AssertionError(f"{spec.name}: the example without {missing} still decodes")


def document(settings: Settings) -> dict[str, Any]:
    """The document for these settings (topic prefix, partitions, DLQ retention)."""
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    dlq = dlq_config(settings)
    dlq_hours = settings.dlq_retention_hours
    dlq_headers = {
        "type": "object",
        "required": sorted(DLQ_HEADERS),
        "properties": {
            h: {"type": "string", "description": d} for h, d in sorted(DLQ_HEADERS.items())
        },
    }
    for spec in ALL_TOPICS:
        ident = _ident(spec.name)
        full = spec.full(settings)
        payload = _payload(spec.name)
        example = spec.example
        messages[ident] = {
            "name": spec.name,
            "title": payload.get("description") or spec.name,
            "contentType": "application/json",
            "payload": payload,
            "bindings": {
                "kafka": {"key": _key_schema(spec), "bindingVersion": KAFKA_BINDING_VERSION}
            },
            "examples": [
                {
                    "name": "valid",
                    "summary": f"key: {spec.key_of(example).decode('utf-8')}",
                    "payload": example,
                }
            ],
        }
        bad, reason = _rejected_example(spec, payload, example)
        messages[ident + "-dlq"] = {
            "name": spec.name + ".dlq",
            "title": f"A message of {spec.name} that statflow rejected",
            "summary": "The original key and value bytes, unchanged, with why and where from",
            "contentType": "application/octet-stream",
            "headers": dlq_headers,
            "payload": {
                "description": "the rejected message's value bytes exactly as produced "
                "(possibly not JSON at all)"
            },
            "bindings": {
                "kafka": {
                    "key": {"description": "the rejected message's key bytes, unchanged"},
                    "bindingVersion": KAFKA_BINDING_VERSION,
                }
            },
            "examples": [
                {
                    "name": "rejected",
                    "summary": "the valid example without a required field",
                    "headers": {
                        "error": reason,
                        "source-topic": full,
                        "source-partition": "0",
                        "source-offset": "1234",
                    },
                    "payload": bad,
                }
            ],
        }
        reference = "a compacted reference topic" if spec.compacted else "an event topic"
        channels[ident] = {
            "address": full,
            "title": spec.name,
            "description": f"{reference}; key: {'/'.join(spec.key_fields)}. A message "
            f"that breaks the contract goes to {spec.dlq(settings)}.",
            "messages": {"message": {"$ref": f"#/components/messages/{ident}"}},
            "bindings": _kafka_channel(full, settings.topic_partitions, topic_config(spec)),
        }
        channels[ident + "-dlq"] = {
            "address": spec.dlq(settings),
            "title": spec.name + ".dlq",
            "description": f"dead letters of {spec.name}: kept {dlq_hours} hours "
            "(STATFLOW_DLQ_RETENTION_HOURS), never compacted; they hold personal data",
            "messages": {"message": {"$ref": f"#/components/messages/{ident}-dlq"}},
            "bindings": _kafka_channel(spec.dlq(settings), 1, dlq),
        }
        operations[f"consume-{ident}"] = {
            "action": "receive",
            "title": f"statflow reads {spec.name}",
            "channel": {"$ref": f"#/channels/{ident}"},
            "messages": [{"$ref": f"#/channels/{ident}/messages/message"}],
        }
        operations[f"dead-letter-{ident}"] = {
            "action": "send",
            "title": f"statflow sends the rejects of {spec.name} to its DLQ",
            "channel": {"$ref": f"#/channels/{ident}-dlq"},
            "messages": [{"$ref": f"#/channels/{ident}-dlq/messages/message"}],
        }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "statflow topics",
            "version": "1",
            "description": "The topics statflow consumes, their contracts and dead-letter "
            "topics. Generated from schemas/topics.py; do not edit by hand "
            "(python -m schemas.asyncapi).",
        },
        "defaultContentType": "application/json",
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages},
    }


def render(settings: Settings | None = None) -> str:
    """The committed file: the default settings (no prefix, default partitions)."""
    doc = document(settings if settings is not None else Settings())
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def main() -> None:
    (HERE / "asyncapi.json").write_text(render(), encoding="utf-8")


if __name__ == "__main__":
    main()
