"""The open tier's opt-in rule (reports/tiers.py), pure: which rows of an
aggregated answer are organisation rows and whether an open answer may show
them; totals and county rows are never touched."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from core.errors import AccessDenied
from reports import catalogue
from reports.params import parse
from reports.tiers import (
    ORGANISATION_COLUMNS,
    check_open_filters,
    is_organisation_answer,
    open_rows,
    row_may_be_shown,
    scope,
    units_to_attribute,
)

TODAY = dt.date(2026, 11, 23)
OPTED = ("A", "B")


def test_rows_without_an_organisation_column_are_always_shown() -> None:
    for cols, rows in (
        (["case_type", "received", "closed"], [["boka-tid", 13, 15], ["radgivning", 0, 0]]),
        (["county_code", "county_name", "started"], [["01", "Stockholms län", 7]]),
        (["month", "activity", "events"], [["2024-03", "MakeBooking", 4]]),
        (["moment", "started"], [["Bedömning", 24]]),
    ):
        assert open_rows(cols, rows, OPTED) == (rows, False)
        assert open_rows(cols, rows, ()) == (rows, False)  # nobody opted in: totals stay
        assert not is_organisation_answer(cols)


def test_care_provider_rows_only_for_opted_in_providers() -> None:
    cols = ["county_code", "care_provider_id", "unit_id", "events"]
    rows: list[list[Any]] = [
        ["01", "A", "A1", 1], ["01", "C", "C1", 2], ["14", "B", "B1", 3], ["00", None, "X", 4]
    ]  # fmt: skip
    kept, dropped = open_rows(cols, rows, OPTED)
    assert kept == [rows[0], rows[2]] and dropped
    # The row's own provider decides, not a catalogue lookup of its unit.
    assert open_rows(cols, rows[:1], OPTED, {"A1": {"C"}}) == (rows[:1], False)


def test_unit_rows_take_their_units_current_care_provider() -> None:
    cols = ["unit_id", "unit_name", "received"]
    rows: list[list[Any]] = [["U1", "Ett", 5], ["U2", "Två", 6], ["U3", None, 7], ["U4", "Fyra", 8]]
    providers = {"U1": {"A"}, "U2": {"C"}, "U4": {"A", "C"}}
    kept, dropped = open_rows(cols, rows, OPTED, providers)
    # U2: provider not opted in; U3: no known provider; U4: attributed to one that did not.
    assert kept == [rows[0]] and dropped
    assert units_to_attribute(cols, rows) == ["U1", "U2", "U3", "U4"]
    assert units_to_attribute(["care_provider_id", "unit_id"], [["A", "U1"]]) == []
    assert units_to_attribute(["county_code"], [["01"]]) == []


def test_everyone_opted_in_shows_every_row() -> None:
    cols = ["unit_id", "received"]
    rows: list[list[Any]] = [["U1", 1], [None, 2]]
    assert open_rows(cols, rows, None) == (rows, False)
    assert row_may_be_shown(["care_provider_id"], [None], None, {})


def test_an_organisation_filter_must_name_opted_in_organisations() -> None:
    check_open_filters({"care_provider": ("A", "B"), "county": ("01",)}, OPTED, {})
    check_open_filters({"unit": ("U1",)}, OPTED, {"U1": {"A"}})
    check_open_filters({"care_provider": ("C",), "unit": ("U9",)}, None, {})  # "*"
    check_open_filters({"county": ("01",)}, (), {})
    for filters, providers in (
        ({"care_provider": ("A", "C")}, {}),
        ({"unit": ("U2",)}, {"U2": {"C"}}),
        ({"unit": ("U1", "U3")}, {"U1": {"A"}}),  # U3: no known provider
        ({"unit": ("U4",)}, {"U4": {"A", "C"}}),
    ):
        with pytest.raises(AccessDenied) as err:
            check_open_filters(filters, OPTED, providers)
        assert err.value.status == 403 and "opted in" in str(err.value)


def test_open_callers_carry_the_opt_in_list_in_every_service() -> None:
    for service in catalogue.services().values():
        for report in service.reports:
            if "open" not in report.tiers:
                continue
            p = parse(report, [], TODAY)
            assert scope(report, p, None, "*").open_care_providers is None
            assert scope(report, p, None, "A, B").open_care_providers == OPTED


def test_every_organisation_column_is_one_the_rule_knows() -> None:
    """The rule finds organisation rows by the stable column names: every
    care-provider or unit id column of every report must carry one of them,
    and every service must say how it attributes a unit to its provider."""
    for service in catalogue.services().values():
        assert service.unit_providers_sql, service.id
        for report in service.reports:
            for col in report.columns:
                if col.level in ("care_provider", "unit") and col.label_of is None:
                    assert col.name in ORGANISATION_COLUMNS, (report.id, col.name)
