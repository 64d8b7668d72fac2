"""The web-booking oracle against small cases computed by hand.

The oracle is what the ClickHouse reports are judged by, so its own bucketing
(Stockholm days across DST, leap days, month ends written in UTC), its
deduplication and its reading of the current catalogue are checked here on
a handful of calls whose answers can be worked out on paper.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from schemas.counties import COUNTIES
from tests.oracle.ntjp import current_catalogue, expected

CP_STHLM = "SE2321000016-CP01"
CP_SKANE = "SE2321000255-CP01"
NORRMALM = "SE2321000016-U001"  # 01, all four booking contracts
LUND = "SE2321000255-U001"  # 12, GetAllTimeTypes missing
MOVED = "SE2321000016-U002"  # 01 at first, 12 in the current catalogue
GONE = "SE2321000016-U003"  # deleted from the catalogue
UNKNOWN = "SE2321000016-ZZZZ"  # never catalogued
OLD = "2017-01-01T00:00:00Z"

UNITS: list[dict[str, Any]] = [
    {"hsa_id": CP_STHLM, "name": "Region Stockholm", "kind": "care_provider",
     "county_code": "01", "updated_at": OLD},
    {"hsa_id": CP_SKANE, "name": "Region Skåne", "kind": "care_provider",
     "county_code": "12", "updated_at": OLD},
    {"hsa_id": NORRMALM, "name": "Vårdcentral Norrmalm", "kind": "unit",
     "care_provider_id": CP_STHLM, "county_code": "01", "updated_at": OLD},
    {"hsa_id": LUND, "name": "Vårdcentral Lund", "kind": "unit",
     "care_provider_id": CP_SKANE, "county_code": "12", "updated_at": OLD},
    {"hsa_id": MOVED, "name": "Vårdcentral Täby", "kind": "unit",
     "care_provider_id": CP_STHLM, "county_code": "01", "updated_at": OLD},
    {"hsa_id": GONE, "name": "Vårdcentral Kista", "kind": "unit",
     "care_provider_id": CP_STHLM, "county_code": "01", "updated_at": OLD},
    # later records
    {"hsa_id": MOVED, "name": "Vårdcentral Lund Norra", "kind": "unit",
     "care_provider_id": CP_SKANE, "county_code": "12",
     "updated_at": "2024-05-14T09:42:10+02:00"},
    {"hsa_id": GONE, "deleted": True, "updated_at": "2023-01-01T00:00:00Z"},
]  # fmt: skip

FOUR = ("GetAvailableDates", "GetAvailableTimeslots", "MakeBooking", "GetAllTimeTypes")


def _route(address: str, op: str, start: str, end: str | None = None) -> dict[str, Any]:
    return {"logical_address": address, "operation": op, "active_from": start, "active_to": end}


ROUTING: list[dict[str, Any]] = [
    # superseded by the record for the same key further down
    _route(NORRMALM, "MakeBooking", "2018-01-01", "2019-01-01"),
    *(_route(NORRMALM, op, "2020-01-01") for op in FOUR),
    *(_route(LUND, op, "2020-01-01") for op in FOUR[:3]),
    _route(LUND, "GetSubjectOfCareSchedule", "2020-01-01"),
    *(_route(MOVED, op, "2020-01-01", "2024-02-29") for op in FOUR),
]
POPULATION = [
    {"county_code": "01", "year": 2023, "population": 1000},
    {"county_code": "01", "year": 2024, "population": 2000},
    {"county_code": "12", "year": 2023, "population": 500},
    {"county_code": "12", "year": 2024, "population": 400},
]


def call(event_id: str, at: str, op: str, address: str = NORRMALM) -> dict[str, Any]:
    return {"event_id": event_id, "occurred_at": at, "operation": op, "logical_address": address}


def run(
    report: str, calls: list[dict[str, Any]], date_from: str, date_to: str, **kw: Any
) -> list[dict[str, Any]]:
    return expected(
        report,
        calls=calls,
        units=UNITS,
        routing=ROUTING,
        population=POPULATION,
        date_from=dt.date.fromisoformat(date_from),
        date_to=dt.date.fromisoformat(date_to),
        **kw,
    )


def cells(rows: list[dict[str, Any]], *keys: str, value: str = "events") -> dict[Any, Any]:
    return {tuple(r[k] for k in keys) if len(keys) > 1 else r[keys[0]]: r[value] for r in rows}


# --- Stockholm days -------------------------------------------------------------


SPRING = [  # Sunday 2024-03-31, clocks forward at 01:00Z
    call("s1", "2024-03-30T23:30:00Z", "MakeBooking"),  # 00:30 CET Sunday
    call("s2", "2024-03-31T21:59:59Z", "MakeBooking"),  # 23:59:59 CEST Sunday
    call("s3", "2024-03-31T22:00:00Z", "MakeBooking"),  # 00:00 CEST Monday 1 April
    call("s4", "2024-03-31T03:30:00+02:00", "CancelBooking"),  # 01:30Z, Sunday
]


def test_spring_dst_day_splits_months_and_weekdays_at_stockholm_midnight() -> None:
    rows = run("events-per-month", SPRING, "2024-03-01", "2024-04-30")
    assert cells(rows, "month", "activity") == {
        ("2024-03", "MakeBooking"): 2,
        ("2024-03", "CancelBooking"): 1,
        ("2024-03", "UpdateBooking"): 0,
        ("2024-04", "MakeBooking"): 1,
        ("2024-04", "CancelBooking"): 0,
        ("2024-04", "UpdateBooking"): 0,
    }
    rows = run("events-per-weekday", SPRING, "2024-03-31", "2024-04-01")
    assert len(rows) == 7 * 4
    book = {r["weekday"]: r for r in rows if r["activity"] == "MakeBooking"}
    assert (book[7]["events"], book[7]["days"], book[7]["per_day"]) == (2, 1, 2.0)
    assert (book[1]["events"], book[1]["days"], book[1]["per_day"]) == (1, 1, 1.0)
    assert (book[3]["events"], book[3]["days"], book[3]["per_day"]) == (0, 0, None)


AUTUMN = [  # Sunday 2024-10-27, clocks back at 01:00Z: 02:00–03:00 local twice
    call("a1", "2024-10-26T21:59:59Z", "GetSubjectOfCareSchedule"),  # Saturday 23:59:59
    call("a2", "2024-10-26T22:00:00Z", "GetSubjectOfCareSchedule"),  # Sunday 00:00 CEST
    call("a3", "2024-10-27T02:30:00+02:00", "GetSubjectOfCareSchedule"),  # 00:30Z
    call("a4", "2024-10-27T02:30:00+01:00", "GetSubjectOfCareSchedule"),  # 01:30Z
    call("a5", "2024-10-27T22:59:59.999Z", "GetSubjectOfCareSchedule"),  # Sunday 23:59:59.999
    call("a6", "2024-10-27T23:00:00Z", "GetSubjectOfCareSchedule"),  # Monday 00:00 CET
]


def test_autumn_dst_day_has_25_hours_all_on_sunday() -> None:
    rows = run("events-per-weekday", AUTUMN, "2024-10-26", "2024-10-28")
    mine = {r["weekday"]: r["events"] for r in rows if r["activity"] == "GetSubjectOfCareSchedule"}
    assert mine == {1: 1, 2: 0, 3: 0, 4: 0, 5: 0, 6: 1, 7: 4}
    rows = run("my-bookings-per-month", AUTUMN, "2024-10-27", "2024-10-27")
    assert rows == [{"month": "2024-10", "events": 4}]


LEAP = [
    call("l1", "2024-02-29T12:00:00+01:00", "UpdateBooking"),
    call("l2", "2024-02-29T23:30:00Z", "UpdateBooking"),  # 00:30 on 1 March
    call("l3", "2024-02-28T23:00:00Z", "UpdateBooking"),  # 00:00 on the leap day
]


def test_leap_day_is_a_thursday_of_february() -> None:
    rows = run("events-per-weekday", LEAP, "2024-02-29", "2024-02-29")
    upd = {r["weekday"]: (r["events"], r["days"]) for r in rows if r["activity"] == "UpdateBooking"}
    assert upd == {1: (0, 0), 2: (0, 0), 3: (0, 0), 4: (2, 1), 5: (0, 0), 6: (0, 0), 7: (0, 0)}
    rows = run("events-per-month", LEAP, "2024-02-01", "2024-03-31")
    assert cells(rows, "month", "activity")[("2024-02", "UpdateBooking")] == 2
    assert cells(rows, "month", "activity")[("2024-03", "UpdateBooking")] == 1


def test_2330z_on_the_last_day_of_a_month_is_the_next_month_in_stockholm() -> None:
    calls = [
        call("m1", "2024-01-31T23:30:00Z", "CancelBooking"),  # 00:30 on 1 February
        call("m2", "2024-01-31T22:59:59+00:00", "CancelBooking"),  # 23:59:59 on 31 January
    ]
    jan = run("events-per-month", calls, "2024-01-01", "2024-01-31")
    assert cells(jan, "month", "activity")[("2024-01", "CancelBooking")] == 1
    both = run("events-per-month", calls, "2024-01-01", "2024-02-29")
    assert cells(both, "month", "activity")[("2024-02", "CancelBooking")] == 1
    # In summer 22:30Z on the last day is already past midnight.
    summer = [call("m3", "2024-06-30T22:30:00Z", "CancelBooking")]
    rows = run("events-per-month", summer, "2024-06-01", "2024-07-31")
    assert cells(rows, "month", "activity")[("2024-07", "CancelBooking")] == 1


def test_a_partial_month_counts_only_its_days_in_the_period() -> None:
    calls = [
        call("p1", "2024-03-14T12:00:00Z", "MakeBooking"),
        call("p2", "2024-03-15T12:00:00Z", "MakeBooking"),
        call("p3", "2024-11-03T22:59:59Z", "MakeBooking"),  # 23:59:59 on 3 November
        call("p4", "2024-11-03T23:00:00Z", "MakeBooking"),  # 4 November
    ]
    rows = run("events-per-month", calls, "2024-03-15", "2024-11-03")
    book = {r["month"]: r["events"] for r in rows if r["activity"] == "MakeBooking"}
    assert list(book) == [f"2024-{m:02d}" for m in range(3, 12)]
    assert book["2024-03"] == 1 and book["2024-11"] == 1 and sum(book.values()) == 2


# --- deduplication, status, clipping --------------------------------------------


def test_a_republished_event_counts_once_and_errors_count() -> None:
    e = call("dup", "2024-05-02T08:00:00Z", "MakeBooking")
    err = {**call("err", "2024-05-02T08:01:00Z", "MakeBooking"), "status": "error"}
    rows = run("share-per-service", [e, dict(e), err, dict(e)], "2024-05-01", "2024-05-31")
    assert rows == [
        {"activity": "MakeBooking", "events": 2, "share": 1.0},
        {"activity": "CancelBooking", "events": 0, "share": 0.0},
        {"activity": "UpdateBooking", "events": 0, "share": 0.0},
    ]


def test_share_is_none_without_events() -> None:
    rows = run("share-per-service", [], "2024-05-01", "2024-05-31")
    assert [r["share"] for r in rows] == [None, None, None]


def test_from_before_the_data_begins_is_clipped_to_2017_10_01() -> None:
    calls = [call("c1", "2017-09-30T12:00:00Z", "GetSubjectOfCareSchedule")]
    rows = run("my-bookings-per-month", calls, "2017-01-01", "2017-12-31")
    assert rows == [
        {"month": "2017-10", "events": 0},
        {"month": "2017-11", "events": 0},
        {"month": "2017-12", "events": 0},
    ]
    # 2017-10-01 is a Sunday, so 1–8 October holds two Sundays.
    rows = run("events-per-weekday", calls, "2017-01-01", "2017-10-08")
    days = {r["weekday"]: r["days"] for r in rows}
    assert days == {1: 1, 2: 1, 3: 1, 4: 1, 5: 1, 6: 1, 7: 2}
    assert sum(r["events"] for r in rows) == 0


# --- catalogue, counties, population, routing -----------------------------------


def test_current_catalogue_compares_instants_and_honours_deletion() -> None:
    a = {"hsa_id": "X", "name": "a", "county_code": "01", "updated_at": "2024-05-14T08:30:00Z"}
    # "09:00+02:00" sorts after "08:30Z" as text but is 07:00Z: the older record.
    b = {"hsa_id": "X", "name": "b", "county_code": "12", "updated_at": "2024-05-14T09:00:00+02:00"}
    assert current_catalogue([a, b])["X"]["name"] == "a"
    assert current_catalogue([b, a])["X"]["name"] == "a"
    cat = current_catalogue(UNITS)
    assert cat[MOVED]["county_code"] == "12" and GONE not in cat


BOOKINGS = [
    call("b1", "2023-08-01T10:00:00Z", "MakeBooking", NORRMALM),
    call("b2", "2023-09-01T10:00:00Z", "MakeBooking", NORRMALM),
    call("b3", "2023-12-31T23:30:00Z", "MakeBooking", NORRMALM),  # 2024 in Stockholm
    call("b4", "2023-10-01T10:00:00Z", "MakeBooking", LUND),
    call("b5", "2024-01-10T10:00:00Z", "MakeBooking", MOVED),
    call("b6", "2024-06-10T10:00:00Z", "MakeBooking", MOVED),
    call("b7", "2024-06-11T10:00:00Z", "MakeBooking", UNKNOWN),
    call("b8", "2024-06-12T10:00:00Z", "MakeBooking", GONE),
    call("b9", "2024-03-01T10:00:00Z", "MakeBooking", NORRMALM),
    call("b10", "2024-03-02T10:00:00Z", "CancelBooking", NORRMALM),  # not a booking
]


def test_bookings_per_county_by_current_county_and_yearly_population() -> None:
    rows = run("bookings-per-county", BOOKINGS, "2023-07-01", "2024-06-30")
    assert [r["county_code"] for r in rows] == [*COUNTIES, "00"]
    by = {r["county_code"]: r for r in rows}
    # 01: 2023 has b1, b2 (b3 is 2024 in Stockholm); 2024 has b3, b9.
    assert by["01"]["bookings"] == 4 and by["01"]["population"] == 2000
    assert by["01"]["bookings_per_1000"] == pytest.approx(1000 * (2 / 1000 + 2 / 2000))
    assert by["01"]["units_used"] == 1 and by["01"]["units_connected"] == 1
    # 12: the moved unit counts here, in both years (current catalogue).
    assert by["12"]["bookings"] == 3 and by["12"]["population"] == 400
    assert by["12"]["bookings_per_1000"] == pytest.approx(1000 * (1 / 500 + 2 / 400))
    assert by["12"]["units_used"] == 2
    # LUND lacks GetAllTimeTypes; MOVED's contracts ended 2024-02-29.
    assert by["12"]["units_connected"] == 0
    # Unknown and deleted units: county 00, no population, no rate.
    assert by["00"] == {
        "county_code": "00",
        "county_name": "Okänt län",
        "bookings": 2,
        "population": None,
        "bookings_per_1000": None,
        "units_used": 2,
        "units_connected": 0,
    }
    # A county without population figures: zeros and no rate.
    assert by["03"]["bookings"] == 0 and by["03"]["population"] is None
    assert by["03"]["bookings_per_1000"] is None


def test_routing_active_to_is_the_last_active_day() -> None:
    on_leap = {
        r["county_code"]: r for r in run("bookings-per-county", [], "2024-01-01", "2024-02-29")
    }
    after = {
        r["county_code"]: r for r in run("bookings-per-county", [], "2024-01-01", "2024-03-01")
    }
    assert on_leap["12"]["units_connected"] == 1 and after["12"]["units_connected"] == 0
    assert "00" not in on_leap  # no data for 00: no row
    # The superseded MakeBooking record (ended 2019-01-01) no longer counts.
    assert after["01"]["units_connected"] == 1
    before = {
        r["county_code"]: r for r in run("bookings-per-county", [], "2019-01-01", "2019-12-31")
    }
    assert before["01"]["units_connected"] == 0


def test_county_filter_narrows_the_county_axis() -> None:
    rows = run(
        "bookings-per-county", BOOKINGS, "2023-07-01", "2024-06-30", filters={"county": ["12"]}
    )
    assert [(r["county_code"], r["bookings"]) for r in rows] == [("12", 3)]


# --- drill-down ------------------------------------------------------------------


def test_hierarchy_levels_sum_the_lower_levels_away() -> None:
    full = run("events-by-hierarchy", BOOKINGS, "2023-07-01", "2024-06-30")
    assert sum(r["events"] for r in full) == 10
    unknown = [r for r in full if r["unit_id"] == UNKNOWN]
    assert unknown == [
        {"county_code": "00", "county_name": "Okänt län", "care_provider_id": None,
         "care_provider_name": None, "unit_id": UNKNOWN, "unit_name": None,
         "activity": "MakeBooking", "events": 1},
    ]  # fmt: skip
    moved = [r for r in full if r["unit_id"] == MOVED]
    assert moved == [
        {"county_code": "12", "county_name": "Skåne län", "care_provider_id": CP_SKANE,
         "care_provider_name": "Region Skåne", "unit_id": MOVED,
         "unit_name": "Vårdcentral Lund Norra", "activity": "MakeBooking", "events": 2},
    ]  # fmt: skip
    counties = run("events-by-hierarchy", BOOKINGS, "2023-07-01", "2024-06-30", level="county")
    assert counties == [
        {"county_code": "00", "county_name": "Okänt län", "events": 2},
        {"county_code": "01", "county_name": "Stockholms län", "events": 5},
        {"county_code": "12", "county_name": "Skåne län", "events": 3},
    ]
    cps = run("events-by-hierarchy", BOOKINGS, "2023-07-01", "2024-06-30", level="care_provider")
    assert [(r["care_provider_id"], r["events"]) for r in cps] == [
        (None, 2),
        (CP_STHLM, 5),
        (CP_SKANE, 3),
    ]
    units = run("events-by-hierarchy", BOOKINGS, "2023-07-01", "2024-06-30", level="unit")
    assert {r["unit_id"]: r["events"] for r in units} == {
        UNKNOWN: 1, GONE: 1, NORRMALM: 5, LUND: 1, MOVED: 2,
    }  # fmt: skip
    assert all("activity" not in r for r in units)


def test_filters_restrict_what_is_counted() -> None:
    def total(**filters: list[str]) -> int:
        rows = run("events-by-hierarchy", BOOKINGS, "2023-07-01", "2024-06-30", filters=filters)
        return sum(r["events"] for r in rows)

    assert total(county=["12"]) == 3
    assert total(county=["00"]) == 2
    assert total(county=["01", "12"]) == 8
    assert total(care_provider=[CP_SKANE]) == 3  # the moved unit's current provider
    assert total(care_provider=[CP_STHLM]) == 5  # unknown units never match
    assert total(unit=[MOVED, UNKNOWN]) == 3
    assert total(activity=["CancelBooking"]) == 1
    assert total(county=["01"], activity=["MakeBooking"]) == 4
    rows = run(
        "events-per-month",
        BOOKINGS,
        "2024-03-01",
        "2024-03-31",
        filters={"activity": ["CancelBooking"]},
    )
    assert rows == [{"month": "2024-03", "activity": "CancelBooking", "events": 1}]
    with pytest.raises(ValueError, match="process"):
        run("events-per-month", BOOKINGS, "2024-03-01", "2024-03-31", filters={"process": ["x"]})
