"""What the pages call a filter, a drill-down level or a code, in Swedish and
English, declared beside the reports so a new service needs no edit in
`web/static/`.

A service declares the labels of its own filters, levels and codes in its
`Service` declaration (reports/<service>.py); the organisation filters and
levels every service shares are declared once here. `page_labels` merges them
into what `/api/v1/meta` serves and the pages read.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal

Lang = Literal["sv", "en"]
LANGS: tuple[Lang, ...] = ("sv", "en")
# How the page asks for a filter's values: the county list, a fixed set of
# choices (the report's `choices`), names or HSA ids typed as text.
FilterInput = Literal["counties", "choices", "names", "hsa_ids"]


@dataclass(frozen=True)
class Label:
    sv: str
    en: str

    def text(self, lang: Lang) -> str:
        return self.en if lang == "en" else self.sv


@dataclass(frozen=True)
class Labels:
    """The labels one service (or the shared organisation tree) declares."""

    filters: Mapping[str, Label] = field(default_factory=dict)
    # Drill-down level names, lower case: the page capitalises them in a menu
    # and uses them inside sentences ("to care provider").
    levels: Mapping[str, Label] = field(default_factory=dict)
    # dimension column -> code -> how the code reads (activity MakeBooking -> Boka tid)
    values: Mapping[str, Mapping[str, Label]] = field(default_factory=dict)
    # dimension column -> how an empty (NULL) value reads
    missing: Mapping[str, Label] = field(default_factory=dict)
    # Dimensions whose rows come in their own order (age groups), never sorted by size.
    ordered: tuple[str, ...] = ()
    # Operations on the live view (topic operation code -> label).
    operations: Mapping[str, Label] = field(default_factory=dict)
    # filter -> fixed choice -> how the choice reads, for a filter whose choices
    # are no column's codes (active_only=true reads "Ja")
    choices: Mapping[str, Mapping[str, Label]] = field(default_factory=dict)
    # filter -> the hint under a text filter, where the page's generic one
    # ("HSA-id; …") would mislead (a case type is typed as its id)
    hints: Mapping[str, Label] = field(default_factory=dict)


# The organisation tree every service reports along: county, care provider,
# unit. Their levels are the organisation levels a drill-down bar is named by.
ORG_LEVELS = ("county", "care_provider", "unit")
COUNTY_FILTER = "county"
SHARED = Labels(
    filters={
        "county": Label("Län", "County"),
        "care_provider": Label("Vårdgivare", "Care provider"),
        "unit": Label("Enhet", "Unit"),
    },
    levels={
        "county": Label("län", "county"),
        "care_provider": Label("vårdgivare", "care provider"),
        "unit": Label("enhet", "unit"),
    },
    # Calendar dimensions: the rows already come in calendar order.
    ordered=("month", "weekday"),
)


class LabelConflict(ValueError):
    """Two declarations give one name different labels."""


def _merge(into: dict[str, Label], more: Mapping[str, Label], what: str) -> None:
    for name, label in more.items():
        if into.setdefault(name, label) != label:
            raise LabelConflict(
                f"{what} {name!r} is declared twice with different labels: "
                f"{into[name]} and {label}; declare it once"
            )


def merged(all_labels: Iterable[Labels]) -> Labels:
    """One set of labels from the shared one and every service's: a name
    declared twice must read the same (LabelConflict otherwise)."""
    filters: dict[str, Label] = {}
    levels: dict[str, Label] = {}
    values: dict[str, dict[str, Label]] = {}
    missing: dict[str, Label] = {}
    operations: dict[str, Label] = {}
    choices: dict[str, dict[str, Label]] = {}
    hints: dict[str, Label] = {}
    ordered: list[str] = []
    for labels in all_labels:
        _merge(filters, labels.filters, "filter")
        _merge(levels, labels.levels, "level")
        _merge(missing, labels.missing, "missing value of")
        _merge(operations, labels.operations, "operation")
        _merge(hints, labels.hints, "hint of")
        for dim, codes in labels.values.items():
            _merge(values.setdefault(dim, {}), codes, f"code of {dim}:")
        for name, codes in labels.choices.items():
            _merge(choices.setdefault(name, {}), codes, f"choice of {name}:")
        ordered += [d for d in labels.ordered if d not in ordered]
    return Labels(filters, levels, values, missing, tuple(ordered), operations, choices, hints)


def page_labels(labels: Labels) -> dict[str, object]:
    """The labels as the pages read them: per language, name -> text."""

    def texts(m: Mapping[str, Label], lang: Lang) -> dict[str, str]:
        return {k: v.text(lang) for k, v in m.items()}

    return {
        "text": {
            lang: {
                "filters": texts(labels.filters, lang),
                "levels": texts(labels.levels, lang),
                "values": {d: texts(c, lang) for d, c in labels.values.items()},
                "missing": texts(labels.missing, lang),
                "operations": texts(labels.operations, lang),
                "choices": {f: texts(c, lang) for f, c in labels.choices.items()},
                "hints": texts(labels.hints, lang),
            }
            for lang in LANGS
        },
        "org_levels": list(ORG_LEVELS),
        "ordered": list(labels.ordered),
    }


# How a yes/no reads in every format meant for people (JSON keeps true/false).
YES = Label("Ja", "Yes")
NO = Label("Nej", "No")
# ISO weekday 1–7 as the pages name it (web/static/i18n.js WEEKDAY says the same).
WEEKDAYS: tuple[Label, ...] = (
    Label("måndag", "Monday"),
    Label("tisdag", "Tuesday"),
    Label("onsdag", "Wednesday"),
    Label("torsdag", "Thursday"),
    Label("fredag", "Friday"),
    Label("lördag", "Saturday"),
    Label("söndag", "Sunday"),
)
MONTH_NAMES: tuple[Label, ...] = (
    Label("januari", "January"),
    Label("februari", "February"),
    Label("mars", "March"),
    Label("april", "April"),
    Label("maj", "May"),
    Label("juni", "June"),
    Label("juli", "July"),
    Label("augusti", "August"),
    Label("september", "September"),
    Label("oktober", "October"),
    Label("november", "November"),
    Label("december", "December"),
)


def value_text(labels: Labels, column: str, value: object, lang: Lang) -> str:
    """How one cell of a dimension column reads for a person: the declared
    label of its code, the missing-value label for NULL, Ja/Nej for a yes/no,
    the weekday's name; any other value as it is (a name, a month, an id)."""
    if value is None:
        missing = labels.missing.get(column)
        return missing.text(lang) if missing else "–"
    if isinstance(value, bool):
        return (YES if value else NO).text(lang)
    if column == "weekday" and isinstance(value, int) and 1 <= value <= 7:
        return WEEKDAYS[value - 1].text(lang)
    codes = labels.values.get(column) or labels.choices.get(column)
    if codes is not None:
        label = codes.get(str(value))
        if label is not None:
            return label.text(lang)
    return str(value)
