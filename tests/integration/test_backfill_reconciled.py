"""Issue 23 on the real stack: a backfill (from Kafka at any start, or from
raw) never undoes the nightly calls files. Afterwards every web-booking report
equals the oracle's computation from the published calls and the files: a
reconciled day is its file, any other day the calls the replay left."""

from __future__ import annotations

import datetime as dt
import os
import random
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from synth.ntjp import make_calls, with_duplicates
from synth.ntjp_world import make_world
from tests.integration.harness import ROOT, StatflowProcess
from tests.integration.kafka_util import publish
from tests.integration.test_ntjp_e2e import check_reports, publish_world
from tests.integration.test_reconcile_ntjp import hierarchy, write_file
from tests.oracle.ntjp import dedupe

STHLM = ZoneInfo("Europe/Stockholm")
MB = "MakeBooking"
UNIT = "SE2321000016-B23A"
OPTIONS = {
    "kafka": [],
    "from-offset": ["--from-offset", "0"],
    "from-time": None,  # filled in with the cut's instant
    "raw": ["--from-raw"],
}


def day_of(call: dict[str, Any]) -> dt.date:
    return dt.datetime.fromisoformat(call["occurred_at"]).astimezone(STHLM).date()


def calls_on(day: dt.date, n: int, tag: str, op: str = MB) -> list[dict[str, Any]]:
    noon = dt.datetime.combine(day, dt.time(12), STHLM)
    return [{"event_id": f"{tag}-{day}-{i}", "occurred_at": (noon + dt.timedelta(minutes=i))
             .isoformat(), "operation": op, "logical_address": UNIT, "status": "ok"}
            for i in range(n)]  # fmt: skip


def backfill(statflow: StatflowProcess, args: list[str], tmp_path: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, **statflow.settings.to_env(), "PYTHONPATH": str(ROOT)}
    err = (tmp_path / "backfill.stderr").open("wb")
    return subprocess.Popen([sys.executable, "-m", "statflow", "backfill", "ntjp.calls.v1", *args],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=err)  # fmt: skip


def effective(stream: list[dict[str, Any]], files: dict[dt.date, Counter[tuple[str, str]]],
              ) -> list[dict[str, Any]]:  # fmt: skip
    """The calls the reports must count, computed independently of statflow:
    the stream's distinct calls on days without a file, the file's counts
    (as that many calls at noon) on the days with one."""
    out = [c for c in dedupe(stream) if day_of(c) not in files]
    for day, counts in files.items():
        noon = dt.datetime.combine(day, dt.time(12), STHLM).isoformat()
        for (address, op), n in counts.items():
            out += [{"event_id": f"file-{day}-{address}-{op}-{i}", "occurred_at": noon,
                     "operation": op, "logical_address": address, "status": "ok"}
                    for i in range(n)]  # fmt: skip
    return out


def test_issue_23_smallest_reproduction(settings: Any, statflow: StatflowProcess,
                                        tmp_path: Path) -> None:  # fmt: skip
    """3/4/2 streamed, files say 5 and 1: 5/1/2 before and after a replay from Kafka."""
    drop = tmp_path / "drop"
    drop.mkdir()
    statflow.settings = settings.with_(drop_dir=drop, drop_poll_seconds=1)
    d14, d15, d16 = dt.date(2024, 5, 14), dt.date(2024, 5, 15), dt.date(2024, 5, 16)
    statflow.start()
    publish(settings, "ntjp.calls.v1", calls_on(d14, 3, "a") + calls_on(d15, 4, "a")
            + calls_on(d16, 2, "a"))  # fmt: skip

    def days() -> tuple[int, ...]:
        return tuple(hierarchy(statflow, d).get((UNIT, MB), 0) for d in (d14, d15, d16))

    statflow.wait_for(lambda: days() == (3, 4, 2) or days(), what="the stream")
    write_file(drop, d14, Counter({(UNIT, MB): 5}))
    write_file(drop, d15, Counter({(UNIT, MB): 1}))
    statflow.wait_for(lambda: days() == (5, 1, 2) or days(), what="the files applied")
    cli = backfill(statflow, [], tmp_path)
    assert cli.wait(300) == 0, (tmp_path / "backfill.stderr").read_text()[-800:]
    assert days() == (5, 1, 2)
    listed = {
        d["day"]: d for d in statflow.get("/api/v1/reconciliation", rows="true").json()["days"]
    }
    assert (listed[str(d14)]["stream"], listed[str(d14)]["file_says"],
            listed[str(d14)]["correction"]) == (3, 5, 2)  # fmt: skip
    assert (listed[str(d15)]["stream"], listed[str(d15)]["file_says"],
            listed[str(d15)]["correction"]) == (4, 1, -3)  # fmt: skip
    assert listed[str(d15)]["rows"] == [
        {"unit_id": UNIT, "operation": MB, "stream": 4, "file_says": 1, "correction": -3}
    ]


