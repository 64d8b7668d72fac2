"""The synthetic SOB data: deterministic, test-series patients only, and
covering the situations the reports must get right."""

from __future__ import annotations

import datetime as dt
import json
import random
import re
from collections import defaultdict
from functools import cache
from typing import Any

import orjson
import pytest

from schemas.events import unit_decoder
from synth.personnummer import (
    is_test_personnummer,
    is_valid_personnummer,
    luhn_ok,
    test_personnummer,
    with_check_digit,
)
from synth.sob import (
    DATA_START,
    REASONS_FROM,
    STHLM,
    make_sob_world,
    make_transactions,
    malformed_sob,
    shuffled_with_duplicates,
)
from tests.oracle.sob import expected
from tests.oracle.sob_contract import sob_violation
from tests.oracle.sob_input import Catalogue

START = dt.datetime(2015, 10, 1, tzinfo=STHLM)
END = dt.datetime(2024, 1, 1, tzinfo=STHLM)


@cache
def data(seed: int = 11, n: int = 2500) -> list[dict[str, Any]]:
    return make_transactions(make_sob_world(seed), START, END, n, seed)


def test_known_numbers() -> None:
    assert luhn_ok("191212121212") and is_valid_personnummer("191212121212")
    assert not is_test_personnummer("191212121212")  # valid, but not the 98x/99x series
    assert not luhn_ok("191212121213")
    assert is_valid_personnummer(with_check_digit("19800172980"))  # coordination day 12 + 60
    for bad in ("19800230980" + "0", "1980013198", "19121212121A", "1912121212-12", "x" * 12):
        assert not is_valid_personnummer(bad)
    assert not is_valid_personnummer(with_check_digit("19800230980"))  # 30 Feb


@pytest.mark.parametrize("gender", ["F", "M", "U"])
def test_generated_numbers_are_valid_test_numbers(gender: str) -> None:
    rng = random.Random(1)
    for _ in range(500):
        born = dt.date(1900, 1, 1) + dt.timedelta(days=rng.randint(0, 45000))
        p = test_personnummer(rng, born, gender, coordination=rng.random() < 0.2)
        assert is_test_personnummer(p)
        assert p[:6] == f"{born.year:04d}{born.month:02d}"
        if gender != "U":
            assert int(p[10]) % 2 == (1 if gender == "M" else 0)


def test_deterministic() -> None:
    assert make_sob_world(3) == make_sob_world(3)
    a = make_transactions(make_sob_world(3), START, END, 300, 5)
    assert a == make_transactions(make_sob_world(3), START, END, 300, 5)
    assert a != make_transactions(make_sob_world(3), START, END, 300, 6)
    assert malformed_sob(40, 1) == malformed_sob(40, 1)
    assert shuffled_with_duplicates(a, 0.1, 2) == shuffled_with_duplicates(a, 0.1, 2)


def test_every_event_follows_the_contract() -> None:
    events = data()
    problems = [sob_violation(orjson.dumps(e)) for e in events]
    assert [p for p in problems if p] == []
    assert len({e["event_id"] for e in events}) == len(events)


def test_patients_are_test_series_only() -> None:
    ids = {e["patient_id"] for e in data() if "patient_id" in e}
    assert len(ids) > 200
    assert all(is_test_personnummer(p) for p in ids)
    assert any(int(p[6:8]) > 60 for p in ids)  # coordination numbers occur


def test_catalogue_records_follow_the_schema() -> None:
    decode = unit_decoder(65536)
    world = make_sob_world(11)
    for rec in world.units:
        decode(orjson.dumps(rec))
    catalogue = Catalogue(world.units)
    assert catalogue.county(world.missing_care_provider_id) == "00"
    assert catalogue.county("SE2321000164-SOB0") == "18"  # the corrected record wins
    cps = {p["care_provider_id"] for p in world.practitioners}
    assert set(world.care_providers) <= cps


def test_span_and_instants() -> None:
    events = data()
    instants = [dt.datetime.fromisoformat(e["occurred_at"]) for e in events]
    assert min(instants) >= START and max(instants) < END
    assert max(instants) - min(instants) > dt.timedelta(days=3 * 365)
    assert min(i.astimezone(STHLM).date() for i in instants) >= DATA_START
    offsets = {e["occurred_at"][-6:] if e["occurred_at"][-1] != "Z" else "Z" for e in events}
    assert {"Z", "+01:00", "+02:00"} <= offsets
    local = [i.astimezone(STHLM) for i in instants]
    assert any(t.hour == 0 and t.minute == 0 and t.second == 0 for t in local)
    utc = [i.astimezone(dt.UTC) for i in instants]
    month_end_2330 = [
        t for t in utc if (t.hour, t.minute) == (23, 30) and (t + dt.timedelta(days=1)).day == 1
    ]
    assert month_end_2330
    # the last Sundays of March and October
    dst_days = set()
    for y in range(2016, 2024):
        for m in (3, 10):
            d = dt.date(y, m, 31)
            dst_days.add(d - dt.timedelta(days=d.isoweekday() % 7))
    assert any(t.date() in dst_days for t in local)


