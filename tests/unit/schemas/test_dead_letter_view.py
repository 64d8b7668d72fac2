"""Dead letters as an operator sees them (issue 21), pure parts: reason
classes, the filters of a request, a message's bytes shown safely, and the
contract extensions an operator configures."""

from __future__ import annotations

import json
from typing import Any

import orjson
import pytest

from core.errors import ConfigError, ParameterError, ValidationError
from core.settings import Settings
from schemas import compat, export, extensions
from schemas import dead_letters as view
from schemas.topics import ALL_TOPICS, CONTRACT_TYPES, NTJP_CALLS, contract_version, decoder_for
from tests.unit.schemas.test_redaction import ALL_FORMS, BASES, leftovers

TOPICS = tuple(t.name for t in ALL_TOPICS)
CALL = BASES["call"][1]


def reason_of(decode: Any, raw: bytes | None) -> str:
    with pytest.raises(ValidationError) as caught:
        decode(raw)
    return str(caught.value)


def test_every_reason_the_decoders_give_has_its_class() -> None:
    decode = BASES["call"][0]
    cases = {
        None: "empty",
        b"x" * 70_000: "too_large",
        b"{": "not_json",
        b'{"event_id": "\xff"}': "encoding",
        orjson.dumps({**CALL, "operation": "Ping"}): "enum",
        orjson.dumps({k: v for k, v in CALL.items() if k != "operation"}): "missing_field",
        orjson.dumps({**CALL, "occurred_at": "2024-01-01T00:00:00"}): "time",
        orjson.dumps({**CALL, "occurred_at": "nope"}): "time",
        orjson.dumps({**CALL, "event_id": "a b"}): "format",
        orjson.dumps({**CALL, "event_id": "a" * 200}): "format",
        orjson.dumps({**CALL, "event_id": 1}): "type",
    }
    for raw, cls in cases.items():
        assert view.reason_class(reason_of(decode, raw)) == cls, raw
    sob, base = BASES["sob"]
    bad_check_digit = orjson.dumps({**base, "patient_id": "191212121213"})
    assert view.reason_class(reason_of(sob, bad_check_digit)) == "rule"
    assert set(cases.values()) | {"rule"} == set(view.CLASSES)


@pytest.mark.parametrize(
    ("pairs", "parameter"),
    [
        ([("topic", "nope.v1")], "topic"),
        ([("reason_class", "19121212-1212")], "reason_class"),
        ([("status", "<script>")], "status"),
        ([("from", "2024-13-01")], "from"),
        ([("from", "2024-01-01T00:00:00")], "from"),
        ([("from", "2024-02-01"), ("to", "2024-01-01")], "to"),
        ([("partition", "-1")], "partition"),
        ([("offset", "1e9")], "offset"),
        ([("offset", "9" * 30)], "offset"),
        ([("reason", "x" * 201)], "reason"),
        ([("reason", "a\x00b")], "reason"),
        ([("reason", "a\ud800b")], "reason"),
        ([("topic", "ntjp.calls.v1"), ("topic", "etj.cases.v1")], "topic"),
        ([("19121212-1212", "x")], "(name)"),
    ],
)
def test_a_bad_filter_is_named_and_never_echoed(
    pairs: list[tuple[str, str]], parameter: str
) -> None:
    with pytest.raises(ParameterError) as caught:
        view.parse_selection(pairs, TOPICS)
    assert caught.value.parameter == parameter
    for _, value in pairs:
        if len(value) > 3:
            assert value not in str(caught.value)


def test_filters_are_read() -> None:
    sel = view.parse_selection(
        [("topic", "ntjp.calls.v1"), ("reason", "operation"), ("reason_class", "enum"),
         ("from", "2024-01-01"), ("to", "2024-01-02T00:00:00Z"), ("partition", "3"),
         ("offset", "42"), ("status", "dead")],
        TOPICS,
    )  # fmt: skip
    assert (sel.topic, sel.reason, sel.reason_class, sel.partition, sel.offset, sel.status) == (
        "ntjp.calls.v1", "operation", "enum", 3, 42, "dead"
    )  # fmt: skip
    assert sel.since is not None and sel.until is not None and sel.since < sel.until
    assert view.parse_page([("page", "3"), ("per_page", "20")]).skip == 40
    with pytest.raises(ParameterError):
        view.parse_page([("per_page", "501")])


@pytest.mark.parametrize("form", ALL_FORMS)
def test_a_message_is_shown_without_any_personal_number(form: str) -> None:
    escaped = "".join(f"\\u{ord(c):04x}" for c in form)  # JSON escapes of every character
    zero_width = form[:8] + "\u200b" + form[8:]
    for raw in (
        orjson.dumps({**CALL, "operation": form}),
        ('{"patient_id": "' + escaped + '"}').encode(),
        f"not json {form} \x00\x1b[31m".encode(),
        zero_width.encode(),
        b"\xff\xfe" + form.encode() + b"\xff",
    ):
        shown = view.safe_text(raw)
        assert not leftovers(str(shown["text"]), form), shown
        assert "\x00" not in str(shown["text"]) and "\x1b" not in str(shown["text"])
    assert not leftovers(view.safe_header(form.encode()), form)


