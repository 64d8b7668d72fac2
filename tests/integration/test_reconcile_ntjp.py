"""Nightly calls files against a stream with gaps, extras and duplicates, on
the real stack: after a day's file is applied its counts are the report's,
re-applying changes nothing, and a file with one bad row applies nothing."""

from __future__ import annotations

import datetime as dt
import random
import time
from collections import Counter
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from core import auth
from synth.ntjp import make_calls, with_duplicates
from synth.ntjp_world import make_world
from tests.integration.harness import StatflowProcess
from tests.integration.kafka_util import publish

STHLM = ZoneInfo("Europe/Stockholm")
FOUR = ("GetSubjectOfCareSchedule", "MakeBooking", "CancelBooking", "UpdateBooking")


def day_of(call: dict[str, Any]) -> dt.date:
    return dt.datetime.fromisoformat(call["occurred_at"]).astimezone(STHLM).date()


def write_file(folder: Path, day: dt.date, counts: Counter[tuple[str, str]]) -> Path:
    path = folder / "ntjp" / f"calls-{day}.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = ["date,logical_address,operation,count"]
    lines += [f"{day},{a},{o},{n}" for (a, o), n in sorted(counts.items())]
    path.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")
    return path


def hierarchy(proc: StatflowProcess, day: dt.date) -> dict[tuple[str, str], int]:
    got = proc.report("webbtidbokning", "events-by-hierarchy", **{"from": str(day), "to": str(day)})
    return {(r[4], r[6]): r[7] for r in got["rows"]}


def test_files_make_closed_days_exact(settings: Any, statflow: StatflowProcess,
                                      tmp_path: Path) -> None:  # fmt: skip
    drop = tmp_path / "drop"
    drop.mkdir()
    settings = settings.with_(drop_dir=drop)
    statflow.settings = settings
    world = make_world(seed=61, n_units=30)
    truth = make_calls(world, dt.datetime(2024, 3, 30, tzinfo=dt.UTC),
                       dt.datetime(2024, 4, 2, tzinfo=dt.UTC), 6_000, seed=61)  # fmt: skip
    rng = random.Random(62)
    delivered = [c for c in truth if rng.random() > 0.1]  # gaps
    extras = [{**c, "event_id": c["event_id"] + "-x"} for c in rng.sample(truth, 80)]  # extras
    publish(settings, "hsa.units.v1", world.units)
    statflow.start()
    publish(settings, "ntjp.calls.v1", with_duplicates(delivered + extras, 0.05, seed=63))
    streamed = len(delivered) + len(extras)
    statflow.wait_for(
        lambda: sum(r[2] for r in statflow.report("webbtidbokning", "events-per-weekday",
                    **{"from": "2024-03-29", "to": "2024-04-03"})["rows"])
        == sum(1 for c in delivered + extras if c["operation"] in FOUR),
        what=f"{streamed} calls streamed",
    )  # fmt: skip

    days = sorted({day_of(c) for c in truth})
    files = {}
    for day in days:
        counts = Counter((c["logical_address"], c["operation"]) for c in truth if day_of(c) == day)
        files[day] = (counts, write_file(drop, day, counts))
    # one broken file: nothing of it may be applied
    broken = drop / "ntjp" / "calls-2024-04-05.csv"
    broken.write_text("date,logical_address,operation,count\r\n2024-04-05,SE1,MakeBooking,4\r\n"
                      "2024-04-05,SE1,Boka,2\r\n", encoding="utf-8")  # fmt: skip

    def reconciled() -> Any:
        return (
            all(
                hierarchy(statflow, d) == {k: n for k, n in c.items() if k[1] in FOUR and n}
                for d, (c, _) in files.items()
            )
            or "not yet"
        )

    statflow.wait_for(reconciled, timeout=120, what="every day equal to its file")
    quarantined = drop / "quarantine" / "ntjp" / "calls-2024-04-05.csv"
    assert quarantined.exists() and not broken.exists()
    report = (quarantined.parent / (quarantined.name + ".report.json")).read_text()
    assert '"row": 3' in report and "Boka" in report
    assert hierarchy(statflow, dt.date(2024, 4, 5)) == {}

    days_report = statflow.get("/api/v1/reconciliation").json()["days"]
    assert {d["day"] for d in days_report} == {str(d) for d in days}
    for d in days_report:
        counts = files[dt.date.fromisoformat(d["day"])][0]
        assert d["file_says"] + 0 <= sum(counts.values())
        assert d["stream"] + d["correction"] == d["file_says"]

    # later stream events for a reconciled day do not break the equality
    def accepted() -> float:
        for line in statflow.get("/metrics").text.splitlines():
            if line.startswith("statflow_events_accepted_total") and "ntjp.calls" in line:
                return float(line.rsplit(" ", 1)[1])
        return 0.0

    before_late, counted = accepted(), hierarchy(statflow, days[1])
    late = [{**c, "event_id": c["event_id"] + "-late"} for c in truth if day_of(c) == days[1]][:40]
    publish(settings, "ntjp.calls.v1", late)
    statflow.wait_for(lambda: accepted() >= before_late + len(late) or accepted(),
                      what="late events ingested")  # fmt: skip
    assert hierarchy(statflow, days[1]) == counted

    # the same file delivered again (same content, new write) changes nothing
    first_day = days[0]
    path = files[first_day][1]
    path.write_bytes(path.read_bytes())
    before = hierarchy(statflow, first_day)

    time.sleep(12)  # one watcher round
    assert hierarchy(statflow, first_day) == before
    assert len(statflow.get("/api/v1/reconciliation").json()["days"]) == len(days)
    # the operations view lists the last files, once each
    operator = auth.issue(auth.load_secret(statflow.settings), "ops", ["*"], [auth.OPERATOR])
    live = statflow.get_with("/api/v1/live", {"Authorization": f"Bearer {operator}"}).json()
    listed = {f["file"]: f["status"] for f in live["last_reconciliation"]}
    assert {f"ntjp/calls-{d}.csv": "applied" for d in days}.items() <= listed.items()
    assert "quarantined" in listed.values()


