"""The PxWeb API 2.0 style table API (issue 22) on a real `statflow run`
(Kafka, Redis, chDB): tables read from the declarations, answers equal to the
report API's for the same months and filters (the same engine under the open
tier: opt-in, disclosure, notes), the formats, the cell limit, saved queries
kept in ClickHouse, and hostile input answered 4xx without stored data."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from reports.pxweb import tables
from tests import services as provided
from tests.integration import pxweb_live
from tests.integration.harness import HTTP, StatflowProcess
from tests.integration.pxweb_live import BASE, cells_of, expected, px_get
from tests.integration.test_bounds import make_client  # noqa: F401 - a fixture

Live = tuple[StatflowProcess, set[str]]


@pytest.fixture(scope="module")
def live(services: provided.Services, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    yield from pxweb_live.start(services, tmp_path_factory.mktemp("pxweb"))


def data(proc: StatflowProcess, table: str, params: list[tuple[str, str]]) -> dict[str, Any]:
    r = px_get(proc, f"/tables/{table}/data", params)
    assert r.status_code == 200, r.text[:500]
    body: dict[str, Any] = r.json()
    return body


def test_every_open_report_is_a_table_with_metadata(live: Live) -> None:
    proc, _ = live
    listed = px_get(proc, "/tables", [("pageSize", "1000")]).json()
    ids = [t["id"] for t in listed["tables"]]
    catalogue = proc.get("/api/v1/reports").json()["reports"]
    want = [f"{r['service']}.{r['id']}" + (f".{lv}" if lv else "")
            for r in catalogue if "open" in r["tiers"] for lv in (r["levels"] or [None])]  # fmt: skip
    assert sorted(ids) == sorted(want)
    assert listed["page"]["totalElements"] == len(want)
    assert not [r for r in catalogue if "open" not in r["tiers"] and
                any(i.startswith(f"{r['service']}.{r['id']}") for i in ids)]  # fmt: skip
    page = px_get(proc, "/tables", [("pageSize", "5"), ("pageNumber", "2")]).json()
    assert [t["id"] for t in page["tables"]] == ids[5:10]
    meta = px_get(proc, "/tables/webbtidbokning.events-by-hierarchy.unit/metadata",
                  [("lang", "en")]).json()  # fmt: skip
    assert meta["id"] == ["unit_id", "ContentsCode", "Tid"]
    assert meta["role"]["time"] == ["Tid"] and meta["role"]["metric"] == ["ContentsCode"]
    assert meta["dimension"]["Tid"]["category"]["index"]["2017M10"] == 0
    assert meta["dimension"]["unit_id"]["extension"]["codeLists"][0]["id"] == "vs_Enhet"
    assert meta["extension"]["dataStart"] == "2017-10-01"
    assert meta["dimension"]["ContentsCode"]["category"]["unit"]["events"]["decimals"] == 0
    county = px_get(proc, "/codelists/vs_Lan").json()
    assert {"code": "01", "label": "Stockholms län", "valueMap": ["01"]} in county["values"]
    config = px_get(proc, "/config").json()
    assert config["apiVersion"].startswith("2.") and config["maxDataCells"] == pxweb_live.MAX_CELLS
    # this test's process has no rate limit: announced as the largest count
    assert config["maxCallsPerTimeWindow"] == 2**31 - 1


CASES: list[tuple[str, list[tuple[str, str]], dict[str, str]]] = [
    # a month column: one report answer cut by month
    ("webbtidbokning.events-per-month", [("valueCodes[Tid]", "from(2024M01),to(2024M06)")], {}),
    ("webbtidbokning.my-bookings-per-month", [("valueCodes[Tid]", "range(2023M11,2024M02)")], {}),
    # a sum over the period: one report answer per month
    ("webbtidbokning.bookings-per-county", [("valueCodes[Tid]", "2024M03,2024M04")], {}),
    ("webbtidbokning.events-per-weekday", [("valueCodes[Tid]", "2024M05")], {}),
    (
        "webbtidbokning.events-by-hierarchy.county",
        [("valueCodes[Tid]", "2024M01,2024M02"), ("valueCodes[county_code]", "01,12")],
        {"county": "01,12"},
    ),
    ("webbtidbokning.events-by-hierarchy.unit", [("valueCodes[Tid]", "2025M01")], {}),
    (
        "stod-och-behandling.moments-by-hierarchy.care_provider",
        [("valueCodes[Tid]", "2024M01,2024M02")],
        {},
    ),
    ("stod-och-behandling.moments-by-hierarchy.unit", [("valueCodes[Tid]", "2024M03")], {}),
    ("stod-och-behandling.patients-per-gender-age", [("valueCodes[Tid]", "2024M02")], {}),
]


@pytest.mark.parametrize(("table", "params", "filters"), CASES, ids=[c[0] for c in CASES])
def test_values_equal_the_report_api(
    live: Live, table: str, params: list[tuple[str, str]], filters: dict[str, str]
) -> None:
    proc, _ = live
    body = data(proc, table, params)
    got = cells_of(body)
    want = expected(proc, table, body, filters)
    assert got == want
    assert any(v not in (0, None) for v, _ in got.values()), "the cells hold data"


def test_open_tier_rules_hold(live: Live) -> None:
    """Organisation rows only for providers that opted in, withheld cells as
    status `..` with the note, and a unit of a provider that did not opt in
    is not a value of the table."""
    proc, opted = live
    body = data(proc, "webbtidbokning.events-by-hierarchy.care_provider",
                [("valueCodes[Tid]", "from(2023M01)")])  # fmt: skip
    providers = set(body["dimension"]["care_provider_id"]["category"]["index"])
    assert providers and providers - {"_"} <= opted
    assert any(n.startswith("Rader för enheter och vårdgivare") for n in body["note"])
    withheld: list[dict[str, Any]] = []
    for month in ("2024M01", "2024M02", "2024M03", "2024M04"):
        b = data(proc, "stod-och-behandling.moments-by-hierarchy.unit",
                 [("valueCodes[Tid]", month)])  # fmt: skip
        if ".." in b["status"].values():
            withheld.append(b)
    assert withheld, "some resident counts of 1–9 are withheld in these months"
    for b in withheld:
        assert any("mellan 1 och 9" in n for n in b["note"])
        for pos, s in b["status"].items():
            assert s in ("..", ".") and b["value"][int(pos)] is None
    meta = px_get(proc, "/tables/webbtidbokning.events-by-hierarchy.unit/metadata").json()
    units = set(meta["dimension"]["unit_id"]["category"]["index"])
    listed = {v["code"] for v in px_get(proc, "/codelists/vs_Enhet").json()["values"]}
    assert units - {"_"} <= listed
    hidden = px_get(proc, "/codelists/vs_Vardgivare").json()["values"]
    assert {v["code"] for v in hidden} <= opted


def test_post_selection_and_formats(live: Live) -> None:
    proc, _ = live
    table = "webbtidbokning.events-per-month"
    sel = {"selection": [{"variableCode": "Tid", "valueCodes": ["2024M01", "2024M02"]},
                         {"variableCode": "activity", "valueCodes": ["MakeBooking"]}]}  # fmt: skip
    posted = HTTP.post(proc.url + BASE + f"/tables/{table}/data", json=sel, timeout=60).json()
    got = data(proc, table, [("valueCodes[Tid]", "2024M01,2024M02"),
                             ("valueCodes[activity]", "MakeBooking")])  # fmt: skip
    assert posted["value"] == got["value"] and len(got["value"]) == 2
    params = [("valueCodes[Tid]", "2024M01,2024M02"), ("valueCodes[activity]", "MakeBooking")]
    sv = px_get(proc, f"/tables/{table}/data", [*params, ("outputFormat", "csv")])
    rows = list(csv.reader(io.StringIO(sv.content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][-1] == "Antal händelser" and len(rows) == 3
    assert [int(r[-1]) for r in rows[1:]] == got["value"]
    en = px_get(proc, f"/tables/{table}/data",
                [*params, ("outputFormat", "csv"), ("outputFormatParams", "UseCodes"),
                 ("lang", "en")])  # fmt: skip
    assert en.content.decode("utf-8-sig").splitlines()[0] == "activity,activity_text,Tid,events"
    xlsx = px_get(proc, f"/tables/{table}/data", [*params, ("outputFormat", "xlsx")])
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    pxfile = px_get(proc, f"/tables/{table}/data", [*params, ("outputFormat", "px")]).text
    assert 'HEADING="månad";' in pxfile and 'CODES("månad")="2024M01","2024M02";' in pxfile
    assert pxfile.rstrip().endswith(" ".join(map(str, got["value"])) + ";")


def test_cell_limit_and_hostile_input_are_4xx_without_data(live: Live) -> None:
    proc, _ = live
    t = "/tables/webbtidbokning.events-by-hierarchy.unit/data"
    bad: list[tuple[str, list[tuple[str, str]], int]] = [
        ("/tables/no.such.table/data", [], 404),
        ("/tables/no.such.table/metadata", [], 404),
        ("/codelists/vs_Nope", [], 404),
        ("/savedqueries/0123", [], 404),
        (t, [("valueCodes[planet]", "*")], 400),
        (t, [("valueCodes[Tid]", "1999M01")], 400),
        (t, [("valueCodes[Tid]", "top(x)")], 400),
        (t, [("valueCodes[Tid]", "top(1,2,3)")], 400),
        (t, [("valueCodes[Tid]", "range(2024M01)")], 400),
        (t, [("valueCodes[Tid]", "nothing*")], 400),
        (t, [("valueCodes[Tid]", "\x00")], 400),
        (t, [("valueCodes[Tid]", "x" * 5000)], 400),
        (t, [("valueCodes[Tid]", "*")], 400),  # over the cell limit
        (t, [("codelist[unit_id]", "vs_Lan")], 400),
        (t, [("outputFormat", "html")], 400),
        (t, [("outputFormatParams", "Nope")], 400),
        (t, [("lang", "fi")], 400),
        (t, [("colour", "red")], 400),
        ("/tables", [("pageSize", "-1")], 400),
        ("/tables", [("pageNumber", "x")], 400),
    ]
    for path, params, status in bad:
        r = px_get(proc, path, params)
        assert r.status_code == status, (path, params, r.status_code, r.text[:300])
        assert r.headers["content-type"] == "application/problem+json"
        assert r.json()["status"] == status and r.json()["detail"]
        assert "SE2" not in r.text  # no HSA id of the stored data
    too_big = px_get(proc, t, [("valueCodes[Tid]", "*")]).json()
    assert f"{pxweb_live.MAX_CELLS:,}" in too_big["detail"]
    for body in (b"[", b"[]", b'{"selection": 3}', b'{"selection": [{"variableCode": 1}]}',
                 b'{"selection": [{"variableCode": "Tid", "valueCodes": [1]}]}',
                 b"{" * 100_000, b"x" * (2 << 20)):  # fmt: skip
        r = HTTP.post(proc.url + BASE + t, content=body, timeout=60)
        assert r.status_code == 400, (body[:40], r.status_code, r.text[:200])


def test_saved_queries_live_in_clickhouse_and_move_with_time(live: Live, tmp_path: Path) -> None:
    proc, _ = live
    table = "webbtidbokning.events-per-month"
    query = {"tableId": table, "outputFormat": "json-stat2",
             "selection": [{"variableCode": "Tid", "valueCodes": ["top(3)"]},
                           {"variableCode": "activity", "valueCodes": ["*"]}]}  # fmt: skip
    r = HTTP.post(proc.url + BASE + "/savedqueries", json=query, timeout=60)
    assert r.status_code == 201, r.text
    qid = r.json()["id"]
    assert HTTP.post(proc.url + BASE + "/savedqueries", json=query, timeout=60).json()["id"] == qid
    # stored as written: top(3) is kept, not the months it meant today
    assert px_get(proc, f"/savedqueries/{qid}").json()["selection"][0]["valueCodes"] == ["top(3)"]
    # another process reads it from ClickHouse: restart the API
    proc.stop()
    proc.start()
    saved = px_get(proc, f"/savedqueries/{qid}/data").json()
    months = sorted(saved["dimension"]["Tid"]["category"]["index"])
    assert months == tables.time_codes(tables.find(table).report, _today())[-3:]
    direct = data(proc, table, [("valueCodes[Tid]", ",".join(months))])
    assert saved["value"] == direct["value"]
    assert json.loads(json.dumps(saved))  # plain JSON


def _today() -> Any:
    from reports.engine import today_in_stockholm

    return today_in_stockholm()


# --- clients no one here wrote ----------------------------------------------------

ROOT = Path(__file__).resolve().parents[2]
CLIENTS = ROOT / "deploy" / "pxweb_clients"


@pytest.fixture(scope="session")
def clients_python() -> Path:
    """pxwebpy, pxstatspy and jsonstat-validator from PyPI in a virtual
    environment of their own (never the project's), made once and kept under
    .statflow/ until requirements.txt changes."""
    import hashlib
    import subprocess
    import sys

    wanted = hashlib.sha256((CLIENTS / "requirements.txt").read_bytes()).hexdigest()
    venv = ROOT / ".statflow" / "pxweb-clients"
    python = venv / "bin" / "python"
    marker = venv / "requirements.sha256"
    if not (python.exists() and marker.exists() and marker.read_text() == wanted):
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True,
                       timeout=300)  # fmt: skip
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", "-r", str(CLIENTS / "requirements.txt")],
            check=True, timeout=900, capture_output=True,
        )  # fmt: skip
        marker.write_text(wanted)
    return python


def test_pxweb_clients_read_the_tables_and_jsonstat_validates(
    live: Live, clients_python: Path
) -> None:
    import subprocess

    proc, _ = live
    table = "webbtidbokning.events-per-month"
    codes = {"Tid": ["2024M01", "2024M02", "2024M03"], "activity": ["*"],
             "ContentsCode": ["events"]}  # fmt: skip
    report_url = (proc.url + "/api/v1/reports/webbtidbokning/events-by-hierarchy"
                  "?format=jsonstat&level=unit&from=2024-01-01&to=2024-03-31")  # fmt: skip
    run = subprocess.run(
        [str(clients_python), str(CLIENTS / "drive.py"), proc.url + BASE, report_url, table,
         json.dumps(codes)],
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]
    got = json.loads(run.stdout)
    ids = [t["id"] for t in px_get(proc, "/tables", [("pageSize", "1000")]).json()["tables"]]
    direct = data(proc, table, [("valueCodes[Tid]", "2024M01,2024M02,2024M03")])
    want = {k: v for k, (v, _) in expected(proc, table, direct, {}).items()}
    assert cells_of(direct) == expected(proc, table, direct, {})
    # pxwebpy: lists, reads metadata, fetches (rows keyed by dimension labels)
    px = got["pxwebpy"]
    assert px["tables"] == ids and px["number_of_tables"] == len(ids)
    assert px["metadata_id"] == ["activity", "ContentsCode", "Tid"]
    assert set(px["variables"]["activity"]) == {"MakeBooking", "CancelBooking", "UpdateBooking"}
    label = {v: k for k, v in px["labels"].items()}
    rows = {tuple(r[px["labels"][d]] for d in ("activity", "ContentsCode", "Tid")): r["value"]
            for r in px["rows"]}  # fmt: skip
    assert rows == want and len(rows) == 9 and label
    # pxstatspy: lists, reads metadata, fetches JSON-stat and a data frame
    ps = got["pxstatspy"]
    assert ps["tables"] == ids and ps["total"] == len(ids)
    assert ps["max_data_cells"] == pxweb_live.MAX_CELLS
    assert ps["metadata_id"] == ["activity", "ContentsCode", "Tid"]
    assert {k: v for k, (v, _) in cells_of(ps["data"]).items()} == want
    names = px["labels"]  # pxstatspy names a frame's columns by the dimensions' labels
    frame = {(r[names["activity"]], r[names["Tid"]]): r["events"] for r in ps["frame"]}
    assert frame == {(a, t): v for (a, _, t), v in want.items()}
    # the JSON-stat answers of both APIs pass jsonstat-validator
    assert got["validator"] == {"pxweb": "valid", "report_api": "valid"}


def test_pxweb_shares_the_report_apis_rate_limit(make_client: Any) -> None:  # noqa: F811
    """The open rate limit (Redis, per address) counts PxWeb and report API
    requests together, and /config announces it."""
    client = make_client(rate_limit_requests=3, rate_limit_window_seconds=30)
    config = client.get(BASE + "/config").json()  # 1
    assert (config["maxCallsPerTimeWindow"], config["timeWindow"]) == (3, 30)
    assert client.get("/api/v1/reports").status_code == 200  # 2
    assert client.get(BASE + "/tables").status_code == 200  # 3
    r = client.get(BASE + "/tables")
    assert r.status_code == 429 and 1 <= int(r.headers["Retry-After"]) <= 30, r.text


def test_pxweb_answers_carry_the_data_quality_notes(make_client: Any) -> None:  # noqa: F811
    """A data-quality note recorded for a report's period reaches the PxWeb
    answer as it reaches the report API's (the same engine call)."""
    from tests.integration.test_bounds import auth

    client = make_client()
    note = {"service": "webbtidbokning", "reports": ["events-per-month"],
            "from": "2024-01-10", "to": "2024-01-12", "text": "Driftstörning hos NTjP"}  # fmt: skip
    assert (
        client.post("/api/v1/annotations", headers=auth("operator"), json=note).status_code == 201
    )
    body = client.get(BASE + "/tables/webbtidbokning.events-per-month/data",
                      params={"valueCodes[Tid]": "2024M01,2024M02"}).json()  # fmt: skip
    report = client.get("/api/v1/reports/webbtidbokning/events-per-month",
                        params={"from": "2024-01-01", "to": "2024-02-29"}).json()  # fmt: skip
    assert any("Driftstörning hos NTjP" in n for n in report["notes"])
    assert body["note"] == report["notes"]
