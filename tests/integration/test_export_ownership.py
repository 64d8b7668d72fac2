"""Who may read an export, on the real stack in distributed mode: the store, a
worker and two `statflow api` processes sharing one home and one Redis.

Every token kind (staff of a care provider, region_admin, unit_admin) makes
every export kind it may; then every token (the owner, a colleague with the
same scope, another care provider's staff, another county's region admin,
another unit's admin, staff without export roles) asks for its status and its
file through both API processes: the owner gets it, everyone else a 403. An
export made through one API process is followed and downloaded through the
other (job state in Redis, files under the shared home, one pseudonym secret).
Pseudonymised exports carry no patient, case or practitioner id of the source.
Issue 15, items 3 and 5."""

from __future__ import annotations

import csv
import datetime as dt
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from core import personnummer
from core.auth import issue
from synth.etj import current_units, make_cases, make_etj_world
from synth.sob import make_sob_world, make_transactions
from tests.integration.compare import as_dicts, diff
from tests.integration.conftest import free_port
from tests.integration.harness import HTTP, StatflowProcess
from tests.integration.kafka_util import publish
from tests.integration.pii import personal_numbers_in
from tests.integration.test_multi_worker import SECRET, Cluster
from tests.oracle import etj as etj_oracle
from tests.oracle import sob as sob_oracle

EXPORT_ROLES = ["export_aggregated", "export_pseudonymised", "export_identified"]
ETJ_START, ETJ_END = dt.datetime(2023, 7, 1, tzinfo=dt.UTC), dt.datetime(2024, 7, 1, tzinfo=dt.UTC)
ETJ_PERIOD = {"from": "2023-07-01", "to": "2024-06-30"}
SOB_PERIOD = {"from": "2022-01-01", "to": "2023-12-31"}
# A staff token's care providers use support and treatment; an admin token's
# county or units scope the e-services' reports over units.
STAFF_REPORT = ("stod-och-behandling", "moments-per-month", SOB_PERIOD)
ADMIN_REPORT = ("e-tjanster", "cases-per-unit", ETJ_PERIOD)


def aggregated(owner: str) -> tuple[str, str, dict[str, str]]:
    return STAFF_REPORT if owner.startswith("staff") else ADMIN_REPORT


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def cluster(settings: Any, tmp_path: Path) -> Iterator[Cluster]:
    c = Cluster(settings, tmp_path)
    try:
        yield c
    finally:
        c.stop()


def test_every_token_kind_every_export_kind_owner_and_others(
    cluster: Cluster, tmp_path: Path
) -> None:
    s = cluster.base
    sob = make_sob_world(seed=51)
    txs = make_transactions(sob, dt.datetime(2022, 1, 1, tzinfo=dt.UTC),
                            dt.datetime(2024, 1, 1, tzinfo=dt.UTC), 600, seed=51)  # fmt: skip
    etj = make_etj_world(seed=52)
    cases = make_cases(etj, ETJ_START, ETJ_END, 1_500, seed=52)
    publish(s, "hsa.units.v1", sob.units)
    publish(s, "hsa.persons.v1", sob.practitioners + etj.persons)
    publish(s, "etj.units.v1", etj.units)
    publish(s, "sob.transactions.v1", txs)
    publish(s, "etj.cases.v1", cases)
    cluster.start()
    cluster.worker()
    api_a = cluster.api
    api_b = StatflowProcess(s.with_(http_port=free_port()), tmp_path / "api-b.log", "api")
    api_b.start()
    try:
        _matrix(api_a, api_b, sob, txs, etj, cases)
    finally:
        api_b.stop()


