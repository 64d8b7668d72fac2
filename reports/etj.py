"""1177 e-services (`e-tjanster`): case handling, logins and accounts (seed 004).

Definitions are those of REPORTS.md; where it leaves room, the readings are
the ones written down at the top of tests/oracle/etj.py (a case's unit and
type are those of its first event; overdue is judged at the end of the period;
an account sits in the county of its latest login before that end).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any
from zoneinfo import ZoneInfo

from reports import disclosure
from reports import etj_sql as sql
from reports.declarations import Answer, Column, Report, ReportParams, Service
from reports.labels import Label, Labels
from reports.periods import months
from reports.reader import Reader
from schemas.counties import COUNTIES, UNKNOWN_COUNTY, county_name
from schemas.etj import ACTORS, CARE_TYPES, CASE_TYPE_LABELS, LOGIN_METHODS, STANDARD_CASE_TYPES

SERVICE = "e-tjanster"
STOCKHOLM = ZoneInfo("Europe/Stockholm")
DATA_START = dt.date(2000, 1, 1)
LOST_DATES_BEFORE = dt.date(2009, 6, 1)
UNIT_FILTERS = ("county", "care_provider", "unit", "care_type", "active_only")
CASE_FILTERS = (*UNIT_FILTERS, "case_type")
NOTE_LOST_DATES = (
    "Enheter anslutna före 2009-06-01 har fått ett ersättningsdatum vid databasflytten 2009; "
    "deras ursprungliga anslutningsdatum är okänt."
)


def period_end(date_to: dt.date) -> dt.datetime:
    """The end of the period's last day: the Stockholm midnight after it (UTC)."""
    d = date_to + dt.timedelta(days=1)
    return dt.datetime(d.year, d.month, d.day, tzinfo=STOCKHOLM).astimezone(dt.UTC)


def stamp(t: dt.datetime) -> str:
    """An instant as RFC 3339 in Stockholm time with its offset."""
    local = t.replace(tzinfo=t.tzinfo or dt.UTC).astimezone(STOCKHOLM)
    return local.isoformat(timespec="milliseconds" if local.microsecond else "seconds")


def _bind(p: ReportParams) -> dict[str, Any]:
    t_end = period_end(p.date_to)
    return {
        "date_from": p.date_from,
        "date_to": p.date_to,
        "t_end": t_end.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3],
        **{name: list(p.values(name)) for name in ("county", "care_provider", "unit")},
        "care_type": list(p.values("care_type")),
        "case_type": list(p.values("case_type")),
        "active_only": int("true" in p.values("active_only")),
        "scope_county": p.caller_county,
        "limit_units": int(p.caller_units is not None),
        "scope_units": list(p.caller_units or ()),
    }


def mean_hours(total_ms: Any, n: Any) -> float | None:
    return int(total_ms) / int(n) / 3_600_000 if n else None


def standard_axis(p: ReportParams) -> list[str]:
    chosen = p.values("case_type")
    return [s for s in STANDARD_CASE_TYPES if not chosen or s in chosen]


# --- pure shaping -------------------------------------------------------------


def case_type_rows(p: ReportParams, found: Sequence[tuple[Any, ...]]) -> list[list[Any]]:
    """The standard types always (in REPORTS.md order), then every other type seen."""
    got = {(t, k): (int(r), int(c)) for t, k, r, c in found}
    standard = [(s, "standard") for s in standard_axis(p)]
    others = sorted((k for k, v in got.items() if k not in standard and any(v)),
                    key=lambda k: (k[1], k[0]))  # fmt: skip
    return [[t, k, *got.get((t, k), (0, 0))] for t, k in standard + others]


def handling_rows(p: ReportParams, found: Sequence[tuple[Any, ...]]) -> list[list[Any]]:
    got = {
        t: [int(r), int(c), int(o), *(mean_hours(*hours[i : i + 2]) for i in range(0, 8, 2))]
        for t, r, c, o, *hours in found
    }
    empty = [0, 0, 0, None, None, None, None]
    standard = standard_axis(p)
    rows = [[s, *got.get(s, empty)] for s in standard]
    for t in sorted(k for k in got if k not in standard):
        v = got[t]
        if any(v[:3]) or any(h is not None for h in v[3:]):
            rows.append([t, *v])
    return rows


