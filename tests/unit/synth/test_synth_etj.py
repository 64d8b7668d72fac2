"""The synthetic 1177 e-services data: deterministic, valid by the contract,
invalid where it means to be, and covering the situations the reports must get
right."""

from __future__ import annotations

import datetime as dt
import json
import re
import statistics
from collections import Counter, defaultdict
from functools import cache
from typing import Any

import orjson
import pytest

from schemas.etj import CARE_TYPES
from schemas.events import person_decoder
from schemas.topics import DECODERS
from synth.etj import (
    LOST_DATES_BEFORE,
    METHODS,
    OVERDUE_AFTER,
    STANDARD_CASE_TYPES,
    STHLM,
    TOPICS,
    current_units,
    make_accounts,
    make_cases,
    make_etj_world,
    make_logins,
    malformed_etj,
    shuffled_with_duplicates,
)
from tests.oracle.etj import expected, notes
from tests.oracle.etj_contract import etj_violation, looks_like_personnummer

START = dt.datetime(2022, 1, 1, tzinfo=STHLM)
END = dt.datetime(2025, 1, 1, tzinfo=STHLM)
SEED = 11


def at(e: dict[str, Any], name: str = "occurred_at") -> dt.datetime:
    return dt.datetime.fromisoformat(e[name]).astimezone(dt.UTC)


@cache
def world() -> Any:
    return make_etj_world(SEED)


@cache
def cases() -> list[dict[str, Any]]:
    return make_cases(world(), START, END, 3000, SEED)


@cache
def accounts() -> list[dict[str, Any]]:
    return make_accounts(world(), START, END, 600, SEED)


@cache
def logins() -> list[dict[str, Any]]:
    return make_logins(world(), START, END, 12000, SEED, accounts=accounts())


def by_case() -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for e in cases():
        out[e["case_id"]].append(e)
    for evs in out.values():
        evs.sort(key=at)
    return out


def first(evs: list[dict[str, Any]], kind: str) -> dt.datetime | None:
    return next((at(e) for e in evs if e["event"] == kind), None)


def test_deterministic() -> None:
    assert make_etj_world(3) == make_etj_world(3)
    assert make_etj_world(3) != make_etj_world(4)
    w = make_etj_world(3)
    a = make_cases(w, START, END, 200, 5)
    assert a == make_cases(w, START, END, 200, 5)
    assert a != make_cases(w, START, END, 200, 6)
    acc = make_accounts(w, START, END, 100, 5)
    assert acc == make_accounts(w, START, END, 100, 5)
    assert make_logins(w, START, END, 500, 5) == make_logins(w, START, END, 500, 5)
    assert make_logins(w, START, END, 500, 5, accounts=acc) == make_logins(
        w, START, END, 500, 5, accounts=acc
    )
    for topic in TOPICS:
        assert malformed_etj(topic, 30, 1) == malformed_etj(topic, 30, 1)
    assert shuffled_with_duplicates(a, 0.1, 2) == shuffled_with_duplicates(a, 0.1, 2)


def test_every_record_follows_the_contract() -> None:
    streams = {
        "etj.cases.v1": cases(),
        "etj.logins.v1": logins(),
        "etj.accounts.v1": accounts(),
        "etj.units.v1": world().units,
    }
    for topic, records in streams.items():
        problems = [etj_violation(topic, orjson.dumps(r)) for r in records]
        assert [p for p in problems if p] == [], topic
        decoder = DECODERS.get(topic)
        if decoder is not None:  # the production schema, once it exists, agrees
            decode = decoder(1 << 20)
            for r in records[:2000]:
                decode(orjson.dumps(r))
    for topic in ("etj.cases.v1", "etj.logins.v1"):
        ids = [e["event_id"] for e in streams[topic]]
        assert len(set(ids)) == len(ids)
    decode_person = person_decoder(65536)
    for p in world().persons:
        decode_person(orjson.dumps(p))
    assert not any(looks_like_personnummer(a["account_id"]) for a in accounts())


def test_units_cover_the_rules() -> None:
    w = world()
    units = current_units(w)
    assert len(w.units) > len(units)  # some are re-published
    last = {u["unit_id"]: i for i, u in enumerate(w.units)}
    earlier = [u for i, u in enumerate(w.units) if last[u["unit_id"]] != i]
    assert earlier and all(u != units[u["unit_id"]] for u in earlier)
    assert any(u["active"] is False for u in units.values())
    assert {u["care_type"] for u in units.values()} == set(CARE_TYPES)
    activated = {dt.date.fromisoformat(u["activated_on"]) for u in units.values()}
    assert {dt.date(2009, 5, 31), dt.date(2009, 6, 1)} <= activated
    assert sum(d < LOST_DATES_BEFORE for d in activated) >= 3
    kinds = Counter(e["kind"] for u in units.values() for e in u["case_types"])
    assert kinds["standard"] and kinds["own"] and kinds["integration"]
    assert any(not u["case_types"] for u in units.values())
    standard = {e["id"] for u in units.values() for e in u["case_types"] if e["kind"] == "standard"}
    assert standard == set(STANDARD_CASE_TYPES)
    assert any(not e["active"] for u in units.values() for e in u["case_types"])
    assert not set(w.missing_unit_ids) & set(units)


