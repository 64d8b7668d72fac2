"""SQL of the support-and-treatment reports. Constant text; only bound
parameters vary. Moments come from `sob_moment_facts` (one row per Process
case); patients-* reports read the transactions themselves."""

from __future__ import annotations

_CAT = "(SELECT hsa_id, county_code, name FROM hsa_units FINAL WHERE deleted = 0)"


def _one(param: str, expr: str) -> str:
    return f"(length({{{param}:Array(String)}}) = 0 OR {expr} IN {{{param}:Array(String)}})"


def _filters(county: str, provider: str, unit: str, process: str, moment: str) -> str:
    return " AND ".join((_org_filters(provider, unit, process, moment), _one("county", county)))


def _org_filters(provider: str, unit: str, process: str, moment: str) -> str:
    return " AND ".join(
        (
            _one("care_provider", provider),
            _one("unit", unit),
            _one("process", process),
            _one("moment", moment),
        )
    )


# One row per moment with its current-catalogue attribution, filtered.
FACTS = (
    "(SELECT f.case_id AS case_id, f.started_at AS started_at, f.completed_at AS completed_at, "
    "f.started_on AS started_on, f.completed_on AS completed_on, "
    "f.process_name AS process_name, f.moment_name AS moment_name, "
    "f.care_provider_id AS care_provider_id, f.care_unit_id AS unit_id, "
    "f.patient_id AS patient_id, f.started_by AS started_by, f.completed_by AS completed_by, "
    "f.closing_reason AS closing_reason, "
    "if(cp.hsa_id = '', '00', cp.county_code) AS county, "
    "if(cp.hsa_id = '', NULL, cp.name) AS care_provider_name, "
    "if(u.hsa_id = '', NULL, u.name) AS unit_name "
    f"FROM sob_moment_facts AS f LEFT JOIN {_CAT} AS cp ON f.care_provider_id = cp.hsa_id "
    f"LEFT JOIN {_CAT} AS u ON f.care_unit_id = u.hsa_id "
    "WHERE "
    + _filters("county", "f.care_provider_id", "f.care_unit_id", "f.process_name", "f.moment_name")
    + ")"
)

STARTED = "ifNull(started_on BETWEEN {date_from:Date} AND {date_to:Date}, 0)"
COMPLETED = "ifNull(completed_on BETWEEN {date_from:Date} AND {date_to:Date}, 0)"
ONGOING = "ifNull(started_on <= {date_to:Date} AND (completed_at IS NULL OR completed_on > {date_to:Date}), 0)"

# The counted transitions: a start in the period, or a completion in it.
TRANSITIONS = (
    f"(SELECT *, 's' AS kind, started_on AS day, started_by AS by FROM {FACTS} WHERE {STARTED} "
    f"UNION ALL SELECT *, 'c' AS kind, completed_on AS day, completed_by AS by FROM {FACTS} "
    f"WHERE {COMPLETED})"
)

BY_PRACTITIONER = (
    "SELECT t.by, countIf(t.kind = 's'), countIf(t.kind = 'c'), "
    "any(if(p.hsa_id = '', NULL, concat(p.given_name, ' ', p.family_name))) "
    f"FROM {TRANSITIONS} AS t "
    "LEFT JOIN (SELECT hsa_id, given_name, family_name FROM hsa_persons FINAL WHERE deleted = 0) "
    "AS p ON t.by = p.hsa_id "
    "WHERE t.care_provider_id IN {callers:Array(String)} AND t.by != '' GROUP BY t.by"
)


# Rollup rows (sob_moments_daily, migrations 0018 and 0024): each day as its
# latest snapshot, filtered. Their number follows days x organisation units,
# never the cases stored. The county filter is a set of care providers (the
# current catalogue's in those counties; for county 00 those it lacks), so
# only the reports that show a county or a name join the catalogue
# (_attributed). (Summing per unit first and joining the sums was no faster:
# the distinct counts' states are then written and read twice.)
_COUNTY_OF = "if(cp.hsa_id = '', '00', cp.county_code)"
_IN_COUNTIES = (
    "(length({county:Array(String)}) = 0 "
    f"OR care_provider_id IN (SELECT hsa_id FROM {_CAT} WHERE county_code IN {{county:Array(String)}}) "
    "OR ('00' IN {county:Array(String)} "
    f"AND care_provider_id NOT IN (SELECT hsa_id FROM {_CAT}) ))"
)
_NOT_COUNTY = _org_filters("care_provider_id", "care_unit_id", "process_name", "moment_name")


