"""The ClickHouse HTTP interface's wiring without an engine: answers in
ClickHouse's shape, its port, its settings and tokens (sinks/chhttp/server.py)."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import httpx
import pytest

from core import auth
from core.errors import ClickHouseHTTPError, ConfigError
from core.settings import Settings
from statflow.cli import main
from web.chhttp.policy import Grant, grant_for
from web.chhttp.server import content_type, create_app, error_response, listen

SECRET = "unit-test-secret-0123456789abcdef0123456789"


class NoEngine:
    """Requests that fail before they reach the engine need only its version."""

    version = "26.9.2.1"

    def grant(self, subject: str, roles: tuple[str, ...]) -> Grant:
        return grant_for(subject, roles, "sf", "sf_reports")

    def run(self, *_: Any) -> None:
        raise AssertionError("the engine must not be reached")


def client() -> httpx.AsyncClient:
    app = create_app(NoEngine(), SECRET)  # type: ignore[arg-type]
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://store")


async def test_ping_and_a_bare_get_answer_ok() -> None:
    async with client() as c:
        assert (await c.get("/ping")).text == "Ok.\n"
        assert (await c.get("/")).text == "Ok.\n"
        assert (await c.get("/healthz")).json() == {"status": "ok"}
        missing = await c.get("/play")
    assert missing.status_code == 404 and "There is no handle /play" in missing.text


async def test_requests_without_a_usable_token_stop_at_the_door() -> None:
    async with client() as c:
        await _door(c)


async def _door(c: httpx.AsyncClient) -> None:
    r = await c.post("/", content=b"SELECT 1")
    assert r.status_code == 401 and r.headers["x-clickhouse-exception-code"] == "194"
    assert r.text.startswith("Code: 194. DB::Exception: default: ")
    assert r.text.endswith("(REQUIRED_PASSWORD) (version 26.9.2.1)\n")
    assert r.headers["x-clickhouse-query-id"]
    r = await c.post("/", content=b"SELECT 1", auth=("grafana", "forged"))
    assert r.status_code == 401 and "grafana: Authentication failed" in r.text
    staff = auth.issue(SECRET, "nurse", ["SE1-CP"], ["region_admin"], county_code="01")
    r = await c.post("/", content=b"SELECT 1", auth=("nurse", staff))
    assert r.status_code == 403 and r.headers["x-clickhouse-exception-code"] == "497"
    r = await c.post("/", params={"compress": "1"}, content=b"SELECT 1")
    assert r.status_code == 501


def test_errors_read_like_clickhouses() -> None:
    r = error_response(ClickHouseHTTPError(60, "UNKNOWN_TABLE", "Table x does not exist.", 404),
                       "26.9.2.1", "q1")  # fmt: skip
    assert r.status_code == 404
    assert bytes(r.body) == (
        b"Code: 60. DB::Exception: Table x does not exist. (UNKNOWN_TABLE) (version 26.9.2.1)\n"
    )
    assert r.headers["x-clickhouse-exception-code"] == "60"


def test_content_types_follow_the_format() -> None:
    assert content_type("JSONCompact").startswith("application/json")
    assert content_type("TabSeparatedWithNames").startswith("text/tab-separated-values")
    assert content_type("CSV").startswith("text/csv")
    assert content_type("Native") == content_type("RowBinaryWithNamesAndTypes")
    assert content_type(None).startswith("text/plain")


def test_a_taken_port_is_a_config_error_that_says_what_to_do() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        with pytest.raises(ConfigError) as err:
            listen(Settings(clickhouse_http_port=port))
    assert "STATFLOW_CLICKHOUSE_HTTP_PORT" in str(err.value)


def test_the_interfaces_settings_travel_to_child_processes() -> None:
    s = Settings(clickhouse_http_port=0, clickhouse_http_host="0.0.0.0",
                 clickhouse_http_max_rows=10, clickhouse_http_max_seconds=3,
                 reports_database="analytics")  # fmt: skip
    again = Settings.from_env(s.to_env())
    assert (again.clickhouse_http_port, again.clickhouse_http_host) == (0, "0.0.0.0")
    assert (again.clickhouse_http_max_rows, again.clickhouse_http_max_seconds) == (10, 3)
    assert again.reports_db == "analytics"
    assert Settings.from_env({}).clickhouse_http_port == 8123
    assert Settings.from_env({"STATFLOW_CLICKHOUSE_HTTP_PORT": ""}).clickhouse_http_port == 0
    assert Settings(clickhouse_database="sf_1").reports_db == "sf_1_reports"


def test_statflow_token_mints_sql_roles_without_a_care_provider(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.setenv("STATFLOW_HOME", str(tmp_path))
    monkeypatch.setenv("STATFLOW_JWT_SECRET", SECRET)
    for role in ("sql_reader", "service"):
        assert main(["token", "--role", role, "--subject", "grafana"]) == 0
        caller = auth.verify(capsys.readouterr().out.strip(), SECRET)
        assert caller.roles == (role,) and caller.care_providers == ()
    assert main(["token", "--role", "operator"]) == 2  # still needs an organisation


@pytest.mark.parametrize(
    "args",
    [
        ["--county-code", "99"],
        ["--county-code", "1"],
        ["--unit", "bad id with spaces"],
        ["--care-provider", "SE\x00X"],
        ["--care-provider", "x" * 65],
    ],
)
def test_statflow_token_refuses_a_scope_that_cannot_exist(
    args: list[str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("STATFLOW_HOME", str(tmp_path))
    monkeypatch.setenv("STATFLOW_JWT_SECRET", SECRET)
    assert main(["token", *args]) == 2
    out = capsys.readouterr()
    assert out.out == "" and "statflow:" in out.err


def test_statflow_token_mints_a_valid_region_admin(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.setenv("STATFLOW_HOME", str(tmp_path))
    monkeypatch.setenv("STATFLOW_JWT_SECRET", SECRET)
    assert main(["token", "--county-code", "14", "--unit", "SE2321000131-E000000000001"]) == 0
    caller = auth.verify(capsys.readouterr().out.strip(), SECRET)
    assert caller.county_code == "14"