def account_rows(p: ReportParams, found: Sequence[tuple[Any, ...]]) -> tuple[list[list[Any]], bool]:
    got = {c: (int(r), int(s)) for c, r, s in found}
    chosen = p.values("county")
    axis = [c for c in COUNTIES if not chosen or c in chosen]
    if (not chosen or UNKNOWN_COUNTY in chosen) and any(got.get(UNKNOWN_COUNTY, (0, 0))):
        axis.append(UNKNOWN_COUNTY)
    rows: list[list[Any]] = []
    withheld = False
    for c in axis:
        residents, staff = got.get(c, (0, 0))
        masked = disclosure.masked(residents)
        withheld = withheld or masked
        rows.append([c, county_name(c), None if masked else residents, staff])
    return rows, withheld


def login_rows(p: ReportParams, found: Sequence[tuple[Any, ...]]) -> list[list[Any]]:
    got = {(m, a, k): int(n) for m, a, k, n in found}
    return [
        [m, a, k, got.get((m, a, k), 0)]
        for m in months(p.date_from, p.date_to)
        for a in ACTORS
        for k in LOGIN_METHODS
    ]


def case_type_flags(entries: Sequence[tuple[Any, ...]]) -> list[Any]:
    """One flag per standard type (configured and active), then the number of
    distinct own and integration types registered, active or not."""
    # a named tuple may come back as a dict, depending on the driver
    entries = [tuple(e.values()) if isinstance(e, dict) else tuple(e) for e in entries]
    flags = [
        any(i == s and k == "standard" and bool(a) for i, k, a in entries)
        for s in STANDARD_CASE_TYPES
    ]
    own = len({i for i, k, _ in entries if k == "own"})
    integration = len({i for i, k, _ in entries if k == "integration"})
    return [*flags, own, integration]


# --- queries --------------------------------------------------------------------


def connected_units(p: ReportParams, r: Reader) -> Answer:
    rows = [
        [u, name, county, care_type, on.isoformat(), bool(active)]
        for u, name, county, care_type, on, active in r.query_rows(sql.CONNECTED_UNITS, _bind(p))
    ]
    notes = [NOTE_LOST_DATES] if any(row[4] < LOST_DATES_BEFORE.isoformat() for row in rows) else []
    return Answer(rows, notes)


def cases_per_unit(p: ReportParams, r: Reader) -> Answer:
    found = r.query_rows(sql.CASES_PER_UNIT, _bind(p))
    return Answer([[u, n, int(a), int(b), int(c)] for u, n, a, b, c in found])


def cases_per_case_type(p: ReportParams, r: Reader) -> Answer:
    return Answer(case_type_rows(p, r.query_rows(sql.CASES_PER_CASE_TYPE, _bind(p))))


def accounts(p: ReportParams, r: Reader) -> Answer:
    rows, withheld = account_rows(p, r.query_rows(sql.ACCOUNTS, _bind(p)))
    return Answer(rows, [disclosure.NOTE_PRIMARY] if withheld else [])


def handling_times(p: ReportParams, r: Reader) -> Answer:
    return Answer(handling_rows(p, r.query_rows(sql.HANDLING_TIMES, _bind(p))))


def logins(p: ReportParams, r: Reader) -> Answer:
    return Answer(login_rows(p, r.query_rows(sql.LOGINS, _bind(p))))


def unanswered_cases(p: ReportParams, r: Reader) -> Answer:
    rows = []
    for unit, name, case, case_type, received, assigned, assignee, person in r.query_rows(
        sql.UNANSWERED, _bind(p)
    ):
        rows.append([unit, name, case, case_type, stamp(received),
                     stamp(assigned) if assigned is not None else None,
                     assignee or None, person])  # fmt: skip
    return Answer(rows)


def case_status(p: ReportParams, r: Reader) -> Answer:
    rows = [
        [u, n, int(a), int(b), int(c), int(a) + int(b) + int(c)]
        for u, n, a, b, c in r.query_rows(sql.CASE_STATUS, _bind(p))
    ]
    return Answer(rows)


