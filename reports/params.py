"""Report parameters: parsing and checking, pure (no I/O).

Every refusal names the parameter, so the API can answer 400 with a message
the caller can act on.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable

from core.errors import ParameterError
from reports.declarations import Report, ReportParams
from reports.periods import last_complete_months
from schemas.counties import COUNTIES, UNKNOWN_COUNTY

FORMATS = ("json", "csv", "xlsx", "jsonstat", "pdf")
LANGS = ("sv", "en")
COMMON = ("from", "to", "format", "lang", "level", "delimiter", "compare", "style")
COMPARE = ("previous", "year")  # the period just before, or the same dates a year earlier
STYLES = ("table", "machine")
_ID = re.compile(r"^[^\s\x00-\x1f\x7f]{1,64}$")
_TEXT = re.compile(r"^[^\x00-\x1f\x7f]{1,256}$")
TEXT_FILTERS = ("process", "moment")


def _date(name: str, raw: str) -> dt.date:
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise ParameterError(name, f"expected an ISO date YYYY-MM-DD, got {raw[:40]!r}") from None


def _one(name: str, values: list[str]) -> str:
    if len(values) != 1:
        raise ParameterError(name, "give it once")
    return values[0]


def parse(report: Report, pairs: Iterable[tuple[str, str]], today: dt.date) -> ReportParams:
    given: dict[str, list[str]] = {}
    for key, value in pairs:
        given.setdefault(key, []).append(value)
    allowed = set(COMMON) | set(report.filters)
    for key in given:
        if key not in allowed:
            known = ", ".join(sorted(allowed))
            raise ParameterError(key, f"not a parameter of {report.service}/{report.id} ({known})")

    default_from, default_to = last_complete_months(today, 12)
    date_from = _date("from", _one("from", given["from"])) if "from" in given else default_from
    date_to = _date("to", _one("to", given["to"])) if "to" in given else default_to
    notes: list[str] = []
    # No answer reaches past today: future months would read as real zeros,
    # and an unbounded `to` (9999-12-31) is work and date arithmetic without end.
    if date_to > today:
        notes.append(
            f"Perioden slutar {date_to} men data finns till och med i dag; "
            f"perioden har kortats till {today}."
        )
        date_to = today
    if date_to < report.data_start:
        raise ParameterError("to", f"data begins {report.data_start}; choose a later period")
    if date_from > date_to:
        if "from" not in given:
            # Only `to` was sent: the default `from` is not the caller's mistake.
            raise ParameterError(
                "to",
                f"{date_to} is before the default from={date_from} (the last 12 complete "
                "months); send from as well",
            )
        raise ParameterError(
            "from", f"{date_from} is after to={date_to} (periods end today at the latest)"
        )
    if date_from < report.data_start:
        notes.append(
            f"Perioden börjar {date_from} men data finns från {report.data_start}; "
            f"perioden har kortats till {report.data_start}–{date_to}."
        )
        date_from = report.data_start

    fmt = _one("format", given["format"]) if "format" in given else "json"
    if fmt not in FORMATS:
        raise ParameterError("format", f"unknown format {fmt!r}; one of {', '.join(FORMATS)}")
    lang = _one("lang", given["lang"]) if "lang" in given else "sv"
    if lang not in LANGS:
        raise ParameterError("lang", f"unknown language {lang!r}; one of sv, en")
    delim = _one("delimiter", given["delimiter"]) if "delimiter" in given else "comma"
    if delim not in ("comma", "semicolon"):
        raise ParameterError("delimiter", "one of comma, semicolon")
    style = _one("style", given["style"]) if "style" in given else "table"
    if style not in STYLES:
        raise ParameterError("style", f"unknown style; one of {', '.join(STYLES)}")

    compare = _one("compare", given["compare"]) if "compare" in given else ""
    if compare and compare not in COMPARE:
        raise ParameterError("compare", f"one of {', '.join(COMPARE)}")
    if compare and fmt != "json":
        raise ParameterError("compare", "a comparison is answered in format=json only")

    level = None
    if report.levels:
        level = _one("level", given["level"]) if "level" in given else report.levels[-1]
        if level not in report.levels:
            raise ParameterError(
                "level", f"unknown level {level!r}; one of {', '.join(report.levels)}"
            )
    elif "level" in given:
        raise ParameterError("level", f"{report.id} has no drill-down")

    filters: dict[str, tuple[str, ...]] = {}
    for name in report.filters:
        values = [v for raw in given.get(name, []) for v in raw.split(",") if v != ""]
        if not values:
            continue
        for v in values:
            _check_filter(report, name, v)
        filters[name] = tuple(dict.fromkeys(values))
    return ReportParams(
        date_from,
        date_to,
        filters,
        level,
        fmt,
        lang,
        "" if "delimiter" not in given else ";" if delim == "semicolon" else ",",
        tuple(notes),
        compare,
        style=style,
    )


def _check_filter(report: Report, name: str, value: str) -> None:
    if name == "county":
        if value not in COUNTIES and value != UNKNOWN_COUNTY:
            raise ParameterError("county", f"unknown county code {value[:10]!r} (use 01–25 or 00)")
        return
    choices = report.choices.get(name)
    if choices is not None:
        if value not in choices:
            raise ParameterError(name, f"unknown value {value[:40]!r}; one of {', '.join(choices)}")
        return
    if name in TEXT_FILTERS:
        if not _TEXT.match(value):
            raise ParameterError(name, "expected a name of at most 256 printable characters")
        return
    if not _ID.match(value):
        raise ParameterError(name, "expected an HSA id (no spaces, at most 64 characters)")
