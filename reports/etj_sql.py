"""SQL of the 1177 e-services reports. Constant text; only bound parameters vary.

Case counts come from the day rollup `etj_cases_daily` (migration 0020, kept
exact by the sink: sinks/etj_rollups.py), whose rows for a period follow days x
units x case types, never the cases stored: they are aggregated per unit first
and attributed once through the units' current `etj_units` record (a unit
that moves county moves its history). The case list (unanswered cases) reads
`etj_case_facts` (one row per case, its first event of each kind).
`{t_end}` is the end of the period's last day (Stockholm midnight after it) as
a UTC instant string; `{date_from}`/`{date_to}` are Stockholm days.
"""

from __future__ import annotations

from schemas.etj import STANDARD_CASE_TYPES

UNITS = (
    "(SELECT unit_id, name, care_provider_id, county_code, care_type, activated_on, active, "
    "case_types FROM etj_units FINAL WHERE deleted = 0)"
)
T_END = "toDateTime64({t_end:String}, 3, 'UTC')"


def _any_of(param: str, expr: str) -> str:
    return f"(length({{{param}:Array(String)}}) = 0 OR {expr} IN {{{param}:Array(String)}})"


def unit_filter(unit: str, county: str, provider: str, care_type: str, active: str) -> str:
    """Filters and the caller's scope over units (their current record). The
    open tier's opt-in is not here: it picks rows of the answer, never the
    units counted (reports/tiers.py, open_rows)."""
    return " AND ".join(
        (
            _any_of("county", county),
            _any_of("care_provider", provider),
            _any_of("unit", unit),
            _any_of("care_type", care_type),
            f"({{active_only:UInt8}} = 0 OR {active} = 1)",
            f"({{scope_county:String}} = '' OR {county} = {{scope_county:String}})",
            f"({{limit_units:UInt8}} = 0 OR {unit} IN {{scope_units:Array(String)}})",
        )
    )


# Current units, filtered: connected-units and case-types-per-unit.
SELECTED_UNITS = (
    f"(SELECT * FROM {UNITS} AS u WHERE "
    + unit_filter("u.unit_id", "u.county_code", "u.care_provider_id", "u.care_type", "u.active")
    + ")"
)
CONNECTED_UNITS = (
    "SELECT unit_id, name, county_code, care_type, activated_on, active "
    f"FROM {SELECTED_UNITS} WHERE activated_on BETWEEN {{date_from:Date}} AND {{date_to:Date}} "
    "ORDER BY unit_id"
)
CASE_TYPES_PER_UNIT = f"SELECT unit_id, name, case_types FROM {SELECTED_UNITS} ORDER BY unit_id"

# One row per case with its unit's current attribution, filtered. A unit the
# topic never named has county '00' and matches no care provider or care type.
CASES = (
    "(SELECT f.case_id AS case_id, f.unit_id AS unit_id, f.case_type AS case_type, "
    "f.case_type_kind AS case_type_kind, f.received_at AS received_at, "
    "f.assigned_at AS assigned_at, f.started_at AS started_at, f.answered_at AS answered_at, "
    "f.closed_at AS closed_at, f.received_on AS received_on, f.assigned_on AS assigned_on, "
    "f.started_on AS started_on, f.closed_on AS closed_on, f.days AS days, "
    "if(u.unit_id = '', NULL, u.name) AS unit_name "
    f"FROM etj_case_facts AS f LEFT JOIN {UNITS} AS u ON f.unit_id = u.unit_id WHERE "
    + unit_filter(
        "f.unit_id",
        "if(u.unit_id = '', '00', u.county_code)",
        "u.care_provider_id",
        "u.care_type",
        "u.active",
    )
    + " AND "
    + _any_of("case_type", "f.case_type")
    + ")"
)


# The period's rollup rows: each day as its latest snapshot, case types filtered.
_DAYS = "day BETWEEN {date_from:Date} AND {date_to:Date}"
ROLLUP = (
    f"(SELECT * FROM etj_cases_daily WHERE {_DAYS} AND kind != '' "
    f"AND (day, version) IN (SELECT day, max(version) FROM etj_cases_daily WHERE {_DAYS} "
    "GROUP BY day) AND " + _any_of("case_type", "case_type") + ")"
)


def per_unit(keys: str, measures: str) -> str:
    """The period's rows summed per unit (and `keys`), then the unit's current
    record joined once per aggregated row and the unit filters applied."""
    return (
        f"(SELECT g.*, if(u.unit_id = '', NULL, u.name) AS unit_name "
        f"FROM (SELECT unit_id{keys}, {measures} FROM {ROLLUP} GROUP BY unit_id{keys}) AS g "
        f"LEFT JOIN {UNITS} AS u ON g.unit_id = u.unit_id WHERE "
        + unit_filter(
            "g.unit_id",
            "if(u.unit_id = '', '00', u.county_code)",
            "u.care_provider_id",
            "u.care_type",
            "u.active",
        )
        + ")"
    )


def _n(kind: str, also: str = "") -> str:
    return f"sumIf(n, kind = '{kind}'{' AND ' + also if also else ''})"


_IN = "BETWEEN {date_from:Date} AND {date_to:Date}"

CASES_PER_UNIT = (
    "SELECT unit_id, unit_name, r, a, c FROM "
    + per_unit("", f"{_n('r')} AS r, {_n('a')} AS a, {_n('c')} AS c")
    + " WHERE r + a + c > 0 ORDER BY unit_id"
)
CASES_PER_CASE_TYPE = (
    "SELECT case_type, case_type_kind, sum(r), sum(c) FROM "
    + per_unit(", case_type, case_type_kind", f"{_n('r')} AS r, {_n('c')} AS c")
    + " GROUP BY case_type, case_type_kind"
)
# Each case at most once: closed beats assigned beats received (a received
# row knows its case's assigned and closed days, an assigned row the closed).
CASE_STATUS = (
    "SELECT unit_id, unit_name, r, a, c FROM "
    + per_unit(
        "",
        f"{_n('r', f'closed_on NOT {_IN} AND assigned_on NOT {_IN}')} AS r, "
        f"{_n('a', f'closed_on NOT {_IN}')} AS a, {_n('c')} AS c",
    )
    + " WHERE r + a + c > 0 ORDER BY unit_id"
)

