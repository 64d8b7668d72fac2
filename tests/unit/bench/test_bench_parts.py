"""Pure parts of the benchmark runners: data windows, profile stages, freshness
answers, command line."""

import datetime as dt

import pytest

from bench import cli, data, freshness, profile, reports


def test_windows_split_events_into_consecutive_chunks() -> None:
    start = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    end = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    w = data.windows(1_000_001, 200_000, start, end)
    assert len(w) == 6 and sum(n for n, _, _ in w) == 1_000_001
    assert max(n for n, _, _ in w) <= 200_000
    assert w[0][1] == start and w[-1][2] == end
    assert all(a[2] == b[1] for a, b in zip(w, w[1:], strict=False))
    assert data.windows(0, 10, start, end) == []


STACKS = """thread (1): MainThread;run (streams/ingest.py:123);BatchLoop._one (streams/ingest.py:141);decode_events (schemas/pipeline.py:53);Decoder.__call__ (schemas/events.py:162) 30
thread (2): asyncio_0;_worker (concurrent/futures/thread.py:69);EventSink.write (sinks/events.py:67);ClickHouseStore.query_rows (sinks/clickhouse.py:68);escape_str (clickhouse_connect/driver/binding.py:1081) 50
thread (2): asyncio_0;_worker (concurrent/futures/thread.py:69);EventSink.write (sinks/events.py:67);ClickHouseStore.insert_columns (sinks/clickhouse.py:83);Connection.query (chdb/state/sqlitelike.py:688) 15
thread (3): asyncio_1;_worker (x.py:1);ClickHouseStore.query_rows (sinks/clickhouse.py:68);Connection.query (chdb/state/sqlitelike.py:688) 5
not a line
"""


def test_profile_stages_go_by_priority_and_conjunctions() -> None:
    stacks = profile.parse_collapsed(STACKS.splitlines())
    assert len(stacks) == 4
    assert [profile.stage_of(f) for f, _ in stacks] == [
        "decode + validate",
        "seen-id lookup",
        "columnar insert (chDB + views)",
        "other",  # a query outside the sink (a report) is not the seen-id lookup
    ]
    s = profile.summarise(stacks)
    assert s["samples"] == 100
    assert s["stages_pct"]["seen-id lookup"] == 50.0
    assert s["top_own_pct"][0] == ["escape_str (clickhouse_connect/driver/binding.py:1081)", 50.0]
    assert s["threads_pct"]["thread (2): asyncio_0"] == 65.0


def test_freshness_reads_units_from_a_hierarchy_answer() -> None:
    body = {
        "columns": [{"name": n} for n in ("county_code", "unit_id", "unit_name", "events")],
        "rows": [["01", "U1", "x", 5], ["01", "U2", None, 7], ["02", "U1", "x", 1]],
    }
    assert freshness.counts(body) == {"U1": 6, "U2": 7}
    p = freshness.params(["U1", "U2"], dt.date(2026, 3, 1))
    assert p == {"from": "2026-02-28", "to": "2026-03-02", "level": "unit", "unit": "U1,U2"}


def test_freshness_units_cover_every_partition() -> None:
    units = [f"SE2321000016-U{i:03d}" for i in range(200)]
    groups = freshness.units_by_partition(units, 4)
    assert len(groups) == 4 and all(groups)
    assert sorted(u for g in groups for u in g) == sorted(units)


def test_cli_defaults_and_quick() -> None:
    a = cli.parse([])
    assert a.names == ["ingest", "freshness", "reports", "replay", "scaleout"]
    assert a.scale == 1
    assert (a.events, a.duration, a.rate, a.repeat) == (1_000_000, 30.0, 5000, 20)
    q = cli.parse(["reports", "ingest", "--quick"])
    assert q.names == ["ingest", "reports"]  # dependency order
    assert (q.events, q.duration) == (100_000, 10.0)
    assert cli.parse(["all", "--events", "50000"]).names == list(cli.NAMES)
    assert cli.parse(["ingest", "--quick", "--events", "300000"]).events == 300_000


