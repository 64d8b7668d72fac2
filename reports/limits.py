"""Bounds of one report answer, pure (no I/O): how many cells it may hold.

A cell is one value of the answer's table (rows x columns), the measure SCB's
PxWeb limits. The limit is checked twice: before the query from what the
parameters alone guarantee (a report with a `month` column lists every month
of the period, so months x columns is a lower bound), and after it on the real
rows, before anything is formatted (a PDF of a huge answer is the slow part).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from reports.catalogue import Report
from reports.params import ReportParams
from reports.periods import months
from statflow.errors import AnswerTooLarge


def least_cells(report: Report, params: ReportParams) -> int:
    """Cells the answer holds at least, known before running the query."""
    if not any(c.name == "month" for c in report.columns):
        return 0  # size depends on the data only: checked after the query
    return len(months(params.date_from, params.date_to)) * len(report.columns)


def answer_cells(columns: Sequence[Any], rows: Sequence[Sequence[Any]]) -> int:
    return len(rows) * len(columns)


def check(cells: int, limit: int, at_least: bool = False) -> None:
    """Refuse an answer of more than `limit` cells; 0 = no limit."""
    if limit > 0 and cells > limit:
        raise AnswerTooLarge(cells, limit, at_least)
