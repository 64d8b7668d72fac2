"""Swedish first (issue 20): every report's definition is plain Swedish and
English; the CSV, XLSX and PDF of every report of every service show labels
instead of codes and numbers as the page writes them. Fixed answers for the
formatting; the files are read back (csv, openpyxl, pdftotext)."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import re
import subprocess
from typing import Any

import openpyxl
import pytest

from reports import catalogue, formats
from reports import presentation as pres
from reports.declarations import Column, Report, ReportParams
from reports.engine import Result
from reports.etj import CASE_TYPE_TEXT
from reports.labels import Lang

NB = "\u00a0"
REPORTS = [r for s in catalogue.SERVICES for r in s.reports]
IDS = [f"{r.service}/{r.id}" for r in REPORTS]
PERIOD = (dt.date(2025, 1, 1), dt.date(2025, 6, 30))
AS_OF = dt.datetime(2025, 7, 1, 6, 5, tzinfo=dt.UTC)


# --- fixed answers for the formatting -------------------------------------------


def test_numbers_read_as_on_the_page() -> None:
    # what Intl.NumberFormat("sv-SE", {maximumFractionDigits: 2}) writes (node)
    sv = [pres.number_text("events", v, "sv") for v in (1234, 2493309, 1.8923, -3.456, 0.125)]
    assert sv == [f"1{NB}234", f"2{NB}493{NB}309", "1,89", "−3,46", "0,13"]
    en = [pres.number_text("events", v, "en") for v in (1234, 2493309.5, 2.675, 12)]
    assert en == ["1,234", "2,493,309.5", "2.68", "12"]
    assert pres.number_text("share", 1 / 3, "sv") == f"33,3{NB}%"
    assert pres.number_text("completion_share", 1.016, "en") == "101.6%"
    assert pres.number_text("share", 0.0, "sv") == f"0,0{NB}%"
    assert pres.number_text("events", None, "sv") == "–"


def test_csv_numbers_are_rounded_without_grouping() -> None:
    assert pres.csv_number("bookings_per_1000", 1.8923396041792895, "sv") == "1,89"
    assert pres.csv_number("bookings_per_1000", 1.8923396041792895, "en") == "1.89"
    assert pres.csv_number("population", 2493309, "sv") == "2493309"
    assert pres.csv_number("share", 0.30000000000000004, "sv") == "30,0"
    assert pres.csv_number("events", None, "sv") == ""


def test_period_and_instants_in_words() -> None:
    assert pres.period_text(*PERIOD, "sv") == "1 januari–30 juni 2025"
    assert pres.period_text(*PERIOD, "en") == "1 January–30 June 2025"
    assert pres.period_text(dt.date(2024, 12, 1), dt.date(2025, 1, 31), "sv") == (
        "1 december 2024–31 januari 2025"
    )
    assert pres.period_text(dt.date(2025, 5, 3), dt.date(2025, 5, 3), "sv") == "3 maj 2025"
    assert pres.instant_text(AS_OF, "sv") == "1 juli 2025 kl. 08:05"
    assert pres.month_short("2025-05", "sv") == "maj 2025"
    assert pres.month_short("2025-06", "en") == "Jun 2025"


def test_codes_read_as_labels() -> None:
    etj = pres.service_labels("e-tjanster")
    web = pres.service_labels("webbtidbokning")
    stod = pres.service_labels("stod-och-behandling")
    col = Column("case_type", "Ärendetyp", "Case type", "string")
    assert pres.cell_text(col, "boka-tid", etj, "sv", set()) == "Boka tid"
    assert pres.cell_text(col, "fornya-recept", etj, "sv", set()) == "Förnya recept"
    assert pres.cell_text(col, "lakemedelsfraga", etj, "sv", set()) == "Läkemedelsfråga"
    assert pres.cell_text(col, "egen-typ-17", etj, "sv", set()) == "egen-typ-17"
    actor = Column("actor", "Aktör", "Actor", "string")
    assert pres.cell_text(actor, "resident", etj, "sv", set()) == "Invånare"
    method = Column("method", "Metod", "Method", "string")
    assert pres.cell_text(method, "bankid", etj, "sv", set()) == "BankID"
    care = Column("care_type", "Vårdtyp", "Care type", "string")
    assert pres.cell_text(care, "primarvard", etj, "sv", set()) == "Primärvård"
    active = Column("active", "Aktiv", "Active", "boolean")
    assert pres.cell_text(active, True, etj, "sv", set()) == "Ja"
    assert pres.cell_text(active, False, etj, "en", set()) == "No"
    activity = Column("activity", "Aktivitet", "Activity", "string")
    assert pres.cell_text(activity, "MakeBooking", web, "sv", set()) == "Boka tid"
    gender = Column("gender", "Kön", "Gender", "string")
    assert [pres.cell_text(gender, g, stod, "sv", set()) for g in "FMU"] == [
        "Kvinnor",
        "Män",
        "Okänt",
    ]
    county = Column("county_code", "Län", "County", "string")
    assert pres.cell_text(county, "01", etj, "sv", set()) == "Stockholms län"
    assert pres.cell_text(county, "01", etj, "sv", {"county_code"}) == "01"  # its code column
    weekday = Column("weekday", "Veckodag", "Weekday", "integer", dimension=True)
    assert pres.cell_text(weekday, 1, web, "sv", set()) == "måndag"


def test_every_e_services_code_has_a_label_in_both_languages() -> None:
    from schemas.etj import ACTORS, CARE_TYPES, LOGIN_METHODS, STANDARD_CASE_TYPES

    etj = pres.service_labels("e-tjanster")
    for column, codes in (
        ("case_type", STANDARD_CASE_TYPES),
        ("care_type", CARE_TYPES),
        ("actor", ACTORS),
        ("method", LOGIN_METHODS),
    ):
        declared = etj.values[column]
        assert set(declared) == set(codes), column
        assert all(lbl.sv and lbl.en and lbl.sv != code for code, lbl in declared.items())
    assert CASE_TYPE_TEXT["boka-tid"].sv == "Boka tid"  # REPORTS.md's label


# --- definitions -------------------------------------------------------------------

# Developer words a reader of Swedish statistics should never meet.
DEVELOPER = re.compile(
    r"[_`|÷=]|\bnull\b|\bactivated_on\b|\bInprogress\b|\bDone\b|\bProcess\b"
    r"|MakeBooking|GetSubjectOfCareSchedule|\bISO\b"
)
ENGLISH = re.compile(r"\b(the|and|of|level|per day|calls|units|withheld|when|with|by)\b")


@pytest.mark.parametrize("report", REPORTS, ids=IDS)
def test_every_report_has_a_plain_definition_in_both_languages(report: Report) -> None:
    sv, en = report.definition.sv, report.definition.en
    assert len(sv) > 30 and len(en) > 30
    assert not DEVELOPER.search(sv), sv
    assert not DEVELOPER.search(en), en
    assert not ENGLISH.search(sv), sv
    for col in report.columns:
        assert col.name not in sv.split() or col.name == col.label_sv.lower(), col.name
    described = report.describe()
    assert described["description"] == sv and described["description_en"] == en


# --- every report of every service, every format ------------------------------------

BIG = 1234567
RATIO = 1.8923396041792895
SHARE = 1 / 3


def sample_value(col: Column, labels: Any) -> Any:
    """One value a real answer could hold in this column (a declared code
    where the column has labels)."""
    if col.type == "boolean":
        return True
    if col.type == "integer":
        return 3 if col.name == "weekday" else BIG
    if col.type == "number":
        return SHARE if pres.is_share(col.name) else RATIO
    if col.type == "date":
        return "2025-03-04"
    if col.type == "datetime":
        return "2025-03-04T10:11:12+01:00"
    codes = labels.values.get(col.name)
    if codes:
        return next(iter(codes))
    if col.name in ("county_code",):
        return "01"
    if col.name == "month":
        return "2025-03"
    return f"Namn {col.name}"


def sample(report: Report, lang: Lang, fmt: str, style: str = "table") -> Result:
    labels = pres.service_labels(report.service)
    row = [sample_value(c, labels) for c in report.columns]
    params = ReportParams(*PERIOD, {}, report.levels[-1] if report.levels else None, fmt, lang,
                          "", style=style)  # fmt: skip
    return Result(report, params, report.columns, [row, row], ["En not om data."], AS_OF)


def expected_cells(report: Report, lang: Lang) -> list[str]:
    """What a person should read in each column of the sample row."""
    labels = pres.service_labels(report.service)
    keep = pres.code_columns(report.columns)
    out = []
    for c in report.columns:
        v = sample_value(c, labels)
        if pres.is_measure(c):
            out.append(pres.csv_number(c.name, v, lang))
        elif c.name in keep:
            out.append(v)
        elif isinstance(v, bool):
            out.append("Ja" if lang == "sv" else "Yes")
        elif c.name in labels.values:
            out.append(labels.values[c.name][v].text(lang))
        elif c.name == "county_code":
            out.append("Stockholms län")  # headed "Län"
        elif c.name == "weekday":
            out.append("onsdag" if lang == "sv" else "Wednesday")
        elif c.type == "datetime":
            out.append("2025-03-04 10:11")
        else:
            out.append(str(v))
    return out


@pytest.mark.parametrize("report", REPORTS, ids=IDS)
def test_table_csv_of_every_report_reads_as_swedish_excel(report: Report) -> None:
    body = formats.render(sample(report, "sv", "csv"))[0]
    assert body.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == pres.headers(report.columns, "sv")
    assert rows[1] == expected_cells(report, "sv")
    measures = {c.type for c in report.columns if pres.is_measure(c)}
    if "integer" in measures:
        assert "1234567" in rows[1]
    if "number" in measures:
        assert "1,89" in rows[1] or "33,3" in rows[1]
    english = formats.render(sample(report, "en", "csv"))[0].decode("utf-8-sig")
    rows_en = list(csv.reader(io.StringIO(english)))
    assert rows_en[0] == pres.headers(report.columns, "en")
    assert rows_en[1] == expected_cells(report, "en")


@pytest.mark.parametrize("report", REPORTS, ids=IDS)
def test_machine_csv_keeps_names_codes_and_full_precision(report: Report) -> None:
    body = formats.render(sample(report, "sv", "csv", style="machine"))[0].decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(body)))
    assert rows[0] == [c.name for c in report.columns]
    labels = pres.service_labels(report.service)
    want = [sample_value(c, labels) for c in report.columns]
    assert rows[1] == ["true" if v is True else str(v) for v in want]


@pytest.mark.parametrize("report", REPORTS, ids=IDS)
def test_xlsx_of_every_report_shows_labels_and_a_swedish_notes_sheet(report: Report) -> None:
    book = openpyxl.load_workbook(io.BytesIO(formats.render(sample(report, "sv", "xlsx"))[0]))
    sheet = book.worksheets[0]
    got = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert got[0] == [
        c.label_sv if pres.is_share(c.name) else h
        for c, h in zip(report.columns, pres.headers(report.columns, "sv"), strict=True)
    ]
    labels = pres.service_labels(report.service)
    for c, cell, want in zip(report.columns, got[1], expected_cells(report, "sv"), strict=True):
        if c.type == "string":
            assert cell == want, c.name  # labels, codes only in code columns
        elif pres.is_measure(c):
            assert isinstance(cell, int | float)  # typed numbers, never text
    for c in report.columns:
        codes = labels.values.get(c.name, {})
        assert not set(codes) & {str(v) for v in got[1] if c.type == "string"} or (
            c.name in pres.code_columns(report.columns)
        )
    notes = dict(r[:2] for r in book["Noter"].iter_rows(values_only=True))
    assert notes["Period"] == "1 januari–30 juni 2025"
    assert notes["Definition"] == report.definition.sv
    assert notes["Rapport"] == report.title_sv
    labels_sv = pres.service_labels(report.service).levels
    assert notes["Urval"] == (
        f"Nivå: {labels_sv[report.levels[-1]].sv}" if len(report.levels) > 1 else "Alla"
    )
    english = openpyxl.load_workbook(io.BytesIO(formats.render(sample(report, "en", "xlsx"))[0]))
    notes_en = dict(r[:2] for r in english["Notes"].iter_rows(values_only=True))
    assert notes_en["Definition"] == report.definition.en
    assert notes_en["Period"] == "1 January–30 June 2025"


def pdftotext(pdf: bytes) -> str:
    out = subprocess.run(["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True,
                         check=True, timeout=60)  # fmt: skip
    # one line per visual line; a no-break space reads as a space
    return out.stdout.decode("utf-8").replace(NB, " ")


def flat(text: str) -> str:
    return " ".join(text.split())


# English words the PDF's own frame might leak into a Swedish PDF.
FRAME_EN = ("Parametrar", "Parameters", "from=", "Data as of", "Notes", "page ")


@pytest.mark.parametrize("report", REPORTS, ids=IDS)
def test_pdf_of_every_report_reads_like_the_page(report: Report) -> None:
    text = pdftotext(formats.render(sample(report, "sv", "pdf"))[0])
    words = flat(text)
    assert flat(report.title_sv) in words
    assert "1 januari–30 juni 2025" in words
    assert "Data per: 1 juli 2025 kl. 08:05" in words
    assert flat(report.definition.sv) in words
    assert "En not om data." in words and "sida 1" in words
    for leak in FRAME_EN:
        assert leak not in words, leak
    labels = pres.service_labels(report.service)
    keep = pres.code_columns(report.columns)
    for c in report.columns:
        v = sample_value(c, labels)
        if c.type == "integer" and pres.is_measure(c):
            assert "1 234 567" in words, c.name
        elif c.type == "number":
            assert ("33,3 %" if pres.is_share(c.name) else "1,89") in words, c.name
        elif c.name in labels.values and c.name not in keep:
            assert labels.values[c.name][v].sv in words, c.name
            if len(v) > 1:  # the code itself is nowhere (gender F is a letter)
                assert not re.search(rf"(?<![\w-]){re.escape(v)}(?![\w-])", words), c.name
        elif c.type == "boolean":
            assert "Ja" in words.split()
    english = flat(pdftotext(formats.render(sample(report, "en", "pdf"))[0]))
    assert "1 January–30 June 2025" in english and flat(report.definition.en) in english
    assert "Definition:" in english and "page 1" in english


def test_pdf_says_the_filters_as_labels_and_draws_a_chart() -> None:
    report = catalogue.find("webbtidbokning", "events-per-month")
    assert report is not None
    res = sample(report, "sv", "pdf")
    res = dataclasses.replace(
        res,
        params=dataclasses.replace(
            res.params, filters={"county": ("01", "03"), "activity": ("MakeBooking",)}
        ),
        rows=[["2025-01", "MakeBooking", 1200], ["2025-02", "MakeBooking", 800]],
    )
    text = flat(pdftotext(formats.render(res)[0]))
    assert "Urval: Län: Stockholms län, Uppsala län; Aktivitet: Boka tid" in text
    assert "MakeBooking" not in text and "1 200" in text
    found = formats.chart_data(res, "sv", pres.service_labels("webbtidbokning"))
    assert found == ("Antal händelser", ["jan 2025", "feb 2025"], [("Boka tid", [1200.0, 800.0])])


def test_an_empty_answer_says_so_in_its_pdf() -> None:
    report = catalogue.find("stod-och-behandling", "moments-per-month")
    assert report is not None
    text = flat(pdftotext(formats.render(dataclasses.replace(sample(report, "sv", "pdf"),
                                                             rows=[]))[0]))  # fmt: skip
    assert "Ingen data för perioden och urvalet." in text


def test_the_pages_get_the_labels_of_codes_and_choices_from_meta() -> None:
    from web.app import meta

    sv = meta()["labels"]["text"]["sv"]
    assert sv["values"]["case_type"]["boka-tid"] == "Boka tid"
    assert sv["values"]["care_type"]["primarvard"] == "Primärvård"
    assert sv["values"]["actor"]["staff"] == "Personal"
    assert sv["values"]["method"]["bankid"] == "BankID"
    assert sv["choices"]["active_only"] == {"true": "Ja", "false": "Nej"}
    en = meta()["labels"]["text"]["en"]
    assert en["choices"]["active_only"]["true"] == "Yes"
    assert en["values"]["case_type"]["fornya-recept"] == "Renew a prescription"
    assert "HSA" not in sv["hints"]["case_type"] and "boka-tid" in sv["hints"]["case_type"]


def test_the_notes_people_read_name_no_developer_term() -> None:
    from reports import disclosure, tiers
    from reports.etj import NOTE_LOST_DATES

    for note in (disclosure.NOTE_PRIMARY, disclosure.NOTE_SECONDARY, disclosure.NOTE_LINKED,
                 tiers.NOTE_OPEN_ORGANISATIONS, NOTE_LOST_DATES):  # fmt: skip
        assert not DEVELOPER.search(note) and not ENGLISH.search(note), note


def test_an_english_answer_says_statflows_own_notes_in_english() -> None:
    from reports import disclosure

    assert pres.note_text(disclosure.NOTE_PRIMARY, "sv") == disclosure.NOTE_PRIMARY
    assert pres.note_text(disclosure.NOTE_PRIMARY, "en").startswith("Numbers of residents")
    cut = "Perioden slutar 2030-01-01 men data finns till och med i dag; perioden har kortats till 2025-07-01."
    assert pres.note_text(cut, "en") == (
        "The period ends 2030-01-01 but data reaches today; the period is cut to 2025-07-01."
    )
    assert pres.note_text("NTjP levererade inga anrop 3–5 mars", "en") == (
        "NTjP levererade inga anrop 3–5 mars"  # an operator's note, as written
    )
    report = catalogue.find("stod-och-behandling", "patients-per-gender")
    assert report is not None
    res = dataclasses.replace(sample(report, "en", "pdf"), notes=[disclosure.NOTE_PRIMARY])
    text = flat(pdftotext(formats.render(res)[0]))
    assert "Numbers of residents or patients between 1 and 9" in text and "redovisas" not in text
