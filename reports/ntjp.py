"""Web booking (`webbtidbokning`): six reports over NTjP calls.

Every query reads the counted calls (view calls_counted: the daily rollup on
days no nightly file closed, the standing file's counts on the days one did;
sinks/ntjp_rule.py) per Stockholm day and attributes units to
county and care provider through the *current* HSA catalogue; a unit missing
from the catalogue counts under county 00. The SQL is in
reports/ntjp_sql.py, like the other two services'.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from reports import arith
from reports import ntjp_sql as sql
from reports.declarations import Answer, Column, Report, ReportParams, Service
from reports.labels import Label, Labels
from reports.periods import months, weekday_counts, years
from reports.reader import Reader, beside
from schemas.counties import COUNTIES, UNKNOWN_COUNTY, county_name

SERVICE = "webbtidbokning"
BOOK, CANCEL, UPDATE, MINE = (
    "MakeBooking",
    "CancelBooking",
    "UpdateBooking",
    "GetSubjectOfCareSchedule",
)
THREE = (BOOK, CANCEL, UPDATE)
NOTE_UNKNOWN_COUNTY = "Län 00 (Okänt län) samlar enheter som saknas i HSA-katalogen."
FOUR = (MINE, BOOK, CANCEL, UPDATE)
CONNECTED_NEEDS = ("GetAvailableDates", "GetAvailableTimeslots", "MakeBooking", "GetAllTimeTypes")
ACTIVITY_LABELS = {
    BOOK: Label("Boka tid", "Book"),
    CANCEL: Label("Avboka tid", "Cancel"),
    UPDATE: Label("Uppdatera tid", "Reschedule"),
    MINE: Label("Mina tider", "My appointments"),
}


def _bind(p: ReportParams, ops: tuple[str, ...]) -> dict[str, Any]:
    chosen = p.values("activity")
    return {
        "date_from": p.date_from,
        "date_to": p.date_to,
        "ops": [o for o in ops if not chosen or o in chosen],
        "county": list(p.values("county")),
        "care_provider": list(p.values("care_provider")),
        "unit": list(p.values("unit")),
    }


def _activities(p: ReportParams, ops: tuple[str, ...]) -> list[str]:
    chosen = p.values("activity")
    return [o for o in ops if not chosen or o in chosen]


# --- pure shaping of query rows into complete report rows -----------------


def by_month_rows(p: ReportParams, ops: list[str], found: list[tuple[Any, ...]]) -> list[list[Any]]:
    got = {(m, op): int(n) for m, op, n in found}
    return [[m, op, got.get((m, op), 0)] for m in months(p.date_from, p.date_to) for op in ops]


def share_rows(ops: list[str], found: list[tuple[Any, ...]]) -> list[list[Any]]:
    got = {op: int(n) for op, n in found}
    total = sum(got.get(op, 0) for op in ops)
    return [[op, got.get(op, 0), arith.ratio(got.get(op, 0), total)] for op in ops]


def weekday_rows(p: ReportParams, ops: list[str], found: list[tuple[Any, ...]]) -> list[list[Any]]:
    got = {(int(w), op): int(n) for w, op, n in found}
    days = weekday_counts(p.date_from, p.date_to)
    return [
        [w, op, got.get((w, op), 0), days[w], arith.ratio(got.get((w, op), 0), days[w])]
        for w in range(1, 8)
        for op in ops
    ]


def county_rows(
    p: ReportParams,
    bookings: list[tuple[Any, ...]],
    population: list[tuple[Any, ...]],
    used: list[tuple[Any, ...]],
    connected: list[tuple[Any, ...]],
) -> list[list[Any]]:
    per_year: dict[str, dict[int, int]] = defaultdict(dict)
    for county, year, n in bookings:
        per_year[county][int(year)] = int(n)
    pop = {(c, int(y)): int(n) for c, y, n in population}
    used_by = {c: int(n) for c, n in used}
    conn_by = {c: int(n) for c, n in connected}
    chosen = p.values("county")
    axis = [c for c in COUNTIES if not chosen or c in chosen]
    has_unknown = any(
        k == UNKNOWN_COUNTY and v for d in (used_by, conn_by) for k, v in d.items()
    ) or any(per_year[UNKNOWN_COUNTY].values())
    if has_unknown and (not chosen or UNKNOWN_COUNTY in chosen):
        axis.append(UNKNOWN_COUNTY)
    last_year = p.date_to.year
    rows = []
    for c in axis:
        known = c != UNKNOWN_COUNTY
        booked = per_year[c]
        rate = (
            arith.per_1000_over_years(
                booked, {y: pop.get((c, y)) for y in years(p.date_from, p.date_to)}
            )
            if known
            else None
        )
        rows.append(
            [
                c,
                county_name(c),
                sum(booked.values()),
                pop.get((c, last_year)) if known else None,
                rate,
                used_by.get(c, 0),
                conn_by.get(c, 0),
            ]
        )
    return rows


LEVELS = ("county", "care_provider", "unit", "activity")


def hierarchy_rows(level: str, found: list[tuple[Any, ...]]) -> list[list[Any]]:
    """Rows of HIERARCHY summed to `level`, non-zero, ordered by their keys
    (None first, activities in FOUR's order). One pass of plain tuples: the
    finest level has a row per unit and activity (~7,000 at national scale)."""
    width = [2, 4, 6, 7][LEVELS.index(level)]
    sums: dict[tuple[Any, ...], int] = {}
    get = sums.get
    for county, cp_id, cp_name, unit, unit_name, known, op, n in found:
        if known:
            full = (county, county_name(county), cp_id, cp_name or None, unit, unit_name, op)
        else:
            full = (county, county_name(county), None, None, unit, None, op)
        key = full[:width]
        sums[key] = get(key, 0) + int(n)
    order = {op: i for i, op in enumerate(FOUR)}
    rank = order.get

    def sort_key(kv: tuple[tuple[Any, ...], int]) -> tuple[Any, ...]:
        return tuple(["" if v is None else rank(v, v) for v in kv[0]])

    return [[*k, n] for k, n in sorted(sums.items(), key=sort_key) if n != 0]


# --- queries --------------------------------------------------------------


def events_per_month(p: ReportParams, r: Reader) -> Answer:
    ops = _activities(p, THREE)
    return Answer(by_month_rows(p, ops, r.query_rows(sql.BY_MONTH, _bind(p, THREE))))


def my_bookings_per_month(p: ReportParams, r: Reader) -> Answer:
    rows = by_month_rows(p, [MINE], r.query_rows(sql.BY_MONTH, _bind(p, (MINE,))))
    return Answer([[m, n] for m, _, n in rows])


def share_per_service(p: ReportParams, r: Reader) -> Answer:
    ops = _activities(p, THREE)
    return Answer(share_rows(ops, r.query_rows(sql.BY_OPERATION, _bind(p, THREE))))


def events_per_weekday(p: ReportParams, r: Reader) -> Answer:
    ops = _activities(p, FOUR)
    return Answer(weekday_rows(p, ops, r.query_rows(sql.BY_WEEKDAY, _bind(p, FOUR))))


def bookings_per_county(p: ReportParams, r: Reader) -> Answer:
    bind = _bind(p, (BOOK,))
    conn_bind = {**bind, "needs": list(CONNECTED_NEEDS), "n_needs": len(CONNECTED_NEEDS)}
    del conn_bind["ops"], conn_bind["date_from"]
    population = beside(r.query_rows, sql.POPULATION, {"years": years(p.date_from, p.date_to)})
    used = beside(r.query_rows, sql.UNITS_USED, bind)
    connected = beside(r.query_rows, sql.UNITS_CONNECTED, conn_bind)
    rows = county_rows(
        p,
        r.query_rows(sql.BOOKINGS_BY_COUNTY_YEAR, bind),
        population.result(),
        used.result(),
        connected.result(),
    )
    notes = []
    if any(row[0] == UNKNOWN_COUNTY for row in rows):
        notes.append(NOTE_UNKNOWN_COUNTY)
    return Answer(rows, notes)


def events_by_hierarchy(p: ReportParams, r: Reader) -> Answer:
    level = p.level or "activity"
    rows = hierarchy_rows(level, r.query_rows(sql.HIERARCHY, _bind(p, FOUR)))
    keep = {"county": 2, "care_provider": 4, "unit": 6, "activity": 7}[level]
    cols = HIERARCHY_COLUMNS[:keep] + HIERARCHY_COLUMNS[-1:]
    return Answer(rows, columns=cols)


# --- declarations ---------------------------------------------------------

MONTH = Column("month", "Månad", "Month", "string")
ACTIVITY = Column("activity", "Aktivitet", "Activity", "string", level="activity")
EVENTS = Column("events", "Antal händelser", "Events", "integer")
COUNTY_CODE = Column("county_code", "Länskod", "County code", "string", level="county")
COUNTY_NAME = Column(
    "county_name", "Län", "County", "string", level="county", label_of="county_code"
)
HIERARCHY_COLUMNS = (
    COUNTY_CODE,
    COUNTY_NAME,
    Column(
        "care_provider_id", "Vårdgivare (HSA-id)", "Care provider id", "string", "care_provider"
    ),
    Column(
        "care_provider_name",
        "Vårdgivare",
        "Care provider",
        "string",
        "care_provider",
        label_of="care_provider_id",
    ),
    Column("unit_id", "Enhet (HSA-id)", "Unit id", "string", "unit"),
    Column("unit_name", "Enhet", "Unit", "string", "unit", label_of="unit_id"),
    ACTIVITY,
    EVENTS,
)
ORG_FILTERS = ("county", "care_provider", "unit")


def _report(
    id: str,
    sv: str,
    en: str,
    definition: Label,
    cols: tuple[Column, ...],
    query: Any,
    activities: tuple[str, ...],
    **kw: Any,
) -> Report:
    return Report(
        SERVICE,
        id,
        sv,
        en,
        definition,
        cols,
        query,
        filters=(*ORG_FILTERS, "activity"),
        choices={"activity": activities},
        lookups={"care_provider": sql.KNOWN_CARE_PROVIDERS, "unit": sql.KNOWN_UNITS},
        **kw,
    )


SERVICE_DECL = Service(
    SERVICE,
    "Webbtidbokning",
    "Web booking",
    (
        _report(
            "events-per-month",
            "Antal händelser per månad och aktivitet",
            "Events per month and activity",
            Label(
                "Antal anrop per kalendermånad (svensk tid) till Boka tid, Avboka tid och "
                "Uppdatera tid.",
                "Number of calls per calendar month (Swedish time) to book, cancel and "
                "reschedule an appointment.",
            ),
            (MONTH, ACTIVITY, EVENTS),
            events_per_month,
            THREE,
        ),
        _report(
            "bookings-per-county",
            "Antal bokningar per län och 1000 invånare",
            "Bookings per county and 1000 inhabitants",
            Label(
                "Bokningar är anrop till Boka tid, räknade i det län där mottagningen finns "
                "enligt dagens HSA-katalog. Invånare är länets folkmängd den 1 januari det år "
                "perioden slutar. Bokningar per 1000 invånare räknas för varje år i perioden "
                "mot årets folkmängd och läggs ihop. Enheter som använt Boka tid har tagit emot "
                "minst en bokning under perioden; anslutna enheter kunde den sista dagen i "
                "perioden visa lediga tider och ta emot bokningar.",
                "Bookings are calls to book an appointment, counted in the county of the clinic "
                "according to today's HSA catalogue. Population is the county's on 1 January of "
                "the year the period ends. Bookings per 1000 inhabitants are counted for each "
                "year of the period against that year's population and added up. Units used "
                "received at least one booking in the period; units connected could show free "
                "times and take bookings on the period's last day.",
            ),
            (
                COUNTY_CODE,
                COUNTY_NAME,
                Column("bookings", "Antal bokningar", "Bookings", "integer"),
                Column("population", "Invånare", "Population", "integer"),
                Column(
                    "bookings_per_1000",
                    "Bokningar per 1000 invånare",
                    "Bookings per 1000",
                    "number",
                ),
                Column("units_used", "Enheter som använt Boka tid", "Units used", "integer"),
                Column(
                    "units_connected",
                    "Enheter anslutna till Boka tid",
                    "Units connected",
                    "integer",
                ),
            ),
            bookings_per_county,
            (BOOK,),
        ),
        _report(
            "share-per-service",
            "Andel händelser per tjänst",
            "Share of events per service",
            Label(
                "Hur anropen till Boka tid, Avboka tid och Uppdatera tid fördelar sig mellan de "
                "tre; tillsammans blir de 100 %.",
                "How the calls to book, cancel and reschedule an appointment are shared between "
                "the three; together they make 100%.",
            ),
            (ACTIVITY, EVENTS, Column("share", "Andel", "Share", "number")),
            share_per_service,
            THREE,
        ),
        _report(
            "my-bookings-per-month",
            "Antal händelser per månad, Mina tider",
            "My bookings (Mina tider) per month",
            Label(
                "Antal gånger per månad som invånare tittat på sina bokade tider i Mina tider.",
                "Number of times per month residents looked at their booked appointments (My "
                "appointments).",
            ),
            (MONTH, EVENTS),
            my_bookings_per_month,
            (MINE,),
        ),
        _report(
            "events-per-weekday",
            "Antal händelser per veckodag",
            "Events per weekday",
            Label(
                "Anrop till Mina tider, Boka tid, Avboka tid och Uppdatera tid per veckodag. "
                "Antal dagar är hur många sådana veckodagar perioden har; händelser per dag är "
                "anropen delat med antalet dagar.",
                "Calls to My appointments, Book, Cancel and Reschedule per weekday. Days is how "
                "many of that weekday the period has; events per day is the calls divided by "
                "the days.",
            ),
            (
                Column("weekday", "Veckodag", "Weekday", "integer", dimension=True),
                ACTIVITY,
                EVENTS,
                # the weekdays in the period, repeated per activity: no total
                Column("days", "Antal dagar", "Days", "integer", sums=False),
                Column("per_day", "Händelser per dag", "Events per day", "number"),
            ),
            events_per_weekday,
            FOUR,
        ),
        _report(
            "events-by-hierarchy",
            "Antal händelser per region, vårdgivare och aktivitet",
            "Events by county, care provider, unit and activity",
            Label(
                "Anrop till Mina tider, Boka tid, Avboka tid och Uppdatera tid per län, "
                "vårdgivare och enhet enligt dagens HSA-katalog. Välj nivå för att se summan "
                "per län, vårdgivare, enhet eller aktivitet.",
                "Calls to My appointments, Book, Cancel and Reschedule per county, care "
                "provider and unit according to today's HSA catalogue. Choose a level to see "
                "the sum per county, care provider, unit or activity.",
            ),
            HIERARCHY_COLUMNS,
            events_by_hierarchy,
            FOUR,
            levels=LEVELS,
        ),
    ),
    connected_sql=sql.CONNECTED,
    unit_providers_sql=sql.UNIT_PROVIDERS,
    labels=Labels(
        filters={"activity": Label("Aktivitet", "Activity")},
        levels={"activity": Label("aktivitet", "activity")},
        values={"activity": ACTIVITY_LABELS},
        # The live view names the calls' operations as the reports do.
        operations=ACTIVITY_LABELS,
    ),
)
