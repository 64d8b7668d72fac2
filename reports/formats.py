"""Answer formats. CSV is UTF-8 with a BOM so Excel reads å, ä, ö right."""

from __future__ import annotations

import csv
import io
from typing import Any

import orjson

from reports.engine import Result

MEDIA = {"json": "application/json", "csv": "text/csv; charset=utf-8"}


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def to_csv(result: Result) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=result.params.delimiter, lineterminator="\r\n")
    writer.writerow([c.name for c in result.columns])
    for row in result.rows:
        writer.writerow([_cell(v) for v in row])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def to_json(result: Result) -> bytes:
    return orjson.dumps(result.to_json())


def render(result: Result) -> tuple[bytes, str]:
    fmt = result.params.format
    body = to_csv(result) if fmt == "csv" else to_json(result)
    return body, MEDIA[fmt]


def filename(result: Result) -> str:
    p = result.params
    return f"{result.report.service}-{result.report.id}-{p.date_from}-{p.date_to}.{p.format}"
