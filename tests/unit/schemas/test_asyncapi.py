"""The AsyncAPI document: generated from the topic declarations, committed, and
valid for the AsyncAPI project's own parser (deploy/asyncapi/validate.mjs)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import orjson
import pytest

from core.settings import Settings
from schemas import asyncapi, export
from schemas.topics import ALL_TOPICS, DECODERS, DLQ_HEADERS, EXAMPLES

ROOT = Path(__file__).resolve().parents[3]
KIT = ROOT / "deploy" / "asyncapi"


def test_committed_document_equals_the_generated_one() -> None:
    path = export.HERE / "asyncapi.json"
    assert path.read_text("utf-8") == asyncapi.render(), "run: python -m schemas.asyncapi"


def test_every_topic_has_an_example_its_contract_accepts() -> None:
    assert set(EXAMPLES) == {t.name for t in ALL_TOPICS}
    for topic, example in EXAMPLES.items():
        DECODERS[topic](65536)(orjson.dumps(example))


def test_document_says_key_compaction_dlq_headers_and_retention() -> None:
    doc = asyncapi.document(Settings(dlq_retention_hours=36, topic_partitions=6))
    for spec in ALL_TOPICS:
        ident = spec.name.replace(".", "-")
        channel = doc["channels"][ident]["bindings"]["kafka"]
        assert channel["partitions"] == 6
        policy = channel.get("topicConfiguration", {}).get("cleanup.policy")
        assert policy == (["compact"] if spec.compacted else None)
        msg = doc["components"]["messages"][ident]
        assert msg["payload"]["required"], spec.name
        assert "$ref" not in json.dumps(msg["payload"])  # nested structs are inlined
        assert msg["bindings"]["kafka"]["key"]["type"] == "string"
        dlq = doc["channels"][ident + "-dlq"]["bindings"]["kafka"]
        assert dlq["topic"] == spec.name + ".dlq"
        assert dlq["topicConfiguration"] == {
            "cleanup.policy": ["delete"],
            "retention.ms": 36 * 3600 * 1000,
            "max.message.bytes": 8 * 1024 * 1024,
        }
        dlq_msg = doc["components"]["messages"][ident + "-dlq"]
        assert set(dlq_msg["headers"]["properties"]) == set(DLQ_HEADERS)
        assert set(dlq_msg["examples"][0]["headers"]) == set(DLQ_HEADERS)


def test_schema_files_carry_the_defs_their_refs_point_to() -> None:
    # etj.units' case_types items are a nested struct: its $ref must resolve
    for spec in ALL_TOPICS:
        schema = export.schema_for(spec.name)
        text = json.dumps(schema)
        for ref in {p.split('"')[0] for p in text.split('"$ref": "#/$defs/')[1:]}:
            assert ref in schema.get("$defs", {}), (spec.name, ref)  # type: ignore[operator]


@pytest.fixture(scope="module")
def validator() -> list[str]:
    """`node validate.mjs`, with its packages installed from the committed lock
    file when they are missing (a clean clone has none)."""
    node, npm = shutil.which("node"), shutil.which("npm")
    assert node and npm, "node and npm are needed to validate the AsyncAPI document"
    if not (KIT / "node_modules" / "@asyncapi" / "parser").is_dir():
        subprocess.run(
            [npm, "ci", "--prefix", str(KIT), "--ignore-scripts", "--no-audit", "--no-fund"],
            check=True,
            capture_output=True,
            timeout=600,
        )
    return [node, str(KIT / "validate.mjs")]


def _validate(validator: list[str], path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*validator, str(path)], capture_output=True, text=True, timeout=120, check=False
    )


def test_the_asyncapi_parser_accepts_the_document(validator: list[str]) -> None:
    r = _validate(validator, export.HERE / "asyncapi.json")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "valid AsyncAPI 3.0.0" in r.stdout


def test_the_asyncapi_parser_rejects_a_broken_document(
    validator: list[str], tmp_path: Path
) -> None:
    doc = json.loads((export.HERE / "asyncapi.json").read_text("utf-8"))
    doc["operations"]["consume-ntjp-calls-v1"]["action"] = "publish"  # AsyncAPI 2 word
    doc["channels"]["ntjp-calls-v1"]["messages"]["message"]["$ref"] = "#/components/messages/x"
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps(doc), "utf-8")
    r = _validate(validator, broken)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "INVALID" in r.stdout
