"""The exactly-once baseline loop's write on a real chDB: an id it has stored
is not stored again, and each write leaves its checkpoints behind it."""

from pathlib import Path

import clickhouse_connect
import pytest

from bench import baseline

pytestmark = pytest.mark.integration

CALL = (
    b'{"event_id":"%s","occurred_at":"2024-03-01T10:00:00Z",'
    b'"operation":"MakeBooking","logical_address":"SE2321000016-A1"}'
)


def test_a_write_skips_seen_ids_and_checkpoints(tmp_path: Path) -> None:
    dsn = f"chdb://{tmp_path / 'chdb'}"
    boot = clickhouse_connect.get_client(dsn=dsn)
    boot.command("CREATE DATABASE IF NOT EXISTS baseline")
    client = clickhouse_connect.get_client(dsn=dsn, database="baseline")
    for stmt in baseline.raw_ddl(views=True, once=True):
        client.command(stmt)
    client.command("CREATE TABLE IF NOT EXISTS seen_probe (v String) ENGINE = Memory")

    first = baseline.validated_batch([CALL % b"e-1", CALL % b"e-2"], [0, 1], [0, 0])
    assert baseline.write_once(client, "t", first, {0: 1, 1: 1}) == 2
    # e-2 again (a producer's re-publish, in another partition) and one new id
    again = baseline.validated_batch([CALL % b"e-2", CALL % b"e-3"], [2, 0], [0, 1])
    assert baseline.write_once(client, "t", again, {0: 2, 2: 1}) == 1

    ids = client.query("SELECT event_id FROM ntjp_calls ORDER BY event_id").result_rows
    assert [r[0] for r in ids] == ["e-1", "e-2", "e-3"]
    cps = client.query(
        "SELECT partition, max(next_offset) FROM ingest_checkpoints GROUP BY partition "
        "ORDER BY partition"
    ).result_rows
    assert [tuple(r) for r in cps] == [(0, 2), (1, 1), (2, 1)]
