"""Dead declaration fields (issue 16): every field of the report, service,
column and label declarations is read by the code that serves them."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from reports import declarations
from reports.labels import Labels


def test_every_declared_field_is_read_somewhere() -> None:
    """A declaration field nothing reads is a promise the code does not keep
    (issue 16: `Report.source_topics` was written by every report, read by none)."""
    root = Path(__file__).resolve().parents[3]
    code = "\n".join(
        p.read_text(encoding="utf-8")
        for pkg in ("core", "schemas", "sinks", "streams", "agents", "reconcile", "reports", "web")
        for p in (root / pkg).rglob("*.py")
    )
    for cls in (declarations.Report, declarations.Service, declarations.Column, Labels):
        for f in dataclasses.fields(cls):
            assert re.search(rf"\.{f.name}\b", code), f"{cls.__name__}.{f.name} is never read"
