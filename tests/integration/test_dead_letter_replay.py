"""Dead letters browsed and replayed on the real stack (issue 21).

Calls with a status the contract does not accept yet (`timeout`) go to the
DLQ; the operator extends the contract (STATFLOW_CONTRACT_EXTENSIONS) and
replays them. A first replay is killed half-way (the fault point
`dlq.replay-mid-produce`: half produced, none recorded as done); after a
restart the replay is run again and finishes; meanwhile the producer itself
re-published some of the same events. Every web-booking report then equals the
independent computation over every call once; a second replay changes
nothing; the raw table holds each event once. Messages the current contract
still refuses stay dead, with their reason."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from typing import Any

import httpx
import orjson

from core import auth
from core.settings import Settings
from sinks.clickhouse import ClickHouseStore
from synth.ntjp import make_calls
from synth.ntjp_world import make_world
from tests.integration.harness import HTTP, ROOT, StatflowProcess
from tests.integration.kafka_util import publish
from tests.integration.test_ntjp_e2e import SERVICE, check_reports, publish_world
from tests.unit.schemas.test_redaction import leftovers

START = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
END = dt.datetime(2024, 7, 1, tzinfo=dt.UTC)
EXTENSION = "ntjp.calls.v1:status=timeout"
PERSON = "19121212-1212"
N_TIMEOUT = 40
BOOKINGS = ("GetSubjectOfCareSchedule", "MakeBooking", "CancelBooking", "UpdateBooking")


def operator(settings: Settings, roles: tuple[str, ...] = (auth.OPERATOR,)) -> dict[str, str]:
    token = auth.issue(auth.load_secret(settings), "ops-anna", ["*"], list(roles))
    return {"Authorization": f"Bearer {token}"}


def api(proc: StatflowProcess, path: str, **params: Any) -> dict[str, Any]:
    r = HTTP.get(proc.url + path, params=params, headers=operator(proc.settings), timeout=60)
    assert r.status_code == 200, (path, r.status_code, r.text[:300])
    body: dict[str, Any] = r.json()
    return body


def replay(proc: StatflowProcess, **body: Any) -> dict[str, Any]:
    r = HTTP.post(
        proc.url + "/api/v1/dead-letters/replay",
        json={"topic": "ntjp.calls.v1", **body},
        headers=operator(proc.settings),
        timeout=300,
    )
    assert r.status_code == 200, r.text[:500]
    out: dict[str, Any] = r.json()
    return out


def cases() -> list[dict[str, Any]]:
    full = {"from": "2024-01-01", "to": "2024-06-30"}
    part = {"from": "2024-03-15", "to": "2024-05-03"}
    reports = ("events-per-month", "bookings-per-county", "share-per-service",
               "my-bookings-per-month", "events-per-weekday", "events-by-hierarchy")  # fmt: skip
    out: list[dict[str, Any]] = [{"report": r, **p} for r in reports for p in (full, part)]
    for level in ("county", "care_provider", "unit"):
        out.append({"report": "events-by-hierarchy", **full, "level": level})
    return out


def booked(calls: list[dict[str, Any]]) -> int:
    return sum(c["operation"] in BOOKINGS for c in calls)


def counted(proc: StatflowProcess) -> int:
    got = proc.report(SERVICE, "events-per-weekday", **{"from": "2024-01-01", "to": "2024-06-30"})
    return int(sum(r[2] for r in got["rows"]))


def cli(settings: Settings, *args: str) -> str:
    env = {**os.environ, **settings.to_env(), "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "statflow", "dlq", *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def test_dead_letters_replayed_after_a_contract_extension_count_once(
    settings: Settings, statflow: StatflowProcess
) -> None:
    world = make_world(seed=21, n_care_providers=8, n_units=40)
    calls = make_calls(world, START, END, 1_500, seed=21)
    # calls the contract refuses today: their status is a value it lacks
    late = [c for c in calls if c["operation"] in BOOKINGS][:N_TIMEOUT]
    for c in late:
        c["status"] = "timeout"
    refused_ids = {c["event_id"] for c in late}
    today = [c for c in calls if c["event_id"] not in refused_ids]
    # ... and messages the extension will not help
    still_bad = [
        orjson.dumps({**late[0], "event_id": "bad-op", "operation": "Teleport"}),
        orjson.dumps({**late[0], "event_id": "bad-pnr", "operation": PERSON}),
        b'{"event_id": "cut',
    ]
    publish_world(settings, world)
    statflow.start()
    publish(settings, "ntjp.calls.v1", [*calls, *still_bad])

    statflow.wait_for(lambda: counted(statflow) == booked(today) or counted(statflow),
                      what="today's valid calls counted")  # fmt: skip
    n_dead = N_TIMEOUT + len(still_bad)
    statflow.wait_for(
        lambda: api(statflow, "/api/v1/dead-letters")["total"] == n_dead or "waiting",
        what="dead letters recorded",
    )

    # -- browse: operator role only, checked before any parameter is read
    url = statflow.url + "/api/v1/dead-letters"
    assert HTTP.get(url, params={"per_page": "x"}).status_code == 401
    auditor = operator(settings, (auth.AUDITOR,))
    assert HTTP.get(url, params={"per_page": "x"}, headers=auditor).status_code == 403
    bad = HTTP.get(url, params={"from": PERSON}, headers=operator(settings))
    assert bad.status_code == 400 and PERSON not in bad.text and "from" in bad.json()["error"]
    enum = api(statflow, "/api/v1/dead-letters", reason_class="enum", per_page=10, page=2)
    assert enum["total"] == N_TIMEOUT + 2 and len(enum["items"]) == 10
    assert all(i["reason"].startswith(("status: not one of", "operation: not one of"))
               for i in enum["items"])  # fmt: skip
    stats = api(statflow, "/api/v1/dead-letters/stats", bucket="hour")
    assert {(t["reason_class"], t["dead"]) for t in stats["totals"]} == {
        ("enum", N_TIMEOUT + 2), ("not_json", 1)
    }  # fmt: skip
    pnr = api(statflow, "/api/v1/dead-letters", reason="operation")["items"]
    assert len(pnr) == 2
    for item in pnr:
        one = api(
            statflow, f"/api/v1/dead-letters/ntjp.calls.v1/{item['partition']}/{item['offset']}"
        )
        text = json.dumps(one, ensure_ascii=False)
        assert one["message"] is not None and one["message"]["value"]["json"]
        assert not leftovers(text, PERSON), "a personal identity number is shown"
        assert {h["name"] for h in one["message"]["headers"]} >= {"error", "source-offset"}
    listed = cli(
        statflow.settings, "list", "--topic", "ntjp.calls.v1", "--reason-class", "not_json"
    )
    assert listed.startswith("1 dead letters")

    # -- nothing passes yet: a dry run says so and sends nothing
    dry = replay(statflow, dry_run=True)
    assert (dry["selected"], dry["replayed"], dry["still_failing"]) == (n_dead, 0, n_dead)

    # -- the operator extends the contract; the first replay dies half-way
    statflow.stop()
    extended = settings.with_(contract_extensions=EXTENSION)
    statflow.settings = extended.with_(faults="dlq.replay-mid-produce")
    statflow.start()
    try:
        HTTP.post(statflow.url + "/api/v1/dead-letters/replay", json={"topic": "ntjp.calls.v1"},
                   headers=operator(extended), timeout=120)  # fmt: skip
        raise AssertionError("the fault point did not stop the replay")
    except httpx.HTTPError:
        pass
    assert statflow.proc is not None and statflow.proc.wait(30) == 137
    statflow.settings = extended
    statflow.start()
    # meanwhile the producer fixed its side and re-published some of the same events
    publish(settings, "ntjp.calls.v1", late[:5])

    first = replay(statflow)
    assert first["selected"] == n_dead
    # refused again under this contract in the killed run: not tried twice
    assert (first["replayed"], first["skipped"], first["still_failing"]) == (N_TIMEOUT, 3, 0)
    statflow.wait_for(lambda: counted(statflow) == booked(calls) or counted(statflow),
                      what="replayed calls counted")  # fmt: skip
    check_reports(statflow, world, calls, cases())

    replayed = api(statflow, "/api/v1/dead-letters", status="replayed", per_page=500)
    assert replayed["total"] == N_TIMEOUT
    dead = api(statflow, "/api/v1/dead-letters", status="dead")
    assert dead["total"] == 3
    assert {i["reason_class"] for i in dead["items"]} == {"enum", "not_json"}

    # -- a second replay changes nothing
    again = replay(statflow)
    assert (again["replayed"], again["already_replayed"], again["skipped"]) == (0, N_TIMEOUT, 3)
    runs = api(statflow, "/api/v1/dead-letters/replays")["runs"]
    assert [r["state"] for r in runs][:3] == ["done", "done", "started"]
    assert {r["by"] for r in runs} == {"ops-anna"}
    assert "replayed 40" in cli(statflow.settings, "replays")
    statflow.wait_for(lambda: counted(statflow) == booked(calls) or counted(statflow))
    check_reports(statflow, world, calls, cases())

    statflow.stop()  # the chDB path is the process's while it runs
    store = ClickHouseStore(extended)
    try:
        rows, ids = store.query_rows("SELECT count(), uniqExact(event_id) FROM ntjp_calls")[0]
        (letters,) = store.query_rows("SELECT count() FROM dead_letters FINAL")[0]
    finally:
        store.close()
    assert int(rows) == int(ids) == len(calls)
    assert int(letters) == n_dead