def _matrix(api_a: StatflowProcess, api_b: StatflowProcess, sob: Any, txs: list[Any],
            etj: Any, cases: list[Any]) -> None:  # fmt: skip
    units = current_units(etj)
    etj_providers = sorted({u["care_provider_id"] for u in units.values()})
    units_01 = sorted(u for u, v in units.items() if v["county_code"] == "01")
    units_12 = sorted(u for u, v in units.items() if v["county_code"] == "12")
    sob_a, sob_b = sob.care_providers[0], sob.care_providers[1]
    etj_c = etj_providers[0]
    tokens = {
        "staff-a": issue(SECRET, "staff-a", [sob_a], EXPORT_ROLES),
        "staff-a-colleague": issue(SECRET, "staff-a2", [sob_a], EXPORT_ROLES),
        "staff-b": issue(SECRET, "staff-b", [sob_b], EXPORT_ROLES),
        "staff-c-no-export-role": issue(SECRET, "staff-c", [etj_c]),
        "region-01": issue(
            SECRET, "region-01", [], ["region_admin", *EXPORT_ROLES], county_code="01"
        ),  # fmt: skip
        "region-12": issue(
            SECRET, "region-12", [], ["region_admin", *EXPORT_ROLES], county_code="12"
        ),  # fmt: skip
        "unit-01": issue(
            SECRET, "unit-01", [], ["unit_admin", *EXPORT_ROLES], unit_ids=units_01[:2]
        ),  # fmt: skip
        "unit-12": issue(
            SECRET, "unit-12", [], ["unit_admin", *EXPORT_ROLES], unit_ids=units_12[:2]
        ),  # fmt: skip
    }

    def ingested() -> Any:
        want_sob, _ = sob_oracle.expected(
            "moments-per-month", transactions=txs, units=sob.units,
            practitioners=sob.practitioners, date_from=dt.date(2022, 1, 1),
            date_to=dt.date(2023, 12, 31),
        )  # fmt: skip
        got_sob = api_a.report("stod-och-behandling", "moments-per-month", **SOB_PERIOD)
        want_etj = etj_oracle.expected(
            "cases-per-unit", cases=cases, logins=[], accounts=[], units=etj.units,
            persons=etj.persons, date_from=dt.date(2023, 7, 1), date_to=dt.date(2024, 6, 30),
        )  # fmt: skip
        got_etj = api_a.report("e-tjanster", "cases-per-unit", **ETJ_PERIOD)
        problems = diff(as_dicts(got_sob), want_sob, ["month"])
        problems += diff(as_dicts(got_etj), want_etj, ["unit_id"])
        return not problems or problems[:3]

    api_a.wait_for(ingested, timeout=240, what="both services ingested")

    jobs: dict[tuple[str, str], str] = {}
    for owner in ("staff-a", "staff-b", "region-01", "region-12", "unit-01", "unit-12"):
        for kind in ("aggregated", "pseudonymised", "identified"):
            service, report, period = aggregated(owner)
            body: dict[str, Any] = {"kind": kind, "params": period}
            if kind == "aggregated":
                body.update(service=service, report=report)
            r = HTTP.post(api_a.url + "/api/v1/exports", json=body, headers=auth(tokens[owner]),
                           timeout=30)  # fmt: skip
            if kind != "aggregated" and owner.startswith(("region", "unit")):
                # detailed exports list the caller's own care providers' transactions;
                # an admin token names none, so there is nothing it could export
                assert r.status_code == 403 and "care providers" in r.json()["error"], r.text
                continue
            assert r.status_code == 202, (owner, kind, r.text)
            jobs[owner, kind] = r.json()["id"]

    # followed and downloaded by the owner through the *other* API process
    files: dict[tuple[str, str], list[list[str]]] = {}
    for (owner, kind), job in jobs.items():
        _wait_done(api_b, tokens[owner], job)
        files[owner, kind] = _download(api_b, tokens[owner], job)

    # everyone else: a 403 from either process, for the status and the file
    refused = []
    for (owner, kind), job in jobs.items():
        for other, token in tokens.items():
            if other == owner:
                continue
            for api in (api_a, api_b):
                for path in (f"/api/v1/exports/{job}", f"/api/v1/exports/{job}/download"):
                    r = api.get_with(path, auth(token))
                    if r.status_code != 403:
                        refused.append(f"{other} read {owner}'s {kind} export: {r.status_code}")
                    elif job in r.text or "SE" in r.text:
                        refused.append(f"the refusal to {other} echoes data: {r.text}")
    assert not refused, "\n".join(refused[:20])

    # the owners' files are what they may see: their JSON answer, their rows
    for owner in ("staff-a", "staff-b", "region-01", "region-12", "unit-01", "unit-12"):
        service, report, period = aggregated(owner)
        answer = api_a.get_with(f"/api/v1/reports/{service}/{report}", auth(tokens[owner]),
                                **period).json()  # fmt: skip
        want = [["" if v is None else str(v) for v in row] for row in answer["rows"]]
        got = files[owner, "aggregated"]
        assert got[0] == [c["name"] for c in answer["columns"]] and got[1:] == want, owner
        assert want, f"{owner}'s export is empty: the test shows nothing"
    assert {r[0] for r in files["region-01", "aggregated"][1:]} <= set(units_01)
    assert {r[0] for r in files["unit-12", "aggregated"][1:]} <= set(units_12[:2])

    # pseudonymised: no identifier of the source system; identified: the source's own
    raw_cases = {t["case_id"] for t in txs}
    raw_staff = {t["practitioner_id"] for t in txs if t.get("practitioner_id")}
    for owner, provider in (("staff-a", sob_a), ("staff-b", sob_b)):
        ident, pseudo = files[owner, "identified"], files[owner, "pseudonymised"]
        cols = ident[0]
        case, staff, patient = (cols.index(c) for c in ("case_id", "practitioner_id", "patient"))
        assert len(ident) == len(pseudo) > 1
        assert {r[cols.index("care_provider_id")] for r in ident[1:]} == {provider}
        assert {r[case] for r in ident[1:]} <= raw_cases
        assert {r[staff] for r in ident[1:] if r[staff]} <= raw_staff
        assert all(personnummer.problem(r[patient]) is None for r in ident[1:] if r[patient])
        text = "\n".join(",".join(r) for r in pseudo)
        assert not personal_numbers_in(text)
        leaked = [v for v in raw_cases | raw_staff if v in text]
        assert not leaked, f"source ids in a pseudonymised export: {leaked[:5]}"
        # one pseudonym per source value: the case's rows stay together
        assert len({r[case] for r in pseudo[1:]}) == len({r[case] for r in ident[1:]})
        assert len({r[staff] for r in pseudo[1:]}) == len({r[staff] for r in ident[1:]})

    # the same export made through the other process gives the same pseudonyms
    r = HTTP.post(api_b.url + "/api/v1/exports", json={"kind": "pseudonymised",
                   "params": SOB_PERIOD}, headers=auth(tokens["staff-a"]), timeout=30)  # fmt: skip
    assert r.status_code == 202, r.text
    _wait_done(api_a, tokens["staff-a"], r.json()["id"])
    assert _download(api_a, tokens["staff-a"], r.json()["id"]) == files["staff-a", "pseudonymised"]


def _wait_done(api: StatflowProcess, token: str, job: str) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        r = api.get_with(f"/api/v1/exports/{job}", auth(token))
        assert r.status_code == 200, r.text
        if r.json()["status"] == "done":
            return
        assert r.json()["status"] in ("queued", "running"), (r.json()["error"], r.json())
        time.sleep(0.3)
    raise TimeoutError(job)


def _download(api: StatflowProcess, token: str, job: str) -> list[list[str]]:
    r = api.get_with(f"/api/v1/exports/{job}/download", auth(token))
    assert r.status_code == 200, r.text
    return list(csv.reader(r.content.decode("utf-8-sig").splitlines()))
