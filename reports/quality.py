"""Data-quality annotations: recorded by operators, attached to overlapping answers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from core.errors import ParameterError
from reports import catalogue
from reports.audit import AuditWriter
from reports.reader import Reader

PREFIX = "Datakvalitet"
SQL_OVERLAPPING = (
    "SELECT date_from, date_to, text FROM annotations "
    "WHERE service = {service:String} AND (empty(reports) OR has(reports, {report:String})) "
    "AND date_from <= {date_to:Date} AND date_to >= {date_from:Date} "
    "ORDER BY date_from, created_at"
)


FIRST_DAY, LAST_DAY = dt.date(1970, 1, 1), dt.date(2149, 6, 6)  # ClickHouse's Date


@dataclass(frozen=True)
class Annotation:
    service: str
    reports: tuple[str, ...]
    date_from: dt.date
    date_to: dt.date
    text: str

    @classmethod
    def parse(cls, body: dict[str, Any]) -> Annotation:
        service = str(body.get("service", ""))
        svc = catalogue.services().get(service)
        if svc is None:
            raise ParameterError("service", f"unknown service {service[:40]!r}")
        reports = body.get("reports") or []
        if not isinstance(reports, list) or not all(isinstance(r, str) for r in reports):
            raise ParameterError("reports", "a list of report ids")
        known = {r.id for r in svc.reports}
        for r in reports:
            if r not in known:
                raise ParameterError("reports", f"unknown report {r[:40]!r} in {service}")
        try:
            date_from = dt.date.fromisoformat(str(body.get("from")))
            date_to = dt.date.fromisoformat(str(body.get("to")))
        except ValueError:
            raise ParameterError("from", "from and to must be ISO dates") from None
        if date_from > date_to:
            raise ParameterError("from", "from is after to")
        # the store's Date type holds these years; a note outside them is a typo
        if date_from < FIRST_DAY or date_to > LAST_DAY:
            raise ParameterError("from", f"dates between {FIRST_DAY} and {LAST_DAY}")
        text = str(body.get("text", "")).strip()
        if not 1 <= len(text) <= 2000:
            raise ParameterError("text", "give a text of 1–2000 characters")
        return cls(service, tuple(map(str, reports)), date_from, date_to, text)


def add(store: AuditWriter, note: Annotation, by: str) -> None:
    store.insert_columns(
        "annotations",
        {
            "created_by": [by],
            "service": [note.service],
            "reports": [list(note.reports)],
            "date_from": [note.date_from],
            "date_to": [note.date_to],
            "text": [note.text],
        },
    )


@dataclass(frozen=True)
class Marked:
    """An annotation overlapping an answer's period."""

    date_from: dt.date
    date_to: dt.date
    text: str

    @property
    def note(self) -> str:
        return f"{PREFIX} ({self.date_from}–{self.date_to}): {self.text}"

    def to_json(self) -> dict[str, str]:
        return {"from": self.date_from.isoformat(), "to": self.date_to.isoformat(),
                "text": self.text}  # fmt: skip


def overlapping(
    reader: Reader, service: str, report: str, date_from: dt.date, date_to: dt.date
) -> list[Marked]:
    rows = reader.query_rows(
        SQL_OVERLAPPING,
        {"service": service, "report": report, "date_from": date_from, "date_to": date_to},
    )
    return [Marked(a, b, str(text)) for a, b, text in rows]


def notes_for(
    reader: Reader, service: str, report: str, date_from: dt.date, date_to: dt.date
) -> list[str]:
    return [m.note for m in overlapping(reader, service, report, date_from, date_to)]


def listing(reader: Reader, service: str | None = None) -> Sequence[dict[str, Any]]:
    rows = reader.query_rows(
        "SELECT service, reports, date_from, date_to, text, created_by, created_at "
        "FROM annotations WHERE {service:String} = '' OR service = {service:String} "
        "ORDER BY created_at",
        {"service": service or ""},
    )
    keys = ("service", "reports", "from", "to", "text", "created_by", "created_at")
    return [dict(zip(keys, r, strict=True)) for r in rows]
