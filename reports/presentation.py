"""How an answer reads for a person, in Swedish or English: labels for codes,
numbers rounded and written as the pages write them, the period in words and
the chosen filters as labels. The table CSV, the XLSX, the PDF all read these
plain functions (no I/O); JSON and the machine CSV keep the codes.

Numbers follow the pages (web/static/common.js): at most two decimals, a share
as a percentage with one decimal; Swedish writes a decimal comma and groups
thousands with a no-break space, English a point and commas.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from reports.declarations import Column, Report, ReportParams
from reports.labels import MONTH_NAMES, SHARED, Label, Labels, Lang, merged, value_text
from schemas.counties import county_name

STOCKHOLM = ZoneInfo("Europe/Stockholm")
NBSP = "\u00a0"
# Filters whose values are county codes: they read as county names.
COUNTY_COLUMNS = ("county", "county_code")
PERCENT = Label("%", "%")


def as_lang(lang: str) -> Lang:
    return "en" if lang == "en" else "sv"


def service_labels(service: str) -> Labels:
    """The shared labels and the service's own (reports/<service>.py)."""
    from reports import catalogue  # the catalogue imports every service module

    svc = catalogue.services().get(service)
    return merged([SHARED, svc.labels]) if svc else SHARED


def service_title(service: str, lang: Lang) -> str:
    from reports import catalogue

    svc = catalogue.services().get(service)
    if svc is None:
        return service
    return svc.title_en if lang == "en" else svc.title_sv


def is_share(name: str) -> bool:
    return name == "share" or name.endswith("_share")


def is_measure(col: Column) -> bool:
    return col.type in ("integer", "number") and not col.is_dimension


def _rounded(value: float, places: int) -> Decimal:
    """Rounded half away from zero on the shortest decimal form of the float,
    as Intl.NumberFormat on the pages rounds (0.125 -> 0.13, 2.675 -> 2.68)."""
    return Decimal(repr(value)).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def _digits(value: float, places: int) -> str:
    """At most `places` decimals, no trailing zeros, '.' as the point."""
    text = f"{_rounded(value, places):f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _localise(plain: str, lang: Lang, group: bool) -> str:
    sign = "-" if plain.startswith("-") else ""
    whole, _, frac = plain.lstrip("-").partition(".")
    if group and len(whole) > 3:
        parts: list[str] = []
        while len(whole) > 3:
            parts.insert(0, whole[-3:])
            whole = whole[:-3]
        parts.insert(0, whole)
        whole = (NBSP if lang == "sv" else ",").join(parts)
    point = "," if lang == "sv" else "."
    sign = "−" if sign and lang == "sv" and group else sign
    return sign + whole + (point + frac if frac else "")


def number_text(name: str, value: Any, lang: Lang) -> str:
    """A measure as the page shows it: 2 493 309 · 1,89 · 33,3 %."""
    if value is None:
        return "–"
    if isinstance(value, bool):
        return value_text(SHARED, name, value, lang)
    if is_share(name):
        text = _localise(_digits_fixed(value * 100, 1), lang, True)
        return f"{text}{NBSP}%" if lang == "sv" else f"{text}%"
    return _localise(_digits(value, 2), lang, True)


def _digits_fixed(value: float, places: int) -> str:
    """Exactly `places` decimals (a percentage always shows its one decimal)."""
    text = f"{_rounded(value, places):f}"
    return text.removeprefix("-") if float(text) == 0 else text


def csv_number(name: str, value: Any, lang: Lang) -> str:
    """A measure for a spreadsheet: rounded as on the page, no thousands
    separator (Excel and LibreOffice read 2493309 and 1,89 as numbers under a
    Swedish locale), a share in percent (the header says so)."""
    if value is None:
        return ""
    if is_share(name):
        return _localise(_digits_fixed(value * 100, 1), lang, False)
    return _localise(_digits(value, 2), lang, False)


def header(col: Column, lang: Lang) -> str:
    label = col.label(lang)
    return f"{label} (%)" if is_share(col.name) and is_measure(col) else label


COUNTY = Label("Län", "County")


def headers(columns: Sequence[Column], lang: Lang) -> list[str]:
    """The header row: a county code shown as its county's name is headed
    "Län"; a share says it is in percent."""
    keep = code_columns(columns)
    return [
        COUNTY.text(lang) if c.name == "county_code" and c.name not in keep else header(c, lang)
        for c in columns
    ]


def code_columns(columns: Sequence[Column]) -> set[str]:
    """Columns kept as codes: an id column whose name column is in the answer
    (county_code beside county_name) is the code column a machine needs."""
    named = {c.label_of for c in columns if c.label_of}
    return {c.name for c in columns if c.name in named}


def cell_text(col: Column, value: Any, labels: Labels, lang: Lang, keep: set[str]) -> str:
    """A non-measure cell as a person reads it."""
    if col.name in keep:
        return "–" if value is None else str(value)
    if col.name in COUNTY_COLUMNS and isinstance(value, str):
        return county_name(value)
    if col.type == "datetime" and isinstance(value, str):
        return _instant(value)
    return value_text(labels, col.name, value, lang)


def _instant(iso: str) -> str:
    try:
        t = dt.datetime.fromisoformat(iso)
    except ValueError:
        return iso
    local = t.astimezone(STOCKHOLM) if t.tzinfo else t
    return local.strftime("%Y-%m-%d %H:%M")


