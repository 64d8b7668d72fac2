"""No input yields a 5xx: a generated test over every route of the API and
every parameter the catalogue declares, against the real app on the real
stack (chDB store, redis-server), bounded in examples and time.

The routes come from the app itself (a route added later is generated too;
a POST route without a body description below fails the test), the report
parameters from the catalogue (the report route reads the raw query string,
so OpenAPI lists none of them). Values mix valid ones, to reach deep paths,
with hostile ones: dates far out, negative and huge numbers, unicode and
control characters, very long strings, repeated keys, wrong JSON types, deep
nesting and bodies that are not JSON. Every answer must be below 500 and,
when it is an error from /api/, carry the API's one error shape.

Creating real export jobs and backfills is left to their own tests: tokens
here hold no export role (the body is still parsed in full before the role
is checked), and a backfill body that names a real topic always carries a
hostile `source`, so nothing starts in the background.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core import auth
from reports import catalogue, declarations
from reports.params import COMMON
from tests.integration.test_bounds import SECRET, make_client  # noqa: F401 - a fixture

pytestmark = pytest.mark.timeout(600)

REPORTS = [(r.service, r.id) for s in catalogue.services().values() for r in s.reports]
RUNS = settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    derandomize=True,  # the same examples each run: a failure is reproducible
    database=None,  # nothing written into the work tree
)

# --- hostile values --------------------------------------------------------

HOSTILE_STRINGS = st.one_of(
    st.sampled_from(
        [
            "",
            " ",
            "0001-01-01",
            "9999-12-31",
            "10000-01-01",
            "2024-02-30",
            "2024-13-01",
            "-1",
            "0",
            "-9223372036854775809",
            "18446744073709551616",
            "1e99",
            "NaN",
            "inf",
            "null",
            "true",
            "[]",
            "{}",
            "' OR 1=1 --",
            "1; DROP TABLE x",
            "../../etc/passwd",
            "%00",
            "\x00",
            "a\x00b",
            "\u202e01",
            "٠١",
            "𝟘𝟙",
            "ä" * 300,
            "x" * 10_000,
            "1990-01-01T00:00:00",
            "19121212-1212",
            "2024-01-01,2024-02-01",
            ",,,",
            "*",
        ]  # fmt: skip
    ),
    st.text(max_size=80),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=200, max_size=2000),
)
JSON_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**80), max_value=2**80),
    st.floats(allow_nan=True, allow_infinity=True),
    HOSTILE_STRINGS,
)
HOSTILE_JSON = st.recursive(
    JSON_SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=12,
)
NOT_JSON = st.one_of(
    st.binary(max_size=200),
    st.sampled_from([b"", b"{", b"[" * 50_000, b"\xff\xfe\xfd", b"kind=aggregated", b"null"]),
)


def valid_date() -> st.SearchStrategy[str]:
    return st.dates().map(lambda d: d.isoformat())


# the edges of Python's, ClickHouse's Date/Date32/DateTime and the data's ranges
EDGE_DATE_VALUES = (
    "0001-01-01", "9999-12-31", "1899-12-31", "1900-01-01", "1969-12-31", "1970-01-01",
     "2106-02-07", "2149-06-06", "2149-06-07", "2299-12-31", "2300-01-01", "2015-09-30",
     "2017-09-30", "1999-12-31",
)  # fmt: skip
EDGE_DATES = st.sampled_from(EDGE_DATE_VALUES)
DATES = st.one_of(EDGE_DATES, valid_date(), HOSTILE_STRINGS)


# --- who asks --------------------------------------------------------------

ROLES = ["operator", "auditor", "region_admin", "unit_admin"]


def token(roles: list[str]) -> str:
    county = "01" if "region_admin" in roles else None
    units = ["SE-UNIT-1"] if "unit_admin" in roles else []
    return auth.issue(SECRET, "fuzz", ["SE-CP-1"], roles, county_code=county, unit_ids=units)


HEADERS: st.SearchStrategy[dict[str, str]] = st.one_of(
    st.just({}),
    st.lists(st.sampled_from(ROLES), max_size=2, unique=True).map(
        lambda r: {"Authorization": f"Bearer {token(r)}"}
    ),
    HOSTILE_STRINGS.filter(lambda s: s.isascii() and s.isprintable()).map(
        lambda s: {"Authorization": s}
    ),
)
OPERATOR = {"Authorization": f"Bearer {token(['operator', 'auditor'])}"}


# --- the checks ------------------------------------------------------------


def check(response: Any, what: object) -> None:
    assert response.status_code < 500, (what, response.status_code, response.text[:500])
    if response.status_code >= 400 and response.request.url.path.startswith("/api/"):
        body = response.json()
        assert isinstance(body.get("error"), str) and body["error"], (what, response.text[:300])


def routes(client: TestClient) -> list[APIRoute]:
    return [r for r in client.app.routes if isinstance(r, APIRoute)]  # type: ignore[attr-defined]


def fill(path: str, values: dict[str, str]) -> str:
    """The route's path with each {name} replaced by its value, URL-quoted."""
    return re.sub(r"\{(\w+)\}", lambda m: quote(values[m.group(1)], safe=""), path)


