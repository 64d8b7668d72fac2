"""What the answer formats make of a fixed answer, pinned byte for byte: the
rendering is columnar now (no call per cell), and must say exactly what the
per-cell code said (same keys, order, values; floats unrounded)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import io

import openpyxl
import orjson

from bench import render as bench_render
from reports import formats
from reports.declarations import Answer, Column, Report, ReportParams
from reports.engine import Result
from reports.labels import Label

COLUMNS = (
    Column("county_code", "Länskod", "County code", "string", level="county"),
    Column("county_name", "Län", "County", "string", level="county", label_of="county_code"),
    Column("weekday", "Veckodag", "Weekday", "integer", dimension=True),
    Column("events", "Antal händelser", "Events", "integer"),
    Column("share", "Andel", "Share", "number"),
    Column("active", "Aktiv", "Active", "boolean", dimension=False),
)
ROWS = [
    ["01", "Stockholms län", 1, 12, 1 / 3, True],
    ["01", "Stockholms län", 2, None, 0.1 + 0.2, False],
    ["03", 'Uppsala "län", ;\nrad två', 1, 0, 1e-7, None],
    [None, None, 7, 2**53 + 1, None, True],
]
REPORT = Report(
    "testservice", "fixed-answer", "Ett fast svar åäö", "A fixed answer",
    Label("Det fasta svaret.", "The fixed answer."),
    COLUMNS, lambda p, r: Answer([]),
)  # fmt: skip


def result(fmt: str, delimiter: str = ",") -> Result:
    params = ReportParams(
        dt.date(2024, 1, 1), dt.date(2024, 12, 31), {"county": ("01", "03")},
        format=fmt, delimiter=delimiter,
    )  # fmt: skip
    as_of = dt.datetime(2024, 5, 6, 7, 8, 9, tzinfo=dt.UTC)
    return Result(REPORT, params, COLUMNS, [list(r) for r in ROWS], ["Not ett", "Note två"], as_of)


# Made by the per-cell code of reports/formats.py before it went columnar.
JSON = (
    '{"report":"fixed-answer","service":"testservice","title":"Ett fast svar åäö",'
    '"params":{"from":"2024-01-01","to":"2024-12-31","county":["01","03"]},'
    '"columns":[{"name":"county_code","label":"Länskod","type":"string"},'
    '{"name":"county_name","label":"Län","type":"string"},'
    '{"name":"weekday","label":"Veckodag","type":"integer"},'
    '{"name":"events","label":"Antal händelser","type":"integer"},'
    '{"name":"share","label":"Andel","type":"number"},'
    '{"name":"active","label":"Aktiv","type":"boolean"}],'
    '"rows":[["01","Stockholms län",1,12,0.3333333333333333,true],'
    '["01","Stockholms län",2,null,0.30000000000000004,false],'
    '["03","Uppsala \\"län\\", ;\\nrad två",1,0,1e-7,null],'
    "[null,null,7,9007199254740993,null,true]],"
    '"notes":["Not ett","Note två"],"data_as_of":"2024-05-06T07:08:09+00:00"}'
)
CSV = (
    "\ufeffcounty_code;county_name;weekday;events;share;active\r\n"
    "01;Stockholms län;1;12;0.3333333333333333;true\r\n"
    "01;Stockholms län;2;;0.30000000000000004;false\r\n"
    '03;"Uppsala ""län"", ;\nrad två";1;0;1e-07;\r\n'
    ";;7;9007199254740993;;true\r\n"
)
CSV_COMMA = (
    "\ufeffcounty_code,county_name,weekday,events,share,active\r\n"
    "01,Stockholms län,1,12,0.3333333333333333,true\r\n"
    "01,Stockholms län,2,,0.30000000000000004,false\r\n"
    '03,"Uppsala ""län"", ;\nrad två",1,0,1e-07,\r\n'
    ",,7,9007199254740993,,true\r\n"
)
JSONSTAT = (
    '{"version":"2.0","class":"dataset","label":"Ett fast svar åäö","source":"statflow",'
    '"updated":"2024-05-06T07:08:09+00:00","id":["county_code","weekday","mått"],'
    '"size":[3,3,3],"role":{"metric":["mått"]},"dimension":{"county_code":{"label":"Länskod",'
    '"category":{"index":{"01":0,"03":1,"":2},"label":{"01":"Stockholms län",'
    '"03":"Uppsala \\"län\\", ;\\nrad två","":""}}},"weekday":{"label":"Veckodag",'
    '"category":{"index":{"1":0,"2":1,"7":2},"label":{"1":"1","2":"2","7":"7"}}},'
    '"mått":{"label":"Mått","category":{"index":{"events":0,"share":1,"active":2},'
    '"label":{"events":"Antal händelser","share":"Andel","active":"Aktiv"}}}},'
    '"value":[12,0.3333333333333333,true,null,0.30000000000000004,false,null,null,null,0,'
    "1e-7,null,null,null,null,null,null,null,null,null,null,null,null,null,"
    '9007199254740993,null,true],"status":{"3":"..","11":"..","25":".."},'
    '"note":["Not ett","Note två"],"extension":{"params":{"from":"2024-01-01",'
    '"to":"2024-12-31","county":["01","03"]},"report":"fixed-answer"}}'
)


def test_json_csv_and_jsonstat_of_a_fixed_answer_are_pinned() -> None:
    assert formats.render(result("json")) == (JSON.encode(), "application/json")
    assert formats.render(result("csv", ";"))[0] == CSV.encode()
    assert formats.render(result("csv"))[0] == CSV_COMMA.encode()
    assert formats.render(result("jsonstat"))[0] == JSONSTAT.encode()


# sha256 of the 7,000-row hierarchy answer (bench/render.py) as the per-cell
# code rendered it.
PINNED_7000 = {
    ("json", ","): "6a1e4bfe146610a816bad5f905ba43912aea708fe3a0cfe01edeb79714bffa3b",
    ("csv", ","): "8740883fb85783e2f131369f329e83430eab3aae9b2a8504eff53f312282a6b0",
    ("csv", ";"): "50ece26fb4ad77a3dfd045fe8b708d82504a7d6b645429fa048232a82577b068",
}


def test_a_7000_row_answer_renders_as_the_per_cell_code_did() -> None:
    base = bench_render.answer(7_000)
    for (fmt, delimiter), digest in PINNED_7000.items():
        params = dataclasses.replace(base.params, format=fmt, delimiter=delimiter)
        body = formats.render(dataclasses.replace(base, params=params))[0]
        assert hashlib.sha256(body).hexdigest() == digest, (fmt, delimiter)


def test_xlsx_measures_are_numbers_and_codes_read_as_labels() -> None:
    book = openpyxl.load_workbook(io.BytesIO(formats.render(result("xlsx"))[0]))
    sheet = book.worksheets[0]
    got = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert got[0] == [c.label_sv for c in COLUMNS]
    assert got[1:] == [
        ["01", "Stockholms län", "måndag", 12, 1 / 3, "Ja"],
        ["01", "Stockholms län", "tisdag", "–", 0.3, "Nej"],  # Excel keeps 15 digits
        ["03", 'Uppsala "län", ;\nrad två', "måndag", 0, 1e-7, "–"],
        ["–", "–", "söndag", 2**53, "–", "Ja"],
    ]
    assert sheet["E2"].number_format == "0.0000" and sheet["D2"].number_format == "General"
    assert sheet["A1"].font.b and sheet.freeze_panes == "A2"
    notes = [list(r) for r in book["Noter"].iter_rows(values_only=True)]
    assert notes[-2:] == [["Not", "Not ett"], ["Not", "Note två"]]


def hierarchy(n: int) -> Result:
    """Unit rows with their county and care provider: a sparse cube."""
    base = bench_render.answer(n)
    return dataclasses.replace(base, params=dataclasses.replace(base.params, format="jsonstat"))


def test_jsonstat_of_a_hierarchy_answer_stays_linear_and_exact() -> None:
    # 300 units under 300 providers in 21 counties, 4 activities: the dense
    # cube had 21 x 300 x 300 x 4 = 7.6 M cells (tens of MB) for 300 rows.
    res = hierarchy(300)
    body = orjson.loads(formats.render(res)[0])
    assert len(formats.render(res)[0]) < 1_000 * len(res.rows)
    dims = body["id"][:-1]
    assert dims == ["county_code", "care_provider_id", "unit_id", "activity"]
    assert body["size"][-1] == 1 and isinstance(body["value"], dict)
    names = [c.name for c in res.columns]
    got = {}
    for row in res.rows:
        pos = 0
        for d, n in zip(dims, body["size"], strict=False):
            pos = pos * n + body["dimension"][d]["category"]["index"][str(row[names.index(d)])]
        got[str(pos)] = row[-1]
    assert body["value"] == got
    cp = body["dimension"]["care_provider_id"]["category"]
    assert cp["label"]["SE232100000008"] == 'Vårdgivare 8 "åäö", ;'
    assert cp["label"]["SE232100000014"] == "SE232100000014"  # no name: its id


def test_jsonstat_stays_an_array_while_the_cube_is_dense() -> None:
    res = result("jsonstat")
    small = orjson.loads(formats.render(res)[0])
    assert isinstance(small["value"], list)  # 27 cells: under DENSE_CELLS
    rows = [[f"{i:04d}", None, i % 7 + 1, i, None, None] for i in range(600)]
    big = orjson.loads(formats.render(dataclasses.replace(res, rows=rows))[0])
    # 600 x 7 x 3 cells for 600 x 3 values: more than twice, so sparse
    assert isinstance(big["value"], dict) and len(big["value"]) == 1800
    assert big["status"]["2"] == ".."


def test_an_empty_answer_renders_in_every_format() -> None:
    for fmt in ("json", "csv", "xlsx", "jsonstat"):
        body, _ = formats.render(dataclasses.replace(result(fmt), rows=[]))
        assert body
    stat = orjson.loads(formats.render(dataclasses.replace(result("jsonstat"), rows=[]))[0])
    assert stat["size"] == [0, 0, 3] and stat["value"] == []


def test_jsonstat_of_an_answer_without_measures() -> None:
    only_dims = COLUMNS[:3]
    res = dataclasses.replace(result("jsonstat"), columns=only_dims, rows=[r[:3] for r in ROWS])
    stat = orjson.loads(formats.render(res)[0])
    assert stat["size"] == [3, 3, 0] and stat["value"] == []