def text_rows(
    columns: Sequence[Column], rows: list[list[Any]], labels: Labels, lang: Lang
) -> list[list[str]]:
    """Every cell as the page's table shows it (the PDF's table)."""
    keep = code_columns(columns)
    return [
        [
            number_text(c.name, v, lang) if is_measure(c) else cell_text(c, v, labels, lang, keep)
            for c, v in zip(columns, row, strict=True)
        ]
        for row in rows
    ]


def csv_rows(
    columns: Sequence[Column], rows: list[list[Any]], labels: Labels, lang: Lang
) -> list[list[str]]:
    """Every cell as the table CSV writes it: labels, rounded numbers without
    grouping, empty for a withheld or missing number."""
    keep = code_columns(columns)
    return [
        [
            csv_number(c.name, v, lang) if is_measure(c) else cell_text(c, v, labels, lang, keep)
            for c, v in zip(columns, row, strict=True)
        ]
        for row in rows
    ]


def day_text(d: dt.date, lang: Lang, year: bool = True) -> str:
    month = MONTH_NAMES[d.month - 1].text(lang)
    return f"{d.day} {month}" + (f" {d.year}" if year else "")


def month_short(month: str, lang: Lang) -> str:
    """2025-01 -> jan 2025 (Jan 2025), as the pages' charts name a month."""
    year, _, number = month.partition("-")
    if not number.isdigit() or not 1 <= int(number) <= 12:
        return month
    return f"{MONTH_NAMES[int(number) - 1].text(lang)[:3]} {year}"


def period_text(date_from: dt.date, date_to: dt.date, lang: Lang) -> str:
    """1 januari–30 juni 2025; 1 december 2024–31 januari 2025; 3 maj 2025."""
    if date_from == date_to:
        return day_text(date_to, lang)
    same_year = date_from.year == date_to.year
    return f"{day_text(date_from, lang, year=not same_year)}–{day_text(date_to, lang)}"


def instant_text(t: dt.datetime | None, lang: Lang) -> str:
    if t is None:
        return "–"
    local = t.astimezone(STOCKHOLM)
    at = "kl." if lang == "sv" else "at"
    return f"{day_text(local.date(), lang)} {at} {local:%H:%M}"


LEVEL = Label("Nivå", "Level")


def filter_lines(report: Report, params: ReportParams, labels: Labels, lang: Lang) -> list[str]:
    """The chosen filters and level as labels: `Län: Stockholms län, Uppsala län`."""
    out: list[str] = []
    for name in report.filters:
        chosen = params.values(name)
        if not chosen:
            continue
        label = labels.filters.get(name)
        shown = [
            county_name(v) if name in COUNTY_COLUMNS else value_text(labels, name, v, lang)
            for v in chosen
        ]
        out.append(f"{label.text(lang) if label else name}: {', '.join(shown)}")
    if params.level and len(report.levels) > 1:
        level = labels.levels.get(params.level)
        out.append(f"{LEVEL.text(lang)}: {level.text(lang) if level else params.level}")
    return out


# The notes statflow itself writes (JSON carries them in Swedish, as always),
# as an English answer's XLSX and PDF say them. An operator's data-quality
# note is shown as written.
_PERIOD_ENDS = re.compile(
    r"^Perioden slutar (\d{4}-\d\d-\d\d) men data finns till och med i dag; "
    r"perioden har kortats till (\d{4}-\d\d-\d\d)\.$"
)
_PERIOD_STARTS = re.compile(
    r"^Perioden börjar (\d{4}-\d\d-\d\d) men data finns från (\d{4}-\d\d-\d\d); "
    r"perioden har kortats till (\d{4}-\d\d-\d\d)–(\d{4}-\d\d-\d\d)\.$"
)


def _notes_en() -> dict[str, str]:
    from reports import disclosure, etj, ntjp, tiers

    return {
        disclosure.NOTE_PRIMARY: "Numbers of residents or patients between 1 and 9 are not "
        "shown, to protect personal privacy.",
        disclosure.NOTE_SECONDARY: "One more cell is hidden so that a hidden cell cannot be "
        "worked out from the total.",
        disclosure.NOTE_LINKED: "More cells are hidden (secondary disclosure control) since, "
        "with other levels or totals of the same statistics, they would let a hidden cell be "
        "worked out.",
        tiers.NOTE_OPEN_ORGANISATIONS: "Rows of units and care providers whose care provider "
        "has not chosen to show open statistics at organisation level are not shown; totals "
        "and counties count every unit.",
        etj.NOTE_LOST_DATES: "Units connected before 2009-06-01 got a replacement date when "
        "the database moved in 2009; their original connection date is unknown.",
        ntjp.NOTE_UNKNOWN_COUNTY: "County 00 (unknown county) gathers units missing "
        "from the HSA catalogue.",
    }


def note_text(note: str, lang: Lang) -> str:
    if lang == "sv":
        return note
    known = _notes_en().get(note)
    if known is not None:
        return known
    if m := _PERIOD_ENDS.match(note):
        return f"The period ends {m[1]} but data reaches today; the period is cut to {m[2]}."
    if m := _PERIOD_STARTS.match(note):
        return (
            f"The period starts {m[1]} but data begins {m[2]}; the period is cut to {m[3]}–{m[4]}."
        )
    return note