PATH_VALUE = st.one_of(
    st.sampled_from([s for s, _ in REPORTS] + [r for _, r in REPORTS]),
    HOSTILE_STRINGS.filter(lambda s: s not in ("", ".", "..")),
)


@pytest.fixture
def client(make_client: Callable[..., TestClient]) -> TestClient:  # noqa: F811
    return make_client(rate_limit_requests=0)


def test_reports_never_5xx(client: TestClient) -> None:
    """Every report (25 requests each), every declared parameter, valid and
    hostile values."""

    def values_for(name: str, report: declarations.Report) -> st.SearchStrategy[str]:
        valid: list[str] = {
            "format": ["json", "csv", "xlsx", "jsonstat", "pdf"],
            "lang": ["sv", "en"],
            "delimiter": ["comma", "semicolon"],
            "level": list(report.levels) or ["county"],
            "county": ["01", "25", "00"],
        }.get(name, list(report.choices.get(name, ())) or ["SE-UNIT-1"])
        if name in ("from", "to"):
            return DATES
        # valid values twice as often: a hostile one ends the request early
        return st.one_of(st.sampled_from(valid), st.sampled_from(valid), HOSTILE_STRINGS)

    @st.composite
    def request(
        draw: st.DrawFn, report: declarations.Report
    ) -> tuple[str, list[tuple[str, str]], dict[str, str]]:
        names = [*COMMON, *report.filters]
        # the period in most requests; then any declared parameters, repeats included
        chosen = [n for n in ("from", "to") if draw(st.integers(0, 3))]
        chosen += draw(st.lists(st.sampled_from(names), max_size=4))
        pairs = [(n, draw(values_for(n, report))) for n in chosen]
        if draw(st.integers(0, 3)) == 0:
            pairs.append((draw(HOSTILE_STRINGS), draw(HOSTILE_STRINGS)))  # unknown names
        # open callers most often: a token's scope refuses much before the query
        headers = draw(st.one_of(st.just({}), st.just({}), HEADERS))
        return f"/api/v1/reports/{report.service}/{report.id}", pairs, headers

    for service, report_id in REPORTS:
        report = catalogue.find(service, report_id)
        assert report is not None
        # every edge date as from and as to, the rest default
        for edge in EDGE_DATE_VALUES:
            for name in ("from", "to"):
                path = f"/api/v1/reports/{service}/{report_id}"
                check(client.get(path, params={name: edge}), (path, name, edge))

        @settings(RUNS, max_examples=25)
        @given(request(report))
        def run(req: tuple[str, list[tuple[str, str]], dict[str, str]]) -> None:
            path, pairs, headers = req
            check(client.get(path, params=pairs, headers=headers), req)

        run()


def test_other_routes_never_5xx(client: TestClient) -> None:
    """Every other GET route of the app (and the pages), with hostile path and
    query values: the query names FastAPI declares, plus unknown ones."""
    gets = [
        r for r in routes(client)
        if "GET" in (r.methods or ()) and r.path != "/api/v1/reports/{service}/{report}"
    ]  # fmt: skip
    assert len(gets) >= 10

    @st.composite
    def request(draw: st.DrawFn) -> tuple[str, list[tuple[str, str]], dict[str, str]]:
        route = draw(st.sampled_from(gets))
        path = fill(route.path, {n: draw(PATH_VALUE) for n in re.findall(r"\{(\w+)\}", route.path)})
        declared = [p.name for p in route.dependant.query_params]
        names = draw(st.lists(st.sampled_from(declared), max_size=3)) if declared else []
        number = st.integers(-(2**70), 2**70).map(str)
        pairs = [(n, draw(st.one_of(number, HOSTILE_STRINGS))) for n in names]
        if draw(st.booleans()):
            pairs.append((draw(HOSTILE_STRINGS), draw(HOSTILE_STRINGS)))
        return path, pairs, draw(HEADERS)

    @RUNS
    @given(request())
    def run(req: tuple[str, list[tuple[str, str]], dict[str, str]]) -> None:
        path, pairs, headers = req
        check(client.get(path, params=pairs, headers=headers), req)

    run()
    for path in ("/static/../../etc/passwd", "/static/%2e%2e/%2e%2e/etc/passwd", "/r/x/y"):
        check(client.get(path), path)