def case_types_per_unit(p: ReportParams, r: Reader) -> Answer:
    rows = [
        [u, name, *case_type_flags(entries)]
        for u, name, entries in r.query_rows(sql.CASE_TYPES_PER_UNIT, _bind(p))
    ]
    return Answer(rows)


# --- declarations -----------------------------------------------------------------

UNIT_ID = Column("unit_id", "Enhet (HSA-id)", "Unit id", "string", "unit")
UNIT_NAME = Column("unit_name", "Enhet", "Unit", "string", "unit", label_of="unit_id")
CASE_TYPE = Column("case_type", "Ärendetyp", "Case type", "string")
RECEIVED = Column("received", "Inkomna", "Received", "integer")
ASSIGNED = Column("assigned", "Tilldelade", "Assigned", "integer")
CLOSED = Column("closed", "Avslutade", "Closed", "integer")
COUNTY_CODE = Column("county_code", "Länskod", "County code", "string", "county")


def _hours(name: str, sv: str, en: str) -> Column:
    return Column(name, sv, en, "number")


LOOKUPS = {
    "care_provider": sql.KNOWN_CARE_PROVIDERS,
    "unit": sql.KNOWN_UNITS,
    "case_type": sql.KNOWN_CASE_TYPES,
}
CHOICES = {"care_type": CARE_TYPES, "active_only": ("true", "false")}


def _report(id: str, sv: str, en: str, definition: Label, cols: tuple[Column, ...], query: Any,
            filters: tuple[str, ...] = CASE_FILTERS, **kw: Any) -> Report:  # fmt: skip
    platform = kw.pop("platform_wide", False)
    return Report(
        SERVICE, id, sv, en, definition, cols, query, filters=filters, lookups=LOOKUPS,
        choices=CHOICES, data_start=DATA_START, unit_scoped=not platform,
        platform_wide=platform, **kw,
    )  # fmt: skip


# The e-services' codes as people read them (REPORTS.md's Swedish labels of
# the standard case types; the rest from the seed's admin tool): the pages,
# the tables, CSV, XLSX and PDF show these, JSON keeps the codes.
CASE_TYPE_TEXT: dict[str, Label] = {
    s: Label(CASE_TYPE_LABELS[s], en)
    for s, en in zip(STANDARD_CASE_TYPES, (
        "Book an appointment", "Cancel or rebook an appointment", "Request an appointment",
        "Renew a prescription", "Contact the clinic", "Advice", "Request a certificate",
        "Test results", "Referral", "Question about medication", "Self-care",
        "Update contact details",
    ), strict=True)
}  # fmt: skip
CARE_TYPE_TEXT: dict[str, Label] = {
    "primarvard": Label("Primärvård", "Primary care"),
    "specialistvard": Label("Specialistvård", "Specialist care"),
    "tandvard": Label("Tandvård", "Dental care"),
    "psykiatri": Label("Psykiatri", "Psychiatry"),
    "kommunal": Label("Kommunal vård", "Municipal care"),
    "ovrig": Label("Övrig vård", "Other care"),
}
ACTOR_TEXT: dict[str, Label] = {
    "resident": Label("Invånare", "Resident"),
    "staff": Label("Personal", "Staff"),
}
METHOD_TEXT: dict[str, Label] = {
    "bankid": Label("BankID", "BankID"),
    "freja": Label("Freja eID", "Freja eID"),
    "siths": Label("SITHS-kort", "SITHS card"),
    "password": Label("Lösenord", "Password"),
    "unknown": Label("Okänd metod", "Unknown method"),
}
KIND_TEXT: dict[str, Label] = {
    "standard": Label("Standard", "Standard"),
    "own": Label("Egen", "Own"),
    "integration": Label("Integration", "Integration"),
}

LABELS = Labels(
    filters={
        "care_type": Label("Vårdtyp", "Care type"),
        "case_type": Label("Ärendetyp", "Case type"),
        "active_only": Label("Endast aktiva enheter", "Active units only"),
    },
    values={
        "case_type": CASE_TYPE_TEXT,
        "care_type": CARE_TYPE_TEXT,
        "case_type_kind": KIND_TEXT,
        "actor": ACTOR_TEXT,
        "method": METHOD_TEXT,
    },
    # the filter's two choices, as the page offers them
    choices={"active_only": {"true": Label("Ja", "Yes"), "false": Label("Nej", "No")}},
    hints={
        "case_type": Label(
            "Ärendetypens id, t.ex. boka-tid eller fornya-recept; flera åtskilda med kommatecken",
            "Case type id, e.g. boka-tid or fornya-recept; several separated by commas",
        )
    },
)