def _replay_while_calls_arrive(settings: Any, statflow: StatflowProcess, tmp_path: Path,
                               option: str, faults: str = "") -> None:  # fmt: skip
    drop = tmp_path / "drop"
    drop.mkdir()
    statflow.settings = settings.with_(drop_dir=drop, drop_poll_seconds=1, faults=faults)
    world = make_world(seed=231, n_units=12)
    truth = make_calls(world, dt.datetime(2024, 3, 29, tzinfo=dt.UTC),
                       dt.datetime(2024, 4, 3, tzinfo=dt.UTC), 3_000, seed=231)  # fmt: skip
    rng = random.Random(232)
    days = sorted({day_of(c) for c in truth})
    closed = [days[1], days[2]]  # 2024-03-31 (DST) among them
    first = [c for c in truth if rng.random() > 0.15]  # the stream missed some
    first += [{**c, "event_id": c["event_id"] + "-x"} for c in rng.sample(truth, 40)]  # extras
    publish_world(settings, world)
    statflow.start()
    publish(settings, "ntjp.calls.v1", with_duplicates(first, 0.03, seed=233))
    stream = list(first)

    def total() -> int:
        rows = statflow.report("webbtidbokning", "events-per-weekday",
                               **{"from": str(days[0]), "to": str(days[-1])})["rows"]  # fmt: skip
        return sum(r[2] for r in rows)

    def four(calls: list[dict[str, Any]]) -> int:
        return sum(1 for c in calls if c["operation"] in ("GetSubjectOfCareSchedule", MB,
                                                          "CancelBooking", "UpdateBooking"))  # fmt: skip

    statflow.wait_for(lambda: total() == four(dedupe(first)) or total(), what="the stream")
    files = {}
    for day in closed:
        files[day] = Counter((c["logical_address"], c["operation"]) for c in truth
                             if day_of(c) == day)  # fmt: skip
        write_file(drop, day, files[day])
    statflow.wait_for(lambda: total() == four(effective(stream, files)) or total(),
                      what="the files applied")  # fmt: skip

    time.sleep(1.5)  # Kafka timestamps: everything so far is before the cut
    cut = dt.datetime.now(dt.UTC)
    time.sleep(1.5)
    # before the replay: late calls for a closed day, new calls for open days
    late = [{**c, "event_id": c["event_id"] + "-late"} for c in truth if day_of(c) == closed[0]]
    fresh = [{**c, "event_id": c["event_id"] + "-new"} for c in truth if day_of(c) not in closed]
    second = late[:30] + fresh[:200]
    publish(settings, "ntjp.calls.v1", second)
    stream += second
    statflow.wait_for(lambda: total() == four(effective(stream, files)) or total(),
                      what="the second calls")  # fmt: skip

    args = OPTIONS[option] if option != "from-time" else ["--from-time", cut.isoformat()]
    cli = backfill(statflow, args, tmp_path)
    # while the replay runs: more late calls, more fresh calls, a re-delivery
    third = late[30:60] + fresh[200:400] + rng.sample(first, 20)
    publish(settings, "ntjp.calls.v1", third)
    stream += third
    code = cli.wait(300)
    if faults:
        assert statflow.proc is not None and statflow.proc.wait(60) == 137, "died in the swap"
        statflow.settings = statflow.settings.with_(faults="")
        statflow.start()
    else:
        assert code == 0, (tmp_path / "backfill.stderr").read_text()[-800:]
    present = stream if option != "from-time" else second + third
    want = effective(present, files)
    statflow.wait_for(lambda: total() == four(want) or total(), timeout=120,
                      what="every call counted after the backfill")  # fmt: skip
    for day in closed:
        assert hierarchy(statflow, day) == {k: n for k, n in files[day].items() if n and k[1] in
                                            ("GetSubjectOfCareSchedule", MB, "CancelBooking",
                                             "UpdateBooking")}  # fmt: skip
    period = {"from": str(days[0]), "to": str(days[-1])}
    cases = [{"report": r, **period} for r in ("events-per-month", "bookings-per-county",
             "share-per-service", "my-bookings-per-month", "events-per-weekday",
             "events-by-hierarchy")]  # fmt: skip
    check_reports(statflow, world, want, cases)
    listed = statflow.get("/api/v1/reconciliation").json()["days"]
    assert {d["day"] for d in listed} == {str(d) for d in closed}
    for d in listed:
        day = dt.date.fromisoformat(d["day"])
        assert d["file_says"] == sum(files[day].values())
        assert d["stream"] == sum(1 for c in dedupe(present) if day_of(c) == day)
        assert d["stream"] + d["correction"] == d["file_says"]