# Overdue at the end of the period (REPORTS.md): not answered within 240 hours
# of receipt, or answered but not closed within them, or closed after them;
# judged only once the 240 hours have run out (before the Stockholm midnight
# after the period: the due day is in it). A case with an event in the period
# has exactly one late ('e') row with prev_on < from <= day. Elapsed hours are
# instants apart, so a DST day has 23 or 25 hours; they are exact integer sums
# of milliseconds and counts (a float average summed by parallel threads would
# differ in its last digit from run to run).
_OVERDUE = _n("e", "prev_on < {date_from:Date} AND due_on <= {date_to:Date}")
HANDLING_TIMES = (
    "SELECT case_type, sum(r), sum(c), sum(o), sum(ra_ms), sum(ra_n), sum(as_ms), sum(as_n), "
    "sum(sc_ms), sum(sc_n), sum(rc_ms), sum(rc_n) FROM "
    + per_unit(
        ", case_type",
        f"{_n('r')} AS r, {_n('c')} AS c, {_OVERDUE} AS o, "
        "sumIf(ms, kind = 'a') AS ra_ms, sumIf(timed, kind = 'a') AS ra_n, "
        "sumIf(ms, kind = 's') AS as_ms, sumIf(timed, kind = 's') AS as_n, "
        "sumIf(ms, kind = 'c') AS sc_ms, sumIf(timed, kind = 'c') AS sc_n, "
        "sumIf(ms_received, kind = 'c') AS rc_ms, sumIf(timed_received, kind = 'c') AS rc_n",
    )
    + " GROUP BY case_type"
)

# Open at the end of the period, received more than 240 hours before it, not
# answered: the assignee is that of the latest assignment before the end.
UNANSWERED = (
    "SELECT c.unit_id, c.unit_name, c.case_id, c.case_type, c.received_at, "
    f"if(c.assigned_at < {T_END}, c.assigned_at, NULL), la.assignee, "
    "if(p.hsa_id = '', NULL, concat(p.given_name, ' ', p.family_name)) "
    f"FROM {CASES} AS c "
    "LEFT JOIN (SELECT case_id, argMax(assignee_id, (occurred_at, event_id)) AS assignee "
    f"FROM etj_cases WHERE event = 'assigned' AND occurred_at < {T_END} GROUP BY case_id) AS la "
    "ON c.case_id = la.case_id "
    "LEFT JOIN (SELECT hsa_id, given_name, family_name FROM hsa_persons FINAL WHERE deleted = 0) "
    "AS p ON la.assignee = p.hsa_id AND la.assignee != '' "
    f"WHERE c.received_at IS NOT NULL AND addHours(c.received_at, 240) < {T_END} "
    f"AND NOT ifNull(c.answered_at < {T_END}, 0) AND NOT ifNull(c.closed_at < {T_END}, 0) "
    "ORDER BY c.unit_id, c.received_at, c.case_id"
)

# Accounts alive at the end of the period, placed in the county of their
# latest login before it ('00' when none, or when that login has no county):
# each account's run of one county (etj_account_runs, migration 0020) that
# holds at the end of the last day. One row per account, not per login.
ACCOUNTS = (
    "SELECT r.3 AS county, countIf(actor = 'resident'), countIf(actor = 'staff') "
    "FROM etj_account_runs FINAL ARRAY JOIN runs AS r "
    "WHERE r.1 <= {date_to:Date} AND r.2 > {date_to:Date} AND "
    + _any_of("county", "r.3")
    + " GROUP BY county"
)
LOGINS = (
    "SELECT formatDateTime(day, '%Y-%m'), actor, method, sum(logins) FROM etj_logins_daily "
    "WHERE day BETWEEN {date_from:Date} AND {date_to:Date} AND "
    + _any_of("county", "county_code")
    + " GROUP BY 1, actor, method"
)

KNOWN_UNITS = (
    "SELECT unit_id FROM etj_units WHERE unit_id IN {ids:Array(String)} "
    "UNION DISTINCT SELECT unit_id FROM etj_cases WHERE unit_id IN {ids:Array(String)}"
)
KNOWN_CARE_PROVIDERS = (
    "SELECT DISTINCT care_provider_id FROM etj_units WHERE care_provider_id IN {ids:Array(String)}"
)
KNOWN_CASE_TYPES = (
    "SELECT id FROM (SELECT arrayJoin({ids:Array(String)}) AS id) WHERE id IN ("
    + ", ".join(f"'{s}'" for s in STANDARD_CASE_TYPES)
    + ") UNION DISTINCT "
    "SELECT DISTINCT case_type FROM etj_cases WHERE case_type IN {ids:Array(String)} "
    "UNION DISTINCT SELECT DISTINCT t.1 FROM etj_units ARRAY JOIN case_types AS t "
    "WHERE t.1 IN {ids:Array(String)}"
)
UNIT_PROVIDERS = (
    "SELECT unit_id, care_provider_id FROM etj_units FINAL "
    "WHERE deleted = 0 AND unit_id IN {ids:Array(String)}"
)
CONNECTED = (
    "SELECT count() FROM etj_units FINAL WHERE deleted = 0 "
    "AND care_provider_id IN {ids:Array(String)}"
)
