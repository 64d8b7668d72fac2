"""Hand-computed cases for the 1177 e-services (`e-tjanster`) oracle.

Each test builds a handful of events whose answer can be worked out on paper;
the oracle is then trusted to compare against the ClickHouse reports. The
overdue tests put the 240-hour limit exactly on, and one second either side
of, answers, closings and period ends, across both DST changes of 2024
(31 March: a 23-hour day; 27 October: a 25-hour day).
"""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

import pytest

from schemas.counties import COUNTIES
from tests.oracle.etj import STANDARD_CASE_TYPES, expected, notes

D = dt.date


def unit(
    unit_id: str,
    *,
    name: str,
    cp: str = "CP1",
    county: str = "01",
    care_type: str = "primarvard",
    activated_on: str = "2015-03-02",
    active: bool = True,
    case_types: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    return {
        "unit_id": unit_id,
        "name": name,
        "care_provider_id": cp,
        "county_code": county,
        "care_type": care_type,
        "activated_on": activated_on,
        "active": active,
        "case_types": case_types or [],
    }


def ct(type_id: str, kind: str = "standard", active: bool = True) -> dict[str, Any]:
    return {"id": type_id, "kind": kind, "active": active}


UNITS: list[dict[str, Any]] = [
    # published first with another name and county; the later record wins
    unit("U1", name="Gamla namnet", county="03"),
    unit("U2", name="Folktandvården Visby", cp="CP2", county="09", care_type="tandvard",
         activated_on="2009-05-31", active=False,
         case_types=[ct("radgivning"), ct("radgivning", active=False)]),
    unit("U3", name="Psykiatrimottagning Norr", care_type="psykiatri", activated_on="2009-06-01",
         case_types=[ct("boka-tid", active=False), ct("remiss")]),
    unit("U4", name="Borttagen mottagning", activated_on="2023-01-10"),
    {"unit_id": "U4", "deleted": True},  # a tombstone
    unit("U1", name="Vårdcentral Ett", activated_on="2023-01-31",
         case_types=[ct("boka-tid"), ct("fornya-recept", active=False),
                     ct("U1/egen-fotvard", "own"), ct("U1/egen-sar", "own", active=False),
                     ct("U1/egen-sar", "own"), ct("int-webcert", "integration")]),
]  # fmt: skip
PERSONS = [
    {"hsa_id": "P1", "given_name": "Anna", "family_name": "Berg", "care_provider_id": "CP1"},
    {"hsa_id": "P2", "given_name": "Erik", "family_name": "Ström", "care_provider_id": "CP1"},
]
REGION_01 = {"role": "region_admin", "county_code": "01"}

_ids = itertools.count()


def ev(
    case: str,
    event: str,
    at: str,
    *,
    unit_id: str = "U1",
    case_type: str = "boka-tid",
    kind: str = "standard",
    assignee: str | None = None,
    event_id: str | None = None,
) -> dict[str, Any]:
    e = {
        "event_id": event_id or f"e{next(_ids):05d}",
        "occurred_at": at,
        "case_id": case,
        "unit_id": unit_id,
        "case_type": case_type,
        "case_type_kind": kind,
        "event": event,
    }
    if assignee is not None:
        e["assignee_id"] = assignee
    return e


def run(
    report: str,
    a: dt.date,
    b: dt.date,
    *,
    cases: list[dict[str, Any]] | None = None,
    logins: list[dict[str, Any]] | None = None,
    accounts: list[dict[str, Any]] | None = None,
    **kw: Any,
) -> list[dict[str, Any]]:
    return expected(
        report,
        cases=cases or [],
        logins=logins or [],
        accounts=accounts or [],
        units=UNITS,
        persons=PERSONS,
        date_from=a,
        date_to=b,
        **kw,
    )


JAN = (D(2023, 1, 1), D(2023, 1, 31))
JAN_FEB = (D(2023, 1, 1), D(2023, 2, 28))

# A: received in December, assigned and closed later. B: received and assigned
# in January, reassigned in February, still open. C: received 23:30Z on 31
# January, which is 1 February in Stockholm.
A = [
    ev("A", "received", "2022-12-31T10:00:00Z"),
    ev("A", "assigned", "2023-01-02T09:00:00+01:00", assignee="P1"),
    ev("A", "closed", "2023-02-01T10:00:00Z"),
]
B = [
    ev("B", "received", "2023-01-10T08:00:00Z", event_id="B-recv"),
    ev("B", "assigned", "2023-01-10T09:00:00Z", assignee="P1"),
    ev("B", "assigned", "2023-02-05T09:00:00Z", assignee="P2"),
]
C = [ev("C", "received", "2023-01-31T23:30:00Z", case_type="U1/egen-fotvard", kind="own")]


def test_cases_per_unit_counts_each_milestone_on_its_own_day() -> None:
    assert run("cases-per-unit", *JAN, cases=A + B + C) == [
        {"unit_id": "U1", "unit_name": "Vårdcentral Ett", "received": 1, "assigned": 2, "closed": 0}
    ]
    # B's reassignment in February is not a second assignment of the case
    assert run("cases-per-unit", *JAN_FEB, cases=A + B + C) == [
        {"unit_id": "U1", "unit_name": "Vårdcentral Ett", "received": 2, "assigned": 2, "closed": 1}
    ]


def test_delivery_order_duplicates_and_repeated_events() -> None:
    base = run("cases-per-unit", *JAN_FEB, cases=A + B + C)
    messy = list(reversed(A + B + C)) + [dict(A[0]), dict(B[1])]
    assert run("cases-per-unit", *JAN_FEB, cases=messy) == base
    # A re-published id with other content is the same event: the first copy wins.
    clash = ev("B", "closed", "2023-02-10T10:00:00Z", event_id="B-recv")
    assert run("cases-per-unit", *JAN_FEB, cases=A + B + C + [clash]) == base
    # A second `received` in February is stored but the case was received in January.
    again = ev("B", "received", "2023-02-03T08:00:00Z")
    feb = run("cases-per-unit", D(2023, 2, 1), D(2023, 2, 28), cases=A + B + C + [again])
    assert feb[0]["received"] == 1  # C only


def test_case_status_takes_each_case_once_with_precedence() -> None:
    cases = (
        A
        + B
        + C
        + [
            # received and closed in January: closed
            ev("D", "received", "2023-01-03T08:00:00Z"),
            ev("D", "closed", "2023-01-04T08:00:00Z"),
            # received before, only reassigned in the period: not counted
            ev("E", "received", "2022-12-01T08:00:00Z"),
            ev("E", "assigned", "2022-12-01T09:00:00Z", assignee="P1"),
            ev("E", "assigned", "2023-01-20T09:00:00Z", assignee="P2"),
            ev("F", "received", "2023-01-25T08:00:00Z", unit_id="U3"),
        ]
    )
    assert run("case-status", *JAN, cases=cases) == [
        # A: assigned (closed later); B: assigned; D: closed; C is February
        {"unit_id": "U1", "unit_name": "Vårdcentral Ett", "received": 0, "assigned": 2,
         "closed": 1, "total": 3},
        {"unit_id": "U3", "unit_name": "Psykiatrimottagning Norr", "received": 1, "assigned": 0,
         "closed": 0, "total": 1},
    ]  # fmt: skip
    feb = run("case-status", D(2023, 2, 1), D(2023, 2, 28), cases=cases)
    # A closed; C received; B's reassignment is not its first assignment
    assert [(r["received"], r["assigned"], r["closed"]) for r in feb] == [(1, 0, 1)]


def test_cases_per_case_type_standard_axis_then_others() -> None:
    extra = [
        ev("G", "received", "2023-01-05T08:00:00Z", case_type="int-webcert", kind="integration"),
        ev("G", "closed", "2023-01-06T08:00:00Z", case_type="int-webcert", kind="integration"),
    ]
    rows = run("cases-per-case-type", *JAN_FEB, cases=A + B + C + extra)
    assert [r["case_type"] for r in rows[:12]] == list(STANDARD_CASE_TYPES)
    assert rows[0] == {
        "case_type": "boka-tid",
        "case_type_kind": "standard",
        "received": 1,
        "closed": 1,
    }
    assert all(r["received"] == r["closed"] == 0 for r in rows[1:12])
    # others by (kind, id): integration before own
    assert rows[12:] == [
        {"case_type": "int-webcert", "case_type_kind": "integration", "received": 1, "closed": 1},
        {"case_type": "U1/egen-fotvard", "case_type_kind": "own", "received": 1, "closed": 0},
    ]
    narrowed = run(
        "cases-per-case-type",
        *JAN_FEB,
        cases=A + B + C + extra,
        filters={"case_type": ["remiss", "int-webcert"]},
    )
    assert [(r["case_type"], r["received"]) for r in narrowed] == [
        ("remiss", 0),
        ("int-webcert", 1),
    ]


# --- the overdue rule --------------------------------------------------------


def overdue(cases: list[dict[str, Any]], date_to: dt.date) -> int:
    rows = run("handling-times", D(2024, 3, 1), date_to, cases=cases)
    return sum(r["overdue"] for r in rows)


def life(
    case: str, received: str, answered: str | None, closed: str | None
) -> list[dict[str, Any]]:
    out = [ev(case, "received", received)]
    if answered:
        out.append(ev(case, "answered", answered))
    if closed:
        out.append(ev(case, "closed", closed))
    return out


# Received 12:00 CET on 22 March 2024; 240 h later is 13:00 CEST on 1 April.
SPRING = "2024-03-22T12:00:00+01:00"
# Received 12:00 CEST on 20 October 2024; 240 h later is 11:00 CET on 30 October.
AUTUMN = "2024-10-20T12:00:00+02:00"


@pytest.mark.parametrize(
    ("received", "answered", "closed", "late"),
    [
        # 239.5 h and 239.75 h elapsed, though the clock moved 10 days 0.5 h
        (SPRING, "2024-04-01T12:30:00+02:00", "2024-04-01T12:45:00+02:00", False),
        # exactly 240 h: in time
        (SPRING, "2024-04-01T13:00:00+02:00", "2024-04-01T13:00:00+02:00", False),
        (SPRING, "2024-04-01T11:00:00Z", "2024-04-01T11:00:00Z", False),
        # one second late
        (SPRING, "2024-04-01T13:00:01+02:00", "2024-04-01T14:00:00+02:00", True),
        (SPRING, "2024-03-25T10:00:00+01:00", "2024-04-01T13:00:01+02:00", True),
        # exactly 240 h across the 25-hour day
        (AUTUMN, "2024-10-30T11:00:00+01:00", "2024-10-30T11:00:00+01:00", False),
        # the clock says 10 days minus 30 min, 240.5 h have passed
        (AUTUMN, "2024-10-30T11:30:00+01:00", "2024-10-30T11:40:00+01:00", True),
        # closed when the clock shows exactly 10 days: 241 h, late
        (AUTUMN, "2024-10-25T09:00:00+02:00", "2024-10-30T12:00:00+01:00", True),
        # answered in time, never closed
        (AUTUMN, "2024-10-21T09:00:00+02:00", None, True),
        # closed in time without an answer: the answer clock still runs out
        (AUTUMN, None, "2024-10-21T09:00:00+02:00", True),
    ],
)
def test_overdue_at_240_hours_across_dst(
    received: str, answered: str | None, closed: str | None, late: bool
) -> None:
    assert overdue(life("X", received, answered, closed), D(2024, 12, 31)) == int(late)


@pytest.mark.parametrize(
    ("received", "date_to", "late"),
    [
        # the period ends 2024-03-30T23:00Z: exactly 240 h after receipt, no DST between
        ("2024-03-21T00:00:00+01:00", D(2024, 3, 30), False),
        ("2024-03-20T23:59:59+01:00", D(2024, 3, 30), True),
        # midnight 22 March to midnight 1 April: ten calendar days but 239 h
        ("2024-03-22T00:00:00+01:00", D(2024, 3, 31), False),
        ("2024-03-22T00:00:00+01:00", D(2024, 4, 1), True),
        # the end of 31 March is 2024-03-31T22:00Z; 240 h before is 23:00 CET on 21 March
        ("2024-03-21T23:00:00+01:00", D(2024, 3, 31), False),
        ("2024-03-21T22:59:59+01:00", D(2024, 3, 31), True),
        # the end of 31 October is 2024-10-31T23:00Z; 240 h before is 01:00 CEST 22 October
        ("2024-10-22T01:00:00+02:00", D(2024, 10, 31), False),
        ("2024-10-22T00:59:59+02:00", D(2024, 10, 31), True),
        # midnight 22 October to midnight 1 November: ten calendar days but 241 h
        ("2024-10-22T00:00:00+02:00", D(2024, 10, 31), True),
    ],
)
def test_open_case_is_judged_at_the_end_of_the_period(
    received: str, date_to: dt.date, late: bool
) -> None:
    # answered and closed long after the period: unknown at its end
    case = life("O", received, "2025-01-10T10:00:00Z", "2025-01-10T11:00:00Z")
    assert overdue(case, date_to) == int(late)
    listed = run("unanswered-cases", D(2024, 3, 1), date_to, cases=case, caller=REGION_01)
    assert len(listed) == int(late)


def test_overdue_counts_only_cases_with_an_event_in_the_period() -> None:
    old = life("Old", "2024-01-02T10:00:00Z", None, None)  # open, nothing in March
    late_close = life("LC", "2024-02-01T10:00:00Z", "2024-02-02T10:00:00Z", "2024-03-05T10:00:00Z")
    assert overdue(old, D(2024, 3, 31)) == 0
    assert overdue(late_close, D(2024, 3, 31)) == 1
    # a repeated event of a kind is still an event in the period
    repeat = [*old, ev("Old", "received", "2024-03-04T10:00:00Z")]
    assert overdue(repeat, D(2024, 3, 31)) == 1


# --- handling times ----------------------------------------------------------


def test_handling_time_averages() -> None:
    cases = [
        ev("H1", "received", "2023-01-02T08:00:00Z"),
        ev("H1", "assigned", "2023-01-02T10:00:00Z", assignee="P1"),  # 2 h
        ev("H1", "started", "2023-01-03T08:00:00Z"),  # 22 h
        ev("H1", "answered", "2023-01-04T08:00:00Z"),
        ev("H1", "closed", "2023-01-05T08:00:00Z"),  # 48 h after start, 72 h after receipt
        ev("H2", "received", "2022-12-30T08:00:00Z"),
        ev("H2", "assigned", "2023-01-02T08:00:00Z", assignee="P1"),  # 72 h
        ev("H2", "answered", "2023-01-03T08:00:00Z"),
        ev("H2", "closed", "2023-01-04T08:00:00Z"),  # no start; 120 h after receipt
        # received in the period, assigned after it: in no average
        ev("H3", "received", "2023-01-10T08:00:00Z"),
        ev("H3", "assigned", "2023-02-01T08:00:00Z", assignee="P1"),
        # reassigned: assigned->started runs from the first assignment (5 h)
        ev("H4", "received", "2023-01-20T08:00:00Z", case_type="remiss"),
        ev("H4", "assigned", "2023-01-20T09:00:00Z", case_type="remiss", assignee="P1"),
        ev("H4", "assigned", "2023-01-20T13:00:00Z", case_type="remiss", assignee="P2"),
        ev("H4", "started", "2023-01-20T14:00:00Z", case_type="remiss"),
        ev("H4", "started", "2023-01-20T15:00:00Z", case_type="remiss"),  # a repeat
    ]
    rows = {r["case_type"]: r for r in run("handling-times", *JAN, cases=cases)}
    assert list(rows) == list(STANDARD_CASE_TYPES)
    assert rows["boka-tid"] == {
        "case_type": "boka-tid",
        "received": 2,
        "closed": 2,
        "overdue": 1,  # H3: open, not answered, 240 h passed by 31 January
        "hours_received_to_assigned": 37.0,
        "hours_assigned_to_started": 22.0,
        "hours_started_to_closed": 48.0,
        "hours_received_to_closed": 96.0,
    }
    assert rows["remiss"]["hours_received_to_assigned"] == 1.0
    assert rows["remiss"]["hours_assigned_to_started"] == 5.0
    assert rows["remiss"]["hours_started_to_closed"] is None
    assert rows["remiss"]["overdue"] == 1
    assert rows["radgivning"] == {
        "case_type": "radgivning",
        "received": 0,
        "closed": 0,
        "overdue": 0,
        "hours_received_to_assigned": None,
        "hours_assigned_to_started": None,
        "hours_started_to_closed": None,
        "hours_received_to_closed": None,
    }


def test_handling_hours_are_elapsed_across_the_spring_change() -> None:
    cases = [
        ev("S", "received", "2024-03-30T12:00:00+01:00"),
        ev("S", "closed", "2024-03-31T12:00:00+02:00"),  # 23 h
    ]
    rows = run("handling-times", D(2024, 3, 1), D(2024, 3, 31), cases=cases)
    assert rows[0]["hours_received_to_closed"] == 23.0


# --- accounts and logins -----------------------------------------------------


def acc(account_id: str, created: str, deleted: str | None = None, actor: str = "resident") -> Any:
    rec = {"account_id": account_id, "actor": actor, "created_at": created}
    if deleted:
        rec["deleted_at"] = deleted
    return rec


def login(
    account_id: str,
    at: str,
    county: str | None = "01",
    actor: str = "resident",
    method: str = "bankid",
    event_id: str | None = None,
) -> dict[str, Any]:
    e = {
        "event_id": event_id or f"l{next(_ids):05d}",
        "occurred_at": at,
        "account_id": account_id,
        "actor": actor,
        "method": method,
    }
    if county:
        e["county_code"] = county
    return e


def test_accounts_at_the_end_of_the_last_day() -> None:
    many = [acc(f"r{i}", "2020-01-01T00:00:00Z") for i in range(12)]
    many_logins = [login(f"r{i}", "2022-06-01T10:00:00Z", "01") for i in range(12)]
    accounts = many + [
        acc("mover", "2020-01-01T00:00:00Z"),
        # deleted at 00:00 on 1 January = after the end of 31 December: still counted
        acc("del-midnight", "2020-01-01T00:00:00Z"),
        acc("del-midnight", "2020-01-01T00:00:00Z", "2023-01-01T00:00:00+01:00"),
        # deleted a second before the end: not counted
        acc("del-before", "2020-01-01T00:00:00Z", "2022-12-31T23:59:59+01:00"),
        # created at 00:00 on 1 January: not yet
        acc("new", "2023-01-01T00:00:00+01:00"),
        acc("never", "2021-05-05T10:00:00Z"),
        acc("nocounty", "2021-05-05T10:00:00Z"),
        acc("staff1", "2019-01-01T00:00:00Z", actor="staff"),
        acc("staff2", "2019-01-01T00:00:00Z", actor="staff"),
    ]
    logins = many_logins + [
        login("mover", "2021-01-01T10:00:00Z", "01"),
        login("mover", "2022-11-01T10:00:00Z", "12"),
        # after the period: not the county at its end
        login("mover", "2023-01-01T10:00:00Z", "14"),
        login("del-midnight", "2022-03-01T10:00:00Z", "12"),
        login("del-before", "2022-03-01T10:00:00Z", "12"),
        login("new", "2023-01-02T10:00:00Z", "12"),
        login("nocounty", "2022-01-01T10:00:00Z", "12"),
        login("nocounty", "2022-02-01T10:00:00Z", None),  # the latest has no county
        login("staff1", "2022-05-01T08:00:00Z", "01", actor="staff", method="siths"),
        login("staff2", "2022-05-01T08:00:00Z", None, actor="staff", method="siths"),
    ]
    rows = run("accounts", D(2022, 1, 1), D(2022, 12, 31), accounts=accounts, logins=logins)
    assert [r["county_code"] for r in rows] == [*COUNTIES, "00"]
    got = {r["county_code"]: (r["resident_accounts"], r["staff_accounts"]) for r in rows}
    assert got["01"] == (12, 1)
    assert got["12"] == (None, 0)  # mover and del-midnight: 2, withheld
    assert got["00"] == (None, 1)  # never and nocounty: 2, withheld; staff2
    assert got["14"] == (0, 0)
    assert notes("accounts", rows) == ["withheld"]
    raw = run(
        "accounts", D(2022, 1, 1), D(2022, 12, 31), accounts=accounts, logins=logins, mask=False
    )
    raw_got = {r["county_code"]: r["resident_accounts"] for r in raw}
    assert raw_got["12"] == 2 and raw_got["00"] == 2
    only = run(
        "accounts",
        D(2022, 1, 1),
        D(2022, 12, 31),
        accounts=accounts,
        logins=logins,
        filters={"county": ["12", "14"]},
        mask=False,
    )
    assert [(r["county_code"], r["resident_accounts"]) for r in only] == [("12", 2), ("14", 0)]


def test_accounts_latest_record_and_tombstone() -> None:
    accounts = [
        *[acc(f"r{i}", "2020-01-01T00:00:00Z") for i in range(10)],
        acc("r0", "2020-01-01T00:00:00Z", "2021-01-01T00:00:00Z"),  # deleted later
        {"account_id": "r1", "deleted": True},  # gone for every period
    ]
    rows = run("accounts", D(2020, 6, 1), D(2020, 6, 30), accounts=accounts, mask=False)
    assert rows[-1] == {
        "county_code": "00",
        "county_name": "Okänt län",
        "resident_accounts": 9,
        "staff_accounts": 0,
    }
    later = run("accounts", D(2021, 6, 1), D(2021, 6, 30), accounts=accounts, mask=False)
    assert later[-1]["resident_accounts"] == 8


def test_logins_complete_grid_by_stockholm_month() -> None:
    logins = [
        login("a", "2023-01-31T23:30:00Z"),  # February in Stockholm
        login("a", "2023-01-15T10:00:00Z", event_id="dup"),
        login("a", "2023-01-15T10:00:00Z", event_id="dup"),  # re-delivered
        login("s", "2023-01-16T08:00:00Z", None, actor="staff", method="siths"),
        login("b", "2023-02-02T08:00:00Z", "12", method="freja"),
        login("b", "2023-03-01T08:00:00Z", "12", method="freja"),  # after the period
    ]
    rows = run("logins", *JAN_FEB, logins=logins)
    assert len(rows) == 2 * 2 * 5
    assert [(r["month"], r["actor"], r["method"]) for r in rows[:6]] == [
        ("2023-01", "resident", "bankid"),
        ("2023-01", "resident", "freja"),
        ("2023-01", "resident", "siths"),
        ("2023-01", "resident", "password"),
        ("2023-01", "resident", "unknown"),
        ("2023-01", "staff", "bankid"),
    ]
    nonzero = {(r["month"], r["actor"], r["method"]): r["logins"] for r in rows if r["logins"]}
    assert nonzero == {
        ("2023-01", "resident", "bankid"): 1,
        ("2023-01", "staff", "siths"): 1,
        ("2023-02", "resident", "bankid"): 1,
        ("2023-02", "resident", "freja"): 1,
    }
    in_12 = run("logins", *JAN_FEB, logins=logins, filters={"county": ["12"]})
    assert sum(r["logins"] for r in in_12) == 1


# --- unanswered cases --------------------------------------------------------


def test_unanswered_cases_first_assignment_latest_assignee() -> None:
    cases = [
        ev("N1", "received", "2023-01-02T08:00:00Z"),
        ev("N1", "assigned", "2023-01-02T09:00:00Z", assignee="P1"),
        ev("N1", "assigned", "2023-01-05T09:00:00Z", assignee="P2"),
        ev("N1", "started", "2023-01-05T10:00:00Z"),
        # after the period: unknown at its end
        ev("N1", "assigned", "2023-02-01T09:00:00Z", assignee="P1"),
        ev("N1", "answered", "2023-02-02T09:00:00Z"),
        # assigned to someone without a person record
        ev("N2", "received", "2023-01-03T08:00:00Z", unit_id="U3", case_type="remiss"),
        ev("N2", "assigned", "2023-01-03T09:00:00Z", unit_id="U3", case_type="remiss",
           assignee="P9"),
        # never assigned
        ev("N3", "received", "2023-01-04T08:00:00Z"),
        # answered, not closed: not unanswered
        ev("N4", "received", "2023-01-02T08:00:00Z"),
        ev("N4", "answered", "2023-01-03T08:00:00Z"),
        # closed without an answer: not open
        ev("N5", "received", "2023-01-02T08:00:00Z"),
        ev("N5", "closed", "2023-01-03T08:00:00Z"),
        # only 9 days old at the end of the period
        ev("N6", "received", "2023-01-23T08:00:00Z"),
        # a unit in another county
        ev("N7", "received", "2023-01-02T08:00:00Z", unit_id="U2", case_type="radgivning"),
    ]  # fmt: skip
    rows = run("unanswered-cases", *JAN, cases=cases, caller=REGION_01)
    assert rows == [
        {"unit_id": "U1", "unit_name": "Vårdcentral Ett", "case_id": "N1",
         "case_type": "boka-tid", "received_at": "2023-01-02T09:00:00+01:00",
         "assigned_at": "2023-01-02T10:00:00+01:00", "assignee_id": "P2",
         "assignee_name": "Erik Ström"},
        {"unit_id": "U1", "unit_name": "Vårdcentral Ett", "case_id": "N3",
         "case_type": "boka-tid", "received_at": "2023-01-04T09:00:00+01:00",
         "assigned_at": None, "assignee_id": None, "assignee_name": None},
        {"unit_id": "U3", "unit_name": "Psykiatrimottagning Norr", "case_id": "N2",
         "case_type": "remiss", "received_at": "2023-01-03T09:00:00+01:00",
         "assigned_at": "2023-01-03T10:00:00+01:00", "assignee_id": "P9",
         "assignee_name": None},
    ]  # fmt: skip
    own = run(
        "unanswered-cases", *JAN, cases=cases, caller={"role": "unit_admin", "unit_ids": ["U2"]}
    )
    assert [r["case_id"] for r in own] == ["N7"]
    with pytest.raises(ValueError, match="logged-in"):
        run("unanswered-cases", *JAN, cases=cases)


# --- units -------------------------------------------------------------------


def test_connected_units_and_the_lost_date_note() -> None:
    rows = run("connected-units", D(2009, 1, 1), D(2009, 12, 31))
    assert rows == [
        {"unit_id": "U2", "unit_name": "Folktandvården Visby", "county_code": "09",
         "care_type": "tandvard", "activated_on": "2009-05-31", "active": False},
        {"unit_id": "U3", "unit_name": "Psykiatrimottagning Norr", "county_code": "01",
         "care_type": "psykiatri", "activated_on": "2009-06-01", "active": True},
    ]  # fmt: skip
    assert notes("connected-units", rows) == ["activation-date-lost"]
    june = run("connected-units", D(2009, 6, 1), D(2009, 12, 31))
    assert [r["unit_id"] for r in june] == ["U3"] and notes("connected-units", june) == []
    # the latest U1 record (activated 2023-01-31) wins; U4 is tombstoned
    assert [r["unit_id"] for r in run("connected-units", *JAN)] == ["U1"]
    tandvard = run(
        "connected-units", D(2009, 1, 1), D(2024, 1, 1), filters={"care_type": ["tandvard"]}
    )
    assert [r["unit_id"] for r in tandvard] == ["U2"]


def test_case_types_per_unit() -> None:
    rows = run("case-types-per-unit", *JAN)
    assert [r["unit_id"] for r in rows] == ["U1", "U2", "U3"]
    u1, u2, u3 = rows
    assert list(u1) == [
        "unit_id",
        "unit_name",
        *STANDARD_CASE_TYPES,
        "own_case_types",
        "integration_case_types",
    ]
    assert {k for k in STANDARD_CASE_TYPES if u1[k]} == {"boka-tid"}  # fornya-recept inactive
    assert (u1["own_case_types"], u1["integration_case_types"]) == (2, 1)
    assert u2["radgivning"] is True  # one of its two entries is active
    assert {k for k in STANDARD_CASE_TYPES if u3[k]} == {"remiss"}
    assert (u3["own_case_types"], u3["integration_case_types"]) == (0, 0)
    active = run("case-types-per-unit", *JAN, filters={"active_only": ["true"]})
    assert [r["unit_id"] for r in active] == ["U1", "U3"]
    psy = run("case-types-per-unit", *JAN, filters={"care_type": ["psykiatri"]})
    assert [r["unit_id"] for r in psy] == ["U3"]
    assert run("case-types-per-unit", *JAN, caller=REGION_01) == [u1, u3]


def test_uncatalogued_unit_is_county_00_never_dropped() -> None:
    cases = [ev("Z", "received", "2023-01-05T08:00:00Z", unit_id="U-missing")]
    rows = run("cases-per-unit", *JAN, cases=cases)
    assert rows == [
        {"unit_id": "U-missing", "unit_name": None, "received": 1, "assigned": 0, "closed": 0}
    ]
    assert run("cases-per-unit", *JAN, cases=cases, filters={"county": ["00"]}) == rows
    assert run("cases-per-unit", *JAN, cases=cases, filters={"county": ["01"]}) == []
    assert run("cases-per-unit", *JAN, cases=cases, filters={"care_type": ["primarvard"]}) == []
    # the latest U1 record says county 01, not the first one's 03
    assert run("cases-per-unit", *JAN, cases=B, filters={"county": ["03"]}) == []


def test_filters_are_checked() -> None:
    with pytest.raises(ValueError, match="filter"):
        run("cases-per-unit", *JAN, filters={"process": ["x"]})
    with pytest.raises(ValueError, match="care_type"):
        run("connected-units", *JAN, filters={"care_type": ["vardcentral"]})
    with pytest.raises(ValueError, match="report"):
        run("no-such-report", *JAN)
