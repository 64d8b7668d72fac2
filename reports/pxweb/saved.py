"""Saved queries: a table, a selection and an output format, stored in
ClickHouse (migration 0023) so every API process finds what any other saved.

The selection is stored as written: `valueCodes[Tid]=top(12)` is resolved
when the query is answered, so "the last 12 months" moves with time. The id
is a hash of the canonical JSON (the same query saved twice is one id, and
an id reveals nothing); parsing is pure and refuses what a data request
would refuse.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import orjson

from core.errors import ParameterError, UnknownReportError
from reports.pxweb import bodies, files
from reports.pxweb.selection import Selection, from_body
from reports.reader import Reader

_ID_CHARS = frozenset("0123456789abcdef")
ID_LENGTH = 24


@dataclass(frozen=True)
class SavedQuery:
    table_id: str
    selection: Selection
    output_format: str = "json-stat2"

    def canonical(self) -> bytes:
        return orjson.dumps(
            {"tableId": self.table_id, "outputFormat": self.output_format,
             **self.selection.to_json()},
            option=orjson.OPT_SORT_KEYS,
        )  # fmt: skip

    @property
    def id(self) -> str:
        return hashlib.sha256(self.canonical()).hexdigest()[:ID_LENGTH]


def parse(body: Any) -> SavedQuery:
    """{"tableId": ..., "selection": [...], "outputFormat"?: ...}"""
    if not isinstance(body, Mapping):
        raise ParameterError("body", 'expected a JSON object {"tableId", "selection"}')
    table_id = body.get("tableId")
    if not isinstance(table_id, str) or not 0 < len(table_id) <= 200:
        raise ParameterError("tableId", "the id of a table (GET /tables)")
    raw = body.get("outputFormat")
    if raw is not None and not isinstance(raw, str):
        raise ParameterError("outputFormat", f"one of {', '.join(bodies.FORMATS)}")
    return SavedQuery(table_id, from_body(body), files.output_format(raw))


def to_json(query: SavedQuery, base: str) -> dict[str, Any]:
    return {
        "id": query.id,
        "tableId": query.table_id,
        "outputFormat": query.output_format,
        **query.selection.to_json(),
        "links": [
            {"rel": "self", "href": f"{base}/savedqueries/{query.id}"},
            {"rel": "data", "href": f"{base}/savedqueries/{query.id}/data"},
        ],
    }


class Store(Reader, Protocol):
    def insert_columns(
        self, table: str, columns: Mapping[str, Any], settings: Mapping[str, Any] | None = None
    ) -> None: ...


class SavedQueries:
    def __init__(self, store: Store) -> None:
        self.store = store

    def save(self, query: SavedQuery) -> SavedQuery:
        self.store.insert_columns(
            "pxweb_saved_queries",
            {
                "id": [query.id],
                "table_id": [query.table_id],
                "query": [query.canonical().decode()],
            },  # fmt: skip
        )
        return query

    def get(self, query_id: str) -> SavedQuery:
        if len(query_id) != ID_LENGTH or not set(query_id) <= _ID_CHARS:
            raise UnknownReportError("no such saved query")
        rows = self.store.query_rows(
            "SELECT query FROM pxweb_saved_queries FINAL WHERE id = {id:String} LIMIT 1",
            {"id": query_id},
        )
        if not rows:
            raise UnknownReportError("no such saved query")
        body = orjson.loads(rows[0][0])
        return SavedQuery(body["tableId"], from_body(body), body["outputFormat"])
