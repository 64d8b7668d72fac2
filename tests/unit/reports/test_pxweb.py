"""The pure parts of the PxWeb table API (issue 22): tables read from the
declarations, selection expressions, the cell limit, the cube and the PX file."""

from __future__ import annotations

import datetime as dt

import pytest

from core.errors import AnswerTooLarge, ParameterError, UnknownReportError
from reports import catalogue, limits
from reports.pxweb import bodies, files, px, run, saved, selection, tables
from reports.pxweb.cube import Rows, categories, fill, narrowed
from reports.pxweb.selection import Selection, from_body, from_query, resolve, split

MONTHS = ["2024M01", "2024M02", "2024M03", "2024M04", "2024M05"]


def test_a_table_per_open_report_and_level_from_the_declarations() -> None:
    want = {
        f"{r.service}.{r.id}" + (f".{lv}" if lv else "")
        for s in catalogue.SERVICES for r in s.reports if "open" in r.tiers
        for lv in (r.levels or (None,))
    }  # fmt: skip
    assert {t.id for t in tables.all_tables()} == want
    assert not any("unanswered-cases" in t.id for t in tables.all_tables())  # logged-in only
    with pytest.raises(UnknownReportError):
        tables.find("webbtidbokning.no-such-report")


def test_the_organisation_tree_keeps_its_finest_level_only() -> None:
    unit = tables.find("webbtidbokning.events-by-hierarchy.unit")
    assert [d.name for d in unit.dims] == ["unit_id"]
    assert [c.name for c in unit.columns][:6] == ["county_code", "county_name", "care_provider_id",
                                                  "care_provider_name", "unit_id", "unit_name"]  # fmt: skip
    assert [d.name for d in tables.find("webbtidbokning.events-by-hierarchy.county").dims] == [
        "county_code"
    ]
    # a unit's care type and activation day describe the unit: not crossed with it
    assert [d.name for d in tables.find("e-tjanster.connected-units").dims] == ["unit_id"]
    assert tables.find("webbtidbokning.events-per-month").monthly
    assert not tables.find("webbtidbokning.bookings-per-county").monthly
    assert tables.find("webbtidbokning.events-by-hierarchy.unit").dimension_ids == [
        "unit_id", "ContentsCode", "Tid"]  # fmt: skip


def test_months_run_from_the_data_start_to_today() -> None:
    report = tables.find("webbtidbokning.events-per-month").report
    codes = tables.time_codes(report, dt.date(2018, 1, 15))
    assert codes == ["2017M10", "2017M11", "2017M12", "2018M01"]
    assert tables.month_of("2024M02") == (dt.date(2024, 2, 1), dt.date(2024, 2, 29))
    with pytest.raises(ValueError):
        tables.month_of("2024M13")


@pytest.mark.parametrize(
    ("exprs", "time", "want"),
    [
        (["*"], True, MONTHS),
        (["top(2)"], True, ["2024M04", "2024M05"]),  # the latest months
        (["TOP(2,1)"], True, ["2024M03", "2024M04"]),
        (["bottom(2)"], True, ["2024M01", "2024M02"]),
        (["top(2)"], False, ["2024M01", "2024M02"]),  # elsewhere: the first
        (["from(2024M04)"], True, ["2024M04", "2024M05"]),
        (["to(2024M02)"], True, ["2024M01", "2024M02"]),
        (["range(2024M04,2024M02)"], True, ["2024M02", "2024M03", "2024M04"]),
        (["2024M05", "2024M01", "2024M05"], True, ["2024M01", "2024M05"]),
        (["*M0?"], True, MONTHS),
        (["2024M0[1]"], True, None),  # no regex: brackets are literal, so nothing
        (["top(99)"], True, MONTHS),
    ],
)
def test_selection_expressions(exprs: list[str], time: bool, want: list[str] | None) -> None:
    if want is None:
        with pytest.raises(ParameterError):
            resolve("Tid", exprs, MONTHS, time)
    else:
        assert resolve("Tid", exprs, MONTHS, time) == want


