"""Web booking end to end on real Kafka, Redis and chDB.

Reference data and >= 100 000 calls (with re-published duplicates and >= 1 %
malformed messages) go through Kafka into a real `statflow run`; every cell of
every webbtidbokning report must equal the oracle (plain Python over the same
generated events), and every malformed message must be in the DLQ with a reason.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from schemas.topics import NTJP_CALLS
from synth.ntjp import make_calls, with_duplicates
from synth.ntjp_invalid import malformed_messages
from synth.ntjp_world import make_world
from tests.integration.compare import as_dicts, diff
from tests.integration.harness import StatflowProcess
from tests.integration.kafka_util import publish, read_all
from tests.oracle.ntjp import expected

SERVICE = "webbtidbokning"
KEYS = {
    "events-per-month": ["month", "activity"],
    "bookings-per-county": ["county_code"],
    "share-per-service": ["activity"],
    "my-bookings-per-month": ["month"],
    "events-per-weekday": ["weekday", "activity"],
    "events-by-hierarchy": ["county_code", "care_provider_id", "unit_id", "activity"],
}
START = dt.datetime(2023, 1, 1, tzinfo=dt.UTC)
END = dt.datetime(2025, 4, 1, tzinfo=dt.UTC)


def publish_world(settings: Any, world: Any) -> None:
    publish(settings, "hsa.units.v1", world.units + world.unit_moves)
    publish(settings, "ntjp.routing.v1", world.routing)
    publish(settings, "scb.population.v1", world.population)


def mixed(valid: list[dict[str, Any]], bad: list[tuple[bytes, str]], seed: int) -> list[Any]:
    out: list[Any] = list(valid) + [raw for raw, _ in bad]
    random.Random(seed).shuffle(out)
    return out


def check_reports(
    proc: StatflowProcess, world: Any, calls: list[dict[str, Any]], cases: list[dict[str, Any]]
) -> None:
    failures = []
    for case in cases:
        params = dict(case)
        report = params.pop("report")
        filters = {
            k: v if isinstance(v, list) else [v]
            for k, v in params.items()
            if k not in ("from", "to", "level")
        }
        answer = proc.report(SERVICE, report, **params)
        want = expected(
            report,
            calls=calls,
            units=world.units + world.unit_moves,
            routing=world.routing,
            population=world.population,
            date_from=dt.date.fromisoformat(params["from"]),
            date_to=dt.date.fromisoformat(params["to"]),
            level=params.get("level", "activity"),
            filters=filters or None,
        )
        keys = [k for k in KEYS[report] if k in {c["name"] for c in answer["columns"]}]
        problems = diff(as_dicts(answer), want, keys)
        if problems:
            failures.append(f"{case}:\n  " + "\n  ".join(problems))
    assert not failures, "\n".join(failures)


def cases_for(world: Any, calls: list[dict[str, Any]]) -> list[dict[str, Any]]:
    full = {"from": "2023-01-01", "to": "2025-03-31"}
    dst = {"from": "2024-03-15", "to": "2024-11-03"}  # both DST changes, partial months
    leap = {"from": "2024-02-01", "to": "2024-02-29"}
    unit = next(u for u in world.units if u["kind"] == "unit")
    cp = unit["care_provider_id"]
    out: list[dict[str, Any]] = []
    for report in KEYS:
        for period in (full, dst, leap):
            out.append({"report": report, **period})
        out.append({"report": report, **dst, "county": ["01", "12"]})
        out.append({"report": report, **full, "care_provider": cp})
        out.append({"report": report, **full, "unit": unit["hsa_id"]})
    out.append({"report": "events-per-month", **full, "activity": "MakeBooking"})
    for level in ("county", "care_provider", "unit", "activity"):
        out.append({"report": "events-by-hierarchy", **dst, "level": level})
    out.append({"report": "bookings-per-county", "from": "2015-01-01", "to": "2024-06-30"})
    return out


def test_every_report_cell_equals_the_independent_computation(
    settings: Any, statflow: StatflowProcess
) -> None:
    world = make_world(seed=11)
    calls = make_calls(world, START, END, 100_000, seed=11)
    delivered = with_duplicates(calls, 0.03, seed=12)
    bad = malformed_messages(1_100, seed=13)
    assert len(bad) >= 0.01 * (len(delivered) + len(bad))

    publish_world(settings, world)
    statflow.start()
    publish(settings, "ntjp.calls.v1", mixed(delivered, bad, seed=14))

    total = len(calls)

    def all_in() -> Any:
        got = statflow.report(
            SERVICE, "events-per-weekday", **{"from": "2017-10-01", "to": "2026-12-31"}
        )
        n = sum(r[2] for r in got["rows"])
        return (
            True
            if n
            == sum(
                1
                for c in calls
                if c["operation"]
                in ("GetSubjectOfCareSchedule", "MakeBooking", "CancelBooking", "UpdateBooking")
            )
            else n
        )

    statflow.wait_for(all_in, timeout=240, what=f"{total} calls ingested")
    check_reports(statflow, world, calls, cases_for(world, calls))

    dlq = read_all(settings, NTJP_CALLS.dlq(settings), len(bad))
    assert len(dlq) == len(bad)
    for record in dlq:
        headers = dict(record.headers)
        assert headers["error"], "every dead letter carries its reason"
        assert headers["source-topic"] == NTJP_CALLS.full(settings).encode()
        assert int(headers["source-offset"]) >= 0
    assert sorted(r.value for r in dlq) == sorted(raw for raw, _ in bad)


def test_parameter_errors_are_400_naming_the_parameter(
    settings: Any, statflow: StatflowProcess
) -> None:
    statflow.start()
    for params, name in (
        ({"county": "99"}, "county"),
        ({"from": "yesterday"}, "from"),
        ({"level": "planet"}, "level"),
        ({"unit": "SE-NO-SUCH-UNIT"}, "unit"),
        ({"colour": "red"}, "colour"),
    ):
        r = statflow.get(f"/api/v1/reports/{SERVICE}/events-by-hierarchy", **params)
        assert r.status_code == 400, (params, r.text)
        assert r.json()["parameter"] == name and name in r.json()["error"]
    assert statflow.get(f"/api/v1/reports/{SERVICE}/nope").status_code == 404
    catalogue = statflow.get("/api/v1/reports").json()
    assert {r["id"] for r in catalogue["reports"] if r["service"] == SERVICE} == set(KEYS)
    csv = statflow.get(
        f"/api/v1/reports/{SERVICE}/events-per-month",
        format="csv",
        style="machine",  # the integrations' form; the default is the labelled table
        **{"from": "2024-01-01", "to": "2024-03-31"},
    )
    assert csv.status_code == 200 and csv.content.startswith(b"\xef\xbb\xbfmonth,activity,events")
    assert len(csv.text.strip().splitlines()) == 1 + 3 * 3