def test_case_lives_cover_the_rules() -> None:
    w = world()
    units = current_units(w)
    lives = by_case()
    assert len(lives) > 2500
    events = Counter(e["event"] for e in cases())
    assert set(events) == {"received", "assigned", "started", "answered", "closed"}
    reassigned = repeated = never_answered = closed_unanswered = 0
    late_answer = exact_answer = exact_close = second_late = 0
    for evs in lives.values():
        kinds = [e["event"] for e in evs]
        assignees = [e.get("assignee_id") for e in evs if e["event"] == "assigned"]
        reassigned += len(set(assignees)) > 1
        repeated += any(kinds.count(k) > 1 for k in kinds if k != "assigned")
        # attributes are constant within a case; no two events share an instant
        for f in ("unit_id", "case_type", "case_type_kind"):
            assert len({e[f] for e in evs}) == 1
        assert len({at(e) for e in evs}) == len(evs)
        r, a, c = first(evs, "received"), first(evs, "answered"), first(evs, "closed")
        never_answered += a is None and c is None
        closed_unanswered += a is None and c is not None
        if r is not None and a is not None:
            late_answer += a - r > OVERDUE_AFTER
            exact_answer += a - r == OVERDUE_AFTER
            second_late += a - r == OVERDUE_AFTER + dt.timedelta(seconds=1)
        if r is not None and c is not None:
            exact_close += c - r == OVERDUE_AFTER
        unit = evs[0]["unit_id"]
        if unit in units:
            day = at(evs[0]).astimezone(STHLM).date()
            assert day >= dt.date.fromisoformat(units[unit]["activated_on"])
            configured = {e["id"] for e in units[unit]["case_types"]}
            assert evs[0]["case_type"] in configured
    assert min(reassigned, repeated, never_answered, closed_unanswered, late_answer) >= 10
    assert min(exact_answer, exact_close, second_late) >= 1
    assert {e["unit_id"] for e in cases()} >= set(w.missing_unit_ids)
    assert set(w.missing_person_ids) & {e.get("assignee_id") for e in cases()}
    assert any(e["event"] == "assigned" for e in cases())


def test_handling_times_are_realistic() -> None:
    gaps: dict[str, list[float]] = defaultdict(list)
    for evs in by_case().values():
        r = first(evs, "received")
        for kind in ("assigned", "answered", "closed"):
            t = first(evs, kind)
            if r is not None and t is not None:
                gaps[kind].append((t - r).total_seconds() / 3600)
    assert 1 < statistics.median(gaps["assigned"]) < 24
    assert 10 < statistics.median(gaps["answered"]) < 120
    assert 10 < statistics.median(gaps["closed"]) < 200
    assert max(gaps["closed"]) > 500


def test_boundaries_at_month_ends_and_dst() -> None:
    """Open cases received exactly 240 h (± 1 s) before a Stockholm month start,
    also right after a DST change, where that is 239 or 241 wall-clock hours."""
    starts = []
    for evs in by_case().values():
        r = first(evs, "received")
        if r is None:
            continue
        for delta in (0, -1, 1):
            end = (r + OVERDUE_AFTER + dt.timedelta(seconds=delta)).astimezone(STHLM)
            if (end.day, end.hour, end.minute, end.second, end.microsecond) == (1, 0, 0, 0, 0):
                starts.append((end.month, delta))
    assert {m for m, _ in starts} & {4, 11}
    assert {d for _, d in starts} == {-1, 0, 1}
    # windows containing a DST change
    spans_dst = 0
    for evs in by_case().values():
        r, a = first(evs, "received"), first(evs, "answered")
        if r is not None and a is not None:
            lo, hi = r.astimezone(STHLM), a.astimezone(STHLM)
            spans_dst += lo.utcoffset() != hi.utcoffset() and a - r < OVERDUE_AFTER * 2
    assert spans_dst >= 10


def test_span_offsets_and_rhythm() -> None:
    instants = [at(e) for e in cases()] + [at(e) for e in logins()]
    assert min(instants) >= START and max(instants) < END
    offsets = {e["occurred_at"][-6:] if e["occurred_at"][-1] != "Z" else "Z" for e in cases()}
    assert {"Z", "+01:00", "+02:00"} <= offsets
    hours = Counter(at(e).astimezone(STHLM).hour for e in logins())
    assert hours[9] > 4 * hours[3]
    local = [t.astimezone(STHLM) for t in instants]
    assert any((t.hour, t.minute, t.second) == (0, 0, 0) for t in local)