@pytest.mark.parametrize(
    "exprs",
    [["1999M01"], ["top(x)"], ["top(1,2,3)"], ["range(2024M01)"], ["from(a,b)"], ["nope*"],
     ["top(-1)"], ["top(99999999)"]],
)  # fmt: skip
def test_bad_selections_are_parameter_errors_naming_the_variable(exprs: list[str]) -> None:
    with pytest.raises(ParameterError) as err:
        resolve("Tid", exprs, MONTHS, True)
    assert err.value.parameter == "valueCodes[Tid]"


def test_query_and_body_selections() -> None:
    assert split("range(2024M01,2024M03),top(2, 1),01") == [
        "range(2024M01,2024M03)", "top(2, 1)", "01"]  # fmt: skip
    sel, rest = from_query([("valuecodes[Tid]", "top(3)"), ("valueCodes[county_code]", "01,03"),
                            ("codelist[county_code]", "vs_Lan"), ("lang", "en")])  # fmt: skip
    assert sel.values == {"Tid": ("top(3)",), "county_code": ("01", "03")}
    assert sel.codelists == {"county_code": "vs_Lan"} and rest == [("lang", "en")]
    body = from_body({"selection": [{"variableCode": "Tid", "valueCodes": ["top(3)"]},
                                    {"variableCode": "county_code", "valueCodes": ["01", "03"],
                                     "codelist": "vs_Lan"}]})  # fmt: skip
    assert body == sel
    assert from_body(body.to_json()) == sel
    bad: object
    for bad in ([], {"selection": 1}, {"selection": [{"variableCode": 2}]},
                {"selection": [{"variableCode": "a", "valueCodes": [1]}]},
                {"selection": [{"variableCode": "a", "valueCodes": ["x"]},
                               {"variableCode": "a", "valueCodes": ["y"]}]},
                {"selection": [{"variableCode": "a", "valueCodes": ["\x00"]}]},
                {"selection": [{"variableCode": "a", "valueCodes": ["x"] * 10_001}]}):  # fmt: skip
        with pytest.raises(ParameterError):
            from_body(bad)


def test_the_cell_limit_is_the_selection_product() -> None:
    table = tables.find("webbtidbokning.events-by-hierarchy.unit")
    dims = categories(table, [], MONTHS, "sv")
    chosen = run.choose(table, dims, Selection({"Tid": ("*",)}))
    assert selection.cells(len(v) for v in chosen.values()) == 0  # no units known
    assert selection.cells([3, 1, 50_000]) == 150_000
    limits.check(150_000, 150_000)
    with pytest.raises(AnswerTooLarge):
        limits.check(selection.cells([3, 1, 50_001]), 150_000)
    with pytest.raises(ParameterError):
        run.choose(table, dims, Selection({"planet": ("*",)}))
    with pytest.raises(ParameterError):
        run.choose(table, dims, Selection({}, {"unit_id": "vs_Lan"}))


def _cube() -> tuple[tables.Table, list[Rows]]:
    table = tables.find("stod-och-behandling.moments-by-hierarchy.county")
    cols = table.columns
    rows = [["01", "Stockholms län", 10, 3, 7, None, 2],
            ["03", "Uppsala län", 5, 1, 4, 12, 1]]  # fmt: skip
    return table, [Rows(cols, rows, "2024M01"), Rows(cols, [rows[0]], "2024M02")]


def test_the_cube_is_dense_withheld_is_dotdot_and_absent_counts_are_zero() -> None:
    table, answers = _cube()
    dims = categories(table, answers, ["2024M01", "2024M02"], "sv")
    county = dims[0]
    assert county.codes[:3] == ["01", "03", "04"] and county.labels["03"] == "Uppsala län"
    chosen = {"county_code": ["01", "03"], "ContentsCode": ["started", "residents"],
              "Tid": ["2024M01", "2024M02"]}  # fmt: skip
    cube = fill(table, narrowed(dims, chosen), answers)
    # order: county, contents, month (last fastest)
    assert cube.values == [10, 10, None, None, 5, 0, 12, None]
    assert cube.status == {2: "..", 3: "..", 7: "."}
    assert cube.flat()[0] == (["01", "2024M01"], [10, None])
    body = bodies.dataset(cube, "sv")
    assert body["size"] == [2, 2, 2] and body["status"] == {"2": "..", "3": "..", "7": "."}
    assert body["dimension"]["ContentsCode"]["category"]["unit"]["started"]["decimals"] == 0


