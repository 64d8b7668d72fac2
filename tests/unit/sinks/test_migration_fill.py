"""Fills (sinks/migrations/fill/NNNN_name.sql): data a version derives once
from rows stored before it; skipped on a database migrated from scratch."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from core.errors import MigrationError
from sinks import migrate


class Recorder:
    def __init__(self, done: list[int]) -> None:
        self.cluster, self.database, self.reports_database = "", "db", "db_reports"
        self.done = done
        self.sent: list[tuple[str, dict[str, Any]]] = []

    def command(self, sql: str, parameters: Any = None, settings: Any = None) -> None:
        self.sent.append((sql, dict(settings or {})))

    def query_rows(self, *_: Any, **__: Any) -> list[tuple[Any, ...]]:
        return [(v,) for v in self.done]

    def insert_columns(self, *_: Any, **__: Any) -> None:
        pass


def folder(tmp_path: Path, fill_name: str = "0002_b.sql") -> Path:
    (tmp_path / "0001_a.sql").write_text("CREATE TABLE IF NOT EXISTS a (x UInt8) ENGINE = Log;\n")
    (tmp_path / "0002_b.sql").write_text("CREATE TABLE IF NOT EXISTS b (x UInt8) ENGINE = Log;\n")
    (tmp_path / "fill").mkdir()
    (tmp_path / "fill" / fill_name).write_text(
        "-- b from a\nINSERT INTO ${database}.b SELECT x FROM a WHERE (SELECT count() FROM b) = 0;\n"
    )
    return tmp_path


def test_a_fill_belongs_to_its_migration(tmp_path: Path) -> None:
    [a, b] = migrate.load(folder(tmp_path))
    assert a.fill == ()
    assert b.fill == (
        "INSERT INTO ${database}.b SELECT x FROM a WHERE (SELECT count() FROM b) = 0",
    )
    [_, b] = migrate.with_databases([a, b], "db", "r")
    assert b.fill[0].startswith("INSERT INTO db.b ")


def test_a_fill_without_its_migration_is_refused(tmp_path: Path) -> None:
    with pytest.raises(MigrationError, match="0003_c.sql has no migration"):
        migrate.load(folder(tmp_path, "0003_c.sql"))


def test_a_fill_runs_after_its_ddl_with_a_fixed_token_on_a_database_with_rows(
    tmp_path: Path,
) -> None:
    store = Recorder(done=[1])
    assert migrate.migrate(store, folder(tmp_path)) == [2]  # type: ignore[arg-type]
    [(_, _), (ddl, _), (fill, settings)] = store.sent
    assert ddl.startswith("CREATE TABLE IF NOT EXISTS b") and fill.startswith("INSERT INTO db.b")
    assert settings == {"insert_deduplication_token": "fill 2 0"}


def test_a_database_migrated_from_scratch_has_nothing_to_fill(tmp_path: Path) -> None:
    store = Recorder(done=[])
    assert migrate.migrate(store, folder(tmp_path)) == [1, 2]  # type: ignore[arg-type]
    assert not any(sql.startswith("INSERT") for sql, _ in store.sent)


def test_the_monthly_calls_fill_is_shipped() -> None:
    [m] = [m for m in migrate.load() if m.version == 19]
    assert m.name == "calls_monthly" and len(m.fill) == 1
    assert "(SELECT count() FROM ntjp_calls_monthly) = 0" in m.fill[0]
