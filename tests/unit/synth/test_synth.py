"""The web-booking generator: deterministic, contract-valid, and shaped as promised.

Validity is judged twice: by a plain reading of CONTRACT.md written here (so
the generator is not only checked by the code it is meant to test) and, for
valid records, by the production decoders.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections import Counter
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from core.errors import ValidationError
from schemas.counties import COUNTIES
from schemas.events import call_decoder, population_decoder, routing_decoder, unit_decoder
from synth.ntjp import make_calls, with_duplicates
from synth.ntjp_invalid import MALFORMED_LABELS, malformed_messages
from synth.ntjp_world import BOOKING_CONTRACTS, World, make_world
from synth.population import population_records

STHLM = ZoneInfo("Europe/Stockholm")
OPERATIONS = {
    "MakeBooking",
    "CancelBooking",
    "UpdateBooking",
    "GetSubjectOfCareSchedule",
    "GetAvailableDates",
    "GetAvailableTimeslots",
    "GetAllTimeTypes",
}
MAX_BYTES = 64 * 1024
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
START = dt.datetime(2023, 1, 1, tzinfo=dt.UTC)
END = dt.datetime(2025, 4, 1, tzinfo=dt.UTC)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def rfc3339_problem(value: Any) -> str | None:
    if not isinstance(value, str) or not RFC3339.match(value):
        return "not an RFC 3339 date-time with offset"
    try:
        dt.datetime.fromisoformat(value)
    except ValueError:
        return "impossible date or time"
    return None


def contract_problem(raw: bytes) -> str | None:
    """What makes `raw` an invalid `ntjp.calls.v1` value, per CONTRACT.md; None if valid."""
    if len(raw) > MAX_BYTES:
        return "larger than 64 KiB"
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return "not UTF-8"
    try:
        value = json.loads(text, parse_constant=_reject_constant)
    except ValueError:
        return "not JSON"
    if not isinstance(value, dict):
        return "not a JSON object"
    for name in ("event_id", "occurred_at", "operation", "logical_address"):
        if name not in value:
            return f"missing {name}"
        if not isinstance(value[name], str):
            return f"{name} not a string"
    if not 1 <= len(value["event_id"]) <= 128:
        return "event_id not 1–128 chars"
    if (why := rfc3339_problem(value["occurred_at"])) is not None:
        return f"occurred_at {why}"
    if value["operation"] not in OPERATIONS:
        return "unknown operation"
    if not value["logical_address"]:
        return "empty logical_address"
    if "consumer_id" in value and (
        not isinstance(value["consumer_id"], str) or not value["consumer_id"]
    ):
        return "consumer_id not an HSA-id"
    if "status" in value and value["status"] not in ("ok", "error"):
        return "unknown status"
    return None


@pytest.fixture(scope="module")
def world() -> World:
    return make_world(seed=11)


@pytest.fixture(scope="module")
def calls(world: World) -> list[dict[str, Any]]:
    return make_calls(world, START, END, 20_000, seed=11)


def _bytes(record: dict[str, Any]) -> bytes:
    return json.dumps(record, ensure_ascii=False).encode()


# --- determinism -----------------------------------------------------------------


def test_same_seed_same_output(world: World, calls: list[dict[str, Any]]) -> None:
    assert make_world(seed=11) == world
    assert make_calls(make_world(seed=11), START, END, 20_000, seed=11) == calls
    assert with_duplicates(calls, 0.05, seed=3) == with_duplicates(calls, 0.05, seed=3)
    assert malformed_messages(100, seed=4) == malformed_messages(100, seed=4)
    assert make_world(seed=12) != world
    assert make_calls(world, START, END, 100, seed=12) != make_calls(world, START, END, 100, 13)


# --- reference data ----------------------------------------------------------------


def test_population_is_scb_like() -> None:
    records = population_records()
    assert len(records) == 21 * 10
    decode = population_decoder(MAX_BYTES)
    for r in records:
        decode(_bytes(r))
    by = {(r["county_code"], r["year"]): r["population"] for r in records}
    assert 2_250_000 < by[("01", 2017)] < by[("01", 2024)] < 2_500_000
    assert 55_000 < by[("09", 2024)] < 65_000  # Gotland
    for year in range(2017, 2027):
        total = sum(by[(c, year)] for c in COUNTIES)
        assert 9_900_000 < total < 10_700_000
    assert population_records([2020]) == [r for r in records if r["year"] == 2020]


def test_catalogue_records_follow_the_contract(world: World) -> None:
    decode = unit_decoder(MAX_BYTES)
    for r in world.units + world.unit_moves:
        decode(_bytes(r))
        assert r["county_code"] in COUNTIES
        assert rfc3339_problem(r["updated_at"]) is None
    providers = {r["hsa_id"]: r for r in world.units if r["kind"] == "care_provider"}
    units = [r for r in world.units if r["kind"] == "unit"]
    assert len(providers) == 30 and len(units) == 300
    assert len({r["hsa_id"] for r in world.units}) == len(world.units)
    assert len({u["name"] for u in units}) == len(units)
    assert all(u["care_provider_id"] in providers for u in units)
    counties_of: dict[str, set[str]] = {}
    for u in units:
        counties_of.setdefault(u["care_provider_id"], set()).add(u["county_code"])
    regions = [cp for cp, r in providers.items() if r["name"].startswith("Region")]
    assert all(len(counties_of.get(cp, set())) <= 1 for cp in regions)
    assert sum(len(cs) > 1 for cs in counties_of.values()) >= 2  # private, spanning
    per_county = Counter(u["county_code"] for u in units)
    assert set(per_county) == set(COUNTIES)
    assert per_county.most_common(1)[0][0] == "01"  # spread by population


def test_one_unit_moves_county_with_a_later_record(world: World) -> None:
    first = next(u for u in world.units if u["hsa_id"] == world.moved_unit)
    (later,) = world.unit_moves
    assert later["hsa_id"] == world.moved_unit
    assert later["county_code"] != first["county_code"]
    t = dt.datetime.fromisoformat
    assert t(later["updated_at"]) > t(first["updated_at"])


def test_unknown_addresses_are_not_catalogued(world: World) -> None:
    ids = {u["hsa_id"] for u in world.units + world.unit_moves}
    assert world.unknown_addresses and not ids & set(world.unknown_addresses)


def test_routing_has_the_promised_mix(world: World) -> None:
    decode = routing_decoder(MAX_BYTES)
    for r in world.routing:
        decode(_bytes(r))
    units = [u["hsa_id"] for u in world.units if u["kind"] == "unit"]
    ops: dict[str, dict[str, dict[str, Any]]] = {}
    for r in world.routing:
        ops.setdefault(r["logical_address"], {})[r["operation"]] = r
    full_open = [
        a
        for a in units
        if all(op in ops.get(a, {}) and ops[a][op]["active_to"] is None for op in BOOKING_CONTRACTS)
    ]
    lacking_one = [a for a in units if len(set(BOOKING_CONTRACTS) & set(ops.get(a, {}))) == 3]
    ended = [
        a
        for a in units
        if any(
            r["active_to"] is not None and r["active_to"] < "2025-07-01"
            for r in ops.get(a, {}).values()
        )
    ]
    assert len(full_open) > 0.6 * len(units)
    assert lacking_one and ended
    for op in ("CancelBooking", "UpdateBooking", "GetSubjectOfCareSchedule"):
        assert any(op in o for o in ops.values())


# --- calls -------------------------------------------------------------------------


def test_every_call_follows_the_contract(calls: list[dict[str, Any]]) -> None:
    decode = call_decoder(MAX_BYTES)
    assert len(calls) == 20_000
    assert len({c["event_id"] for c in calls}) == len(calls)
    for c in calls:
        raw = _bytes(c)
        assert contract_problem(raw) is None, c
        decode(raw)
        assert START <= dt.datetime.fromisoformat(c["occurred_at"]) < END


def test_calls_are_shaped_like_real_traffic(world: World, calls: list[dict[str, Any]]) -> None:
    ops = Counter(c["operation"] for c in calls)
    assert ops.most_common(1)[0][0] == "GetSubjectOfCareSchedule"
    assert ops["GetAvailableTimeslots"] > ops["MakeBooking"] > ops["CancelBooking"]
    assert ops["CancelBooking"] > ops["UpdateBooking"] > 0
    local = [dt.datetime.fromisoformat(c["occurred_at"]).astimezone(STHLM) for c in calls]
    hours = Counter(t.hour for t in local)
    assert hours[9] > 10 * hours[3]
    weekdays = Counter(t.isoweekday() for t in local)
    assert weekdays[6] < 0.6 * weekdays[2] and weekdays[7] < 0.7 * weekdays[2]
    suffixes = Counter(
        "Z" if c["occurred_at"].endswith("Z") else c["occurred_at"][-6:] for c in calls
    )
    assert suffixes["Z"] > 0.3 * len(calls)
    assert suffixes["+01:00"] > 0.1 * len(calls) and suffixes["+02:00"] > 0.1 * len(calls)
    unknown = sum(c["logical_address"] in world.unknown_addresses for c in calls)
    assert 0.005 * len(calls) < unknown < 0.03 * len(calls)
    errors = sum(c.get("status") == "error" for c in calls)
    assert 0.01 * len(calls) < errors < 0.03 * len(calls)
    assert any("consumer_id" in c for c in calls) and any("consumer_id" not in c for c in calls)
    assert sum(c["logical_address"] == world.moved_unit for c in calls) > 0


def test_calls_hit_stockholm_midnights_and_dst_days(calls: list[dict[str, Any]]) -> None:
    local = [dt.datetime.fromisoformat(c["occurred_at"]).astimezone(STHLM) for c in calls]
    midnights = [t for t in local if (t.hour, t.minute, t.second, t.microsecond) == (0, 0, 0, 0)]
    assert any(t.day == 1 for t in midnights)
    assert any(t.time() >= dt.time(23, 59, 59) for t in local)
    dst_days = {dt.date(2023, 3, 26), dt.date(2023, 10, 29), dt.date(2024, 3, 31)}
    dst_days |= {dt.date(2024, 10, 27)}
    assert dst_days <= {t.date() for t in local}
    # A UTC instant late on a month's last day that is the next month in Stockholm.
    assert any(
        t.day == 1 and dt.datetime.fromisoformat(c["occurred_at"]).astimezone(dt.UTC).day != 1
        for t, c in zip(local, calls, strict=True)
    )


def test_a_one_second_window_works(world: World) -> None:
    now = dt.datetime(2026, 1, 1, 3, 0, tzinfo=dt.UTC)  # a quiet hour
    got = make_calls(world, now - dt.timedelta(seconds=1), now, 20, seed=1)
    assert len(got) == 20


def test_duplicates_are_exact_copies(calls: list[dict[str, Any]]) -> None:
    out = with_duplicates(calls, 0.03, seed=12)
    assert len(out) == len(calls) + round(0.03 * len(calls))
    by_id = {c["event_id"]: c for c in calls}
    assert {c["event_id"] for c in out} == set(by_id)
    assert all(c == by_id[c["event_id"]] for c in out)
    assert out[: len(calls)] != calls  # shuffled


# --- malformed messages ----------------------------------------------------------


def test_every_malformed_message_is_invalid() -> None:
    bad = malformed_messages(1_100, seed=13)
    assert len(bad) == 1_100
    assert {label for _, label in bad} == set(MALFORMED_LABELS)
    for raw, label in bad:
        assert isinstance(raw, bytes)
        assert contract_problem(raw) is not None, (label, raw[:200])


@pytest.mark.parametrize("label", MALFORMED_LABELS)
def test_the_production_decoder_rejects_every_kind(label: str) -> None:
    decode = call_decoder(MAX_BYTES)
    for raw, got in malformed_messages(len(MALFORMED_LABELS) * 3, seed=5):
        if got == label:
            with pytest.raises(ValidationError):
                decode(raw)