def not_a_directory(value: Any) -> bool:
    """Reconciliation applies a directory's files: never point it at a real one."""
    if not isinstance(value, str):
        return True
    try:
        return not Path(value).is_dir()
    except (OSError, ValueError):
        return True


PXWEB_EXPRESSIONS = st.one_of(
    st.sampled_from(["*", "top(3)", "top(99999999)", "top(1,99)", "bottom(2)", "from(2024M01)",
                     "to(2017M10)", "range(2024M01,2023M01)", "01*", "*?", "01", "2024M01",
                     "top(", ")", "range(,)", "top(1,2,3)", "((", "a" * 300]),
    HOSTILE_STRINGS,
)  # fmt: skip
PXWEB_SELECTION = st.one_of(
    st.lists(
        st.fixed_dictionaries(
            {"variableCode": st.one_of(st.sampled_from(["Tid", "ContentsCode", "county_code",
                                                        "unit_id", "activity"]), HOSTILE_JSON),
             "valueCodes": st.one_of(st.lists(PXWEB_EXPRESSIONS, max_size=4), HOSTILE_JSON)},
            optional={"codelist": st.one_of(st.sampled_from(["vs_Lan", "vs_Enhet"]),
                                            HOSTILE_JSON)},
        ),
        max_size=4,
    ),
    HOSTILE_JSON,
)  # fmt: skip


def test_pxweb_tables_never_5xx(client: TestClient) -> None:
    """The PxWeb table API (web/pxweb.py) with real table ids and variables and
    hostile selections, formats and parameters, GET and POST."""
    from reports.pxweb import tables

    ids = [t.id for t in tables.all_tables()]
    variables = sorted({d for t in tables.all_tables() for d in t.dimension_ids})
    formats = st.one_of(st.sampled_from(["json-stat2", "csv", "xlsx", "px", "html"]),
                        HOSTILE_STRINGS)  # fmt: skip

    @st.composite
    def request(draw: st.DrawFn) -> tuple[str, str, list[tuple[str, str]], bytes]:
        table = draw(st.one_of(st.sampled_from(ids), HOSTILE_STRINGS.filter(
            lambda s: s not in ("", ".", ".."))))  # fmt: skip
        tail = draw(st.sampled_from(["/data", "/metadata", ""]))
        pairs: list[tuple[str, str]] = []
        for _ in range(draw(st.integers(0, 4))):
            name = draw(st.one_of(st.sampled_from(variables), HOSTILE_STRINGS))
            kind = draw(st.sampled_from(["valueCodes", "valuecodes", "codelist"]))
            exprs = draw(st.lists(PXWEB_EXPRESSIONS, min_size=1, max_size=3))
            pairs.append((f"{kind}[{name}]", ",".join(exprs)))
        for name, value in (("outputFormat", formats), ("lang", st.sampled_from(["sv", "en", "x"])),
                            ("outputFormatParams", st.sampled_from(["UseCodes", "Nope"])),
                            ("pageSize", HOSTILE_STRINGS)):  # fmt: skip
            if draw(st.booleans()):
                pairs.append((name, draw(value)))
        method = draw(st.sampled_from(["GET", "POST"])) if tail == "/data" else "GET"
        body = json.dumps({"selection": draw(PXWEB_SELECTION)}).encode()
        path = "/api/pxweb/v2/tables/" + quote(table, safe="") + tail
        return method, path, pairs, body

    @RUNS
    @given(request())
    def run(req: tuple[str, str, list[tuple[str, str]], bytes]) -> None:
        method, path, pairs, body = req
        if method == "GET":
            r = client.get(path, params=pairs)
        else:
            r = client.post(path, params=[p for p in pairs if "[" not in p[0]], content=body)
        check(r, (method, path, pairs, body[:300]))

    run()


