"""The OpenAPI document, with every report's parameters read from its declaration.

The report route reads its query string itself (filters differ per report and
repeat), so FastAPI cannot see its parameters: this module replaces the one
generic `/api/v1/reports/{service}/{report}` entry with one path per declared
report, naming its filters, levels, fixed choices, formats, tiers and the one
error shape. Pure: it reads the catalogue and the document FastAPI generated.
"""

from __future__ import annotations

import copy
from typing import Any

from reports import catalogue
from reports.declarations import Column, Report
from reports.params import COMPARE, FORMATS, LANGS, STYLES, TEXT_FILTERS
from schemas.counties import COUNTIES, UNKNOWN_COUNTY

GENERIC = "/api/v1/reports/{service}/{report}"
MEDIA = {
    "json": "application/json",
    "jsonstat": "application/json",
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
}
_JSON_TYPES: dict[str, dict[str, Any]] = {
    "string": {"type": "string"},
    "integer": {"type": "integer"},
    "number": {"type": "number"},
    "boolean": {"type": "boolean"},
    "date": {"type": "string", "format": "date"},
    "datetime": {"type": "string", "format": "date-time"},
}
ERROR = {
    "type": "object",
    "description": "Every error of the API has this shape; the offending value is not echoed.",
    "required": ["error"],
    "properties": {
        "error": {"type": "string", "description": "what went wrong and what to do"},
        "parameter": {"type": "string", "description": "the parameter at fault (400)"},
        "retry_after": {"type": "integer", "description": "seconds to wait (429)"},
        "max_cells": {"type": "integer"},
        "cells": {"type": "integer"},
    },
}


def _error(description: str) -> dict[str, Any]:
    ref = {"$ref": "#/components/schemas/Error"}
    return {"description": description, "content": {"application/json": {"schema": ref}}}


ERRORS = {
    "400": _error("a parameter is wrong (`parameter` names it) or the answer is too large"),
    "401": _error("a bearer token is needed or the one sent is not valid"),
    "403": _error("the caller's tier or organisation may not see this"),
    "404": _error("no such service or report"),
    "429": _error("too many open requests from one address; see Retry-After"),
    "503": _error("the statistics store is not answering; try again shortly"),
}


def _query(name: str, description: str, schema: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "description": description,
            "schema": schema, **extra}  # fmt: skip


def _filter_schema(report: Report, name: str) -> tuple[dict[str, Any], str]:
    if name == "county":
        codes = [*COUNTIES, UNKNOWN_COUNTY]
        return {"type": "string", "enum": codes}, "county code(s), 01–25, 00 = unknown"
    if name in report.choices:
        return {"type": "string", "enum": list(report.choices[name])}, f"{name} value(s)"
    if name in TEXT_FILTERS:
        return {"type": "string", "maxLength": 256}, f"{name} name(s)"
    return {"type": "string", "maxLength": 64, "pattern": r"^\S+$"}, f"{name} HSA id(s)"


def parameters(report: Report) -> list[dict[str, Any]]:
    """Every query parameter the report accepts (reports/params.py checks them)."""
    out = [
        _query("from", f"first day (ISO date); default: the first of the last 12 complete "
               f"months; clamped to data_start {report.data_start}",
               {"type": "string", "format": "date"}),
        _query("to", "last day (ISO date); default: the end of the last complete month; "
               "a date after today is clamped to today (Europe/Stockholm)",
               {"type": "string", "format": "date"}),
        _query("format", "answer format", {"type": "string", "enum": list(FORMATS),
                                           "default": "json"}),
        _query("lang", "language of titles, labels and headers",
               {"type": "string", "enum": list(LANGS), "default": "sv"}),
        _query("delimiter", "CSV field separator (default: the style's own: table in "
               "Swedish `;`, in English `,`; machine `,`)",
               {"type": "string", "enum": ["comma", "semicolon"]}),
        _query("style", "CSV for people (labelled headers, labels for codes, numbers "
               "rounded as on the page, decimal comma in Swedish, a BOM) or the machine "
               "form (column names, codes, full precision)",
               {"type": "string", "enum": list(STYLES), "default": "table"}),
        _query("compare", "add the same report over the previous period (as long; whole "
               "months compare with as many whole months) or the same dates a year earlier, "
               "as `comparison` in the JSON answer (format=json only)",
               {"type": "string", "enum": list(COMPARE)}),
    ]  # fmt: skip
    if report.levels:
        out.append(_query("level", "drill-down level; the deeper levels are summed away",
                          {"type": "string", "enum": list(report.levels),
                           "default": report.levels[-1]}))  # fmt: skip
    for name in report.filters:
        schema, what = _filter_schema(report, name)
        out.append(_query(name, f"filter: {what}; repeat the parameter or separate by commas",
                          {"type": "array", "items": schema}, style="form", explode=True))  # fmt: skip
    return out


