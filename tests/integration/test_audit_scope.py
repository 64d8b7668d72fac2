"""The audit log keeps the scope an admin read under (real chDB): a
region_admin names a county and a unit_admin units, not care providers."""

from __future__ import annotations

from core.auth import Caller
from reports import audit
from sinks.clickhouse import ClickHouseStore


def test_admin_reads_are_audited_with_their_scope(migrated_store: ClickHouseStore) -> None:
    callers = [
        Caller("anna", ("SE-CP1", "SE-CP2"), ()),
        Caller("region", (), ("region_admin",), county_code="01"),
        Caller("ua", (), ("unit_admin",), unit_ids=("SE-U1", "SE-U2")),
    ]
    for c in callers:
        audit.record(migrated_store, c, "read", "e-tjanster", "cases-per-unit")
    shown = {e["subject"]: audit.scope_text(e) for e in audit.recent(migrated_store)}
    assert shown == {
        "anna": "anna (SE-CP1,SE-CP2)",
        "region": "region (region_admin: county 01)",
        "ua": "ua (unit_admin: SE-U1,SE-U2)",
    }
    (entry,) = [e for e in audit.recent(migrated_store) if e["subject"] == "region"]
    assert entry["county_code"] == "01" and list(entry["unit_ids"]) == []
