"""Contract compatibility (schemas/compat.py) and the repository's contracts
against their released copies (schemas/released/)."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from schemas import compat, export
from schemas.topics import ALL_TOPICS

RELEASED = export.HERE / "released"


def calls() -> dict[str, Any]:
    return json.loads((export.HERE / "ntjp.calls.v1.schema.json").read_text("utf-8"))


def changed(edit: Any) -> compat.Verdict:
    old = calls()
    new = copy.deepcopy(old)
    edit(new)
    return compat.diff(old, new)


def test_an_identical_contract_is_compatible() -> None:
    v = compat.diff(calls(), calls())
    assert v.changes == () and v.compatible


def test_a_new_optional_field_breaks_nobody() -> None:
    v = changed(lambda s: s["properties"].update(channel={"type": "string"}))
    assert v.compatible
    assert [c.what for c in v.changes] == ["new optional field"]


def test_a_new_required_field_breaks_producers_only() -> None:
    def edit(s: dict[str, Any]) -> None:
        s["properties"]["channel"] = {"type": "string"}
        s["required"].append("channel")

    v = changed(edit)
    assert not v.compatible_for_producers and v.compatible_for_consumers


def test_a_removed_field_breaks_consumers() -> None:
    v = changed(lambda s: s["properties"].pop("consumer_id"))
    assert not v.compatible_for_consumers and v.compatible_for_producers
    assert v.changes[0].path == "consumer_id"


def test_a_removed_field_of_a_closed_object_breaks_producers_too() -> None:
    def edit(s: dict[str, Any]) -> None:
        s["properties"].pop("consumer_id")
        s["additionalProperties"] = False

    v = changed(edit)
    assert not v.compatible_for_consumers and not v.compatible_for_producers


def test_a_retyped_field_breaks_both() -> None:
    v = changed(lambda s: s["properties"].update(event_id={"type": "integer"}))
    assert not v.compatible_for_consumers and not v.compatible_for_producers
    assert any("retyped from string to integer" in c.what for c in v.changes)


def test_a_narrowed_enum_breaks_producers_and_a_widened_one_consumers() -> None:
    narrowed = changed(lambda s: s["properties"]["operation"]["enum"].remove("MakeBooking"))
    assert not narrowed.compatible_for_producers and narrowed.compatible_for_consumers
    assert "MakeBooking" in narrowed.changes[0].what
    widened = changed(lambda s: s["properties"]["operation"]["enum"].append("Ping"))
    assert widened.compatible_for_producers and not widened.compatible_for_consumers


def test_optional_and_required_moves() -> None:
    made_optional = changed(lambda s: s["required"].remove("operation"))
    assert made_optional.compatible_for_producers
    assert not made_optional.compatible_for_consumers
    made_required = changed(lambda s: s["required"].append("status"))
    assert not made_required.compatible_for_producers
    assert made_required.compatible_for_consumers


def test_a_nullable_field_made_non_null_breaks_producers() -> None:
    v = changed(lambda s: s["properties"].update(consumer_id={"type": "string"}))
    assert not v.compatible_for_producers
    assert any("no longer accepts null" in c.what for c in v.changes)


def test_bounds_tighter_break_producers_looser_consumers() -> None:
    tighter = changed(lambda s: s["properties"]["event_id"].update(maxLength=64))
    assert not tighter.compatible_for_producers and tighter.compatible_for_consumers
    looser = changed(lambda s: s["properties"]["event_id"].update(maxLength=256))
    assert looser.compatible_for_producers and not looser.compatible_for_consumers


def test_a_changed_default_breaks_both() -> None:
    v = changed(lambda s: s["properties"]["status"].update(default="error"))
    assert not v.compatible_for_producers and not v.compatible_for_consumers


def test_nested_structs_are_compared_through_defs() -> None:
    old = json.loads((export.HERE / "etj.units.v1.schema.json").read_text("utf-8"))
    new = copy.deepcopy(old)
    new["$defs"]["CaseTypeEntry"]["properties"]["kind"]["enum"].remove("own")
    v = compat.diff(old, new)
    assert [c.path for c in v.changes] == ["case_types[].kind"]
    assert not v.compatible_for_producers


def test_render_says_who_breaks() -> None:
    text = compat.render(changed(lambda s: s["properties"].pop("status")))
    assert "status: field removed [BREAKS consumers]" in text
    assert "producers: compatible" in text and "consumers: NOT compatible" in text


@pytest.mark.parametrize("spec", ALL_TOPICS, ids=lambda s: s.name)
def test_contracts_stay_compatible_with_their_release(spec: Any) -> None:
    """A breaking change needs a new topic version (`….v2`): a released
    `<topic>.schema.json` may only change compatibly (schemas/released/README.md)."""
    released = RELEASED / f"{spec.name}.schema.json"
    # a new topic is released with its first commit, so every topic is checked
    assert released.exists(), f"copy schemas/{released.name} into schemas/released/"
    verdict = compat.diff(json.loads(released.read_text("utf-8")), export.schema_for(spec.name))
    assert verdict.compatible, (
        f"{spec.name} changed incompatibly; release it as a new version instead:\n"
        + compat.render(verdict)
    )


def test_every_released_contract_is_still_declared_or_versioned_on() -> None:
    declared = {t.name for t in ALL_TOPICS}
    for path in RELEASED.glob("*.schema.json"):
        name = path.name.removesuffix(".schema.json")
        if name not in declared:
            base = name.rsplit(".v", 1)[0]
            assert any(t.startswith(base + ".v") for t in declared), (
                f"released contract {name} vanished without a newer version"
            )
