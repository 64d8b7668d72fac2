from streams.backfill import Progress, family_of, progress_bar


def test_the_family_is_the_raw_table_and_what_its_views_fill() -> None:
    views = [
        ("a_mv", "CREATE MATERIALIZED VIEW sf.a_mv TO sf.ntjp_calls_daily (`day` Date) AS "
                 "SELECT toDate(occurred_at) AS day FROM sf.ntjp_calls GROUP BY day"),
        ("b_mv", "CREATE MATERIALIZED VIEW sf.b_mv TO sf.sob_moments AS SELECT * FROM sf.sob_transactions"),
        ("c_mv", "CREATE MATERIALIZED VIEW sf.c_mv TO sf.ntjp_calls_seen AS SELECT event_id "
                 "FROM sf.ntjp_calls WHERE source = 'stream'"),
    ]  # fmt: skip
    assert family_of("ntjp_calls", views) == ("ntjp_calls", "ntjp_calls_daily", "ntjp_calls_seen")
    assert family_of("etj_cases", views) == ("etj_cases",)


def test_progress_has_an_eta_once_there_is_a_rate() -> None:
    p = Progress("t", total=1000, started=100.0)
    assert p.eta_seconds(now=110.0) is None
    p.read = 250
    assert p.eta_seconds(now=110.0) == 30.0  # 25/s, 750 to go
    bar = progress_bar({**p.to_json(), "eta_seconds": 30.0}, width=10)
    assert bar.startswith("[##........]  25.0% 250/1000") and bar.endswith("ETA 0:00:30")
    assert "ETA –" in progress_bar({"total": 0, "read": 0, "state": "starting"})