# Each POST route's body fields: valid values (to reach deeper checks) and
# hostile ones. A POST route missing here fails the test.
BODIES: dict[str, dict[str, st.SearchStrategy[Any]]] = {
    "/api/v1/exports": {
        "kind": st.one_of(st.sampled_from(["aggregated", "pseudonymised", "identified"]),
                          HOSTILE_JSON),
        "format": st.one_of(st.sampled_from(["csv", "xlsx"]), HOSTILE_JSON),
        "service": st.one_of(st.sampled_from([s for s, _ in REPORTS]), HOSTILE_JSON),
        "report": st.one_of(st.sampled_from([r for _, r in REPORTS]), HOSTILE_JSON),
        "params": st.one_of(
            st.dictionaries(st.sampled_from(["from", "to", "county", "level"]),
                            st.one_of(valid_date(), HOSTILE_JSON), max_size=3),
            HOSTILE_JSON,
        ),
    },
    "/api/v1/annotations": {
        "service": st.one_of(st.sampled_from([s for s, _ in REPORTS]), HOSTILE_JSON),
        "reports": st.one_of(st.lists(st.sampled_from([r for _, r in REPORTS]), max_size=2),
                             HOSTILE_JSON),
        "from": st.one_of(valid_date(), HOSTILE_JSON),
        "to": st.one_of(valid_date(), HOSTILE_JSON),
        "text": st.one_of(st.text(min_size=1, max_size=30), HOSTILE_JSON),
    },
    "/api/v1/reconciliation/run": {"dir": HOSTILE_JSON.filter(not_a_directory)},
    "/api/v1/dead-letters/replay": {
        "topic": st.one_of(st.sampled_from(["ntjp.calls.v1", "hsa.units.v1"]), HOSTILE_JSON),
        "reason": st.one_of(st.text(max_size=30), HOSTILE_JSON),
        "reason_class": st.one_of(st.sampled_from(["enum", "rule"]), HOSTILE_JSON),
        "since": st.one_of(valid_date(), HOSTILE_JSON),
        "until": st.one_of(valid_date(), HOSTILE_JSON),
        "partition": st.one_of(st.integers(-5, 2**70), HOSTILE_JSON),
        "offset": st.one_of(st.integers(-5, 2**70), HOSTILE_JSON),
        "dry_run": st.one_of(st.booleans(), HOSTILE_JSON),
    },
    "/api/v1/backfill": {
        "topic": st.one_of(st.just("ntjp.calls.v1"), HOSTILE_JSON),
        "from_time": st.one_of(st.just("2024-01-01T00:00:00Z"), HOSTILE_JSON),
        "from_offset": st.one_of(st.just(0), HOSTILE_JSON),
        # never kafka or raw: no backfill starts (see the module's docstring)
        "source": HOSTILE_JSON.filter(lambda v: v not in ("kafka", "raw")),
    },
    # PxWeb tables (web/pxweb.py): the route's path names no real table, so the
    # body is parsed in full and then the table is not found
    "/api/pxweb/v2/tables/{table_id}/data": {"selection": PXWEB_SELECTION,
                                             "placement": HOSTILE_JSON},
    # no real table id: nothing is saved (a save is test_pxweb.py's)
    "/api/pxweb/v2/savedqueries": {"tableId": HOSTILE_JSON, "selection": PXWEB_SELECTION,
                                   "outputFormat": st.one_of(st.just("csv"), HOSTILE_JSON)},
}  # fmt: skip


def test_posts_never_5xx(client: TestClient) -> None:
    posts = [r.path for r in routes(client) if "POST" in (r.methods or ())]
    assert sorted(posts) == sorted(BODIES), "describe the new POST route's body here"

    @st.composite
    def request(draw: st.DrawFn) -> tuple[str, bytes, dict[str, str]]:
        path = draw(st.sampled_from(posts))
        fields = BODIES[path]
        headers = draw(st.one_of(st.just(OPERATOR), HEADERS))
        shape = draw(st.sampled_from(["object", "json", "bytes"]))
        if shape == "bytes":
            return path, draw(NOT_JSON), headers
        if shape == "json":
            return path, json.dumps(draw(HOSTILE_JSON)).encode(), headers
        body = {n: draw(s) for n, s in fields.items() if draw(st.booleans())}
        if path == "/api/v1/backfill":
            body["source"] = draw(fields["source"])
        return path, json.dumps(body).encode(), headers

    @RUNS
    @given(request())
    def run(req: tuple[str, bytes, dict[str, str]]) -> None:
        path, content, headers = req
        r = client.post(
            path, content=content, headers={**headers, "Content-Type": "application/json"}
        )
        check(r, (path, content[:300], headers))
        assert r.status_code not in (201, 202) or path == "/api/v1/annotations", r.text

    run()
