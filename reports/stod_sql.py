"""SQL of the support-and-treatment reports. Constant text; only bound
parameters vary. Moments come from `sob_moment_facts` (one row per Process
case); patients-* reports read the transactions themselves."""

from __future__ import annotations

_CAT = "(SELECT hsa_id, county_code, name FROM hsa_units FINAL WHERE deleted = 0)"


def _filters(county: str, provider: str, unit: str, process: str, moment: str) -> str:
    def one(param: str, expr: str) -> str:
        return f"(length({{{param}:Array(String)}}) = 0 OR {expr} IN {{{param}:Array(String)}})"

    return " AND ".join(
        (
            one("county", county),
            one("care_provider", provider),
            one("unit", unit),
            one("process", process),
            one("moment", moment),
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

BY_COUNTY = (
    "SELECT county, countIf(kind = 's'), countIf(kind = 'c'), uniqExactIf(by, by != '') "
    f"FROM {TRANSITIONS} GROUP BY county"
)
BY_WEEKDAY = (
    "SELECT toDayOfWeek(day), countIf(kind = 's'), countIf(kind = 'c') "
    f"FROM {TRANSITIONS} GROUP BY 1"
)
BY_PROCESS = (
    "SELECT process_name, countIf(kind = 's'), countIf(kind = 'c') "
    f"FROM {TRANSITIONS} GROUP BY process_name"
)
BY_MONTH = (
    "SELECT formatDateTime(day, '%Y-%m') AS m, countIf(kind = 's'), countIf(kind = 'c'), "
    f"uniqExactIf(by, by != '') FROM {TRANSITIONS} GROUP BY m"
)
BY_CLOSING_REASON = (
    "SELECT if(closing_reason = '', 'Okänd', closing_reason) AS r, count() "
    f"FROM {FACTS} WHERE {COMPLETED} GROUP BY r"
)
BY_PRACTITIONER = (
    "SELECT t.by, countIf(t.kind = 's'), countIf(t.kind = 'c'), "
    "any(if(p.hsa_id = '', NULL, concat(p.given_name, ' ', p.family_name))) "
    f"FROM {TRANSITIONS} AS t "
    "LEFT JOIN (SELECT hsa_id, given_name, family_name FROM hsa_persons FINAL WHERE deleted = 0) "
    "AS p ON t.by = p.hsa_id "
    "WHERE t.care_provider_id IN {callers:Array(String)} AND t.by != '' GROUP BY t.by"
)

# Month ends (or the period's last day) as snapshot days.
_ONGOING_AT = "ifNull(started_on <= e AND (completed_at IS NULL OR completed_on > e), 0)"
ONGOING_BY_MONTH = (
    f"SELECT e, countIf({_ONGOING_AT}) FROM {FACTS} ARRAY JOIN {{ends:Array(Date)}} AS e "
    "WHERE started_on <= {date_to:Date} GROUP BY e"
)
ONGOING_BY_MONTH_MOMENT = (
    f"SELECT e, moment_name, countIf({_ONGOING_AT}) AS n FROM {FACTS} "
    "ARRAY JOIN {ends:Array(Date)} AS e WHERE started_on <= {date_to:Date} "
    "GROUP BY e, moment_name HAVING n > 0"
)

_PRACTITIONERS = (
    f"length(arrayDistinct(arrayFilter(x -> x != '', arrayConcat("
    f"groupArrayIf(started_by, {STARTED}), groupArrayIf(completed_by, {COMPLETED})))))"
)
_REASON = (
    "if(ifNull(completed_on <= {date_to:Date}, 0), "
    "if(closing_reason = '', 'Okänd', closing_reason), NULL)"
)
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


def _grouped(keys: list[str], measures: str, where: str) -> str:
    names = "any(care_provider_name) AS cpn, any(unit_name) AS un"
    return (
        f"SELECT {', '.join(keys)}, {names}, {measures} "
        f"FROM (SELECT *, {_REASON} AS reason FROM {FACTS}) WHERE {where} "
        f"GROUP BY {', '.join(keys)}"
    )


_RESIDENTS = f"uniqExactIf(patient_id, {STARTED} AND patient_id != '')"
HIERARCHY = {
    level: _grouped(
        keys,
        f"countIf({STARTED}), countIf({ONGOING}), countIf({COMPLETED}), {_RESIDENTS}, "
        + _PRACTITIONERS,
        f"{STARTED} OR {COMPLETED} OR {ONGOING}",
    )
    for level, keys in _HIERARCHY_KEYS.items()
}
BY_MOMENT = {
    level: _grouped(
        keys,
        f"countIf({STARTED}), countIf({COMPLETED}), {_RESIDENTS}, {_PRACTITIONERS}",
        f"{STARTED} OR {COMPLETED}",
    )
    for level, keys in _MOMENT_KEYS.items()
}

# Patients: each patient's latest Process transaction in the period (or month).
_PATIENT_TX = (
    "(SELECT t.patient_id AS patient_id, t.occurred_at AS occurred_at, t.event_id AS event_id, "
    "t.patient_gender AS patient_gender, t.patient_age AS patient_age, "
    "toDate(t.occurred_at, 'Europe/Stockholm') AS day "
    f"FROM sob_transactions AS t LEFT JOIN {_CAT} AS cp ON t.care_provider_id = cp.hsa_id "
    "WHERE t.case_type = 'Process' AND t.patient_id != '' "
    "AND toDate(t.occurred_at, 'Europe/Stockholm') BETWEEN {date_from:Date} AND {date_to:Date} "
    "AND "
    + _filters(
        "if(cp.hsa_id = '', '00', cp.county_code)",
        "t.care_provider_id",
        "t.care_unit_id",
        "t.process_name",
        "t.moment_name",
    )
    + ")"
)
_LATEST = (
    "argMax(if(patient_gender = '', 'U', patient_gender), (occurred_at, event_id)) AS g, "
    "argMax(ifNull(toInt16(patient_age), -1), (occurred_at, event_id)) AS a"
)
PATIENTS = f"SELECT g, a, count() FROM (SELECT {_LATEST} FROM {_PATIENT_TX} GROUP BY patient_id) GROUP BY g, a"
PATIENTS_BY_MONTH = (
    f"SELECT m, g, count() FROM (SELECT formatDateTime(day, '%Y-%m') AS m, {_LATEST} "
    f"FROM {_PATIENT_TX} GROUP BY patient_id, m) GROUP BY m, g"
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
    "uniqExact(patient_id) "
    f"FROM (SELECT *, {_REASON} AS reason FROM {FACTS}) WHERE {STARTED} AND patient_id != '' "
    "GROUP BY GROUPING SETS (" + ", ".join("(" + ", ".join(s) + ")" for s in _SETS) + ")"
)