def test_killed_while_applying_a_file_applies_it_exactly_once(
    settings: Any, statflow: StatflowProcess, tmp_path: Path
) -> None:
    drop = tmp_path / "drop"
    drop.mkdir()
    # The worker dies right after writing the corrections, before it records
    # the file as applied: the restarted worker sees an unknown file again.
    crashing = settings.with_(drop_dir=drop, drop_poll_seconds=1,
                              faults="reconcile.after-corrections")  # fmt: skip
    statflow.settings = crashing
    world = make_world(seed=71, n_units=20)
    truth = make_calls(world, dt.datetime(2024, 5, 6, tzinfo=dt.UTC),
                       dt.datetime(2024, 5, 7, tzinfo=dt.UTC), 2_000, seed=71)  # fmt: skip
    day = day_of(truth[len(truth) // 2])
    truth = [c for c in truth if day_of(c) == day]
    streamed = truth[: len(truth) * 4 // 5]  # the stream lost a fifth
    publish(settings, "hsa.units.v1", world.units)
    statflow.start()
    publish(settings, "ntjp.calls.v1", streamed)
    statflow.wait_for(
        lambda: (
            sum(hierarchy(statflow, day).values())
            == sum(1 for c in streamed if c["operation"] in FOUR)
        ),
        what="the stream's share of the day",
    )
    counts = Counter((c["logical_address"], c["operation"]) for c in truth)
    write_file(drop, day, counts)
    assert statflow.proc is not None
    assert statflow.proc.wait(60) == 137, "the fault point ended the worker"

    statflow.settings = crashing.with_(faults="")
    statflow.start()
    want = {k: n for k, n in counts.items() if k[1] in FOUR}
    statflow.wait_for(lambda: hierarchy(statflow, day) == want or hierarchy(statflow, day),
                      timeout=90, what="the day equal to its file")  # fmt: skip
    time.sleep(3)  # more watcher rounds: nothing may be applied twice
    assert hierarchy(statflow, day) == want
    [listed] = statflow.get("/api/v1/reconciliation").json()["days"]
    # the record of what was corrected survived the crash, once
    assert listed["correction"] == len(truth) - len(streamed)
    assert listed["file_says"] - listed["stream"] == listed["correction"]
