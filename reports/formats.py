"""Answer formats, all from one Result: JSON, CSV, XLSX and JSON-stat 2.0.

CSV is UTF-8 with a BOM so Excel reads å, ä, ö right (`delimiter=semicolon`
for Swedish Excel). XLSX has typed cells, a header row with the labels and a
notes sheet. JSON-stat puts the dimension columns on axes and the measures in
a `mått` (metric) dimension, so PxWeb-style clients can read it.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

import orjson
import xlsxwriter

from reports.engine import Result

MEDIA = {
    "json": "application/json",
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "jsonstat": "application/json",
}


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def _csv_rows(rows: list[list[Any]]) -> Iterable[Sequence[Any]]:
    """The rows as CSV writes them. The csv module already writes None as an
    empty field and numbers and strings as `_cell` would, so only a column
    holding a boolean (written `true`/`false`, not Python's `True`) is
    converted; the rest go to the C writer untouched (no call per cell)."""
    columns = list(zip(*rows, strict=True))
    booleans = [j for j, col in enumerate(columns) if bool in set(map(type, col))]
    if not booleans:
        return rows
    for j in booleans:
        columns[j] = tuple(map(_cell, columns[j]))
    return zip(*columns, strict=True)


def to_csv(result: Result) -> bytes:
    buf = io.StringIO()
    buf.write("\ufeff")
    writer = csv.writer(buf, delimiter=result.params.delimiter, lineterminator="\r\n")
    writer.writerow([c.name for c in result.columns])
    writer.writerows(_csv_rows(result.rows))
    return buf.getvalue().encode("utf-8")


def to_json(result: Result) -> bytes:
    return orjson.dumps(result.to_json())


def to_xlsx(result: Result) -> bytes:
    lang = result.params.lang
    buf = io.BytesIO()
    book = xlsxwriter.Workbook(buf, {"in_memory": True})
    bold = book.add_format({"bold": True})
    share = book.add_format({"num_format": "0.0000"})
    sheet = book.add_worksheet(result.report.id[:31])
    for j, col in enumerate(result.columns):
        sheet.write_string(0, j, col.label(lang), bold)
        sheet.set_column(j, j, max(10, len(col.label(lang)) + 2))
    columns = list(zip(*result.rows, strict=True)) or [() for _ in result.columns]
    for j, (col, values) in enumerate(zip(result.columns, columns, strict=True)):
        _xlsx_column(sheet, j, col.type, values, share)
    sheet.freeze_panes(1, 0)
    notes = book.add_worksheet("Noter" if lang != "en" else "Notes")
    meta = [
        ("Rapport", result.report.title(lang)),
        ("Period", f"{result.params.date_from} – {result.params.date_to}"),
        ("Parametrar", orjson.dumps(result.params.echo()).decode()),
        ("Data per", result.data_as_of.isoformat() if result.data_as_of else "–"),
        ("Definition", result.report.description),
    ] + [("Not", n) for n in result.notes]
    for i, (k, v) in enumerate(meta):
        notes.write_string(i, 0, k, bold)
        notes.write_string(i, 1, v)
    notes.set_column(0, 0, 14)
    notes.set_column(1, 1, 100)
    book.close()
    return buf.getvalue()


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


def _xlsx_column(sheet: Any, j: int, type_: str, values: Sequence[Any], share: Any) -> None:
    """Column j of the answer from row 1 down, one writer chosen per column
    from the value types it holds (the call per cell is xlsxwriter's own).
    Withheld or unknown cells read "–", never an empty 0."""
    kinds = set(map(type, values)) - {type(None)}
    if type_ in ("integer", "number") and kinds <= {int, float}:
        number, fmt = sheet.write_number, share if type_ == "number" else None
        for i, v in enumerate(values, start=1):
            if v is None:
                sheet.write_string(i, j, "–")
            else:
                number(i, j, v, fmt)
    elif kinds <= {str}:
        text = sheet.write_string
        for i, v in enumerate(values, start=1):
            text(i, j, "–" if v is None else v)
    else:  # mixed (a boolean column, a date): decided per value, as before
        for i, v in enumerate(values, start=1):
            _xlsx_cell(sheet, i, j, type_, v, share)


def _xlsx_cell(sheet: Any, i: int, j: int, type_: str, value: Any, share: Any) -> None:
    if value is None:
        sheet.write_string(i, j, "–")
    elif type_ in ("integer", "number") and not isinstance(value, bool):
        sheet.write_number(i, j, value, share if type_ == "number" else None)
    elif isinstance(value, bool):
        sheet.write_boolean(i, j, value)
    else:
        sheet.write_string(i, j, str(value))


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
    body = {
        "version": "2.0",
        "class": "dataset",
        "label": result.report.title(lang),
        "source": "statflow",
        "updated": result.data_as_of.isoformat() if result.data_as_of else None,
        "id": [d.name for d in dims] + ["mått"],
        "size": size,
        "role": {"metric": ["mått"]},
        "dimension": dimension,
        "value": value,
        "status": status,
        "note": result.notes,
        "extension": {"params": result.params.echo(), "report": result.report.id},
    }
    return orjson.dumps(body)


_RENDER = {"json": to_json, "csv": to_csv, "xlsx": to_xlsx, "jsonstat": to_jsonstat}


def render(result: Result) -> tuple[bytes, str]:
    fmt = result.params.format
    return _RENDER[fmt](result), MEDIA[fmt]


def filename(result: Result) -> str:
    p = result.params
    ext = {"jsonstat": "json"}.get(p.format, p.format)
    return f"{result.report.service}-{result.report.id}-{p.date_from}-{p.date_to}.{ext}"


def to_pdf(result: Result) -> bytes:
    """An A4 page (or more): title, parameters, the table with labels, notes, data as of."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    lang = result.params.lang
    wide = len(result.columns) > 6
    buf = io.BytesIO()
    doc = SimpleDocTemplate(buf, pagesize=landscape(A4) if wide else A4,
                            title=result.report.title(lang), author="statflow")  # fmt: skip
    styles = getSampleStyleSheet()
    small = styles["BodyText"].clone("small", fontSize=8, leading=10)
    params = ", ".join(f"{k}={v}" for k, v in result.params.echo().items())
    as_of = result.data_as_of.isoformat(timespec="seconds") if result.data_as_of else "–"
    story: list[Any] = [
        Paragraph(result.report.title(lang), styles["Title"]),
        Paragraph(f"Parametrar: {params}", small),
        Paragraph(f"Data per: {as_of}", small),
        Spacer(1, 8),
    ]
    header = [Paragraph(f"<b>{c.label(lang)}</b>", small) for c in result.columns]
    body = [[_pdf_cell(v) for v in row] for row in result.rows]
    table = Table([header, *body], repeatRows=1)
    table.setStyle(TableStyle([
        ("FONTSIZE", (0, 0), (-1, -1), 8),
        ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8eef5")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ]))  # fmt: skip
    story.append(table)
    if result.notes:
        story.append(Spacer(1, 8))
        story += [Paragraph(f"* {n}", small) for n in result.notes]
    story.append(Spacer(1, 6))
    story.append(Paragraph(result.report.description, small))
    doc.build(story)
    return buf.getvalue()


def _pdf_cell(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:.4f}"
    return str(value)


_RENDER["pdf"] = to_pdf
MEDIA["pdf"] = "application/pdf"
