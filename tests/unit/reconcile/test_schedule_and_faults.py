import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from core import faults
from core.errors import ConfigError
from reconcile.schedule import due, parse_times

STHLM = ZoneInfo("Europe/Stockholm")


def at(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2024, 3, day, hour, minute, tzinfo=STHLM)


def test_times_parse_and_sort() -> None:
    assert parse_times("14:00, 02:30,02:30") == (dt.time(2, 30), dt.time(14, 0))
    assert parse_times("") == ()
    with pytest.raises(ConfigError, match="not a time"):
        parse_times("2.30")


def test_without_times_files_apply_as_they_arrive() -> None:
    assert due(at(5, 12), at(5, 11, 59), ())


def test_a_slot_is_due_once_after_it_passes() -> None:
    times = parse_times("02:30")
    assert not due(at(5, 2, 29), at(5, 1), times)
    assert due(at(5, 2, 30), at(5, 1), times)
    assert not due(at(5, 2, 31), at(5, 2, 30), times)
    assert not due(at(5, 23), at(5, 2, 30), times)
    assert due(at(6, 2, 31), at(5, 2, 30), times)  # the next night


def test_a_worker_started_after_the_slot_catches_up_once() -> None:
    times = parse_times("02:30")
    assert due(at(5, 9), None, times)
    assert not due(at(5, 1), None, times)


def test_across_the_spring_dst_night() -> None:
    # 31 March 2024 02:00-03:00 does not exist in Stockholm.
    times = parse_times("02:30")
    assert due(at(31, 4), at(30, 2, 30), times)


def test_fault_points_are_named() -> None:
    faults.arm("reconcile.after-corrections")
    faults.arm("")
    faults.point("reconcile.after-corrections")  # disarmed: nothing happens
    with pytest.raises(ConfigError, match="unknown fault"):
        faults.arm("nowhere")
    faults.arm("sink.writes-fail:30")
    assert faults.failing("sink.writes-fail")
    faults.arm("sink.writes-fail:0")
    assert not faults.failing("sink.writes-fail")
    faults.arm("")
