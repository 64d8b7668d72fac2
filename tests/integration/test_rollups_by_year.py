"""Migration 0024: the day rollups the reports read, partitioned by year,
with every row they held and the view that fills sob_patients_daily still
writing to it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sinks import migrate
from sinks.clickhouse import ClickHouseStore

VERSION = 24
TABLES = ("sob_moments_daily", "sob_patients_daily", "etj_cases_daily")
_RAW = (
    "INSERT INTO sob_transactions (event_id, occurred_at, case_id, case_type, status, "
    "process_name, moment_name, care_provider_id, care_unit_id, practitioner_id, patient_id, "
    "patient_gender, patient_age, closing_reason, source_partition, source_offset) VALUES "
)


def _raw(store: ClickHouseStore, rows: list[tuple[str, str, str, str, int]]) -> None:
    values = ", ".join(
        f"('{e}', '{at}', 'c-{e}', 'Process', 'Inprogress', 'P', 'M', 'SE1', 'SE1-U', 'SE1-P', "
        f"'{patient}', '{gender}', {age}, '', 0, 0)"
        for e, at, patient, gender, age in rows
    )
    store.command(_RAW + values)


def _contents(store: ClickHouseStore) -> dict[str, Any]:
    return {
        "moments": store.query_rows(
            "SELECT day, kind, care_unit_id, n, uniqExactMerge(patients), version "
            "FROM sob_moments_daily GROUP BY day, kind, care_unit_id, n, version ORDER BY ALL"
        ),
        "patients": store.query_rows(
            "SELECT day, patient_id, argMaxMerge(latest) FROM sob_patients_daily "
            "GROUP BY day, patient_id ORDER BY ALL"
        ),
        "cases": store.query_rows(
            "SELECT day, kind, unit_id, n, ms, version FROM etj_cases_daily ORDER BY ALL"
        ),
    }


def _partition_keys(store: ClickHouseStore) -> dict[str, str]:
    rows = store.query_rows(
        "SELECT name, partition_key FROM system.tables WHERE database = currentDatabase() "
        "AND name IN {t:Array(String)}",
        {"t": list(TABLES)},
    )
    return {str(n): str(k) for n, k in rows}


def test_rollups_migrate_to_yearly_partitions_with_their_rows(
    store_settings: Any, tmp_path: Path
) -> None:
    s = ClickHouseStore(store_settings("rollups"))
    try:
        folder = tmp_path / "older"
        folder.mkdir()
        for f in migrate.MIGRATIONS.glob("*.sql"):
            if int(f.name[:4]) < VERSION:
                (folder / f.name).write_text(f.read_text("utf-8"), "utf-8")
        migrate.migrate(s, folder)
        assert set(_partition_keys(s).values()) == {"toYYYYMM(day)"}
        # rows on both sides of a year's end, in three monthly partitions
        _raw(s, [("e1", "2024-12-31 10:00:00", "p1", "K", 40),
                 ("e2", "2025-01-02 10:00:00", "p1", "K", 41),
                 ("e3", "2025-02-03 10:00:00", "p2", "M", 70)])  # fmt: skip
        s.command(
            "INSERT INTO sob_moments_daily SELECT toDate(d), 's', 'SE1', u, 'P', 'M', "
            "toDate('2149-06-06'), '', n, uniqExactState(p), uniqExactState('SE1-P'), "
            "toDateTime64(v, 9, 'UTC') FROM values('d String, u String, n UInt64, p String, "
            "v String', ('2024-12-31', 'SE1-U', 3, 'p1', '2025-01-01 00:00:00'), "
            "('2024-12-31', 'SE1-U', 2, 'p1', '2025-01-02 00:00:00'), "
            "('2025-01-02', 'SE1-V', 1, 'p2', '2025-01-03 00:00:00')) "
            "GROUP BY d, u, n, v"
        )
        s.command(
            "INSERT INTO etj_cases_daily (day, kind, unit_id, case_type, case_type_kind, n, ms, "
            "version) VALUES ('2024-11-30', 'r', 'U1', 'T', 'k', 4, 10, '2025-01-01 00:00:00'), "
            "('2025-03-01', 'c', 'U2', 'T', 'k', 1, 99, '2025-03-02 00:00:00')"
        )
        before = _contents(s)
        assert all(before.values())

        assert migrate.migrate(s)[0] == VERSION
        assert _partition_keys(s) == dict.fromkeys(TABLES, "toYear(day)")
        assert _contents(s) == before
        years = s.query_rows(
            "SELECT DISTINCT partition FROM system.parts WHERE database = currentDatabase() "
            "AND table = 'sob_patients_daily' AND active ORDER BY 1"
        )
        assert [r[0] for r in years] == ["2024", "2025"]

        # the view writes to the new table
        _raw(s, [("e4", "2025-02-03 11:00:00", "p3", "K", 20)])
        after = _contents(s)["patients"]
        assert len(after) == len(before["patients"]) + 1
        assert [r for r in after if r[1] == "p3"][0][2] == ("K", 20)

        # the migration run again (a crash before its version was recorded)
        for stmt in next(m for m in migrate.for_store(s) if m.version == VERSION).statements:
            s.command(stmt)
        again = _contents(s)
        assert again["moments"] == before["moments"] and again["cases"] == before["cases"]
        assert again["patients"] == after
    finally:
        s.close()
