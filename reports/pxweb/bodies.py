"""The JSON bodies of the PxWeb API 2.0 style endpoints; pure.

Shapes as PxWebApi 2.0 (statisticssweden/PxApiSpecs) has them, where the
clients read them: `/config` (apiVersion, maxDataCells,
maxCallsPerTimeWindow, timeWindow, languages), `/tables` (tables + page),
`/tables/{id}/metadata` (JSON-stat 2.0 without values, each dimension's
`extension.elimination` and `extension.codeLists`), `/codelists/{id}`
(values with code and label) and errors as problem details (RFC 7807).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from typing import Any

from reports import jsonstat
from reports import presentation as pres
from reports.declarations import Column
from reports.labels import Label, Lang
from reports.pxweb.cube import WITHHELD, Cube, Dimension, unit_of
from reports.pxweb.tables import CONTENTS, TIME, Table
from reports.tiers import NOTE_OPEN_ORGANISATIONS

API_VERSION = "2.0.0"
FORMATS = ("json-stat2", "csv", "xlsx", "px")
LANGUAGES = ({"id": "sv", "label": "Svenska"}, {"id": "en", "label": "English"})
DEFAULT_PAGE_SIZE = 20
UNLIMITED = 2**31 - 1  # what /config announces for a limit that is off
MAX_PAGE_SIZE = 10_000
# Code lists of the organisation tree, by the column's level.
CODELISTS: dict[str, tuple[str, Label]] = {
    "county": ("vs_Lan", Label("Län", "Counties")),
    "care_provider": ("vs_Vardgivare", Label("Vårdgivare (HSA-id)", "Care providers (HSA id)")),
    "unit": ("vs_Enhet", Label("Enheter (HSA-id)", "Units (HSA id)")),
}
SOURCE = Label("Källa: statflow", "Source: statflow")
DISCLOSURE = Label(
    "Antal invånare eller patienter mellan 1 och 9 redovisas inte (status ..), och "
    "ytterligare celler undertrycks när de annars skulle låta en sådan räknas fram. "
    "Öppna tabeller visar organisationsrader bara för vårdgivare som valt att visa dem; "
    "summor och län räknar alla enheter.",
    "Counts of 1 to 9 residents or patients are not published (status ..), and further "
    "cells are withheld where they would let one be derived. Open tables show "
    "organisation rows only for care providers that opted in; totals and counties count "
    "every unit.",
)


def config(max_cells: int, calls: int, window: int) -> dict[str, Any]:
    """What bounds every answer. pxwebpy reads maxDataCells to split a large
    request, so "no limit" is announced as the largest count (as is "no rate
    limit")."""
    return {
        "apiName": "statflow PxWeb API",
        "apiVersion": API_VERSION,
        "appVersion": "1",
        "languages": list(LANGUAGES),
        "defaultLanguage": "sv",
        "maxDataCells": max_cells or UNLIMITED,
        # Not 0 when unlimited: pxstatspy reads 0 as "wait a whole window before
        # every call" (pxwebpy as "no limit"); the largest count means the same
        # to both.
        "maxCallsPerTimeWindow": calls or UNLIMITED,
        "timeWindow": window,
        "license": "https://creativecommons.org/publicdomain/zero/1.0/",
        "sourceReferences": [
            {"language": "sv", "text": SOURCE.sv},
            {"language": "en", "text": SOURCE.en},
        ],  # fmt: skip
        "defaultDataFormat": "json-stat2",
        "dataFormats": list(FORMATS),
        "features": [
            {"id": "CORS", "params": [{"key": "enabled", "value": "false"}]},
            {"id": "savedQueries", "params": []},
        ],
        "rateLimit": {
            "appliesTo": "every request without a bearer token, per client address, shared "
            "with the report API (/api/v1); 429 with Retry-After when over",
        },
    }


def level_label(table: Table) -> Label | None:
    if table.level is None:
        return None
    return pres.service_labels(table.report.service).levels.get(table.level)


def _links(base: str, table: Table, lang: Lang) -> list[dict[str, str]]:
    href = f"{base}/tables/{table.id}"
    return [
        {"rel": "self", "hreflang": lang, "href": f"{href}?lang={lang}"},
        {"rel": "metadata", "hreflang": lang, "href": f"{href}/metadata?lang={lang}"},
        {"rel": "data", "hreflang": lang, "href": f"{href}/data?lang={lang}"},
    ]


def _iso(t: dt.datetime | None) -> str | None:
    return t.isoformat().replace("+00:00", "Z") if t else None


def table_entry(
    table: Table, lang: Lang, updated: dt.datetime | None, periods: Sequence[str], base: str
) -> dict[str, Any]:
    service = pres.service_title(table.report.service, lang)
    return {
        "type": "Table",
        "id": table.id,
        "label": table.label(lang, level_label(table)),
        "description": table.report.describe_in(lang),
        "updated": _iso(updated),
        "firstPeriod": periods[0] if periods else "",
        "lastPeriod": periods[-1] if periods else "",
        "category": "public",
        "variableNames": [d.label(lang) for d in table.dims]
        + [CONTENTS_NAME.text(lang), TIME_NAME.text(lang)],
        "discontinued": False,
        "source": SOURCE.text(lang),
        "subjectCode": table.report.service,
        "timeUnit": "Monthly",
        "paths": [[{"id": table.report.service, "label": service}]],
        "links": _links(base, table, lang),
    }


CONTENTS_NAME = Label("tabellinnehåll", "table contents")
TIME_NAME = Label("månad", "month")


def matches(entry: dict[str, Any], query: str) -> bool:
    """A table matches a search when every word of it is in its id, label or
    description (any case)."""
    text = " ".join(str(entry[k]) for k in ("id", "label", "description")).lower()
    return all(word in text for word in query.lower().split())


def table_list(
    entries: list[dict[str, Any]], lang: Lang, page_number: int, page_size: int, base: str
) -> dict[str, Any]:
    total = len(entries)
    pages = max(1, math.ceil(total / page_size))
    start = (page_number - 1) * page_size
    return {
        "language": lang,
        "tables": entries[start : start + page_size],
        "page": {
            "pageNumber": page_number,
            "pageSize": page_size,
            "totalElements": total,
            "totalPages": pages,
            "links": [],
        },
        "links": [{"rel": "self", "hreflang": lang, "href": f"{base}/tables?lang={lang}"}],
    }


def _dimension(d: Dimension, table: Table, lang: Lang, base: str, meta: bool) -> dict[str, Any]:
    category: dict[str, Any] = {
        "index": {c: i for i, c in enumerate(d.codes)},
        "label": dict(d.labels),
    }
    if d.id == CONTENTS:
        by_name = {c.name: c for c in table.contents}
        category["unit"] = {
            c: {"label": unit_of(by_name[c])[0].text(lang), "decimals": unit_of(by_name[c])[1]}
            for c in d.codes
        }
    out: dict[str, Any] = {"label": d.label, "category": category}
    if meta:
        col = next((c for c in table.dims if c.name == d.id), None)
        out["extension"] = {
            "elimination": False,
            "codeLists": _codelists(col, lang, base),
        }
    return out


def _codelists(col: Column | None, lang: Lang, base: str) -> list[dict[str, Any]]:
    if col is None or col.level not in CODELISTS:
        return []
    cid, label = CODELISTS[str(col.level)]
    href = f"{base}/codelists/{cid}?lang={lang}"
    return [{"id": cid, "label": label.text(lang), "type": "Valueset",
             "links": [{"rel": "metadata", "hreflang": lang, "href": href}]}]  # fmt: skip


def _role(table: Table) -> dict[str, list[str]]:
    role = {"time": [TIME], "metric": [CONTENTS]}
    geo = [d.name for d in table.dims if d.level == "county"]
    if geo:
        role["geo"] = geo
    return role


def metadata(
    table: Table, dims: list[Dimension], lang: Lang, updated: dt.datetime | None, base: str,
    data_start: dt.date,
) -> dict[str, Any]:  # fmt: skip
    """The table's metadata as JSON-stat 2.0 without values (PxWebApi 2.0's
    default metadata format): every dimension with all its categories."""
    return {
        "version": "2.0",
        "class": "dataset",
        "href": f"{base}/tables/{table.id}/metadata?lang={lang}",
        "label": table.label(lang, level_label(table)),
        "source": SOURCE.text(lang),
        "updated": _iso(updated),
        "note": [table.report.describe_in(lang), DISCLOSURE.text(lang)],
        "role": _role(table),
        "id": [d.id for d in dims],
        "size": [len(d.codes) for d in dims],
        "dimension": {d.id: _dimension(d, table, lang, base, True) for d in dims},
        "extension": {
            "px": {
                "tableid": table.id,
                "matrix": table.id,
                "language": lang,
                "contents": table.report.title(lang),
                "decimals": max((unit_of(c)[1] for c in table.contents), default=0),
                "heading": [TIME],
                "stub": [d.id for d in dims if d.id != TIME],
                "aggregallowed": False,
            },
            "definition": table.report.describe_in(lang),
            "dataStart": data_start.isoformat(),
            "disclosure": DISCLOSURE.text(lang),
            "withheld": WITHHELD,
            "openTier": pres.note_text(NOTE_OPEN_ORGANISATIONS, lang),
            "report": {
                "service": table.report.service,
                "id": table.report.id,
                "level": table.level,
            },  # fmt: skip
        },
    }


def dataset(cube: Cube, lang: Lang) -> dict[str, Any]:
    """The answer as JSON-stat 2.0, dense (pxwebpy reads `value` as the full
    product of the dimensions)."""
    table = cube.table
    return jsonstat.jsonstat_dataset(
        table.label(lang, level_label(table)), cube.updated,
        [d.id for d in cube.dimensions], [len(d.codes) for d in cube.dimensions], _role(table),
        {d.id: _dimension(d, table, lang, "", False) for d in cube.dimensions}, cube.values,
        {str(p): s for p, s in sorted(cube.status.items())}, notes(cube, lang),
        {"report": {"service": table.report.service, "id": table.report.id,
                    "level": table.level}},
    )  # fmt: skip


def notes(cube: Cube, lang: Lang) -> list[str]:
    return [pres.note_text(n, lang) for n in cube.notes]


def codelist(cid: str, lang: Lang, values: Sequence[tuple[str, str]]) -> dict[str, Any]:
    label = next(label for i, label in CODELISTS.values() if i == cid)
    return {
        "id": cid,
        "label": label.text(lang),
        "language": lang,
        "languages": [x["id"] for x in LANGUAGES],
        "elimination": False,
        "type": "Valueset",
        "values": [{"code": c, "label": t, "valueMap": [c]} for c, t in values],
        "links": [],
    }


def problem(status: int, title: str, detail: str) -> dict[str, Any]:
    """An error as PxWebApi 2.0 answers it (problem details), with the report
    API's `error` beside it; `detail` never quotes stored data."""
    return {"type": "about:blank", "title": title, "status": status, "detail": detail,
            "error": detail}  # fmt: skip
