"""Open, logged-in and exported statistics on the real stack: a token of one
organisation never receives another's rows, open answers carry no identifier,
exports expire with a 410, pseudonyms are stable per customer, every access is
audited, and CSV/XLSX read back by real readers equal the JSON answer."""

from __future__ import annotations

import csv
import datetime as dt
import io
import subprocess
import time
from pathlib import Path
from typing import Any

import openpyxl
import orjson
import redis

from core import personnummer
from core.auth import issue
from reports.disclosure import NOTE_LINKED
from synth.ntjp import make_calls
from synth.ntjp_world import make_world
from synth.sob import make_sob_world, make_transactions
from tests.integration.compare import as_dicts, diff, secondary_nulls
from tests.integration.harness import HTTP, StatflowProcess
from tests.integration.kafka_util import publish
from tests.integration.pii import personal_numbers_in
from tests.integration.test_ntjp_e2e import KEYS as WEB_KEYS
from tests.integration.test_sob_e2e import KEYS as SOB_KEYS
from tests.oracle import ntjp as web_oracle
from tests.oracle import sob as sob_oracle

SECRET = "tiers-and-exports-test-secret-0123456789abcdef"
SOB_PERIOD = {"from": "2022-01-01", "to": "2023-12-31"}
WEB_PERIOD = {"from": "2024-01-01", "to": "2024-12-31"}


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_tiers_exports_and_audit(settings: Any, statflow: StatflowProcess, tmp_path: Path) -> None:
    settings = settings.with_(jwt_secret=SECRET, export_ttl_seconds=6)
    statflow.settings = settings
    sob = make_sob_world(seed=41)
    txs = make_transactions(sob, dt.datetime(2022, 1, 1, tzinfo=dt.UTC),
                            dt.datetime(2024, 1, 1, tzinfo=dt.UTC), 2500, seed=41)  # fmt: skip
    web = make_world(seed=42, n_units=80)
    calls = make_calls(web, dt.datetime(2024, 1, 1, tzinfo=dt.UTC),
                       dt.datetime(2024, 12, 31, tzinfo=dt.UTC), 20_000, seed=42)  # fmt: skip
    publish(settings, "hsa.units.v1", web.units + web.unit_moves + sob.units)
    publish(settings, "hsa.persons.v1", sob.practitioners)
    publish(settings, "ntjp.routing.v1", web.routing)
    publish(settings, "scb.population.v1", web.population)
    statflow.start()
    publish(settings, "sob.transactions.v1", txs)
    publish(settings, "ntjp.calls.v1", calls)

    def ingested() -> Any:
        a = statflow.report("webbtidbokning", "events-per-weekday", **WEB_PERIOD)
        b = statflow.report("stod-och-behandling", "moments-per-month", **SOB_PERIOD)
        want_b, _ = sob_oracle.expected("moments-per-month", transactions=txs, units=sob.units,
                                        practitioners=sob.practitioners,
                                        date_from=dt.date(2022, 1, 1),
                                        date_to=dt.date(2023, 12, 31))  # fmt: skip
        n_web = sum(1 for c in calls if c["operation"] in web_oracle.FOUR)
        return sum(r[2] for r in a["rows"]) == n_web and not diff(as_dicts(b), want_b, ["month"])

    statflow.wait_for(ingested, timeout=180, what="both services ingested")

    # -- logged-in: own organisation only, on every report of both services
    sob_a, sob_b = sob.care_providers[0], sob.care_providers[1]
    web_a = next(u["care_provider_id"] for u in web.units if u["kind"] == "unit")
    token_a = issue(SECRET, "staff-a", [sob_a, web_a])
    failures = []
    for report in SOB_KEYS:
        r = statflow.get_with(f"/api/v1/reports/stod-och-behandling/{report}", auth(token_a),
                              **SOB_PERIOD)  # fmt: skip
        assert r.status_code == 200, r.text
        want, _ = sob_oracle.expected(
            report, transactions=txs, units=sob.units, practitioners=sob.practitioners,
            date_from=dt.date(2022, 1, 1), date_to=dt.date(2023, 12, 31),
            filters={"care_provider": [sob_a, web_a]},
        )  # fmt: skip
        names = {c["name"] for c in r.json()["columns"]}
        keys = [k for k in SOB_KEYS[report] if k in names]
        if report in ("moments-by-hierarchy", "moments-by-moment"):  # as in test_sob_e2e
            want, _ = secondary_nulls(as_dicts(r.json()), want, keys, "residents",
                                      r.json()["notes"], NOTE_LINKED)  # fmt: skip
        problems = diff(as_dicts(r.json()), want, keys)
        if problems:
            failures.append(f"{report}: {problems[:5]}")
        if "care_provider_id" in names:
            assert {d["care_provider_id"] for d in as_dicts(r.json())} <= {sob_a, web_a}
    for report in WEB_KEYS:
        r = statflow.get_with(f"/api/v1/reports/webbtidbokning/{report}", auth(token_a),
                              **WEB_PERIOD)  # fmt: skip
        assert r.status_code == 200, r.text
        want = web_oracle.expected(
            report, calls=calls, units=web.units + web.unit_moves, routing=web.routing,
            population=web.population, date_from=dt.date(2024, 1, 1),
            date_to=dt.date(2024, 12, 31), filters={"care_provider": [sob_a, web_a]},
        )  # fmt: skip
        names = {c["name"] for c in r.json()["columns"]}
        problems = diff(as_dicts(r.json()), want, [k for k in WEB_KEYS[report] if k in names])
        if problems:
            failures.append(f"{report}: {problems[:5]}")
    assert not failures, "\n".join(failures)

    # another organisation's data: 403, never an empty 200; bad token: 401
    r = statflow.get_with("/api/v1/reports/stod-och-behandling/moments-per-county", auth(token_a),
                          care_provider=sob_b, **SOB_PERIOD)  # fmt: skip
    assert r.status_code == 403 and "own organisation" in r.json()["error"]
    r = statflow.get_with("/api/v1/reports/stod-och-behandling/moments-per-county",
                          auth(token_a + "x"))  # fmt: skip
    assert r.status_code == 401
    assert statflow.get("/api/v1/exports/abc").status_code == 401
    web_only = issue(SECRET, "staff-w", [web_a])  # an organisation that does not use SOB
    r = statflow.get_with("/api/v1/reports/stod-och-behandling/moments-per-county",
                          auth(web_only), **SOB_PERIOD)  # fmt: skip
    assert r.status_code == 403 and "not connected" in r.json()["error"]

    # -- open: no identifiers anywhere
    staff_ids = {p["hsa_id"] for p in sob.practitioners}
    open_text = ""
    for report in SOB_KEYS:
        open_text += statflow.get(f"/api/v1/reports/stod-och-behandling/{report}",
                                  **SOB_PERIOD).text  # fmt: skip
    assert not personal_numbers_in(open_text)
    assert not [s for s in staff_ids if s in open_text]

    # -- formats read back by real readers equal the JSON answer
    base = "/api/v1/reports/webbtidbokning/bookings-per-county"
    answer = statflow.report("webbtidbokning", "bookings-per-county", **WEB_PERIOD)
    xlsx = statflow.get(base, format="xlsx", **WEB_PERIOD).content
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx)).worksheets[0]
    values = [list(r) for r in sheet.iter_rows(min_row=2, values_only=True)]
    assert len(values) == len(answer["rows"])
    for got_row, want_row in zip(values, answer["rows"], strict=True):
        for g, w in zip(got_row, want_row, strict=True):
            # Excel keeps 15 significant digits; a withheld/unknown cell is "–"
            assert (g == "–" and w is None) or g == w or abs(g - w) <= 1e-12 * abs(w)
    csv_path = tmp_path / "answer.csv"
    csv_path.write_bytes(statflow.get(base, format="csv", style="machine", **WEB_PERIOD).content)
    xlsx_path = tmp_path / "answer.xlsx"
    xlsx_path.write_bytes(xlsx)
    out = tmp_path / "lo"
    subprocess.run(["soffice", "--headless", f"-env:UserInstallation=file://{tmp_path}/lo-profile",
                    "--convert-to", "csv:Text - txt - csv (StarCalc):44,34,76", "--outdir", str(out), str(xlsx_path)],
                   check=True, capture_output=True, timeout=120)  # fmt: skip
    lo_rows = list(csv.reader((out / "answer.csv").read_text("utf-8").splitlines()))[1:]
    for got, want_row in zip(lo_rows, answer["rows"], strict=True):
        for g, w in zip(got, want_row, strict=True):
            if isinstance(w, float):
                assert abs(float(g) - w) < 1e-4
            elif isinstance(w, int):
                assert int(float(g)) == w
    csv_rows = list(csv.reader(csv_path.read_text("utf-8-sig").splitlines()))[1:]
    assert [r[0] for r in csv_rows] == [r[0] for r in answer["rows"]]
    assert [int(r[2]) for r in csv_rows] == [r[2] for r in answer["rows"]]
    jsonstat = orjson.loads(statflow.get(base, format="jsonstat", **WEB_PERIOD).content)
    assert jsonstat["version"] == "2.0" and jsonstat["id"] == ["county_code", "mått"]
    n_measures = jsonstat["size"][1]
    assert n_measures == 5 and jsonstat["value"][0] == answer["rows"][0][2]

    # -- exports: roles, progress, download, pseudonyms, expiry
    exporter = issue(SECRET, "exp-a", [sob_a], ["export_aggregated", "export_pseudonymised"])
    r = httpx_post(statflow, exporter, {"kind": "identified", "params": SOB_PERIOD})
    assert r.status_code == 403 and "export_identified" in r.json()["error"]
    job1 = run_export(statflow, exporter, {"kind": "pseudonymised", "params": SOB_PERIOD})
    job2 = run_export(statflow, exporter, {"kind": "pseudonymised", "params": SOB_PERIOD})
    p1, p2 = download(statflow, exporter, job1), download(statflow, exporter, job2)
    assert p1 == p2 and len(p1) > 1  # stable within one customer
    pseudos = {row[9] for row in p1[1:] if row[9]}
    assert pseudos and not personal_numbers_in("\n".join(",".join(r) for r in p1))
    other = issue(SECRET, "exp-b", [sob_b], ["export_pseudonymised", "export_identified"])
    job3 = run_export(statflow, other, {"kind": "identified", "params": SOB_PERIOD})
    ident = download(statflow, other, job3)
    pnrs = {row[9] for row in ident[1:] if row[9]}
    assert pnrs and all(personnummer.problem(p) is None for p in pnrs)
    job4 = run_export(statflow, other, {"kind": "pseudonymised", "params": SOB_PERIOD})
    assert not pseudos & {row[9] for row in download(statflow, other, job4)[1:]}
    assert statflow.get_with(f"/api/v1/exports/{job1}", auth(other)).status_code == 403
    assert not [p for p in pseudos if p in open_text], "a pseudonym in an open answer"
    agg = run_export(statflow, exporter, {"kind": "aggregated", "service": "stod-och-behandling",
                                          "report": "moments-per-month", "params": SOB_PERIOD})  # fmt: skip
    rows = download(statflow, exporter, agg)
    json_rows = statflow.get_with("/api/v1/reports/stod-och-behandling/moments-per-month",
                                  auth(exporter), **SOB_PERIOD).json()["rows"]  # fmt: skip
    assert [[int(x) if x.isdigit() else x for x in r] for r in rows[1:]] == json_rows

    # Another API process (its own home) has the job, from Redis, but not the
    # file: a clear answer, never a 5xx.
    (settings.home / "exports" / f"{job4}.csv").unlink()
    r = statflow.get_with(f"/api/v1/exports/{job4}/download", auth(other))
    assert r.status_code == 409 and "STATFLOW_HOME" in r.json()["error"], r.text

    # A job whose Redis key is lost (Redis runs as a cache: flushed, evicted)
    # must not leave its file behind: the sweep judges files by their own age.
    lost = redis.Redis.from_url(settings.redis_url)
    assert lost.delete(f"statflow:{settings.clickhouse_database}:export:{job3}") == 1
    lost.close()
    assert list((settings.home / "exports").glob(f"{job3}.*"))

    time.sleep(7)  # past the 6 s expiry of this test's settings
    r = statflow.get_with(f"/api/v1/exports/{job1}/download", auth(exporter))
    assert r.status_code == 410
    assert not list((settings.home / "exports").glob(f"{job1}.*"))
    httpx_post(statflow, exporter, {"kind": "pseudonymised", "params": SOB_PERIOD})  # sweeps
    assert not list((settings.home / "exports").glob(f"{job3}.*")), "an orphaned file stays"

    # -- audit: creations, downloads and logged-in reads are recorded
    auditor = issue(SECRET, "auditor", [sob_a], ["auditor"])
    entries = statflow.get_with("/api/v1/audit?limit=1000", auth(auditor)).json()["entries"]
    actions = {(e["subject"], e["action"]) for e in entries}
    assert {("exp-a", "export_create"), ("exp-a", "export_download"),
            ("staff-a", "report_read"), ("exp-b", "export_download")} <= actions  # fmt: skip


def httpx_post(proc: StatflowProcess, token: str, body: dict[str, Any]) -> Any:

    return HTTP.post(proc.url + "/api/v1/exports", json=body, headers=auth(token), timeout=30)


def run_export(proc: StatflowProcess, token: str, body: dict[str, Any]) -> str:
    r = httpx_post(proc, token, body)
    assert r.status_code == 202, r.text
    job = r.json()["id"]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        status = proc.get_with(f"/api/v1/exports/{job}", auth(token)).json()
        if status["status"] == "done":
            return str(job)
        assert status["status"] in ("queued", "running"), status
        time.sleep(0.2)
    raise TimeoutError(job)


def download(proc: StatflowProcess, token: str, job: str) -> list[list[str]]:
    r = proc.get_with(f"/api/v1/exports/{job}/download", auth(token))
    assert r.status_code == 200, r.text
    return list(csv.reader(r.content.decode("utf-8-sig").splitlines()))
