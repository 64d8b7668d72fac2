import datetime as dt
from pathlib import PurePath

from reconcile.files import corrections, kind_of, parse_calls

GOOD = b"date,logical_address,operation,count\r\n2024-03-31,SE1,MakeBooking,5\r\n2024-03-31,SE1,CancelBooking,0\r\n"


def test_kind_of_ignores_partial_and_unknown_files() -> None:
    assert kind_of(PurePath("ntjp/calls-2024-03-31.csv")) == "ntjp/calls"
    assert kind_of(PurePath("ntjp/calls-2024-03-31.csv.part")) is None
    assert kind_of(PurePath("ntjp/other.csv")) is None
    assert kind_of(PurePath("calls-2024-03-31.csv")) is None


def test_a_good_file_parses() -> None:
    f = parse_calls("ntjp/calls-2024-03-31.csv", b"\xef\xbb\xbf" + GOOD)
    assert not f.problems and f.day == dt.date(2024, 3, 31)
    assert f.counts == {("SE1", "MakeBooking"): 5, ("SE1", "CancelBooking"): 0}


def test_every_bad_row_is_reported_with_its_number() -> None:
    bad = (
        GOOD
        + b"2024-03-30,SE1,MakeBooking,1\r\n2024-03-31,SE2,Book,1\r\n2024-03-31,SE3,MakeBooking,-2\r\n2024-03-31,SE1,MakeBooking,1\r\n"
    )
    f = parse_calls("ntjp/calls-2024-03-31.csv", bad)
    assert [p.row for p in f.problems] == [4, 5, 6, 7]
    assert "file's day" in f.problems[0].reason and "second row" in f.problems[3].reason


def test_wrong_header_or_encoding_quarantines_the_file() -> None:
    assert parse_calls("ntjp/calls-2024-03-31.csv", b"a,b\r\n").problems[0].row == 1
    assert (
        parse_calls("ntjp/calls-2024-03-31.csv", b"\xff\xfe")
        .problems[0]
        .reason.startswith("the file")
    )


def test_corrections_bring_the_stream_to_the_file() -> None:
    file = {("A", "MakeBooking"): 10, ("B", "MakeBooking"): 2}
    stream = {("A", "MakeBooking"): 7, ("C", "MakeBooking"): 1}
    fix = corrections(file, stream)
    assert fix == {("A", "MakeBooking"): 3, ("B", "MakeBooking"): 2, ("C", "MakeBooking"): -1}
    merged = {k: stream.get(k, 0) + fix.get(k, 0) for k in set(file) | set(stream)}
    assert {k: v for k, v in merged.items() if v} == file


def test_streamed_calls_on_closed_days_are_kept_but_count_zero() -> None:
    from sinks.ntjp import hold_closed_days

    utc = dt.UTC
    cols = {
        # 22:30Z on 30 March is 23:30 in Stockholm (30th); 23:30Z is already the 31st
        "occurred_at": [
            dt.datetime(2024, 3, 30, 22, 30, tzinfo=utc),
            dt.datetime(2024, 3, 30, 23, 30, tzinfo=utc),
        ],  # fmt: skip
        "calls": [1, 1],
    }
    assert hold_closed_days(cols, {dt.date(2024, 3, 31)}) == 1
    assert cols["calls"] == [1, 0]


def test_etj_cases_file_rows_are_checked_whole() -> None:
    from reconcile.files import parse_etj_cases

    assert kind_of(PurePath("etj/cases-2024-03-31.csv")) == "etj/cases"
    good = b"date,unit_id,case_type,event,count\n2024-03-31,U1,boka-tid,received,4\n"
    f = parse_etj_cases("etj/cases-2024-03-31.csv", good)
    assert f.counts == {("U1", "boka-tid", "received"): 4} and not f.problems
    bad = (
        good
        + b"2024-03-30,U1,boka-tid,received,1\n2024-03-31,U1,boka-tid,opened,1\n"
        + (b"2024-03-31,U1,boka-tid,received,2\n")
    )
    problems = parse_etj_cases("etj/cases-2024-03-31.csv", bad).problems
    assert [p.row for p in problems] == [3, 4, 5]
    assert "not the file's day" in problems[0].reason and "second row" in problems[2].reason


def test_sob_plan_fills_missing_transitions_and_reports_disagreements() -> None:
    from reconcile.files import SobCase
    from reconcile.sob import Lifecycle, plan

    utc = dt.UTC
    t = [dt.datetime(2024, 1, d, tzinfo=utc) for d in range(1, 32)]
    start, end = dt.datetime(2024, 1, 1, tzinfo=utc), dt.datetime(2024, 2, 1, tzinfo=utc)

    def case(cid: str, s: dt.datetime | None, c: dt.datetime | None) -> SobCase:
        return SobCase(cid, "Process", "P", "M", "CP", "U", s, c, "")

    cases = {"A": case("A", t[1], t[5]), "B": case("B", t[2], None), "C": case("C", t[3], None)}
    stream = {
        "A": Lifecycle(t[1], None),  # completion missing
        "C": Lifecycle(t[2], None),  # start differs
        "D": Lifecycle(t[4], None),  # ongoing, not in the file
        "E": Lifecycle(t[0] - dt.timedelta(days=40), t[0] - dt.timedelta(days=5)),  # done before
    }
    fills, issues = plan(cases, stream, start, end)
    assert [(f.case.case_id, f.status, f.at) for f in fills] == [
        ("A", "Done", t[5]), ("B", "Inprogress", t[2])]  # fmt: skip
    assert [(d.case_id, d.issue) for d in issues] == [
        ("C", "start differs from the stream"), ("D", "in the stream but not in the file")]  # fmt: skip
