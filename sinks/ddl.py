"""The shape of one versioned migration, shared by sinks/migrate.py (which
loads and applies them) and sinks/cluster.py (which renders them ON CLUSTER):
a module of its own so neither imports the other."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    statements: tuple[str, ...]
    # Data to derive once after the DDL (`fill/NNNN_name.sql`): INSERT ... SELECT
    # from tables that already hold rows into a table this version adds. Run on
    # the node that migrates, never ON CLUSTER: replicated tables carry them.
    fill: tuple[str, ...] = ()
