"""SQL of the 1177 e-services reports. Constant text; only bound parameters vary.

Cases come from `etj_case_facts` (one row per case, its first event of each
kind); units are attributed at query time from the current `etj_units` record.
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


def in_period(day: str) -> str:
    return f"ifNull({day} BETWEEN {{date_from:Date}} AND {{date_to:Date}}, 0)"


RECEIVED, ASSIGNED, CLOSED = (
    in_period("received_on"),
    in_period("assigned_on"),
    in_period("closed_on"),
)

CASES_PER_UNIT = (
    f"SELECT unit_id, any(unit_name), countIf({RECEIVED}) AS r, countIf({ASSIGNED}) AS a, "
    f"countIf({CLOSED}) AS c FROM {CASES} GROUP BY unit_id HAVING r + a + c > 0 ORDER BY unit_id"
)
CASES_PER_CASE_TYPE = (
    f"SELECT case_type, case_type_kind, countIf({RECEIVED}), countIf({CLOSED}) "
    f"FROM {CASES} GROUP BY case_type, case_type_kind"
)
# Each case at most once: closed beats assigned beats received.
CASE_STATUS = (
    "SELECT unit_id, any(unit_name), "
    f"countIf(NOT {CLOSED} AND NOT {ASSIGNED} AND {RECEIVED}), "
    f"countIf(NOT {CLOSED} AND {ASSIGNED}), countIf({CLOSED}) "
    f"FROM {CASES} WHERE {CLOSED} OR {ASSIGNED} OR {RECEIVED} GROUP BY unit_id ORDER BY unit_id"
)

# Overdue at the end of the period (REPORTS.md): not answered within 240 hours
# of receipt, or answered but not closed within them, or closed after them;
# judged only once the 240 hours have run out. Elapsed hours are instants
# apart, so a DST day has 23 or 25 hours.
LIMIT = "addHours(received_at, 240)"
OVERDUE = (
    f"(received_at IS NOT NULL AND {LIMIT} < {T_END} AND NOT "
    f"(ifNull(answered_at <= {LIMIT}, 0) AND ifNull(closed_at <= {LIMIT}, 0)))"
)
ANY_EVENT_IN_PERIOD = "arrayExists(d -> d BETWEEN {date_from:Date} AND {date_to:Date}, days)"


def _hours(earlier: str, later: str, later_on: str) -> str:
    # An exact integer sum of milliseconds and a count: a float average summed
    # by parallel threads would differ in its last digit from run to run.
    ms = f"toUnixTimestamp64Milli({later}) - toUnixTimestamp64Milli({earlier})"
    cond = f"{in_period(later_on)} AND {earlier} IS NOT NULL"
    return f"sumIf({ms}, {cond}), countIf({cond})"


HANDLING_TIMES = (
    f"SELECT case_type, countIf({RECEIVED}), countIf({CLOSED}), "
    f"countIf({ANY_EVENT_IN_PERIOD} AND {OVERDUE}), "
    + ", ".join(
        (
            _hours("received_at", "assigned_at", "assigned_on"),
            _hours("assigned_at", "started_at", "started_on"),
            _hours("started_at", "closed_at", "closed_on"),
            _hours("received_at", "closed_at", "closed_on"),
        )
    )
    + f" FROM {CASES} GROUP BY case_type"
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
# latest login before it ('00' when none, or when that login has no county).
ACCOUNTS = (
    "SELECT county, countIf(actor = 'resident'), countIf(actor = 'staff') FROM ("
    "SELECT a.actor AS actor, if(l.account_id = '' OR l.county = '', '00', l.county) AS county "
    "FROM (SELECT account_id, actor FROM etj_accounts FINAL WHERE deleted = 0 "
    f"AND created_at < {T_END} AND (deleted_at IS NULL OR deleted_at >= {T_END})) AS a "
    "LEFT JOIN (SELECT account_id, argMax(county_code, (occurred_at, event_id)) AS county "
    f"FROM etj_logins WHERE occurred_at < {T_END} GROUP BY account_id) AS l "
    "ON a.account_id = l.account_id) "
    f"WHERE {_any_of('county', 'county')} GROUP BY county"
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