def test_px_file_and_long_table() -> None:
    table, answers = _cube()
    dims = categories(table, answers, ["2024M01", "2024M02"], "en")
    chosen = {"county_code": ["01"], "ContentsCode": ["started", "residents"],
              "Tid": ["2024M01", "2024M02"]}  # fmt: skip
    cube = fill(table, narrowed(dims, chosen), answers)
    text = px.render(cube, "en", "Title", ['a "note"'], dt.datetime(2025, 1, 2, 3, 4)).decode()
    assert 'STUB="County code","table contents";' in text
    assert 'HEADING="month";' in text and 'TIMEVAL("month")=TLIST(M1),"202401","202402";' in text
    assert "NOTEX=\"a 'note'\";" in text
    assert text.rstrip().endswith('DATA=\r\n10 10\r\n".." "..";')
    result = files.long_result(cube, "en", "csv", ("UseCodes",))
    assert [c.name for c in result.columns] == [
        "county_code", "county_code_text", "Tid", "started", "residents"]  # fmt: skip
    assert result.rows[1] == ["01", "Stockholms län", "2024M02", 10, None]
    assert files.output_format(None) == "json-stat2"
    with pytest.raises(ParameterError):
        files.output_format("html")


def test_saved_query_ids_follow_the_query_not_the_process() -> None:
    body = {"tableId": "webbtidbokning.events-per-month",
            "selection": [{"variableCode": "Tid", "valueCodes": ["top(12)"]}]}  # fmt: skip
    a, b = saved.parse(body), saved.parse(dict(body))
    assert a.id == b.id and len(a.id) == saved.ID_LENGTH
    assert saved.parse({**body, "outputFormat": "csv"}).id != a.id
    assert a.selection.values == {"Tid": ("top(12)",)}  # kept as written: it moves with time
    for bad in (None, {}, {"tableId": 3}, {"tableId": "x", "outputFormat": "html"}):
        with pytest.raises(ParameterError):
            saved.parse(bad)


def test_config_announces_the_limits() -> None:
    body = bodies.config(150_000, 30, 10)
    assert (body["maxDataCells"], body["maxCallsPerTimeWindow"], body["timeWindow"]) == (
        150_000, 30, 10)  # fmt: skip
    assert body["apiVersion"] >= "2.0.0"
    off = bodies.config(0, 0, 10)  # no limits: counts the clients read as "never wait, never split"
    assert off["maxDataCells"] == off["maxCallsPerTimeWindow"] == bodies.UNLIMITED


class _Refuses:
    def query_rows(self, *_: object, **__: object) -> list[tuple[object, ...]]:
        raise AssertionError("a cached table's categories read nothing")


class _Dict:
    def __init__(self) -> None:
        self.kept: dict[str, bytes] = {}

    def get(self, key: str) -> bytes | None:
        return self.kept.get(key)

    def set(self, key: str, value: bytes) -> None:
        self.kept[key] = value


def test_categories_are_cached_by_table_language_day_and_opt_in() -> None:
    table, answers = _cube()
    dims = categories(table, answers, ["2024M01"], "sv")
    updated = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    assert run.decode(run.encode(dims, updated)) == (dims, updated)
    today = dt.date(2025, 1, 2)
    bounds = run.Bounds("SE1,SE2", 150_000)
    cache = _Dict()
    cache.set(run.cache_key(table, bounds, today, "sv"), run.encode(dims, updated))
    assert run.dimensions(table, _Refuses(), bounds, today, "sv", cache) == (dims, updated)
    keys = {
        run.cache_key(table, bounds, today, "sv"), run.cache_key(table, bounds, today, "en"),
        run.cache_key(table, run.Bounds("*"), today, "sv"),
        run.cache_key(table, bounds, dt.date(2025, 1, 3), "sv"),
    }  # fmt: skip
    assert len(keys) == 4
