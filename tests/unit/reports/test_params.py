import datetime as dt

import pytest

from core.errors import ParameterError
from reports import catalogue, declarations
from reports.params import parse

TODAY = dt.date(2026, 11, 23)


def report(id: str) -> declarations.Report:
    r = catalogue.find("webbtidbokning", id)
    assert r is not None
    return r


def test_defaults() -> None:
    p = parse(report("events-per-month"), [], TODAY)
    assert (p.date_from, p.date_to, p.format) == (
        dt.date(2025, 11, 1),
        dt.date(2026, 10, 31),
        "json",
    )


def test_from_before_data_start_is_clipped_with_a_note() -> None:
    p = parse(report("events-per-month"), [("from", "2015-01-01"), ("to", "2018-01-31")], TODAY)
    assert p.date_from == dt.date(2017, 10, 1)
    assert p.notes and "2017-10-01" in p.notes[0]


@pytest.mark.parametrize(
    ("pairs", "name"),
    [
        ([("from", "2024-13-01")], "from"),
        ([("from", "2024-05-01"), ("to", "2024-04-01")], "from"),
        ([("county", "99")], "county"),
        ([("activity", "GetAvailableDates")], "activity"),
        ([("format", "docx")], "format"),
        ([("process", "x")], "process"),
        ([("level", "unit")], "level"),
        ([("unit", "has space")], "unit"),
    ],
)
def test_bad_values_name_the_parameter(pairs: list[tuple[str, str]], name: str) -> None:
    with pytest.raises(ParameterError) as err:
        parse(report("events-per-month"), pairs, TODAY)
    assert err.value.parameter == name and name in str(err.value)


def test_hierarchy_level_defaults_to_activity_and_is_checked() -> None:
    r = report("events-by-hierarchy")
    assert parse(r, [], TODAY).level == "activity"
    assert parse(r, [("level", "county")], TODAY).level == "county"
    with pytest.raises(ParameterError):
        parse(r, [("level", "region")], TODAY)


def test_repeated_and_comma_separated_filters_combine() -> None:
    p = parse(report("events-per-month"), [("county", "01,03"), ("county", "12")], TODAY)
    assert p.values("county") == ("01", "03", "12")


def test_to_after_today_is_clamped_to_today_with_a_note() -> None:
    # Future months would read as real zeros, and 9999-12-31 overflowed the
    # date arithmetic of some reports (issue 15.4).
    p = parse(report("events-per-month"), [("from", "2026-01-01"), ("to", "9999-12-31")], TODAY)
    assert (p.date_from, p.date_to) == (dt.date(2026, 1, 1), TODAY)
    assert any(str(TODAY) in n and "9999-12-31" in n for n in p.notes)


def test_a_period_wholly_in_the_future_is_refused() -> None:
    with pytest.raises(ParameterError) as err:
        parse(report("events-per-month"), [("from", "2027-01-01"), ("to", "2027-12-31")], TODAY)
    assert err.value.parameter == "from" and "today" in str(err.value)


def test_unbounded_range_is_the_data_period() -> None:
    p = parse(report("events-per-month"), [("from", "0001-01-01"), ("to", "9999-12-31")], TODAY)
    assert (p.date_from, p.date_to) == (dt.date(2017, 10, 1), TODAY)
    assert len(p.notes) == 2


def test_to_alone_blames_to_not_the_default_from() -> None:
    for to in ("1999-01-01", "2020-01-01"):
        with pytest.raises(ParameterError) as err:
            parse(report("events-per-month"), [("to", to)], TODAY)
        assert err.value.parameter == "to"


def test_compare_is_checked_like_the_others() -> None:
    p = parse(report("events-per-month"), [("compare", "year")], TODAY)
    assert p.compare == "year" and p.echo()["compare"] == "year"
    assert parse(report("events-per-month"), [], TODAY).compare == ""
    for pairs in ([("compare", "last")], [("compare", "year"), ("format", "pdf")],
                  [("compare", "year"), ("compare", "previous")]):  # fmt: skip
        with pytest.raises(ParameterError) as err:
            parse(report("events-per-month"), pairs, TODAY)
        assert err.value.parameter == "compare"
