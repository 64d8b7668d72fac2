"""Answer formats, all from one Result: JSON, CSV, XLSX, JSON-stat 2.0 and PDF.

JSON and JSON-stat keep the codes (the API contract). The formats people open
read as the page does (reports/presentation.py): CSV (`style=table`, the
default) has labelled headers and cells, numbers rounded as on the page and,
in Swedish, `;` and a decimal comma, for Swedish Excel; `style=machine` is
the integrations' form (column names, codes, full precision, `,` unless
`delimiter=semicolon`). Both are UTF-8 with a BOM so Excel reads å, ä, ö.
XLSX has typed cells, labels for codes, a header row with the labels and a
notes sheet (period in words, filters as labels, definition, notes). The PDF
has a chart of the main measure and the table as the page writes it.
JSON-stat (reports/jsonstat.py) puts the dimension columns on axes and the
measures in a `mått` (metric) dimension, so PxWeb-style clients can read it.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

import orjson
import xlsxwriter

from reports import presentation as pres
from reports.engine import Result
from reports.jsonstat import to_jsonstat
from reports.labels import Label, Labels, Lang

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
    if result.params.style != "table":
        return _machine_csv(result)
    return table_csv(result)


def _machine_csv(result: Result) -> bytes:
    """Column names, codes, full precision, `,` unless `delimiter=semicolon`:
    the bytes integrations have read since the first release (`style=machine`)."""
    buf = io.StringIO()
    buf.write("\ufeff")
    writer = csv.writer(buf, delimiter=result.params.delimiter or ",", lineterminator="\r\n")
    writer.writerow([c.name for c in result.columns])
    writer.writerows(_csv_rows(result.rows))
    return buf.getvalue().encode("utf-8")


def table_csv(result: Result) -> bytes:
    """The table as a person reads it, for Excel: labelled headers and codes,
    numbers rounded as on the page; Swedish is `;` with a decimal comma (what
    Excel and LibreOffice under a Swedish locale open as numbers), English `,`
    and `.`. UTF-8 with a BOM so Excel reads å, ä, ö."""
    lang = pres.as_lang(result.params.lang)
    labels = pres.service_labels(result.report.service)
    delimiter = result.params.delimiter or (";" if lang == "sv" else ",")
    buf = io.StringIO()
    buf.write("\ufeff")
    writer = csv.writer(buf, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(pres.headers(result.columns, lang))
    writer.writerows(pres.csv_rows(result.columns, result.rows, labels, lang))
    return buf.getvalue().encode("utf-8")


def to_json(result: Result) -> bytes:
    return orjson.dumps(result.to_json())


NOTES_SHEET = Label("Noter", "Notes")
REPORT_KEY = Label("Rapport", "Report")
SERVICE_KEY = Label("Tjänst", "Service")
PERIOD_KEY = Label("Period", "Period")
FILTERS_KEY = Label("Urval", "Selection")
AS_OF_KEY = Label("Data per", "Data as of")
DEFINITION_KEY = Label("Definition", "Definition")
NOTE_KEY = Label("Not", "Note")
ALL_SELECTED = Label("Alla", "All")


def _meta(result: Result, lang: Lang, labels: Labels) -> list[tuple[str, str]]:
    """What the XLSX notes sheet and the PDF say about the answer, in words."""
    p = result.params
    service = pres.service_title(result.report.service, lang)
    chosen = pres.filter_lines(result.report, p, labels, lang)
    return [
        (REPORT_KEY.text(lang), result.report.title(lang)),
        (SERVICE_KEY.text(lang), service),
        (PERIOD_KEY.text(lang), pres.period_text(p.date_from, p.date_to, lang)),
        (FILTERS_KEY.text(lang), "; ".join(chosen) if chosen else ALL_SELECTED.text(lang)),
        (AS_OF_KEY.text(lang), pres.instant_text(result.data_as_of, lang)),
        (DEFINITION_KEY.text(lang), result.report.describe_in(lang)),
    ]


def to_xlsx(result: Result) -> bytes:
    lang = pres.as_lang(result.params.lang)
    labels = pres.service_labels(result.report.service)
    buf = io.BytesIO()
    book = xlsxwriter.Workbook(buf, {"in_memory": True})
    bold = book.add_format({"bold": True})
    share = book.add_format({"num_format": "0.0000"})
    wrap = book.add_format({"text_wrap": True, "valign": "top"})
    sheet = book.add_worksheet(result.report.id[:31])
    for j, (col, text) in enumerate(
        zip(result.columns, pres.headers(result.columns, lang), strict=True)
    ):
        # the header as a person reads it; a share stays a fraction (0.0000) here
        text = col.label(lang) if pres.is_share(col.name) else text
        sheet.write_string(0, j, text, bold)
        sheet.set_column(j, j, max(10, len(text) + 2))
    columns = list(zip(*result.rows, strict=True)) or [() for _ in result.columns]
    keep = pres.code_columns(result.columns)
    for j, (col, values) in enumerate(zip(result.columns, columns, strict=True)):
        if col.name not in keep and not pres.is_measure(col):
            # every code reads as its label, as on the page: boka-tid -> Boka tid,
            # weekday 1 -> Måndag, a yes/no -> Ja/Nej (Excel's TRUE/FALSE and a
            # bare 1 are codes); measures stay numbers a spreadsheet can sum
            values = tuple(pres.cell_text(col, v, labels, lang, keep) for v in values)
        _xlsx_column(sheet, j, col.type, values, share)
    sheet.freeze_panes(1, 0)
    notes = book.add_worksheet(NOTES_SHEET.text(lang))
    meta = _meta(result, lang, labels) + [
        (NOTE_KEY.text(lang), pres.note_text(n, lang)) for n in result.notes
    ]
    for i, (k, v) in enumerate(meta):
        notes.write_string(i, 0, k, bold)
        notes.write_string(i, 1, v, wrap)
    notes.set_column(0, 0, 14)
    notes.set_column(1, 1, 100)
    book.close()
    return buf.getvalue()


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


_RENDER = {"json": to_json, "csv": to_csv, "xlsx": to_xlsx, "jsonstat": to_jsonstat}


def render(result: Result) -> tuple[bytes, str]:
    fmt = result.params.format
    return _RENDER[fmt](result), MEDIA[fmt]


def filename(result: Result) -> str:
    p = result.params
    ext = {"jsonstat": "json"}.get(p.format, p.format)
    return f"{result.report.service}-{result.report.id}-{p.date_from}-{p.date_to}.{ext}"


NOTES_HEADING = Label("Noter", "Notes")
PAGE = Label("sida", "page")
NO_DATA = Label("Ingen data för perioden och urvalet.", "No data for the period and selection.")
CHART_FIRST = Label(
    "Diagrammet visar de {n} första raderna.", "The chart shows the first {n} rows."
)
CHART_ROWS = 40  # categories a bar chart can still label legibly on A4
CHART_SERIES = 8
PALETTE = ("#1f5f99", "#d9822b", "#3c8d5a", "#8e44ad", "#c0392b", "#7f8c8d", "#16a085", "#b7950b")


def chart_data(
    result: Result, lang: Lang, labels: Labels
) -> tuple[str, list[str], list[tuple[str, list[float]]]] | None:
    """The report's main measure (its first measure column) along its first
    shown dimension, one series per value of a second dimension (month x
    activity): (measure label, categories, [(series label, values)]). None
    when the answer has no measure, no dimension or no rows."""
    cols = list(result.columns)
    keep = pres.code_columns(cols)
    measures = [j for j, c in enumerate(cols) if pres.is_measure(c)]
    # a dimension as shown: its name column when it has one, never the code
    dims = [j for j, c in enumerate(cols) if not pres.is_measure(c) and c.name not in keep
            and c.type in ("string", "integer", "date")]  # fmt: skip
    if not measures or not dims or not result.rows:
        return None
    m, first = measures[0], dims[0]
    second = dims[1] if len(dims) > 1 and cols[dims[1]].label_of is None else None

    def shown(j: int, v: Any) -> str:
        if cols[j].name == "month" and isinstance(v, str):
            return pres.month_short(v, lang)  # "jan 2025", as the page's chart says
        return pres.cell_text(cols[j], v, labels, lang, keep)

    cats: dict[str, None] = {}
    names: dict[str, None] = {}
    cell: dict[tuple[str, str], float] = {}
    for row in result.rows:
        cat = shown(first, row[first])
        if cat not in cats and len(cats) >= CHART_ROWS:
            continue
        series = shown(second, row[second]) if second is not None else cols[m].label(lang)
        if series not in names and len(names) >= CHART_SERIES:
            continue
        cats.setdefault(cat)
        names.setdefault(series)
        value = row[m]
        scale = 100.0 if pres.is_share(cols[m].name) else 1.0
        cell[cat, series] = cell.get((cat, series), 0.0) + (
            float(value) * scale if value is not None else 0.0
        )
    data = [(s, [cell.get((c, s), 0.0) for c in cats]) for s in names]
    return pres.header(cols[m], lang), list(cats), data


def _chart(result: Result, lang: Lang, labels: Labels, width: float) -> Any:
    from reportlab.graphics.charts.barcharts import VerticalBarChart
    from reportlab.graphics.charts.legends import Legend
    from reportlab.graphics.shapes import Drawing, String
    from reportlab.lib import colors

    found = chart_data(result, lang, labels)
    if found is None:
        return None
    measure, cats, data = found
    height = 200.0
    d = Drawing(width, height + (16 if len(data) > 1 else 0))
    chart = VerticalBarChart()
    chart.x, chart.y, chart.width, chart.height = 40, 50, width - 60, height - 70
    chart.data = [values for _, values in data]
    chart.categoryAxis.categoryNames = [c if len(c) <= 14 else c[:13] + "…" for c in cats]
    chart.categoryAxis.labels.angle = 45 if len(cats) > 6 else 0
    chart.categoryAxis.labels.boxAnchor = "ne" if len(cats) > 6 else "n"
    chart.categoryAxis.labels.fontSize = 6
    chart.valueAxis.labels.fontSize = 6
    chart.valueAxis.valueMin = 0
    chart.valueAxis.labelTextFormat = lambda v: pres.number_text("value", v, lang)
    chart.barSpacing = 0.5
    for i in range(len(data)):
        chart.bars[i].fillColor = colors.HexColor(PALETTE[i % len(PALETTE)])
        chart.bars[i].strokeColor = None
    d.add(chart)
    d.add(String(40, height - 12, measure, fontSize=8, fontName="Helvetica-Bold"))
    if len(data) > 1:
        legend = Legend()
        legend.x, legend.y = 40, height + 10
        legend.fontSize = 7
        legend.alignment = "right"
        legend.columnMaximum = 1
        legend.deltax = 90
        legend.colorNamePairs = [
            (colors.HexColor(PALETTE[i % len(PALETTE)]), name) for i, (name, _) in enumerate(data)
        ]
        d.add(legend)
    return d


def to_pdf(result: Result) -> bytes:
    """An A4 document that reads like the page: title, period in words, the
    chosen filters as labels, a chart of the main measure, the table with its
    numbers as the page writes them, notes and the definition."""
    from xml.sax.saxutils import escape

    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    lang = pres.as_lang(result.params.lang)
    labels = pres.service_labels(result.report.service)
    wide = len(result.columns) > 6
    size = landscape(A4) if wide else A4
    buf = io.BytesIO()
    title = result.report.title(lang)
    doc = SimpleDocTemplate(buf, pagesize=size, title=title, author="statflow",
                            lang="sv-SE" if lang == "sv" else "en-GB")  # fmt: skip
    styles = getSampleStyleSheet()
    small = styles["BodyText"].clone("small", fontSize=8, leading=10)
    cell = styles["BodyText"].clone("cell", fontSize=7, leading=8.5)
    right = cell.clone("right", alignment=2)
    meta = dict(_meta(result, lang, labels))
    story: list[Any] = [Paragraph(escape(title), styles["Title"])]
    for key in (SERVICE_KEY, PERIOD_KEY, FILTERS_KEY, AS_OF_KEY):
        k = key.text(lang)
        story.append(Paragraph(f"<b>{escape(k)}:</b> {escape(meta[k])}", small))
    story.append(Spacer(1, 8))
    if not result.rows:
        story.append(Paragraph(escape(NO_DATA.text(lang)), styles["BodyText"]))
    chart = _chart(result, lang, labels, doc.width)
    if chart is not None:
        story.append(chart)
        if len({r[0] for r in result.rows}) > CHART_ROWS:
            story.append(Paragraph(escape(CHART_FIRST.text(lang).format(n=CHART_ROWS)), small))
        story.append(Spacer(1, 8))
    measure = [pres.is_measure(c) for c in result.columns]
    header = [
        Paragraph(f"<b>{escape(text)}</b>", right if m else cell)
        for text, m in zip(pres.headers(result.columns, lang), measure, strict=True)
    ]
    body = [
        [Paragraph(escape(v), right if m else cell) for v, m in zip(row, measure, strict=True)]
        for row in pres.text_rows(result.columns, result.rows, labels, lang)
    ]
    if body:
        table = Table([header, *body], repeatRows=1)
        table.setStyle(TableStyle([
            ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
            ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8eef5")),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ]))  # fmt: skip
        story.append(table)
    if result.notes:
        story.append(Spacer(1, 8))
        story.append(Paragraph(f"<b>{escape(NOTES_HEADING.text(lang))}</b>", small))
        story += [Paragraph(f"* {escape(pres.note_text(n, lang))}", small) for n in result.notes]
    story.append(Spacer(1, 6))
    k = DEFINITION_KEY.text(lang)
    story.append(Paragraph(f"<b>{escape(k)}:</b> {escape(meta[k])}", small))

    def footer(canvas: Any, doc: Any) -> None:
        canvas.saveState()
        canvas.setFont("Helvetica", 7)
        canvas.drawString(doc.leftMargin, 20, f"statflow – {title} – {PAGE.text(lang)} {doc.page}")
        canvas.restoreState()

    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return buf.getvalue()


_RENDER["pdf"] = to_pdf
MEDIA["pdf"] = "application/pdf"