@pytest.mark.parametrize("option", list(OPTIONS))
def test_backfill_keeps_reconciled_days_equal_to_their_files(
    settings: Any, statflow: StatflowProcess, tmp_path: Path, option: str
) -> None:
    _replay_while_calls_arrive(settings, statflow, tmp_path, option)


@pytest.mark.parametrize("option", ["kafka", "raw"])
def test_killed_in_the_swap_the_reports_still_equal_the_files(
    settings: Any, statflow: StatflowProcess, tmp_path: Path, option: str
) -> None:
    """SIGKILL-like exit right after the raw table was exchanged, before the
    rollups: after a restart every report still equals the oracle."""
    _replay_while_calls_arrive(settings, statflow, tmp_path, option, faults="backfill.mid-swap")


def sob_tx(eid: str, case: str, status: str, when: str) -> dict[str, Any]:
    return {"event_id": eid, "occurred_at": when, "case_id": case, "case_type": "Process",
            "status": status, "process_name": "P", "moment_name": "M",
            "care_provider_id": "SE2321000016-CP01", "care_unit_id": "SE2321000016-U001"}  # fmt: skip


@pytest.mark.parametrize("option", ["kafka", "from-time"])
def test_a_sob_month_file_survives_a_replay(settings: Any, statflow: StatflowProcess,
                                            tmp_path: Path, option: str) -> None:  # fmt: skip
    """The file's starts and completions fill what the stream lacks, also after a
    replay from a later instant left fewer stream transactions than at the fill."""
    drop = tmp_path / "drop"
    drop.mkdir()
    statflow.settings = settings.with_(drop_dir=drop, drop_poll_seconds=1)
    statflow.start()
    publish(settings, "sob.transactions.v1", [
        sob_tx("a1", "A", "Inprogress", "2024-01-10T09:00:00+01:00"),  # its Done was lost
        sob_tx("c1", "C", "Inprogress", "2024-01-03T09:00:00+01:00"),  # the file: the 4th
        sob_tx("d1", "D", "Inprogress", "2024-01-08T09:00:00+01:00"),
    ])  # fmt: skip

    def months() -> dict[str, list[Any]]:
        r = statflow.get("/api/v1/reports/stod-och-behandling/moments-per-month",
                         **{"from": "2024-01-01", "to": "2024-02-29"})  # fmt: skip
        assert r.status_code == 200, r.text
        return {row[0]: row[1:] for row in r.json()["rows"]}

    statflow.wait_for(lambda: months()["2024-01"][:2] == [3, 0] or months(), what="the stream")
    cases = [
        "A,Process,P,M,SE2321000016-CP01,SE2321000016-U001,2024-01-10T09:00:00+01:00,"
        "2024-01-20T10:00:00+01:00,Klar",
        "B,Process,P,M,SE2321000016-CP01,SE2321000016-U001,2024-01-05T12:00:00+01:00,,",
        "C,Process,P,M,SE2321000016-CP01,SE2321000016-U001,2024-01-04T09:00:00+01:00,,",
        "D,Process,P,M,SE2321000016-CP01,SE2321000016-U001,2024-01-08T09:00:00+01:00,,",
    ]
    path = drop / "sob" / "cases-2024-01.csv"
    path.parent.mkdir(parents=True)
    path.write_text("case_id,case_type,process_name,moment_name,care_provider_id,care_unit_id,"
                    "started_at,completed_at,closing_reason\n" + "\n".join(cases) + "\n")  # fmt: skip
    statflow.wait_for(lambda: months()["2024-01"][:2] == [4, 1] or months(), what="the file")
    january = months()["2024-01"]
    time.sleep(1.5)
    cut = dt.datetime.now(dt.UTC)
    time.sleep(1.5)
    publish(settings, "sob.transactions.v1",
            [sob_tx("e1", "E", "Inprogress", "2024-02-02T09:00:00+01:00")])  # fmt: skip
    statflow.wait_for(lambda: months()["2024-02"][0] == 1 or months(), what="February")
    args = ["--from-time", cut.isoformat()] if option == "from-time" else []
    env = {**os.environ, **statflow.settings.to_env(), "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-m", "statflow", "backfill", "sob.transactions.v1",
                           *args], cwd=ROOT, env=env, capture_output=True, timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr.decode()[-800:]
    assert months()["2024-01"] == january
    assert months()["2024-02"][0] == 1
