"""Pure parts of the e-tjanster reports and of the admin tiers: no services."""

from __future__ import annotations

import datetime as dt

import pytest

from core.auth import Caller, issue, verify
from core.errors import AccessDenied
from reports import catalogue, declarations
from reports.etj import (
    account_rows,
    case_type_flags,
    case_type_rows,
    handling_rows,
    login_rows,
    period_end,
    stamp,
)
from reports.params import parse
from reports.tiers import scope
from schemas.etj import STANDARD_CASE_TYPES

TODAY = dt.date(2026, 11, 23)
SECRET = "unit-test-secret-0123456789abcdef0123456789"


def params(report_id: str, *pairs: tuple[str, str]) -> tuple[declarations.Report, object]:
    r = catalogue.find("e-tjanster", report_id)
    assert r is not None
    return r, parse(r, [("from", "2024-03-01"), ("to", "2024-03-31"), *pairs], TODAY)


def test_the_period_ends_at_the_stockholm_midnight_after_its_last_day() -> None:
    # 31 March 2024 is 23 hours long; 27 October 2024 is 25.
    assert period_end(dt.date(2024, 3, 30)) == dt.datetime(2024, 3, 30, 23, tzinfo=dt.UTC)
    assert period_end(dt.date(2024, 3, 31)) == dt.datetime(2024, 3, 31, 22, tzinfo=dt.UTC)
    assert period_end(dt.date(2024, 10, 27)) == dt.datetime(2024, 10, 27, 23, tzinfo=dt.UTC)
    assert (
        period_end(dt.date(2024, 3, 31)) - period_end(dt.date(2024, 3, 30))
    ).seconds == 23 * 3600


def test_instants_are_written_in_stockholm_time() -> None:
    assert stamp(dt.datetime(2024, 3, 22, 11, tzinfo=dt.UTC)) == "2024-03-22T12:00:00+01:00"
    t = dt.datetime(2024, 7, 1, 10, 0, 0, 5000, tzinfo=dt.UTC)
    assert stamp(t) == "2024-07-01T12:00:00.005+02:00"


def test_case_types_axis_keeps_every_standard_type_then_the_others() -> None:
    _, p = params("cases-per-case-type")
    rows = case_type_rows(p, [("remiss", "standard", 3, 1), ("U/egen-x", "own", 2, 0),  # type: ignore[arg-type]
                              ("int-a", "integration", 0, 0)])  # fmt: skip
    assert [r[0] for r in rows[:12]] == list(STANDARD_CASE_TYPES)
    assert rows[8] == ["remiss", "standard", 3, 1]
    assert rows[12:] == [["U/egen-x", "own", 2, 0]]  # zero rows of other types are left out
    _, narrowed = params("cases-per-case-type", ("case_type", "remiss"))
    assert case_type_rows(narrowed, []) == [["remiss", "standard", 0, 0]]  # type: ignore[arg-type]


def test_handling_times_average_is_null_when_no_case_qualifies() -> None:
    _, p = params("handling-times")
    h = 3_600_000
    found = [("boka-tid", 4, 2, 1, 11 * h, 2, 0, 0, None, 0, 121 * h, 4)]
    rows = handling_rows(p, found)  # type: ignore[arg-type]
    assert rows[0] == ["boka-tid", 4, 2, 1, 5.5, None, None, 30.25]
    assert rows[1] == ["av-omboka-tid", 0, 0, 0, None, None, None, None]


def test_resident_accounts_of_1_to_9_are_withheld_staff_never() -> None:
    _, p = params("accounts")
    rows, withheld = account_rows(p, [("01", 9, 3), ("03", 10, 0), ("00", 0, 2)])  # type: ignore[arg-type]
    by = {r[0]: r for r in rows}
    assert by["01"][2:] == [None, 3] and by["03"][2:] == [10, 0] and by["00"][2:] == [0, 2]
    assert withheld and len(rows) == 22  # 21 counties, then 00 because it has accounts
    _, only = params("accounts", ("county", "03"))
    assert account_rows(only, [("00", 1, 0)]) == ([["03", "Uppsala län", 0, 0]], False)  # type: ignore[arg-type]


def test_logins_are_a_complete_grid() -> None:
    _, p = params("logins")
    rows = login_rows(p, [("2024-03", "staff", "siths", 7)])  # type: ignore[arg-type]
    assert len(rows) == 1 * 2 * 5
    assert ["2024-03", "staff", "siths", 7] in rows and ["2024-03", "resident", "bankid", 0] in rows


def test_case_type_flags_need_an_active_standard_entry() -> None:
    entries = [("boka-tid", "standard", 1), ("remiss", "standard", 0), ("remiss", "own", 1),
               ("U/egen-a", "own", 0), ("U/egen-a", "own", 1), ("int-x", "integration", 1)]  # fmt: skip
    flags = case_type_flags(entries)
    assert flags[STANDARD_CASE_TYPES.index("boka-tid")] is True
    assert flags[STANDARD_CASE_TYPES.index("remiss")] is False
    assert flags[-2:] == [2, 1]  # distinct ids, active or not
    named = [{"id": "boka-tid", "kind": "standard", "active": 1}]
    assert case_type_flags(named)[0] is True


def test_region_admin_sees_its_county_and_unit_admin_its_units() -> None:
    r, p = params("cases-per-unit")
    region = Caller("r", (), ("region_admin",), county_code="01")
    assert scope(r, p, region).caller_county == "01"  # type: ignore[arg-type]
    _, other = params("cases-per-unit", ("county", "03"))
    with pytest.raises(AccessDenied) as err:
        scope(r, other, region)  # type: ignore[arg-type]
    assert err.value.status == 403
    unit = Caller("u", (), ("unit_admin",), unit_ids=("U1", "U2"))
    assert scope(r, p, unit).caller_units == ("U1", "U2")  # type: ignore[arg-type]
    _, foreign = params("cases-per-unit", ("unit", "U3"))
    with pytest.raises(AccessDenied):
        scope(r, foreign, unit)  # type: ignore[arg-type]


def test_admin_roles_do_not_widen_other_services() -> None:
    r = catalogue.find("stod-och-behandling", "moments-per-county")
    assert r is not None
    p = parse(r, [], TODAY)
    with pytest.raises(AccessDenied, match="names no care provider"):
        scope(r, p, Caller("r", (), ("region_admin",), county_code="01"))


def test_platform_wide_reports_are_the_same_for_every_caller() -> None:
    r, p = params("logins")
    assert scope(r, p, Caller("u", (), ("unit_admin",), unit_ids=("U1",))) == p  # type: ignore[arg-type]


def test_open_unit_rows_only_for_opted_in_providers() -> None:
    r, p = params("connected-units")
    assert scope(r, p, None, "*") == p  # type: ignore[arg-type]
    assert scope(r, p, None, "A, B").open_care_providers == ("A", "B")  # type: ignore[arg-type]


def test_admin_tokens_carry_their_scope() -> None:
    token = issue(SECRET, "r", [], ["region_admin"], county_code="12")
    assert verify(token, SECRET) == Caller("r", (), ("region_admin",), county_code="12")
    token = issue(SECRET, "u", [], ["unit_admin"], unit_ids=["U1"])
    assert verify(token, SECRET).unit_ids == ("U1",)
    with pytest.raises(AccessDenied, match="unit_ids"):
        verify(issue(SECRET, "u", [], ["unit_admin"]), SECRET)
    with pytest.raises(AccessDenied, match="county_code"):
        verify(issue(SECRET, "r", [], ["region_admin"]), SECRET)
