"""Compare a report answer from the API with the oracle's rows, cell by cell."""

from __future__ import annotations

import math
from typing import Any


def as_dicts(answer: dict[str, Any]) -> list[dict[str, Any]]:
    names = [c["name"] for c in answer["columns"]]
    return [dict(zip(names, row, strict=True)) for row in answer["rows"]]


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        if a is None or b is None:
            return a is b
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
    return bool(a == b)


def diff(got: list[dict[str, Any]], want: list[dict[str, Any]], keys: list[str]) -> list[str]:
    """Empty when every row and cell agrees; else readable differences."""

    def index(rows: list[dict[str, Any]]) -> dict[tuple[Any, ...], dict[str, Any]]:
        return {tuple(r.get(k) for k in keys): r for r in rows}

    g, w = index(got), index(want)
    problems = []
    if len(g) != len(got):
        problems.append("duplicate keys in the answer")
    for k in sorted(set(g) | set(w), key=str):
        if k not in g:
            problems.append(f"missing row {k}: want {w[k]}")
        elif k not in w:
            problems.append(f"extra row {k}: got {g[k]}")
        else:
            for col in w[k]:
                if not _same(g[k].get(col), w[k][col]):
                    problems.append(f"{k} {col}: got {g[k].get(col)!r}, want {w[k][col]!r}")
            extra = set(g[k]) - set(w[k])
            if extra:
                problems.append(f"{k}: unexpected columns {sorted(extra)}")
    return problems[:30]