def _column(c: Column) -> dict[str, Any]:
    schema = dict(_JSON_TYPES[c.type])
    schema["description"] = f"{c.name}: {c.label_sv} / {c.label_en}" + (
        "; adds up over rows" if c.is_additive else ""
    )
    return schema


def answer_schema(report: Report) -> dict[str, Any]:
    row = {
        "type": "array",
        "description": "one value per column, in the order of `columns` (null = withheld)",
        "prefixItems": [_column(c) for c in report.columns],
    }
    rows = {"type": "array", "items": row}
    return {
        "type": "object",
        "required": ["report", "service", "title", "params", "columns", "rows", "notes"],
        "properties": {
            "report": {"const": report.id},
            "service": {"const": report.service},
            "title": {"type": "string"},
            "params": {"type": "object", "description": "the period and filters as applied"},
            "columns": {"type": "array", "items": {"$ref": "#/components/schemas/Column"}},
            "rows": rows,
            "notes": {"type": "array", "items": {"type": "string"}},
            "data_as_of": {"type": ["string", "null"], "format": "date-time"},
            "annotations": {"type": "array",
                            "items": {"$ref": "#/components/schemas/Annotation"}},
            "comparison": {
                "type": "object",
                "description": "only with `compare`: the comparison period's rows",
                "properties": {
                    "compare": {"type": "string", "enum": list(COMPARE)},
                    "from": {"type": "string", "format": "date"},
                    "to": {"type": "string", "format": "date"},
                    "rows": rows,
                    "notes": {"type": "array", "items": {"type": "string"}},
                },
            },
        },
    }  # fmt: skip


def operation(report: Report) -> dict[str, Any]:
    open_tier = "open" in report.tiers
    ok = {
        "description": "the answer in the asked format",
        "content": {
            media: {"schema": answer_schema(report)}
            if fmt == "json"
            else {"schema": {"type": "string", "format": "binary"}}
            for fmt, media in MEDIA.items()
            if fmt != "jsonstat"
        },
    }
    return {
        "tags": [report.service],
        "operationId": f"{report.service}__{report.id}".replace("-", "_"),
        "summary": f"{report.title_sv} ({report.title_en})",
        "description": f"{report.definition.en}\n\nData from {report.data_start}. "
        f"Tiers: {', '.join(report.tiers)}.",
        "parameters": parameters(report),
        "responses": {"200": ok, **copy.deepcopy(ERRORS)},
        # open reports answer without a token too (the empty requirement)
        "security": [{}, {"bearer": []}] if open_tier else [{"bearer": []}],
        "x-statflow-tiers": list(report.tiers),
    }


def document(generated: dict[str, Any]) -> dict[str, Any]:
    """FastAPI's document with one path per declared report."""
    doc = copy.deepcopy(generated)
    doc["info"]["description"] = (
        "Usage statistics of the e-services. Open reports need no token; logged-in reports "
        "need `Authorization: Bearer <token>`. Every error answers "
        '`{"error": "...", "parameter": "..."}`.'
    )
    paths: dict[str, Any] = doc.setdefault("paths", {})
    paths.pop(GENERIC, None)
    for svc in catalogue.services().values():
        for report in svc.reports:
            paths[f"/api/v1/reports/{report.service}/{report.id}"] = {"get": operation(report)}
    components = doc.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    schemas["Error"] = ERROR
    schemas["Column"] = {
        "type": "object",
        "properties": {"name": {"type": "string"}, "label": {"type": "string"},
                       "type": {"type": "string", "enum": list(_JSON_TYPES)}},
    }  # fmt: skip
    schemas["Annotation"] = {
        "type": "object",
        "description": "a data-quality note and the days it covers",
        "properties": {"from": {"type": "string", "format": "date"},
                       "to": {"type": "string", "format": "date"}, "text": {"type": "string"}},
    }  # fmt: skip
    components.setdefault("securitySchemes", {})["bearer"] = {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "`statflow token` mints one (HS256, names care providers and roles)",
    }
    return doc
