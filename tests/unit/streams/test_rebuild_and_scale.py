"""The pure parts of the rollup rebuild (streams/rebuild.py) and of the
benchmark's in-ClickHouse scale-up (bench/scale.py)."""

from __future__ import annotations

from bench.scale import MARK, copy_sql
from streams.rebuild import marks_of


def test_marks_are_the_topics_checkpoints_only() -> None:
    cps = {("a.calls", 0): 10, ("a.calls", 3): 7, ("a.sob", 0): 99}
    assert marks_of(cps, "a.calls") == {0: 10, 3: 7}
    assert marks_of(cps, "other") == {}


def test_copy_marks_ids_names_every_column_and_never_recopies() -> None:
    sql = copy_sql("sob_transactions", ["event_id", "case_id", "status", "batch_token"])
    assert sql.startswith("INSERT INTO sob_transactions (event_id, case_id, status, batch_token) ")
    assert f"concat(case_id, '{MARK}', toString({{k:UInt32}}))" in sql
    assert ", status, " in sql  # copied as it is
    assert f"position(event_id, '{MARK}') = 0" in sql
    assert "*" not in sql


def test_copies_of_e_services_get_new_cases_and_accounts_with_their_logins() -> None:
    cases = copy_sql("etj_cases", ["event_id", "case_id", "unit_id", "batch_token"])
    assert f"concat(case_id, '{MARK}', toString({{k:UInt32}}))" in cases
    assert ", unit_id, " in cases and "source = 'stream'" in cases
    logins = copy_sql("etj_logins", ["event_id", "account_id", "county_code"])
    accounts = copy_sql("etj_accounts", ["account_id", "actor", "version"])
    # a copied login names the copy of its account: the same mark on both
    mark = f"concat(account_id, '{MARK}', toString({{k:UInt32}}))"
    assert mark in logins and mark in accounts
    # the accounts table has no stream rows: originals are the unmarked ids
    assert accounts.endswith(f"WHERE position(account_id, '{MARK}') = 0")
