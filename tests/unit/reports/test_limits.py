"""Bounds of an answer (cells) and the rate limit's decision: pure functions."""

import datetime as dt

import pytest

from core.errors import AnswerTooLarge, ConfigError
from core.settings import Settings
from reports import catalogue, declarations, limits
from reports.params import parse
from reports.ratelimit import decide

TODAY = dt.date(2026, 11, 23)


def report(service: str, id: str) -> declarations.Report:
    r = catalogue.find(service, id)
    assert r is not None
    return r


def test_monthly_reports_are_at_least_months_times_columns() -> None:
    r = report("webbtidbokning", "events-per-month")
    p = parse(r, [("from", "2018-01-01"), ("to", "2019-12-31")], TODAY)
    assert limits.least_cells(r, p) == 24 * 3


def test_the_unbounded_period_is_bounded_by_data_start_and_today() -> None:
    r = report("webbtidbokning", "events-per-month")
    p = parse(r, [("from", "0001-01-01"), ("to", "9999-12-31")], TODAY)
    # 2017-10 .. 2026-11: 110 months, not 120,000
    assert limits.least_cells(r, p) == 110 * 3


def test_reports_without_months_are_sized_by_their_rows() -> None:
    r = report("webbtidbokning", "bookings-per-county")
    p = parse(r, [], TODAY)
    assert limits.least_cells(r, p) == 0
    assert limits.answer_cells(r.columns, [[0] * len(r.columns)] * 10) == 10 * len(r.columns)


def test_over_the_limit_names_it() -> None:
    limits.check(150_000, 150_000)
    limits.check(10**9, 0)  # 0 = no limit
    with pytest.raises(AnswerTooLarge) as err:
        limits.check(150_001, 150_000, at_least=True)
    assert err.value.limit == 150_000 and "150,000" in str(err.value)
    assert "at least 150,001" in str(err.value)


@pytest.mark.parametrize(
    ("count", "left", "allowed", "retry"),
    [(1, 10, True, 0), (30, 1, True, 0), (31, 7, False, 7), (99, 0, False, 1), (31, -2, False, 1)],
)
def test_rate_limit_decision(count: int, left: int, allowed: bool, retry: int) -> None:
    v = decide(count, left, 30)
    assert (v.allowed, v.retry_after) == (allowed, retry)


def test_limits_are_settings() -> None:
    s = Settings.from_env(
        {
            "STATFLOW_MAX_CELLS": "1000",
            "STATFLOW_RATE_LIMIT_REQUESTS": "5",
            "STATFLOW_RATE_LIMIT_WINDOW_SECONDS": "60",
        }
    )
    assert (s.max_cells, s.rate_limit_requests, s.rate_limit_window_seconds) == (1000, 5, 60)
    assert Settings.from_env(s.to_env()).max_cells == 1000
    d = Settings.from_env({})
    assert (d.max_cells, d.rate_limit_requests, d.rate_limit_window_seconds) == (150_000, 30, 10)
    with pytest.raises(ConfigError):
        Settings.from_env({"STATFLOW_RATE_LIMIT_WINDOW_SECONDS": "0"})
    with pytest.raises(ConfigError):
        Settings.from_env({"STATFLOW_MAX_CELLS": "-1"})


def test_a_pdf_has_its_own_lower_limit() -> None:
    assert limits.limit_for("pdf", 150_000, 10_000) == (10_000, True)
    assert limits.limit_for("json", 150_000, 10_000) == (150_000, False)
    assert limits.limit_for("pdf", 5_000, 10_000) == (5_000, False)
    assert limits.limit_for("pdf", 0, 10_000) == (10_000, True)
    assert limits.limit_for("pdf", 150_000, 0) == (150_000, False)
    with pytest.raises(AnswerTooLarge) as err:
        limits.check(10_001, 10_000, pdf=True)
    assert "per PDF answer" in str(err.value) and "another format" in str(err.value)
    assert Settings.from_env({}).max_pdf_cells == 10_000
