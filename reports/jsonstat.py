"""JSON-stat 2.0 bodies, pure: the report API's `format=jsonstat` answer
(rendered through reports/formats.py) and the dataset the PxWeb tables
(reports/pxweb/) answer with.

The dimension columns go on axes and the measures in a `mått` (metric)
dimension, so PxWeb-style clients can read it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any

import orjson

from reports.engine import Result

# JSON-stat's `value` is the dense cube of every dimension combination; an
# answer along a hierarchy (unit rows carry their county and care provider)
# fills a tiny part of it (7,000 unit rows: 21 x 300 x 7,000 cells). Past this
# many cells, and twice the answer's own, `value` is the JSON-stat 2.0 sparse
# form instead: an object from position to value, so the body stays linear.
DENSE_CELLS = 1024


def _categories(column: Sequence[Any]) -> list[str]:
    """A dimension column as JSON-stat category ids: None is "", the rest str."""
    if set(map(type, column)) <= {str}:
        return list(column)  # the common case: no call per cell
    return ["" if v is None else str(v) for v in column]


def to_jsonstat(result: Result) -> bytes:
    lang = result.params.lang
    cols = list(result.columns)
    at = {c.name: j for j, c in enumerate(cols)}
    dims = [c for c in cols if c.is_dimension]
    measures = [c for c in cols if not c.is_dimension and c.label_of is None]
    labels = {c.label_of: j for j, c in enumerate(cols) if c.label_of}
    rows = result.rows
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in cols]
    index: dict[str, dict[str, int]] = {}
    names: dict[str, dict[str, str]] = {}
    flat = [0] * len(rows)
    for d in dims:
        keys = _categories(columns[at[d.name]])
        # categories in order of first appearance; a category's label is the
        # one on its first row (dict(zip(reversed ...)) keeps the first)
        index[d.name] = {k: i for i, k in enumerate(dict.fromkeys(keys))}
        shown = columns[labels[d.name]] if d.name in labels else keys
        first = dict(zip(reversed(keys), reversed(shown), strict=True))
        names[d.name] = {k: k if first[k] is None else str(first[k]) for k in index[d.name]}
        n = len(index[d.name])
        flat = [f * n + i for f, i in zip(flat, map(index[d.name].__getitem__, keys), strict=True)]
    size = [len(index[d.name]) for d in dims] + [len(measures)]
    total = 1
    for n in size:
        total *= n
    filled = len(rows) * len(measures)
    sparse = total > max(DENSE_CELLS, 2 * filled)
    cells: dict[int, Any] = {}
    status: dict[str, str] = {}
    wide = len(measures)
    measured: Iterable[tuple[Any, ...]] = (
        zip(*(columns[at[m.name]] for m in measures), strict=True) if measures else [()] * len(rows)
    )
    for f, values in zip(flat, measured, strict=True):
        for pos, v in enumerate(values, start=f * wide):
            cells[pos] = v
            if v is None:
                status[str(pos)] = ".."  # PxWeb's sign for a withheld value
    value: list[Any] | dict[str, Any]
    if sparse:
        value = {str(pos): v for pos, v in cells.items()}
    else:
        value = [None] * total
        for pos, v in cells.items():
            value[pos] = v
    dimension: dict[str, Any] = {
        d.name: {
            "label": d.label(lang),
            "category": {"index": index[d.name], "label": names[d.name]},
        }
        for d in dims
    }
    dimension["mått"] = {
        "label": "Mått" if lang != "en" else "Measure",
        "category": {
            "index": {m.name: i for i, m in enumerate(measures)},
            "label": {m.name: m.label(lang) for m in measures},
        },
    }
    body = jsonstat_dataset(
        result.report.title(lang), result.data_as_of, [d.name for d in dims] + ["mått"], size,
        {"metric": ["mått"]}, dimension, value, status, result.notes,
        {"params": result.params.echo(), "report": result.report.id},
    )  # fmt: skip
    return orjson.dumps(body)


def jsonstat_dataset(
    label: str, updated: dt.datetime | None, ids: list[str], size: list[int],
    role: dict[str, list[str]], dimension: dict[str, Any], value: list[Any] | dict[str, Any],
    status: dict[str, str], notes: list[str], extension: dict[str, Any],
) -> dict[str, Any]:  # fmt: skip
    """A JSON-stat 2.0 dataset: the report API's (`format=jsonstat`) and the
    PxWeb tables' (reports/pxweb/) answers are both this body."""
    body: dict[str, Any] = {
        "version": "2.0",
        "class": "dataset",
        "label": label,
        "source": "statflow",
        "updated": updated.isoformat() if updated else None,
        "id": ids,
        "size": size,
        "role": role,
        "dimension": dimension,
        "value": value,
        "status": status,
        "note": notes,
        "extension": extension,
    }
    return body
