"""Support and treatment (`stod-och-behandling`): moments of SOB Process cases.

Definitions are those of REPORTS.md; where it leaves room, the readings are
the ones written down in tests/oracle/sob.py (dimensions of a moment are
those of its case; practitioners count on the start and completion
transitions inside the row; residents are the patients of moments started).
The rows are shaped, without I/O, in reports/sob_rows.py.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections import defaultdict
from typing import Any

from reports import arith, disclosure
from reports import sob_sql as sql
from reports.declarations import Answer, Column, Report, ReportParams, Service
from reports.labels import Label, Labels
from reports.lattice import Lattice, Linked
from reports.periods import months
from reports.reader import Reader, beside
from reports.sob_rows import (
    AGE_GROUPS,
    GENDERS,
    HIERARCHY_LEVELS,
    LINKED_DIMS,
    MOMENT_LEVELS,
    _sort_key,
    _withhold,
    age_group,
    county_rows,
    gender_age_cells,
    gender_cells,
    hierarchy_rows,
    residents_lattice,
)

SERVICE = "stod-och-behandling"
DATA_START = dt.date(2015, 10, 1)
FILTERS = ("county", "care_provider", "unit", "process", "moment")
UNKNOWN_REASON = "Okänd"


def _bind(p: ReportParams, **extra: Any) -> dict[str, Any]:
    return {
        "date_from": p.date_from,
        "date_to": p.date_to,
        **{name: list(p.values(name)) for name in FILTERS},
        **extra,
    }


def month_ends(p: ReportParams) -> list[dt.date]:
    """The snapshot day of every month the period touches: its last day, or the
    period's last day in the period's last month."""
    out = []
    for m in months(p.date_from, p.date_to):
        y, mo = int(m[:4]), int(m[5:])
        out.append(min(dt.date(y, mo, calendar.monthrange(y, mo)[1]), p.date_to))
    return out


def _notes(primary: bool, extra: bool) -> list[str]:
    return ([disclosure.NOTE_PRIMARY] if primary else []) + (
        [disclosure.NOTE_SECONDARY] if extra else []
    )


# --- queries ---------------------------------------------------------------


def moments_per_county(p: ReportParams, r: Reader) -> Answer:
    return Answer(county_rows(p, r.query_rows(sql.BY_COUNTY, _bind(p))))


def moments_per_weekday(p: ReportParams, r: Reader) -> Answer:
    got = {int(w): (int(s), int(d)) for w, s, d in r.query_rows(sql.BY_WEEKDAY, _bind(p))}
    return Answer([[w, *got.get(w, (0, 0))] for w in range(1, 8)])


def moments_per_process(p: ReportParams, r: Reader) -> Answer:
    rows = [
        [name, int(s), int(d), arith.ratio(int(d), int(s))]
        for name, s, d in sorted(r.query_rows(sql.BY_PROCESS, _bind(p)))
        if s or d
    ]
    return Answer(rows)


def moments_per_month(p: ReportParams, r: Reader) -> Answer:
    got = {m: (int(s), int(d), int(n)) for m, s, d, n in r.query_rows(sql.BY_MONTH, _bind(p))}
    return Answer([[m, *got.get(m, (0, 0, 0))] for m in months(p.date_from, p.date_to)])


def ongoing_over_time(p: ReportParams, r: Reader) -> Answer:
    ends = month_ends(p)
    got = {e: int(n) for e, n in r.query_rows(sql.ONGOING_BY_MONTH, _bind(p, ends=ends))}
    return Answer([[f"{e:%Y-%m}", got.get(e, 0)] for e in ends])


def ongoing_per_moment(p: ReportParams, r: Reader) -> Answer:
    found = r.query_rows(sql.ONGOING_BY_MONTH_MOMENT, _bind(p, ends=month_ends(p)))
    return Answer(sorted([f"{e:%Y-%m}", m, int(n)] for e, m, n in found))


def completed_per_closing_reason(p: ReportParams, r: Reader) -> Answer:
    rows = sorted([str(k), int(n)] for k, n in r.query_rows(sql.BY_CLOSING_REASON, _bind(p)))
    return Answer([row for row in rows if row[1]])


_LINKED_TABLES = frozenset(
    frozenset(t)
    for t in (
        LINKED_DIMS[:1], LINKED_DIMS[:2], LINKED_DIMS[:3], LINKED_DIMS[:4], LINKED_DIMS,
        ("moment",), ("moment", "county_code"), ("moment", "county_code", "care_provider_id"),
    )
)  # fmt: skip


def residents_linked(p: ReportParams, r: Reader) -> Linked:
    """Residents of every level of moments-by-hierarchy and moments-by-moment
    (the same cells: a unit's moment is a row of both) and the national total,
    for the period and filters asked: suppression is decided over all of them,
    and the rows' residents are read from them (one distinct count per cell,
    not one per query)."""
    cells = residents_lattice(r.query_rows(sql.RESIDENTS_LATTICE, _bind(p)))
    return Linked("residents", LINKED_DIMS, cells, _LINKED_TABLES)


def _lattice(linked: Linked) -> Lattice:
    assert isinstance(linked.values, Lattice)  # residents_linked's
    return linked.values


def moments_by_hierarchy(p: ReportParams, r: Reader) -> Answer:
    level = p.level or "closing_reason"
    lattice = beside(residents_linked, p, r)
    found = r.query_rows(sql.HIERARCHY[level], _bind(p))
    linked = lattice.result()
    rows = hierarchy_rows(level, found, _lattice(linked))
    keep = {"county": 2, "care_provider": 4, "unit": 6, "moment": 7, "closing_reason": 8}[level]
    cols = HIERARCHY_COLUMNS[:keep] + HIERARCHY_COLUMNS[8:]
    withheld = any(row[-2] is None for row in rows)
    return Answer(rows, _notes(withheld, False), columns=cols, linked=linked)


# A moments-by-moment row's keys (moment, county, provider, unit; as deep as
# the level) in LINKED_DIMS order: slots of the lattice's coordinates.
_MOMENT_SLOTS = tuple(LINKED_DIMS.index(d) for d in ("moment", "county_code",
                                                     "care_provider_id", "unit_id"))  # fmt: skip


def moments_by_moment(p: ReportParams, r: Reader) -> Answer:
    level = p.level or "unit"
    depth = MOMENT_LEVELS.index(level)
    pending = beside(residents_linked, p, r)
    found = r.query_rows(sql.BY_MOMENT[level], _bind(p))
    linked = pending.result()
    lattice = _lattice(linked)
    slots = _MOMENT_SLOTS[: depth + 1]
    mask = sum(1 << j for j in slots)
    rows = []
    for rec in found:
        keys = list(rec[: depth + 1])
        started, completed, practitioners = rec[depth + 1 :]
        coords: list[Any] = [None] * len(LINKED_DIMS)
        for j, v in zip(slots, keys, strict=True):
            coords[j] = v
        at = lattice.find(mask, tuple(coords))
        residents = 0 if at is None else lattice.counts[at]
        rows.append([*keys, int(started), int(completed), _withhold(residents),
                     int(practitioners)])  # fmt: skip
    rows.sort(key=_sort_key)
    cols = MOMENT_COLUMNS[: depth + 1] + MOMENT_COLUMNS[4:]
    withheld = any(row[-2] is None for row in rows)
    return Answer(rows, _notes(withheld, False), columns=cols, linked=linked)


def _gender_age_counts(p: ReportParams, r: Reader) -> dict[tuple[str, str], int]:
    counts: dict[tuple[str, str], int] = defaultdict(int)
    for g, a, n in r.query_rows(sql.PATIENTS, _bind(p)):
        counts[(g if g in GENDERS else "U", age_group(int(a)))] += int(n)
    return counts


def patients_per_gender(p: ReportParams, r: Reader) -> Answer:
    counts = _gender_age_counts(p, r)
    per_gender = {g: sum(counts.get((g, a), 0) for a in AGE_GROUPS) for g in GENDERS}
    rows, primary, extra = gender_cells(per_gender)
    return Answer(rows, _notes(primary, extra))


def patients_per_gender_age(p: ReportParams, r: Reader) -> Answer:
    rows, primary, extra = gender_age_cells(_gender_age_counts(p, r))
    return Answer(rows, _notes(primary, extra))


def patients_per_gender_month(p: ReportParams, r: Reader) -> Answer:
    got: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(GENDERS, 0))
    for m, g, n in r.query_rows(sql.PATIENTS_BY_MONTH, _bind(p)):
        got[m][g if g in GENDERS else "U"] += int(n)
    rows: list[list[Any]] = []
    primary = extra = False
    for m in months(p.date_from, p.date_to):
        cells, pr, ex = gender_cells(got[m])
        primary, extra = primary or pr, extra or ex
        rows += [[m, g, n] for g, n, _share in cells]
    return Answer(rows, _notes(primary, extra))


def moments_per_practitioner(p: ReportParams, r: Reader) -> Answer:
    found = r.query_rows(sql.BY_PRACTITIONER, _bind(p, callers=list(p.caller_care_providers)))
    return Answer(sorted([str(pid), name, int(s), int(d)] for pid, s, d, name in found))


# --- declarations ------------------------------------------------------------

# Distinct counts (practitioners, residents, patients) and a stock (ongoing) do
# not add up over rows: a total row leaves them out.
COUNTY_CODE = Column("county_code", "Länskod", "County code", "string", "county")
COUNTY_NAME = Column("county_name", "Län", "County", "string", "county", label_of="county_code")
MONTH = Column("month", "Månad", "Month", "string")
STARTED = Column("started", "Påbörjade moment", "Started", "integer")
COMPLETED = Column("completed", "Avslutade moment", "Completed", "integer")
ONGOING = Column("ongoing", "Pågående moment", "Ongoing", "integer", sums=False)
PRACTITIONERS = Column("practitioners", "Antal behandlare", "Practitioners", "integer", sums=False)
RESIDENTS = Column("residents", "Antal invånare", "Residents", "integer", sums=False)
MOMENT = Column("moment", "Moment", "Moment", "string", "moment")
GENDER = Column("gender", "Kön", "Gender", "string")
PATIENTS = Column("patients", "Antal patienter", "Patients", "integer", sums=False)
CP_ID = Column(
    "care_provider_id", "Vårdgivare (HSA-id)", "Care provider id", "string", "care_provider"
)
UNIT_ID = Column("unit_id", "Enhet (HSA-id)", "Unit id", "string", "unit")
HIERARCHY_COLUMNS = (
    COUNTY_CODE, COUNTY_NAME,
    CP_ID, Column("care_provider_name", "Vårdgivare", "Care provider", "string", "care_provider", label_of="care_provider_id"),
    UNIT_ID, Column("unit_name", "Enhet", "Unit", "string", "unit", label_of="unit_id"),
    MOMENT,
    Column("closing_reason", "Avslutsorsak", "Closing reason", "string", "closing_reason"),
    STARTED, ONGOING, COMPLETED, RESIDENTS, PRACTITIONERS,
)  # fmt: skip
MOMENT_COLUMNS = (MOMENT, COUNTY_CODE, CP_ID, UNIT_ID, STARTED, COMPLETED, RESIDENTS, PRACTITIONERS)
LOOKUPS = {
    "care_provider": sql.KNOWN_CARE_PROVIDERS,
    "unit": sql.KNOWN_UNITS,
    "process": sql.KNOWN_PROCESSES,
    "moment": sql.KNOWN_MOMENTS,
}


def _report(id: str, sv: str, en: str, definition: Label, cols: tuple[Column, ...], query: Any,
            **kw: Any) -> Report:  # fmt: skip
    return Report(
        SERVICE, id, sv, en, definition, cols, query, filters=FILTERS, lookups=LOOKUPS,
        data_start=DATA_START, **kw,
    )  # fmt: skip


LABELS = Labels(
    filters={"process": Label("Program", "Programme"), "moment": Label("Moment", "Moment")},
    levels={
        "moment": Label("moment", "moment"),
        "closing_reason": Label("avslutsorsak", "closing reason"),
    },
    values={
        "gender": {
            "F": Label("Kvinnor", "Women"),
            "M": Label("Män", "Men"),
            "U": Label("Okänt", "Unknown"),
        },
        "age_group": {"okänd": Label("Okänd", "Unknown")},
    },
    # A moment with no closing reason is one not completed yet.
    missing={"closing_reason": Label("Ej avslutat", "Not completed")},
    ordered=("age_group", "gender"),
)

SERVICE_DECL = Service(SERVICE, "Stöd och behandling", "Support and treatment", (
    _report("moments-per-county", "Moment per län", "Moments per county",
            Label(
                "Moment som påbörjades (första gången de fick status pågående) och avslutades "
                "(första gången de fick status klart) under perioden, i det län där vårdgivaren "
                "finns enligt dagens HSA-katalog. Behandlare är antalet olika behandlare som "
                "registrerat dessa steg.",
                "Moments started (the first time they became in progress) and completed (the "
                "first time they became done) in the period, in the county of the care provider "
                "according to today's HSA catalogue. Practitioners is the number of different "
                "practitioners who recorded those steps.",
            ),
            (COUNTY_CODE, COUNTY_NAME, STARTED, COMPLETED, PRACTITIONERS), moments_per_county),
    _report("moments-per-weekday", "Moment per veckodag", "Moments per weekday",
            Label(
                "Moment som påbörjades och avslutades, per veckodag.",
                "Moments started and completed, per weekday.",
            ),
            (Column("weekday", "Veckodag", "Weekday", "integer", dimension=True), STARTED, COMPLETED),
            moments_per_weekday),
    _report("moments-per-process", "Moment per program", "Moments per programme",
            Label(
                "Moment som påbörjades och avslutades per program. Andel avslutade är antalet "
                "avslutade delat med antalet påbörjade under perioden; den kan bli över 100 % "
                "när moment som påbörjades före perioden avslutas under den. Tom när inga "
                "moment påbörjades.",
                "Moments started and completed per programme. Completion share is the completed "
                "divided by the started in the period; it can exceed 100% when moments started "
                "before the period are completed in it. Empty when none started.",
            ),
            (Column("process", "Program", "Programme", "string"), STARTED, COMPLETED,
             Column("completion_share", "Andel avslutade", "Completion share", "number")),
            moments_per_process),
    _report("ongoing-over-time", "Pågående moment över tid", "Ongoing moments over time",
            Label(
                "Moment som pågick vid varje månads slut: påbörjade senast den dagen och inte "
                "avslutade. Periodens sista månad räknas vid periodens slut.",
                "Moments ongoing at the end of each month: started by that day and not "
                "completed. The period's last month is counted at the end of the period.",
            ),
            (MONTH, ONGOING), ongoing_over_time),
    _report("ongoing-per-moment", "Pågående per moment", "Ongoing per moment",
            Label(
                "Moment som pågick vid varje månads slut, per moment.",
                "Moments ongoing at the end of each month, per moment.",
            ),
            (MONTH, MOMENT, ONGOING), ongoing_per_moment),
    _report("moments-by-hierarchy", "Moment per län, vårdgivare, enhet och avslutsorsak",
            "Moments by county, care provider, unit, moment and closing reason",
            Label(
                "Påbörjade moment, moment som pågick vid periodens slut, avslutade moment, "
                "antal patienter (färre än 10 visas inte) och behandlare per län, vårdgivare, "
                "enhet, moment och avslutsorsak. Välj nivå för att se summan på en högre nivå. "
                "Moment som inte avslutats visas som Ej avslutat.",
                "Moments started, ongoing at the end of the period and completed, patients "
                "(fewer than 10 not shown) and practitioners per county, care provider, unit, "
                "moment and closing reason. Choose a level to see the sum at a higher level. "
                "Moments not completed show as Not completed.",
            ),
            HIERARCHY_COLUMNS, moments_by_hierarchy, levels=HIERARCHY_LEVELS),
    _report("moments-by-moment", "Moment per moment, län, vårdgivare och enhet",
            "Moments by moment, county, care provider and unit",
            Label(
                "Samma mått som i Moment per län, vårdgivare, enhet och avslutsorsak, med "
                "momentet överst; välj nivå för att se län, vårdgivare eller enhet.",
                "The same measures as Moments by county, care provider, unit and closing "
                "reason, with the moment on top; choose a level to see county, care provider or "
                "unit.",
            ),
            MOMENT_COLUMNS, moments_by_moment, levels=MOMENT_LEVELS),
    _report("moments-per-month", "Moment per månad", "Moments per month",
            Label(
                "Moment som påbörjades och avslutades per månad, och antalet olika behandlare.",
                "Moments started and completed per month, and the number of different "
                "practitioners.",
            ),
            (MONTH, STARTED, COMPLETED, PRACTITIONERS), moments_per_month),
    _report("completed-per-closing-reason", "Avslutade moment per avslutsorsak",
            "Completed moments per closing reason",
            Label(
                "Moment som avslutades under perioden, per avslutsorsak. Saknas orsak visas "
                "Okänd; avslutsorsak registreras från mars 2022.",
                "Moments completed in the period, per closing reason. A missing reason shows as "
                "Okänd (unknown); reasons are recorded from March 2022.",
            ),
            (Column("closing_reason", "Avslutsorsak", "Closing reason", "string"), COMPLETED),
            completed_per_closing_reason),
    _report("patients-per-gender-month", "Patienter per kön och månad", "Patients per gender and month",
            Label(
                "Antal olika patienter med någon händelse i ett moment under månaden, per kön "
                "enligt patientens senaste händelse (Okänt när uppgiften saknas). Färre än 10 "
                "patienter visas inte.",
                "Number of different patients with an event in a moment in the month, per "
                "gender as on the patient's latest event (Unknown when missing). Fewer than 10 "
                "patients are not shown.",
            ),
            (MONTH, GENDER, PATIENTS), patients_per_gender_month),
    _report("patients-per-gender-age", "Patienter per kön och åldersgrupp",
            "Patients per gender and age group",
            Label(
                "Antal olika patienter under perioden per kön och åldersgrupp enligt patientens "
                "senaste händelse. Färre än 10 visas inte, och där det behövs döljs ännu en "
                "cell så att värdet inte kan räknas fram.",
                "Number of different patients in the period per gender and age group as on the "
                "patient's latest event. Fewer than 10 are not shown, and where needed one more "
                "cell is hidden so the value cannot be worked out.",
            ),
            (GENDER, Column("age_group", "Åldersgrupp", "Age group", "string"), PATIENTS),
            patients_per_gender_age),
    _report("patients-per-gender", "Patienter per kön", "Patients per gender",
            Label(
                "Antal olika patienter under perioden per kön och deras andel av alla "
                "patienter. Färre än 10 visas inte (inte heller andelen), och där det behövs "
                "döljs ännu en cell.",
                "Number of different patients in the period per gender and their share of all "
                "patients. Fewer than 10 are not shown (nor their share), and where needed one "
                "more cell is hidden.",
            ),
            (GENDER, PATIENTS, Column("share", "Andel", "Share", "number")), patients_per_gender),
    _report("moments-per-practitioner", "Moment per behandlare", "Moments per practitioner",
            Label(
                "Endast för inloggade, egen vårdgivare: moment som påbörjades och avslutades "
                "per behandlare.",
                "Logged-in users only, own care provider: moments started and completed per "
                "practitioner.",
            ),
            (Column("practitioner_id", "Behandlare (HSA-id)", "Practitioner id", "string"),
             Column("practitioner_name", "Behandlare", "Practitioner", "string", label_of="practitioner_id"),
             STARTED, COMPLETED),
            moments_per_practitioner, tiers=("logged_in",)),
), connected_sql=sql.CONNECTED, unit_providers_sql=sql.UNIT_PROVIDERS, labels=LABELS)  # fmt: skip