CASE_TYPE_COLUMNS = tuple(
    Column(s, CASE_TYPE_TEXT[s].sv, CASE_TYPE_TEXT[s].en, "boolean", dimension=False)
    for s in STANDARD_CASE_TYPES
)

SERVICE_DECL = Service(SERVICE, "1177 e-tjänster", "1177 e-services", (
    _report("connected-units", "Anslutna enheter", "Connected units",
            Label(
                "Enheter som anslöts till 1177:s e-tjänster under perioden, med vårdtyp och om "
                "de är aktiva i dag. Enheter anslutna före 1 juni 2009 fick ett "
                "ersättningsdatum vid databasflytten 2009; deras ursprungliga anslutningsdatum "
                "är okänt.",
                "Units connected to the 1177 e-services in the period, with care type and "
                "whether they are active today. Units connected before 1 June 2009 got a "
                "replacement date when the database moved in 2009; their original date is "
                "unknown.",
            ),
            (UNIT_ID, UNIT_NAME, COUNTY_CODE,
             Column("care_type", "Vårdtyp", "Care type", "string", describes="unit_id"),
             Column("activated_on", "Anslutningsdatum", "Activated on", "date",
                    describes="unit_id"),
             Column("active", "Aktiv", "Active", "boolean", dimension=False)),
            connected_units, filters=UNIT_FILTERS),
    _report("cases-per-unit", "Ärenden per enhet", "Cases per unit",
            Label(
                "Per enhet: ärenden som kom in, tilldelades och avslutades under perioden. Ett "
                "ärende räknas i varje kolumn där steget föll i perioden, oavsett när ärendet "
                "kom in.",
                "Per unit: cases received, assigned and closed in the period. A case counts in "
                "every column whose step fell in the period, whenever the case was received.",
            ),
            (UNIT_ID, UNIT_NAME, RECEIVED, ASSIGNED, CLOSED), cases_per_unit),
    _report("cases-per-case-type", "Ärenden per ärendetyp", "Cases per case type",
            Label(
                "Per ärendetyp: ärenden som kom in och avslutades under perioden, för de "
                "enheter som filtren väljer. Standardtyperna visas alltid, därefter enheternas "
                "egna ärendetyper och integrationsärendetyper.",
                "Per case type: cases received and closed in the period, for the units the "
                "filters choose. The standard types always show, then the units' own and "
                "integration case types.",
            ),
            (CASE_TYPE, Column("case_type_kind", "Typ av ärendetyp", "Case type kind", "string",
                               describes="case_type"),
             RECEIVED, CLOSED), cases_per_case_type),
    _report("accounts", "Konton", "Accounts",
            Label(
                "Konton som fanns vid slutet av periodens sista dag. Ett invånarkonto räknas i "
                "det län invånaren bodde i vid sin senaste inloggning (Okänt län om kontot "
                "aldrig loggat in). Färre än 10 invånarkonton visas inte.",
                "Accounts that existed at the end of the period's last day. A resident account "
                "counts in the county the resident lived in at their latest login (unknown "
                "county if never logged in). Fewer than 10 resident accounts are not shown.",
            ),
            (COUNTY_CODE, Column("county_name", "Län", "County", "string", "county",
                                 label_of="county_code"),
             Column("resident_accounts", "Invånarkonton", "Resident accounts", "integer"),
             Column("staff_accounts", "Personalkonton", "Staff accounts", "integer")),
            accounts, filters=("county",), platform_wide=True),
    _report("handling-times", "Handläggningstider", "Handling times",
            Label(
                "Per ärendetyp: inkomna, avslutade och försenade ärenden och genomsnittlig tid "
                "i timmar mellan stegen. Ett ärende är försenat om det inte besvarats och "
                "avslutats inom 10 dygn (240 timmar) från att det kom in, bedömt vid periodens "
                "slut. Medeltiderna räknas på ärenden vars senare steg föll i perioden; tomt "
                "när det inte finns några.",
                "Per case type: cases received, closed and overdue, and the average time in "
                "hours between the steps. A case is overdue if it was not answered and closed "
                "within 10 days (240 hours) of receipt, judged at the end of the period. "
                "Averages are over cases whose later step fell in the period; empty when there "
                "are none.",
            ),
            (CASE_TYPE, RECEIVED, CLOSED, Column("overdue", "Försenade", "Overdue", "integer"),
             _hours("hours_received_to_assigned", "Timmar inkommen–tilldelad",
                    "Hours received to assigned"),
             _hours("hours_assigned_to_started", "Timmar tilldelad–påbörjad",
                    "Hours assigned to started"),
             _hours("hours_started_to_closed", "Timmar påbörjad–avslutad",
                    "Hours started to closed"),
             _hours("hours_received_to_closed", "Timmar inkommen–avslutad",
                    "Hours received to closed")),
            handling_times),
    _report("logins", "Inloggningar", "Logins",
            Label(
                "Lyckade inloggningar per månad, per aktör (invånare eller personal) och "
                "inloggningsmetod. Länsfiltret gäller det län som angavs vid inloggningen.",
                "Successful logins per month, per actor (resident or staff) and login method. "
                "The county filter matches the county given at the login.",
            ),
            (Column("month", "Månad", "Month", "string"),
             Column("actor", "Aktör", "Actor", "string"),
             Column("method", "Inloggningsmetod", "Method", "string"),
             Column("logins", "Inloggningar", "Logins", "integer")),
            logins, filters=("county",), platform_wide=True),
    _report("unanswered-cases", "Obesvarade ärenden", "Unanswered cases",
            Label(
                "Endast för inloggade: ärenden som var öppna vid periodens slut, kom in mer än "
                "10 dygn (240 timmar) före slutet och inte besvarats. Tilldelades är den första "
                "tilldelningen; handläggaren är den senast tilldelade.",
                "Logged-in users only: cases open at the end of the period, received more than "
                "10 days (240 hours) before it and not answered. Assigned at is the first "
                "assignment; the assignee is the latest one.",
            ),
            (UNIT_ID, UNIT_NAME, Column("case_id", "Ärende", "Case", "string"), CASE_TYPE,
             Column("received_at", "Inkom", "Received at", "datetime"),
             Column("assigned_at", "Tilldelades", "Assigned at", "datetime"),
             Column("assignee_id", "Handläggare (HSA-id)", "Assignee id", "string"),
             Column("assignee_name", "Handläggare", "Assignee", "string",
                    label_of="assignee_id")),
            unanswered_cases, tiers=("logged_in",)),
    _report("case-status", "Ärendestatus", "Case status",
            Label(
                "Varje ärende räknas en gång: som avslutat om det avslutades under perioden, "
                "annars som tilldelat om det tilldelades under perioden, annars som inkommet. "
                "Totalt är summan.",
                "Each case counts once: as closed if it was closed in the period, else as "
                "assigned if it was assigned in the period, else as received. Total is the sum.",
            ),
            (UNIT_ID, UNIT_NAME, RECEIVED, ASSIGNED, CLOSED,
             Column("total", "Totalt", "Total", "integer")), case_status),
    _report("case-types-per-unit", "Ärendetyper per enhet", "Case types per unit",
            Label(
                "Enheternas inställningar i dag: vilka standardärendetyper som är aktiva (Ja "
                "eller Nej) och hur många egna ärendetyper och integrationsärendetyper enheten "
                "har. Kan filtreras på vårdtyp och på aktiva enheter.",
                "The units' settings today: which standard case types are active (Yes or No) "
                "and how many own and integration case types the unit has. Can be filtered on "
                "care type and active units.",
            ),
            (UNIT_ID, UNIT_NAME, *CASE_TYPE_COLUMNS,
             Column("own_case_types", "Egna ärendetyper", "Own case types", "integer"),
             Column("integration_case_types", "Integrationsärendetyper",
                    "Integration case types", "integer")),
            case_types_per_unit, filters=UNIT_FILTERS),
), connected_sql=sql.CONNECTED, unit_providers_sql=sql.UNIT_PROVIDERS, labels=LABELS)  # fmt: skip