@pytest.mark.parametrize("argv", [["nope"], ["--events", "10"], ["--scale", "0"]])
def test_cli_refuses(argv: list[str]) -> None:
    with pytest.raises(SystemExit):
        cli.parse(argv)


def test_cli_takes_several_scales_for_the_reports() -> None:
    a = cli.parse(["reports", "replay", "--scale", "50,10"])
    assert a.scales == [10, 50] and a.scale == 50  # replay works on the largest
    assert cli.parse(["reports", "--scale", "50"]).scales == [50]
    assert cli.parse([]).scales == [1]
    assert "render" in cli.NAMES and "render" not in cli.DEFAULT


@pytest.mark.parametrize("scale", ["", "10,x", "0,50", ","])
def test_cli_refuses_bad_scales(scale: str) -> None:
    with pytest.raises(SystemExit):
        cli.parse(["reports", "--scale", scale])


LISTING = [
    {"service": "w", "id": "flat", "tiers": ["open"], "levels": []},
    {"service": "w", "id": "tree", "tiers": ["open"], "levels": ["county", "unit", "activity"]},
    {"service": "s", "id": "deep", "tiers": ["open"], "levels": ["moment", "county", "unit"]},
    {"service": "s", "id": "staff", "tiers": ["logged_in"], "levels": []},
]


def test_reports_are_timed_by_default_and_at_the_unit_level() -> None:
    todo, skipped = reports.cases(LISTING)
    assert [n for n, _ in todo] == ["w/flat", "w/tree", "w/tree?level=unit", "s/deep"]
    assert dict(todo)["w/tree?level=unit"] == {**reports.PERIOD, "level": "unit"}
    assert dict(todo)["s/deep"] == reports.PERIOD  # its default is the unit level already
    assert skipped == ["s/staff"]


def figures(p95: dict[str, float], status: int = 200) -> dict[str, object]:
    return {
        "reports": [
            {"report": n, "warm_ms": {"p50": v / 2, "p95": v}, "status": [status], "rows": 3}
            for n, v in p95.items()
        ]
    }


def test_reports_at_two_scales_compare_p95_with_the_targets() -> None:
    by_scale = {
        "10": figures({"a": 40.0, "b": 60.0, "c": 50.0}),
        "50": figures({"a": 50.0, "b": 120.0, "c": 90.0}),
    }
    table = reports.compare_rows(by_scale, [10, 50])
    assert table[0] == ["a", 20.0, 40.0, 25.0, 50.0, 3, 1.25, "ok", "ok"]
    assert table[1][-3:] == [2.0, "FAIL", "FAIL"]  # 120 ms > 100; 120/60 > 1.5
    assert table[2][-2:] == ["ok", "FAIL"]  # under 100 ms but grew 1.8x
    assert reports.headers([10, 50])[-3:] == ["p95 x50/x10", "p95 x50<=100", "ratio<=1.5"]
    assert len(reports.headers([10, 50])) == len(table[0])
    failed = reports.compare_rows({"10": figures({"a": 1.0}), "50": figures({"a": 1.0}, 500)},
                                  [10, 50])  # fmt: skip
    assert failed[0][-2:] == ["HTTP [500]", "-"]
    whole = {"scales": [10, 50], "by_scale": by_scale, **by_scale["50"]}
    assert reports.rows(whole) == table


def test_e_services_logins_of_every_chunk_come_from_the_runs_accounts() -> None:
    import orjson

    total = 2_000
    accounts = {a["account_id"] for a in data.etj_accounts(data.accounts_for(total))}
    assert len(accounts) == data.accounts_for(total)
    for index, (size, a, b) in enumerate(data.windows(total, 1_000, data.START, data.END)):
        chunk = data._chunk("etj-logins", index, size, a, b, total)
        assert chunk.counted == len(chunk.values) > 0
        assert {orjson.loads(v)["account_id"] for v in chunk.values} <= accounts