def _cases(events: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    by: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for e in events:
        by[e["case_id"]].append(e)
    for v in by.values():
        v.sort(key=lambda e: dt.datetime.fromisoformat(e["occurred_at"]))
    return by


def test_case_lives_cover_the_rules() -> None:
    events = data()
    cases = _cases(events)
    process = {k: v for k, v in cases.items() if v[0]["case_type"] == "Process"}
    statuses = {k: [e["status"] for e in v] for k, v in process.items()}
    assert {e["case_type"] for e in events} == {"Process", "Meddelande", "Formulär"}
    assert any(s.count("Inprogress") > 1 and "Paused" in s for s in statuses.values())
    assert any("Done" in s and "Inprogress" not in s for s in statuses.values())
    assert any("Done" not in s for s in statuses.values())
    assert any(s.count("Done") > 1 for s in statuses.values())
    durations = [
        dt.datetime.fromisoformat(v[-1]["occurred_at"])
        - dt.datetime.fromisoformat(v[0]["occurred_at"])
        for v in process.values()
        if v[-1]["status"] == "Done"
    ]
    assert min(durations) < dt.timedelta(days=1) and max(durations) > dt.timedelta(days=90)
    # attributes are constant within a case, so per-case and per-transition readings agree
    for v in cases.values():
        for f in ("case_type", "process_name", "moment_name", "care_provider_id", "care_unit_id"):
            assert len({e[f] for e in v}) == 1
        assert len({e.get("patient_id") for e in v}) == 1
    practitioner_changes = sum(
        len({e["practitioner_id"] for e in v if "practitioner_id" in e}) > 1 for v in cases.values()
    )
    assert practitioner_changes > 0
    # transitions of one case never share an instant, so "first" is never a tie
    assert all(
        len({dt.datetime.fromisoformat(e["occurred_at"]) for e in v}) == len(v)
        for v in cases.values()
    )


def test_patient_fields() -> None:
    events = data()
    assert any("patient_gender" not in e for e in events)
    assert any(e.get("patient_gender") == "U" for e in events)
    assert any("patient_age" not in e and "patient_id" in e for e in events)
    assert any("patient_id" not in e for e in events)
    ages = [e["patient_age"] for e in events if "patient_age" in e]
    assert min(ages) <= 2 and max(ages) >= 95
    per_patient: dict[str, set[int]] = defaultdict(set)
    for e in events:
        if "patient_age" in e:
            per_patient[e["patient_id"]].add(e["patient_age"])
    assert any(len(a) > 1 for a in per_patient.values())  # birthdays between transitions
    assert sum(
        len({e["case_id"] for e in events if e.get("patient_id") == p}) > 1 for p in per_patient
    )
    instants = [
        (e["patient_id"], dt.datetime.fromisoformat(e["occurred_at"]))
        for e in events
        if "patient_id" in e
    ]
    assert len(set(instants)) == len(instants)  # a patient's latest transaction is never a tie


def test_closing_reasons_only_from_march_2022() -> None:
    events = data()
    with_reason = [e for e in events if "closing_reason" in e]
    assert with_reason and all(e["status"] == "Done" for e in with_reason)
    for e in with_reason:
        assert dt.datetime.fromisoformat(e["occurred_at"]).astimezone(STHLM).date() >= REASONS_FROM
    assert any(
        e["status"] == "Done"
        and "closing_reason" not in e
        and dt.datetime.fromisoformat(e["occurred_at"]).astimezone(STHLM).date() >= REASONS_FROM
        for e in events
    )


def test_unknown_care_provider_reaches_county_00() -> None:
    world = make_sob_world(11)
    rows, _ = expected(
        "moments-per-county",
        transactions=data(),
        units=world.units,
        practitioners=world.practitioners,
        date_from=dt.date(2015, 10, 1),
        date_to=dt.date(2023, 12, 31),
    )
    assert rows[-1]["county_code"] == "00" and rows[-1]["started"] > 0
    assert len(rows) == 22
    units_seen = {e["care_unit_id"] for e in data()}
    assert set(world.missing_unit_ids) <= units_seen


def test_shuffled_with_duplicates() -> None:
    events = data()[:500]
    out = shuffled_with_duplicates(events, 0.2, 1)
    assert 550 < len(out) < 650
    assert {e["event_id"] for e in out} == {e["event_id"] for e in events}
    assert [e["event_id"] for e in out] != [e["event_id"] for e in events][: len(out)]
    assert sorted(map(orjson.dumps, {orjson.dumps(e): e for e in out}.values())) == sorted(
        map(orjson.dumps, events)
    )


def test_malformed_messages_are_invalid_and_labels_carry_no_number() -> None:
    bad = malformed_sob(120, 4)
    assert len(bad) == 120
    for raw, label in bad:
        assert sob_violation(raw) is not None, label
        assert not re.search(r"\d{10}", label), label
        try:
            value = json.loads(raw)
        except ValueError:
            continue
        if isinstance(value, dict) and "patient_id" in value:
            assert str(value["patient_id"]) not in label
    labels = {label for _, label in bad}
    assert sum(label.startswith("patient_id") for label in labels) >= 6
    for needle in ("patient_age", "patient_gender", "case_id", "occurred_at", "not JSON"):
        assert any(needle in label for label in labels), needle
