"""Answer formats, all from one Result: JSON, CSV, XLSX and JSON-stat 2.0.

CSV is UTF-8 with a BOM so Excel reads å, ä, ö right (`delimiter=semicolon`
for Swedish Excel). XLSX has typed cells, a header row with the labels and a
notes sheet. JSON-stat puts the dimension columns on axes and the measures in
a `mått` (metric) dimension, so PxWeb-style clients can read it.
"""

from __future__ import annotations

import csv
import io
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


def to_csv(result: Result) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=result.params.delimiter, lineterminator="\r\n")
    writer.writerow([c.name for c in result.columns])
    for row in result.rows:
        writer.writerow([_cell(v) for v in row])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


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
    for i, row in enumerate(result.rows, start=1):
        for j, (col, value) in enumerate(zip(result.columns, row, strict=True)):
            if value is None:
                sheet.write_string(i, j, "–")  # withheld or unknown: never an empty 0
            elif col.type in ("integer", "number") and not isinstance(value, bool):
                sheet.write_number(i, j, value, share if col.type == "number" else None)
            elif isinstance(value, bool):
                sheet.write_boolean(i, j, value)
            else:
                sheet.write_string(i, j, str(value))
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


def to_jsonstat(result: Result) -> bytes:
    lang = result.params.lang
    cols = list(result.columns)
    dims = [c for c in cols if c.is_dimension]
    measures = [c for c in cols if not c.is_dimension and c.label_of is None]
    labels = {c.label_of: cols.index(c) for c in cols if c.label_of}
    index: dict[str, dict[Any, int]] = {d.name: {} for d in dims}
    names: dict[str, dict[str, str]] = {d.name: {} for d in dims}
    for row in result.rows:
        for d in dims:
            key = row[cols.index(d)]
            cat = "" if key is None else str(key)
            if cat not in index[d.name]:
                index[d.name][cat] = len(index[d.name])
                lab = row[labels[d.name]] if d.name in labels else None
                names[d.name][cat] = str(lab) if lab is not None else cat
    size = [len(index[d.name]) for d in dims] + [len(measures)]
    total = 1
    for n in size:
        total *= n
    value: list[Any] = [None] * total
    status: dict[str, str] = {}
    for row in result.rows:
        flat = 0
        for d, n in zip(dims, size, strict=False):
            key = row[cols.index(d)]
            flat = flat * n + index[d.name]["" if key is None else str(key)]
        for m_i, m in enumerate(measures):
            pos = flat * len(measures) + m_i
            value[pos] = row[cols.index(m)]
            if value[pos] is None:
                status[str(pos)] = ".."  # PxWeb's sign for a withheld value
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