def _rollup(days: str) -> str:
    return (
        "(SELECT day, kind, care_provider_id, care_unit_id AS unit_id, process_name, "
        "moment_name, done_on, reason AS closing_reason, n, patients, practitioners "
        f"FROM sob_moments_daily WHERE {days} AND kind != '' "
        f"AND (day, version) IN (SELECT day, max(version) FROM sob_moments_daily WHERE {days} "
        f"GROUP BY day) AND {_NOT_COUNTY} AND {_IN_COUNTIES})"
    )


# Rows of the period's days; rows of every day up to its end (for ongoing).
PERIOD = _rollup("day BETWEEN {date_from:Date} AND {date_to:Date}")
UP_TO_END = _rollup("day <= {date_to:Date}")
_S = "sumIf(n, kind = 's')"
_C = "sumIf(n, kind = 'c')"

# A moment's closing reason as the period's end sees it: none until completed.
_REASON = "if(done_on <= {date_to:Date}, if(closing_reason = '', 'Okänd', closing_reason), NULL)"


def _attributed(rows: str, names: bool) -> str:
    """`rows` with their county and, with `names`, the provider's and unit's
    names, from the current catalogue."""
    named = (
        ", if(cp.hsa_id = '', NULL, cp.name) AS care_provider_name, "
        "if(u.hsa_id = '', NULL, u.name) AS unit_name"
        if names
        else ""
    )
    unit_join = f" LEFT JOIN {_CAT} AS u ON r.unit_id = u.hsa_id" if names else ""
    return (
        f"(SELECT r.*, {_COUNTY_OF} AS county{named} FROM {rows} AS r "
        f"LEFT JOIN {_CAT} AS cp ON r.care_provider_id = cp.hsa_id{unit_join})"
    )


BY_COUNTY = (
    f"SELECT county, {_S}, {_C}, uniqExactMerge(practitioners) "
    f"FROM {_attributed(PERIOD, names=False)} GROUP BY county"
)
BY_WEEKDAY = f"SELECT toDayOfWeek(day) AS w, {_S}, {_C} FROM {PERIOD} GROUP BY w"
BY_PROCESS = f"SELECT process_name, {_S}, {_C} FROM {PERIOD} GROUP BY process_name"
BY_MONTH = (
    f"SELECT formatDateTime(day, '%Y-%m') AS m, {_S}, {_C}, uniqExactMerge(practitioners) "
    f"FROM {PERIOD} GROUP BY m"
)
BY_CLOSING_REASON = (
    "SELECT if(closing_reason = '', 'Okänd', closing_reason) AS r, sum(n) "
    f"FROM {PERIOD} WHERE kind = 'c' GROUP BY r"
)

# Month ends (or the period's last day) as snapshot days: a moment is ongoing
# at e when it started by e and its completion day (2149-06-06 while it has
# none) is after e.
_ONGOING_AT = "sumIf(n, day <= e AND done_on > e)"
ONGOING_BY_MONTH = (
    f"SELECT e, {_ONGOING_AT} FROM {UP_TO_END} ARRAY JOIN {{ends:Array(Date)}} AS e "
    "WHERE kind = 's' GROUP BY e"
)
ONGOING_BY_MONTH_MOMENT = (
    f"SELECT e, moment_name, {_ONGOING_AT} AS k FROM {UP_TO_END} "
    "ARRAY JOIN {ends:Array(Date)} AS e WHERE kind = 's' GROUP BY e, moment_name HAVING k > 0"
)

_IN_PERIOD = "day >= {date_from:Date}"
_ONGOING = "kind = 's' AND done_on > {date_to:Date}"
_HIERARCHY_KEYS = {
    "county": ["county"],
    "care_provider": ["county", "care_provider_id"],
    "unit": ["county", "care_provider_id", "unit_id"],
    "moment": ["county", "care_provider_id", "unit_id", "moment_name"],
    "closing_reason": ["county", "care_provider_id", "unit_id", "moment_name", "reason"],
}
_MOMENT_KEYS = {
    "moment": ["moment_name"],
    "county": ["moment_name", "county"],
    "care_provider": ["moment_name", "county", "care_provider_id"],
    "unit": ["moment_name", "county", "care_provider_id", "unit_id"],
}


def _grouped(keys: list[str], measures: str, rows: str, where: str, names: bool) -> str:
    named = "any(care_provider_name) AS cpn, any(unit_name) AS un, " if names else ""
    return (
        f"SELECT {', '.join(keys)}, {named}{measures} "
        f"FROM (SELECT *, {_REASON} AS reason FROM {_attributed(rows, names)}) WHERE {where} "
        f"GROUP BY {', '.join(keys)}"
    )