def test_accounts_and_logins() -> None:
    latest = {a["account_id"]: a for a in accounts()}
    deleted = [a for a in latest.values() if a.get("deleted_at")]
    assert deleted
    # a deletion re-publishes the account: two records, the latest with deleted_at
    per_id = Counter(a["account_id"] for a in accounts())
    assert all(per_id[a["account_id"]] == 2 for a in deleted)
    assert any(at(a, "created_at") < START for a in latest.values())
    assert any(
        (at(a, "deleted_at").astimezone(STHLM).hour, at(a, "deleted_at").minute) == (0, 0)
        for a in deleted
    )
    assert {a["actor"] for a in latest.values()} == {"resident", "staff"}

    seen: dict[str, set[str]] = defaultdict(set)
    instants: set[tuple[str, dt.datetime]] = set()
    for e in logins():
        a = latest[e["account_id"]]
        assert e["actor"] == a["actor"]
        assert at(a, "created_at") <= at(e)
        if a.get("deleted_at"):
            assert at(e) < at(a, "deleted_at")
        if "county_code" in e:
            seen[e["account_id"]].add(e["county_code"])
        assert (e["account_id"], at(e)) not in instants
        instants.add((e["account_id"], at(e)))
    assert any(len(c) > 1 for c in seen.values())  # moved between logins
    assert any("county_code" not in e and e["actor"] == "resident" for e in logins())
    assert set(latest) - {e["account_id"] for e in logins()}  # never logged in
    methods = Counter((e["actor"], e["method"]) for e in logins())
    assert {m for (actor, m) in methods if actor == "resident"} >= {
        "bankid",
        "freja",
        "password",
        "unknown",
    }
    assert methods[("staff", "siths")] > methods[("staff", "password")]
    assert {m for _, m in methods} <= set(METHODS)


def test_the_oracle_sees_every_situation_in_generated_data() -> None:
    w = world()
    kw: dict[str, Any] = {
        "cases": cases(),
        "logins": logins(),
        "accounts": accounts(),
        "units": w.units,
        "persons": w.persons,
        "date_from": dt.date(2023, 1, 1),
        "date_to": dt.date(2023, 12, 31),
    }
    acc = expected("accounts", **kw)
    assert acc[-1]["county_code"] == "00" and notes("accounts", acc) == ["withheld"]
    times = expected("handling-times", **kw)
    assert sum(r["overdue"] for r in times) > 0
    assert all(r["hours_received_to_closed"] is not None for r in times[:12] if r["closed"])
    unanswered = expected(
        "unanswered-cases", caller={"role": "region_admin", "county_code": "01"}, **kw
    )
    assert unanswered and any(r["assigned_at"] for r in unanswered)
    per_unit = expected("cases-per-unit", **kw)
    assert any(r["unit_name"] is None for r in per_unit)  # the uncatalogued units
    connected = expected("connected-units", **{**kw, "date_from": dt.date(2009, 1, 1)})
    assert notes("connected-units", connected) == ["activation-date-lost"]
    shuffled = shuffled_with_duplicates(cases(), 0.1, 1)
    assert expected("case-status", **{**kw, "cases": shuffled}) == expected("case-status", **kw)


def test_shuffled_with_duplicates() -> None:
    events = cases()[:500]
    out = shuffled_with_duplicates(events, 0.2, 1)
    assert 550 < len(out) < 650
    assert {e["event_id"] for e in out} == {e["event_id"] for e in events}
    assert [e["event_id"] for e in out][:50] != [e["event_id"] for e in events][:50]


@pytest.mark.parametrize("topic", TOPICS)
def test_malformed_messages_are_invalid(topic: str) -> None:
    bad = malformed_etj(topic, 80, 4)
    assert len(bad) == 80
    decoder = DECODERS.get(topic)
    for raw, label in bad:
        assert etj_violation(topic, raw) is not None, label
        assert not re.search(r"\d{6}", label), label
        if decoder is not None:
            with pytest.raises(Exception):  # noqa: B017 - any refusal will do
                decoder(1 << 20)(raw)
        try:
            value = json.loads(raw)
        except ValueError:
            continue
        if isinstance(value, dict) and value.get("account_id"):
            assert str(value["account_id"]) not in label
    labels = {label for _, label in bad}
    assert any(label.startswith("not JSON") for label in labels)
    if topic in ("etj.logins.v1", "etj.accounts.v1"):
        assert any("personal identity number" in label for label in labels)


def test_unknown_topic_is_refused() -> None:
    with pytest.raises(ValueError):
        malformed_etj("etj.nothing.v1", 1, 1)
