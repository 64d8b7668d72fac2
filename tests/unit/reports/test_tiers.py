import datetime as dt

import pytest

from core.auth import Caller, issue, verify
from core.errors import AccessDenied
from reports import catalogue, declarations
from reports.params import parse
from reports.tiers import authorize, open_row_filter, scope

SECRET = "unit-test-secret-0123456789abcdef0123456789"


def report(service: str, id: str) -> declarations.Report:
    r = catalogue.find(service, id)
    assert r is not None
    return r


def test_open_rows_only_for_opted_in_care_providers() -> None:
    cols = ["county_code", "care_provider_id", "events"]
    rows = [["01", "A", 1], ["01", "B", 2]]
    assert open_row_filter(cols, rows, "*") == (rows, False)
    assert open_row_filter(cols, rows, "A") == ([["01", "A", 1]], True)
    assert open_row_filter(["county_code", "events"], [["01", 3]], "A") == ([["01", 3]], False)


def test_logged_in_scope_forces_own_care_providers() -> None:
    r = report("stod-och-behandling", "moments-per-county")
    p = parse(r, [], dt.date(2026, 11, 23))
    caller = Caller("s", ("A", "B"))
    assert scope(r, p, caller).values("care_provider") == ("A", "B")
    p2 = parse(r, [("care_provider", "A")], dt.date(2026, 11, 23))
    assert scope(r, p2, caller).values("care_provider") == ("A",)
    p3 = parse(r, [("care_provider", "C")], dt.date(2026, 11, 23))
    with pytest.raises(AccessDenied) as err:
        scope(r, p3, caller)
    assert err.value.status == 403 and "own organisation" in str(err.value)


def test_logged_in_only_report_is_refused_to_the_open_tier() -> None:
    with pytest.raises(AccessDenied) as err:
        authorize(report("stod-och-behandling", "moments-per-practitioner"), None)
    assert err.value.status == 403


def test_tokens_round_trip_and_expire() -> None:
    token = issue(SECRET, "u", ["A"], ["export_aggregated"])
    assert verify(token, SECRET) == Caller("u", ("A",), ("export_aggregated",))
    with pytest.raises(AccessDenied) as err:
        verify(token, SECRET + "x")
    assert err.value.status == 401
    old = issue(SECRET, "u", ["A"], ttl=dt.timedelta(seconds=-1))
    with pytest.raises(AccessDenied, match="expired"):
        verify(old, SECRET)
