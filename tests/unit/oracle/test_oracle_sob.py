"""Hand-computed cases for the support-and-treatment oracle.

Each test builds a handful of transactions whose answer can be worked out on
paper; the oracle is then trusted to compare against the ClickHouse reports.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Sequence
from typing import Any

import pytest

from schemas.counties import COUNTIES
from synth.personnummer import with_check_digit
from tests.oracle.sob import expected
from tests.oracle.sob_input import AGE_GROUPS

D = dt.date
CP1, CP2, CPX = "SE1-CP1", "SE2-CP2", "SE9-CPX"  # CPX is missing from the catalogue
UNITS: list[dict[str, Any]] = [
    {"hsa_id": CP1, "name": "Region Ett", "kind": "care_provider", "county_code": "03",
     "updated_at": "2015-01-01T00:00:00Z"},
    # corrected later: the later updated_at wins, whatever the list order
    {"hsa_id": CP1, "name": "Region Ett", "kind": "care_provider", "county_code": "01",
     "updated_at": "2016-01-01T00:00:00Z"},
    {"hsa_id": CP2, "name": "Region Två", "kind": "care_provider", "county_code": "12",
     "updated_at": "2015-01-01T00:00:00Z"},
    {"hsa_id": "U1", "name": "Enhet 1", "kind": "unit", "care_provider_id": CP1,
     "county_code": "12", "updated_at": "2015-01-01T00:00:00Z"},
    {"hsa_id": "U1b", "name": "Enhet 1b", "kind": "unit", "care_provider_id": CP1,
     "county_code": "01", "updated_at": "2015-01-01T00:00:00Z"},
    {"hsa_id": "U2", "name": "Enhet 2", "kind": "unit", "care_provider_id": CP2,
     "county_code": "12", "updated_at": "2015-01-01T00:00:00Z"},
]  # fmt: skip
PERSONS = [
    {"hsa_id": "P1", "given_name": "Anna", "family_name": "Berg", "care_provider_id": CP1},
    {"hsa_id": "P2", "given_name": "Erik", "family_name": "Ström", "care_provider_id": CP1},
    {"hsa_id": "P9", "given_name": "Sara", "family_name": "Öberg", "care_provider_id": CP2},
]
# Test-series numbers (serial 98x), distinct per index.
PNR = [with_check_digit(f"1980{1 + i // 28:02d}{1 + i % 28:02d}98{i % 10}") for i in range(300)]

_ids = itertools.count()


def ev(
    case: str,
    status: str,
    at: str,
    *,
    cp: str = CP1,
    unit: str = "U1",
    moment: str = "Behandling",
    process: str = "KBT vid depression",
    case_type: str = "Process",
    pract: str | None = "P1",
    patient: str | None = PNR[0],
    gender: str | None = "F",
    age: int | None = 40,
    reason: str | None = None,
    event_id: str | None = None,
) -> dict[str, Any]:
    e: dict[str, Any] = {
        "event_id": event_id or f"e{next(_ids):05d}",
        "occurred_at": at,
        "case_id": case,
        "case_type": case_type,
        "status": status,
        "process_name": process,
        "moment_name": moment,
        "care_provider_id": cp,
        "care_unit_id": unit,
    }
    optional = {
        "practitioner_id": pract,
        "patient_id": patient,
        "patient_gender": gender,
        "patient_age": age,
        "closing_reason": reason,
    }
    e.update({k: v for k, v in optional.items() if v is not None})
    return e


def run(report: str, txs: list[dict[str, Any]], a: dt.date, b: dt.date, **kw: Any) -> Any:
    return expected(
        report, transactions=txs, units=UNITS, practitioners=PERSONS, date_from=a, date_to=b, **kw
    )


# Case A spans January to March with a pause; B starts and completes in January;
# C completes in February without ever being started.
A = [
    ev("A", "Created", "2023-01-09T08:00:00Z"),
    ev("A", "Inprogress", "2023-01-10T09:00:00+01:00", event_id="A-start"),
    ev("A", "Paused", "2023-01-20T09:00:00Z"),
    ev("A", "Inprogress", "2023-02-05T09:00:00Z", pract="P2"),
    ev("A", "Done", "2023-03-15T12:00:00+01:00", pract="P2", reason="Behandling avslutad"),
]
B = [
    ev("B", "Inprogress", "2023-01-05T10:00:00Z", pract="P2", patient=PNR[1]),
    ev("B", "Done", "2023-01-25T10:00:00Z", pract="P9", patient=PNR[1]),
]
C = [
    ev("C", "Created", "2023-02-01T10:00:00Z", patient=PNR[2]),
    ev("C", "Done", "2023-02-10T10:00:00Z", patient=PNR[2], pract="P2"),
]
Q1 = (D(2023, 1, 1), D(2023, 3, 31))


def test_months_started_completed_and_practitioners() -> None:
    rows, withheld = run("moments-per-month", A + B + C, *Q1)
    assert rows == [
        # Jan: A's and B's starts (P1, P2), B's completion (P9)
        {"month": "2023-01", "started": 2, "completed": 1, "practitioners": 3},
        # Feb: the resumed Inprogress of A is not a start; C's Done counts
        {"month": "2023-02", "started": 0, "completed": 1, "practitioners": 1},
        {"month": "2023-03", "started": 0, "completed": 1, "practitioners": 1},
    ]
    assert withheld == set()


def test_delivery_order_and_duplicates_do_not_matter() -> None:
    base = run("moments-per-month", A + B + C, *Q1)
    messy = list(reversed(A + B + C)) + [dict(A[1]), dict(B[1]), dict(C[1])]
    assert run("moments-per-month", messy, *Q1) == base
    assert run("ongoing-over-time", messy, *Q1) == run("ongoing-over-time", A + B + C, *Q1)


def test_first_of_duplicate_event_ids_wins() -> None:
    # A re-published id with other content is the same event: ignored.
    clash = ev("Z", "Inprogress", "2023-02-02T10:00:00Z", event_id="A-start", patient=PNR[3])
    rows, _ = run("moments-per-month", A + [clash], *Q1)
    assert [r["started"] for r in rows] == [1, 0, 0]


def test_ongoing_spans_month_ends_but_not_the_completion_month() -> None:
    rows, _ = run("ongoing-over-time", A + B + C, *Q1)
    # A is ongoing at the end of Jan and Feb, done in Mar; B done in its own
    # month; C never started, so never ongoing.
    assert rows == [
        {"month": "2023-01", "ongoing": 1},
        {"month": "2023-02", "ongoing": 1},
        {"month": "2023-03", "ongoing": 0},
    ]


def test_ongoing_in_the_last_month_is_taken_at_the_period_end() -> None:
    # A completes 15 March; a period ending 10 March still has it ongoing.
    rows, _ = run("ongoing-over-time", A, D(2023, 2, 1), D(2023, 3, 10))
    assert rows == [{"month": "2023-02", "ongoing": 1}, {"month": "2023-03", "ongoing": 1}]
    per_moment, _ = run("ongoing-per-moment", A, D(2023, 2, 1), D(2023, 3, 10))
    assert per_moment == [
        {"month": "2023-02", "moment": "Behandling", "ongoing": 1},
        {"month": "2023-03", "moment": "Behandling", "ongoing": 1},
    ]


def test_done_at_2330z_on_31_january_is_february_in_stockholm() -> None:
    txs = [
        ev("D", "Inprogress", "2023-01-20T10:00:00Z"),
        ev("D", "Done", "2023-01-31T23:30:00Z"),
    ]
    months, _ = run("moments-per-month", txs, D(2023, 1, 1), D(2023, 2, 28))
    assert [(r["started"], r["completed"]) for r in months] == [(1, 0), (0, 1)]
    ongoing, _ = run("ongoing-over-time", txs, D(2023, 1, 1), D(2023, 2, 28))
    assert [r["ongoing"] for r in ongoing] == [1, 0]
    days, _ = run("moments-per-weekday", txs, D(2023, 1, 1), D(2023, 2, 28))
    # 2023-01-20 is a Friday, 2023-02-01 a Wednesday
    assert {
        r["weekday"]: (r["started"], r["completed"]) for r in days if r["started"] or r["completed"]
    } == {5: (1, 0), 3: (0, 1)}
    assert [r["weekday"] for r in days] == list(range(1, 8))


def test_local_midnight_and_dst_boundaries() -> None:
    txs = [
        # 00:00 CEST on 1 April = 22:00Z on 31 March
        ev("E1", "Inprogress", "2023-03-31T22:00:00Z"),
        # one millisecond earlier is still March
        ev("E2", "Inprogress", "2023-03-31T23:59:59.999+02:00"),
        # 00:00 CET on 1 November = 23:00Z on 31 October
        ev("E3", "Inprogress", "2023-10-31T23:00:00Z"),
        # 02:30 local happens twice on 29 October; both are October
        ev("E4", "Inprogress", "2023-10-29T00:30:00Z"),
        ev("E5", "Inprogress", "2023-10-29T01:30:00Z"),
    ]
    rows, _ = run("moments-per-month", txs, D(2023, 3, 1), D(2023, 11, 30))
    got = {r["month"]: r["started"] for r in rows}
    assert got["2023-03"] == 1 and got["2023-04"] == 1
    assert got["2023-10"] == 2 and got["2023-11"] == 1
    assert len(rows) == 9


def test_per_process_share_and_per_county_axis() -> None:
    txs = A + B + C + [ev("X", "Inprogress", "2023-01-03T10:00:00Z", cp=CPX, unit="UX")]
    rows, _ = run("moments-per-process", txs, *Q1)
    assert rows == [
        {"process": "KBT vid depression", "started": 3, "completed": 3, "completion_share": 1.0}
    ]
    rows, _ = run("moments-per-county", txs, *Q1)
    assert [r["county_code"] for r in rows] == [*COUNTIES, "00"]
    by = {r["county_code"]: r for r in rows}
    # CP1's current county is 01 (its units' own counties do not matter)
    assert by["01"] == {
        "county_code": "01",
        "county_name": "Stockholms län",
        "started": 2,
        "completed": 3,
        "practitioners": 3,
    }
    assert by["00"]["started"] == 1 and by["00"]["county_name"] == "Okänt län"
    assert by["12"]["started"] == 0
    rows, _ = run("moments-per-county", A + B + C, *Q1)
    assert "00" not in [r["county_code"] for r in rows]
    rows, _ = run("moments-per-county", txs, *Q1, filters={"county": ["01", "03"]})
    assert [r["county_code"] for r in rows] == ["01", "03"]


def test_only_process_cases_count() -> None:
    txs = [
        ev("M", "Inprogress", "2023-01-10T10:00:00Z", case_type="Meddelande"),
        ev("M", "Done", "2023-01-11T10:00:00Z", case_type="Meddelande"),
    ]
    rows, _ = run("moments-per-month", txs, D(2023, 1, 1), D(2023, 1, 31))
    assert rows == [{"month": "2023-01", "started": 0, "completed": 0, "practitioners": 0}]
    rows, _ = run("patients-per-gender", txs, D(2023, 1, 1), D(2023, 1, 31))
    assert [r["patients"] for r in rows] == [0, 0, 0]


def test_closing_reasons() -> None:
    txs = A + B + C  # A has a reason, B and C do not
    rows, _ = run("completed-per-closing-reason", txs, *Q1)
    assert rows == [
        {"closing_reason": "Behandling avslutad", "completed": 1},
        {"closing_reason": "Okänd", "completed": 2},
    ]


def _hierarchy_world() -> list[dict[str, Any]]:
    txs: list[dict[str, Any]] = []
    # ten patients each start a moment in U1 and in U1b in March
    for i in range(10):
        txs.append(ev(f"H{i}", "Inprogress", "2023-03-02T10:00:00Z", patient=PNR[10 + i]))
        txs.append(
            ev(f"G{i}", "Inprogress", "2023-03-03T10:00:00Z", unit="U1b", patient=PNR[10 + i])
        )
    txs.append(ev("H0", "Done", "2023-03-20T10:00:00Z", patient=PNR[10], pract="P2"))
    # started before the period, still ongoing at its end
    txs.append(ev("O", "Inprogress", "2022-12-01T10:00:00Z", unit="U2", cp=CP2, pract="P9"))
    # started in the period, completed after it: closing reason null
    txs.append(ev("L", "Inprogress", "2023-03-30T10:00:00Z", unit="U2", cp=CP2, patient=PNR[50]))
    txs.append(ev("L", "Done", "2023-04-02T10:00:00Z", unit="U2", cp=CP2, reason="Ej påbörjad"))
    return txs


def test_hierarchy_default_level_and_residents_withheld() -> None:
    rows, withheld = run("moments-by-hierarchy", _hierarchy_world(), D(2023, 3, 1), D(2023, 3, 31))
    keys = [(r["unit_id"], r["closing_reason"]) for r in rows]
    assert keys == [("U1", None), ("U1", "Okänd"), ("U1b", None), ("U2", None)]
    u1_open, u1_done, u1b, u2 = rows
    assert u1_open["started"] == 9 and u1_open["ongoing"] == 9 and u1_open["completed"] == 0
    assert u1_open["residents"] is None  # 9 residents: withheld
    assert u1_done == {
        "county_code": "01",
        "county_name": "Stockholms län",
        "care_provider_id": CP1,
        "care_provider_name": "Region Ett",
        "unit_id": "U1",
        "unit_name": "Enhet 1",
        "moment": "Behandling",
        "closing_reason": "Okänd",
        "started": 1,
        "ongoing": 0,
        "completed": 1,
        "residents": None,
        "practitioners": 2,
    }
    assert u1b["residents"] == 10 and u1b["ongoing"] == 10
    # O (ongoing, started before) and L (completed after the period) share the null reason
    assert u2["started"] == 1 and u2["ongoing"] == 2 and u2["completed"] == 0
    assert u2["residents"] is None and u2["practitioners"] == 1
    assert withheld == {(0, "residents"), (1, "residents"), (3, "residents")}


def test_hierarchy_levels_recount_distinct_residents() -> None:
    txs = _hierarchy_world()
    rows, withheld = run("moments-by-hierarchy", txs, D(2023, 3, 1), D(2023, 3, 31), level="unit")
    assert [r["unit_id"] for r in rows] == ["U1", "U1b", "U2"]
    assert set(rows[0]) == {
        "county_code", "county_name", "care_provider_id", "care_provider_name", "unit_id",
        "unit_name", "started", "ongoing", "completed", "residents", "practitioners",
    }  # fmt: skip
    assert rows[0]["residents"] == 10 and rows[1]["residents"] == 10
    rows, withheld = run("moments-by-hierarchy", txs, D(2023, 3, 1), D(2023, 3, 31), level="county")
    by = {r["county_code"]: r for r in rows}
    # the same ten people in two units are ten residents, not twenty
    assert by["01"]["residents"] == 10 and by["01"]["started"] == 20
    assert by["12"]["residents"] is None and withheld == {(1, "residents")}
    assert set(by["01"]) == {
        "county_code", "county_name", "started", "ongoing", "completed", "residents",
        "practitioners",
    }  # fmt: skip


def test_moments_by_moment_levels() -> None:
    txs = _hierarchy_world()
    rows, _ = run("moments-by-moment", txs, D(2023, 3, 1), D(2023, 3, 31), level="moment")
    assert rows == [
        {"moment": "Behandling", "started": 21, "completed": 1, "residents": 11, "practitioners": 2}
    ]
    rows, withheld = run("moments-by-moment", txs, D(2023, 3, 1), D(2023, 3, 31))
    assert [r["unit_id"] for r in rows] == ["U1", "U1b", "U2"]
    assert "ongoing" not in rows[0]
    assert withheld == {(2, "residents")}


def test_practitioners_of_own_care_provider_only() -> None:
    rows, _ = run("moments-per-practitioner", A + B + C, *Q1, care_provider_of_caller=CP1)
    # B's completion by P9 is CP1's case, so P9 shows too; names come from hsa.persons
    assert rows == [
        {"practitioner_id": "P1", "practitioner_name": "Anna Berg", "started": 1, "completed": 0},
        {"practitioner_id": "P2", "practitioner_name": "Erik Ström", "started": 1, "completed": 2},
        {"practitioner_id": "P9", "practitioner_name": "Sara Öberg", "started": 0, "completed": 1},
    ]
    rows, _ = run("moments-per-practitioner", A + B + C, *Q1, care_provider_of_caller=CP2)
    assert rows == []
    with pytest.raises(ValueError):
        run("moments-per-practitioner", A, *Q1)


def _patients(spec: Sequence[tuple[str | None, int | None, int]]) -> list[dict[str, Any]]:
    """One Created transaction per patient: (gender, age, how many patients)."""
    txs, k = [], 0
    for gender, age, n in spec:
        for _ in range(n):
            txs.append(
                ev(
                    f"P{k}",
                    "Created",
                    "2023-05-10T10:00:00Z",
                    patient=PNR[k],
                    gender=gender,
                    age=age,
                )
            )
            k += 1
    return txs


MAY = (D(2023, 5, 1), D(2023, 5, 31))


def test_patients_per_gender_withholds_the_complementary_cell() -> None:
    rows, withheld = run(
        "patients-per-gender", _patients([("F", 30, 25), ("M", 30, 5), ("U", 30, 12)]), *MAY
    )
    # M (5) is withheld; F's share gives the total 42, so U (12, the smallest
    # shown non-zero cell) is withheld too.
    assert rows == [
        {"gender": "F", "patients": 25, "share": 25 / 42},
        {"gender": "M", "patients": None, "share": None},
        {"gender": "U", "patients": None, "share": None},
    ]
    assert withheld == {(1, "patients"), (1, "share"), (2, "patients"), (2, "share")}
    month, withheld_m = run(
        "patients-per-gender-month", _patients([("F", 30, 25), ("M", 30, 5), ("U", 30, 12)]), *MAY
    )
    assert [r["patients"] for r in month] == [25, None, None]
    assert withheld_m == {(1, "patients"), (2, "patients")}


@pytest.mark.parametrize(
    ("spec", "shown"),
    [
        ([("F", 30, 30)], [30, 0, 0]),  # nothing to hide
        ([("F", 30, 3)], [None, 0, 0]),  # the total equals the hidden cell: nothing more
        ([("F", 30, 30), ("U", 30, 4)], [None, 0, None]),  # zeros are never the complement
        ([("F", 30, 30), ("M", 30, 4), ("U", 30, 2)], [30, None, None]),  # two hidden already
        ([("F", 30, 0), ("M", 30, 0)], [0, 0, 0]),
    ],
)
def test_patients_per_gender_rule(spec: list[tuple[str, int, int]], shown: list[Any]) -> None:
    rows, _ = run("patients-per-gender", _patients(spec), *MAY)
    assert [r["patients"] for r in rows] == shown


def test_gender_and_age_come_from_the_latest_transaction() -> None:
    txs = [
        ev("K", "Inprogress", "2023-05-02T10:00:00Z", gender="F", age=17),
        ev("K", "Paused", "2023-05-20T10:00:00Z", gender=None, age=18),  # birthday, no gender
        ev("K2", "Created", "2023-06-01T10:00:00Z", gender="M", age=18),  # outside May
    ]
    rows, _ = run("patients-per-gender-age", txs, *MAY)
    assert [(r["gender"], r["age_group"]) for r in rows if r["patients"] is None] == [
        ("U", "18-24")
    ]
    assert len(rows) == 27 and [r["age_group"] for r in rows[:9]] == list(AGE_GROUPS)
    rows, _ = run("patients-per-gender-month", txs, D(2023, 5, 1), D(2023, 6, 30))
    assert [(r["month"], r["gender"]) for r in rows if r["patients"] is None] == [
        ("2023-05", "U"),
        ("2023-06", "M"),
    ]


def test_gender_age_complement_within_a_shown_gender_row() -> None:
    txs = _patients([("F", 30, 20), ("F", 40, 5), ("M", 50, 12)])
    rows, withheld = run("patients-per-gender-age", txs, *MAY)
    cells = {(r["gender"], r["age_group"]): r["patients"] for r in rows}
    # F's row total 25 is shown in patients-per-gender: hiding 35-44 alone
    # would leave it derivable, so 25-34 goes too. M's row is untouched.
    assert cells[("F", "25-34")] is None and cells[("F", "35-44")] is None
    assert cells[("M", "45-54")] == 12 and cells[("F", "0-17")] == 0
    assert len(withheld) == 2


def test_gender_age_complement_across_hidden_gender_rows() -> None:
    txs = _patients([("F", 30, 100), ("M", 20, 20), ("M", 50, 20), ("U", 70, 5)])
    per_gender, _ = run("patients-per-gender", txs, *MAY)
    assert [r["patients"] for r in per_gender] == [100, None, None]
    rows, _ = run("patients-per-gender-age", txs, *MAY)
    cells = {(r["gender"], r["age_group"]): r["patients"] for r in rows}
    # M + U = 145 − 100 is known; M's cells shown would reveal U, so the
    # smallest non-zero cell of those rows (M 18-24, first of the tie) goes too.
    assert cells[("U", "65-74")] is None
    assert cells[("M", "18-24")] is None and cells[("M", "45-54")] == 20
    assert cells[("F", "25-34")] == 100


def test_filters_and_clipping() -> None:
    txs = A + B + [ev("W", "Inprogress", "2023-01-12T10:00:00Z", cp=CP2, unit="U2")]
    rows, _ = run("moments-per-month", txs, *Q1, filters={"care_provider": [CP2]})
    assert [r["started"] for r in rows] == [1, 0, 0]
    rows, _ = run("moments-per-month", txs, *Q1, filters={"county": ["01"], "unit": ["U1"]})
    assert [r["started"] for r in rows] == [2, 0, 0]
    rows, _ = run("ongoing-over-time", txs, D(2015, 8, 1), D(2015, 11, 30))
    assert [r["month"] for r in rows] == ["2015-10", "2015-11"]
    with pytest.raises(ValueError):
        run("moments-per-month", txs, *Q1, filters={"colour": ["blue"]})
    with pytest.raises(ValueError):
        run("moments-per-month", txs, *Q1, level="unit")