def test_a_long_message_is_cut_after_redaction() -> None:
    form = "19121212-1212"
    raw = ("x" * (view.SHOWN_BYTES - 5) + form + "y" * 10_000).encode()
    shown = view.safe_text(raw)
    assert shown["truncated"] and shown["bytes"] == len(raw)
    assert len(str(shown["text"])) <= view.SHOWN_BYTES + 1
    assert not leftovers(str(shown["text"]), form)


# -- contract extensions -------------------------------------------------------

EXT = "ntjp.calls.v1:operation=GetCareContacts|Ping,etj.logins.v1:method=eidas"


def test_an_extension_adds_enum_values_for_its_topic_only() -> None:
    settings = Settings(contract_extensions=EXT)
    decode = decoder_for(NTJP_CALLS, settings)
    call = decode(orjson.dumps({**CALL, "operation": "Ping"}))
    assert call.operation == "Ping" and isinstance(call, CONTRACT_TYPES["ntjp.calls.v1"])
    reason = reason_of(decode, orjson.dumps({**CALL, "operation": "Nope"}))
    assert "Ping" in reason and "GetCareContacts" in reason  # the allowed values, as enforced
    reason_of(decode, orjson.dumps({**CALL, "status": "Ping"}))  # other fields unchanged
    reason_of(decoder_for(NTJP_CALLS, Settings()), orjson.dumps({**CALL, "operation": "Ping"}))


def test_the_contract_version_follows_what_is_enforced() -> None:
    plain = contract_version(NTJP_CALLS, Settings())
    extended = contract_version(NTJP_CALLS, Settings(contract_extensions=EXT))
    assert plain != extended and plain.startswith("ntjp.calls.v1@")
    assert extended == contract_version(NTJP_CALLS, Settings(contract_extensions=EXT))


@pytest.mark.parametrize(
    "text",
    [
        "ntjp.calls.v1:event_id=x",  # not an enum
        "nope.v1:operation=x",
        "ntjp.calls.v1 operation=x",
        "ntjp.calls.v1:operation=has space",
        "etj.units.v1:case_types=x",  # not at the top
    ],
)
def test_a_bad_extension_is_refused_at_start(text: str) -> None:
    with pytest.raises(ConfigError):
        extensions.parse(text, CONTRACT_TYPES)


def test_an_extension_leaves_the_published_contract_and_its_diff_alone() -> None:
    """The extension is this deployment's: the repository's contract files and
    the released copies stay as they are, so `statflow contract diff` between
    them finds nothing, with the extension configured or not."""
    before = export.schema_for("ntjp.calls.v1")
    decoder_for(NTJP_CALLS, Settings(contract_extensions=EXT))
    after = export.schema_for("ntjp.calls.v1")
    assert before == after
    released = json.loads((export.HERE / "released" / "ntjp.calls.v1.schema.json").read_text())
    verdict = compat.diff(released, after)
    assert verdict.compatible


@pytest.mark.parametrize(
    ("body", "parameter"),
    [
        ({}, "topic"),
        ({"topic": "hsa.units.v1"}, "topic"),  # reference topics: the producer resends
        ({"topic": "ntjp.calls.v1", "since": "19121212-1212"}, "since"),
        ({"topic": "ntjp.calls.v1", "until": 5}, "until"),
        ({"topic": "ntjp.calls.v1", "dry_run": "yes"}, "dry_run"),
        ({"topic": "ntjp.calls.v1", "partition": True}, "partition"),
        ({"topic": "ntjp.calls.v1", "offset": -1}, "offset"),
        ({"topic": "ntjp.calls.v1", "offset": 2**70}, "offset"),
        ({"topic": "ntjp.calls.v1", "reason": ["x"]}, "reason"),
        ({"topic": "ntjp.calls.v1", "AnnaSvensson": 1}, "(name)"),
    ],
)
def test_a_bad_replay_request_is_refused_without_echo(body: dict[str, Any], parameter: str) -> None:
    from reports.dead_letters import replay_request

    with pytest.raises(ParameterError) as caught:
        replay_request(body)
    assert caught.value.parameter == parameter
    assert "19121212" not in str(caught.value) and "AnnaSvensson" not in str(caught.value)


def test_a_replay_request_is_read() -> None:
    from reports.dead_letters import replay_request

    spec, sel, dry = replay_request(
        {"topic": "ntjp.calls.v1", "reason_class": "enum", "since": "2026-01-01", "dry_run": True}
    )
    assert (spec.name, sel.reason_class, dry) == ("ntjp.calls.v1", "enum", True)
    assert sel.since is not None and sel.since.year == 2026
