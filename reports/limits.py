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

from core.errors import AnswerTooLarge
from reports.declarations import Report, ReportParams
from reports.periods import months


def least_cells(report: Report, params: ReportParams) -> int:
    """Cells the answer holds at least, known before running the query."""
    if not any(c.name == "month" for c in report.columns):
        return 0  # size depends on the data only: checked after the query
    return len(months(params.date_from, params.date_to)) * len(report.columns)


def answer_cells(columns: Sequence[Any], rows: Sequence[Sequence[Any]]) -> int:
    return len(rows) * len(columns)


def limit_for(fmt: str, max_cells: int, max_pdf_cells: int) -> tuple[int, bool]:
    """The cell limit of an answer in this format (0 = none), and whether it is
    the PDF's own (lower) one."""
    if fmt == "pdf" and max_pdf_cells > 0 and (max_cells == 0 or max_pdf_cells < max_cells):
        return max_pdf_cells, True
    return max_cells, False


def check(cells: int, limit: int, at_least: bool = False, pdf: bool = False) -> None:
    """Refuse an answer of more than `limit` cells; 0 = no limit."""
    if limit > 0 and cells > limit:
        raise AnswerTooLarge(cells, limit, at_least, pdf)