# Residents (a distinct count) are not here: the rows read them from
# RESIDENTS_LATTICE, which has every cell these queries group by.
_STARTED = f"sumIf(n, kind = 's' AND {_IN_PERIOD})"
_COMPLETED = f"sumIf(n, kind = 'c' AND {_IN_PERIOD})"
_PRACTITIONERS = f"uniqExactMergeIf(practitioners, {_IN_PERIOD})"
HIERARCHY = {
    level: _grouped(
        keys,
        f"{_STARTED}, sumIf(n, {_ONGOING}), {_COMPLETED}, {_PRACTITIONERS}",
        UP_TO_END,
        f"{_IN_PERIOD} OR ({_ONGOING})",
        names=True,
    )
    for level, keys in _HIERARCHY_KEYS.items()
}
BY_MOMENT = {
    level: _grouped(keys, f"{_STARTED}, {_COMPLETED}, {_PRACTITIONERS}", PERIOD, "1", names=False)
    for level, keys in _MOMENT_KEYS.items()
}

# Residents of every table moments-by-hierarchy and moments-by-moment can show,
# and the grand total behind them, in one scan: disclosure control decides over
# all of them at once (a level withheld alone could be recovered from another).
# grouping() has a bit set for each key the row's set sums away (last key =
# lowest bit).
LATTICE_KEYS = ("county", "care_provider_id", "unit_id", "moment_name", "reason")
_SETS = (
    (), ("county",), ("county", "care_provider_id"), ("county", "care_provider_id", "unit_id"),
    ("county", "care_provider_id", "unit_id", "moment_name"), LATTICE_KEYS,
    ("moment_name",), ("moment_name", "county"), ("moment_name", "county", "care_provider_id"),
)  # fmt: skip
RESIDENTS_LATTICE = (
    f"SELECT {', '.join(LATTICE_KEYS)}, grouping({', '.join(LATTICE_KEYS)}) AS g, "
    "uniqExactMerge(patients) AS k "
    f"FROM (SELECT *, {_REASON} AS reason FROM {_attributed(PERIOD, names=False)}) "
    "WHERE kind = 's' GROUP BY GROUPING SETS ("
    + ", ".join("(" + ", ".join(s) + ")" for s in _SETS)
    + ") HAVING k > 0"
)

# Patients: each patient's latest Process transaction in the period (or
# month), from the per-day latest of sob_patients_daily (migration 0018).
_PATIENT_DAYS = (
    "(SELECT patient_id, day, latest FROM sob_patients_daily "
    "WHERE day BETWEEN {date_from:Date} AND {date_to:Date} "
    f"AND {_NOT_COUNTY} AND {_IN_COUNTIES})"
)
PATIENTS = (
    "SELECT l.1 AS g, l.2 AS a, count() FROM (SELECT argMaxMerge(latest) AS l "
    f"FROM {_PATIENT_DAYS} GROUP BY patient_id) GROUP BY g, a"
)
PATIENTS_BY_MONTH = (
    "SELECT m, l.1 AS g, count() FROM (SELECT formatDateTime(day, '%Y-%m') AS m, "
    f"argMaxMerge(latest) AS l FROM {_PATIENT_DAYS} GROUP BY patient_id, m) GROUP BY m, g"
)

# Filter values a caller may name: known when the catalogue or the data has them.
KNOWN_CARE_PROVIDERS = (
    "SELECT hsa_id FROM hsa_units FINAL WHERE deleted = 0 AND hsa_id IN {ids:Array(String)} "
    "UNION DISTINCT SELECT DISTINCT care_provider_id FROM sob_transactions "
    "WHERE care_provider_id IN {ids:Array(String)}"
)
KNOWN_UNITS = (
    "SELECT hsa_id FROM hsa_units FINAL WHERE deleted = 0 AND hsa_id IN {ids:Array(String)} "
    "UNION DISTINCT SELECT DISTINCT care_unit_id FROM sob_transactions "
    "WHERE care_unit_id IN {ids:Array(String)}"
)
KNOWN_PROCESSES = (
    "SELECT DISTINCT process_name FROM sob_transactions WHERE process_name IN {ids:Array(String)}"
)
KNOWN_MOMENTS = (
    "SELECT DISTINCT moment_name FROM sob_transactions WHERE moment_name IN {ids:Array(String)}"
)

# A unit's care provider(s) as the reports attribute them: those its own
# transactions name (the opt-in rule of reports/tiers.py, for a unit filter).
UNIT_PROVIDERS = (
    "SELECT DISTINCT care_unit_id, care_provider_id FROM sob_transactions "
    "WHERE care_unit_id IN {ids:Array(String)}"
)

CONNECTED = (
    "SELECT count() FROM (SELECT DISTINCT care_provider_id FROM sob_transactions "
    "WHERE care_provider_id IN {ids:Array(String)})"
)
