"""SQL of the web-booking reports. Constant text; only bound parameters vary.

Every query counts calls by the nightly-file rule (sinks/ntjp_rule.py; view
calls_counted, migration 0012: the stream on days no file closed, the
standing file's counts on the days one did) per Stockholm day or month, and
attributes units through the *current* HSA catalogue: a unit that moves
county moves its whole history, a catalogue change shows in the next answer
whichever process wrote it, and a unit missing from the catalogue counts
under county 00 (with no care provider).

The catalogue is never joined per stored row (issue 17: that was ~120 ms of
events-by-hierarchy at scale 10). A report that shows county, care provider
or unit sums the period per logical address first and joins those few
thousand sums to `hsa_units FINAL` once (`_per_unit`); a report that only
filters by them keeps the rows whose address is in the matching set
(`_ORG_MATCH`, a hash lookup).
"""

from __future__ import annotations

_UNITS = (
    "(SELECT hsa_id, county_code, care_provider_id, name FROM hsa_units FINAL WHERE deleted = 0)"
)
_COUNTY = "if(u.hsa_id = '', '00', u.county_code)"
_FILTERS = (
    f"(length({{county:Array(String)}}) = 0 OR {_COUNTY} IN {{county:Array(String)}})"
    " AND (length({care_provider:Array(String)}) = 0"
    " OR u.care_provider_id IN {care_provider:Array(String)})"
)
# _FILTERS as a set of addresses, for `d.logical_address`: a catalogue unit
# matching them, or an address the catalogue lacks when county 00 and "no
# care provider" ('') match.
_ORG_MATCH = (
    "((length({county:Array(String)}) = 0 AND length({care_provider:Array(String)}) = 0) "
    f"OR d.logical_address IN (SELECT hsa_id FROM {_UNITS} AS u WHERE "
    "(length({county:Array(String)}) = 0 OR u.county_code IN {county:Array(String)}) "
    "AND (length({care_provider:Array(String)}) = 0 "
    "OR u.care_provider_id IN {care_provider:Array(String)})) "
    "OR ((length({county:Array(String)}) = 0 OR '00' IN {county:Array(String)}) "
    "AND (length({care_provider:Array(String)}) = 0 OR '' IN {care_provider:Array(String)}) "
    f"AND d.logical_address NOT IN (SELECT hsa_id FROM {_UNITS})))"
)

# Calls of the period per Stockholm month `m`, logical address, operation
# `op`, count `n` (several rows per key may come; sum them). A whole month of
# the period reads the monthly rollup (ntjp_calls_monthly: every stream row of
# the month), minus the stream rows of its file-closed days, plus those days'
# file counts; the partial months at the period's edges read the daily rollup
# on open days and the file counts on closed days, as calls_counted does. Both
# rollups are filled from the same raw blocks under the same deduplication
# tokens, so a month's row is the sum of its days' rows and the difference is
# exact. Cost follows the months of the period, not the days or copies stored.
# (The rule is written out here rather than read through calls_counted: the
# view's nested union cost ~10 ms per query; tests/integration/
# test_monthly_calls.py holds both to the same answers.)
_WHOLE_FROM = (  # the first day of the period's first whole month
    "if(toStartOfMonth({date_from:Date}) = {date_from:Date}, {date_from:Date}, "
    "addMonths(toStartOfMonth({date_from:Date}), 1))"
)
_WHOLE_END = "toStartOfMonth(addDays({date_to:Date}, 1))"  # the day after its last whole month
_IN_WHOLE = f"(day >= {_WHOLE_FROM} AND day < {_WHOLE_END})"
_APPLIED = "kind = 'ntjp/calls' AND status = 'applied' AND report = 'counts'"
_CLOSED = f"(SELECT day FROM reconciliation_files WHERE {_APPLIED})"
# The standing file of each closed day: the last applied, ties by hash.
_STANDING = (
    "(SELECT day, argMax(sha256, (at, sha256)) FROM reconciliation_files "
    f"WHERE {_APPLIED} GROUP BY day)"
)
_PERIOD = "day >= {date_from:Date} AND day <= {date_to:Date}"
_CHOSEN = (
    "operation IN {ops:Array(String)} AND (length({unit:Array(String)}) = 0 "
    "OR logical_address IN {unit:Array(String)})"
)
COUNTED_BY_MONTH = (
    "(SELECT month AS m, logical_address, operation AS op, toInt64(calls) AS n "
    f"FROM ntjp_calls_monthly WHERE month >= {_WHOLE_FROM} AND month < {_WHOLE_END} "
    f"AND {_CHOSEN} "
    # stream rows: + on the edges' open days, - on the whole months' closed days
    "UNION ALL SELECT toStartOfMonth(day) AS m, logical_address, operation AS op, "
    f"if({_IN_WHOLE}, -toInt64(calls), toInt64(calls)) AS n FROM ntjp_calls_daily "
    f"WHERE {_PERIOD} AND ((NOT {_IN_WHOLE} AND day NOT IN {_CLOSED}) "
    f"OR ({_IN_WHOLE} AND day IN {_CLOSED})) AND {_CHOSEN} "
    # the standing files' counts on every closed day of the period
    "UNION ALL SELECT toStartOfMonth(day) AS m, logical_address, operation AS op, "
    "max(calls) AS n FROM calls_file_counts "
    f"WHERE {_PERIOD} AND (day, sha256) IN {_STANDING} AND {_CHOSEN} "
    "GROUP BY day, sha256, logical_address, operation)"
)
# The same calls per day (the weekday needs the day), through the rule's view.
COUNTED_BY_DAY = (
    "(SELECT day, logical_address, operation AS op, calls AS n FROM calls_counted "
    f"WHERE {_PERIOD} AND {_CHOSEN})"
)


def _per_unit(keys: str = "", having: str = "", join: str = "") -> str:
    """COUNTED_BY_MONTH summed per logical address (`a.unit`) and `keys`
    (expressions over `d` with aliases) into `a.n`, then joined to the
    current catalogue (`u`, then `join`) and org-filtered: a FROM and WHERE."""
    group = "".join(", " + k.rsplit(" AS ", 1)[1] for k in keys.split(", ") if k)
    return (
        f"(SELECT d.logical_address AS unit{', ' + keys if keys else ''}, sum(d.n) AS n "
        f"FROM {COUNTED_BY_MONTH} AS d GROUP BY unit{group}{having}) AS a "
        f"LEFT JOIN {_UNITS} AS u ON a.unit = u.hsa_id {join}WHERE {_FILTERS}"
    )


BY_MONTH = (
    "SELECT formatDateTime(d.m, '%Y-%m') AS month, d.op, sum(d.n) AS events "
    f"FROM {COUNTED_BY_MONTH} AS d WHERE {_ORG_MATCH} GROUP BY month, d.op"
)
BY_OPERATION = (
    f"SELECT d.op, sum(d.n) AS events FROM {COUNTED_BY_MONTH} AS d WHERE {_ORG_MATCH} GROUP BY d.op"
)
BY_WEEKDAY = (
    "SELECT toDayOfWeek(d.day) AS weekday, d.op, sum(d.n) AS events "
    f"FROM {COUNTED_BY_DAY} AS d WHERE {_ORG_MATCH} GROUP BY weekday, d.op"
)
BOOKINGS_BY_COUNTY_YEAR = (
    f"SELECT {_COUNTY} AS county, a.y AS year, sum(a.n) AS events FROM "
    + _per_unit("toYear(d.m) AS y")
    + " GROUP BY county, year"
)
UNITS_USED = (
    f"SELECT {_COUNTY} AS county, count() FROM "
    + _per_unit(having=" HAVING n > 0")
    + " GROUP BY county"
)
# One row per (unit, operation) already: nothing to sum after the joins. In
# the order the answer's rows take (reports/webbtidbokning.hierarchy_rows sorts
# them; on rows already in order that sort is one linear pass).
HIERARCHY = (
    f"SELECT {_COUNTY} AS county, u.care_provider_id, cp.name, a.unit, u.name, "
    "u.hsa_id != '' AS known, a.op, a.n AS events FROM "
    + _per_unit(
        "d.op AS op",
        join="LEFT JOIN (SELECT hsa_id, name FROM hsa_units FINAL WHERE deleted = 0) AS cp "
        "ON u.care_provider_id = cp.hsa_id ",
    )
    + " ORDER BY county, if(known, u.care_provider_id, ''), if(known, cp.name, ''), a.unit, "
    "if(known, u.name, ''), indexOf({ops:Array(String)}, a.op)"
)
POPULATION = (
    "SELECT county_code, year, population FROM scb_population FINAL "
    "WHERE deleted = 0 AND year IN {years:Array(UInt16)}"
)
UNITS_CONNECTED = (
    f"SELECT {_COUNTY} AS county, count() FROM ("
    "SELECT logical_address FROM ntjp_routing FINAL WHERE deleted = 0 "
    "AND operation IN {needs:Array(String)} AND active_from <= {date_to:Date} "
    "AND (active_to IS NULL OR active_to >= {date_to:Date}) "
    "GROUP BY logical_address HAVING uniqExact(operation) = {n_needs:UInt8}) AS r "
    f"LEFT JOIN {_UNITS} AS u ON r.logical_address = u.hsa_id "
    "WHERE (length({unit:Array(String)}) = 0 OR r.logical_address IN {unit:Array(String)}) "
    f"AND {_FILTERS} GROUP BY county"
)

KNOWN_CARE_PROVIDERS = (
    "SELECT DISTINCT care_provider_id FROM hsa_units FINAL WHERE deleted = 0 "
    "AND care_provider_id IN {ids:Array(String)}"
)
KNOWN_UNITS = (
    "SELECT hsa_id FROM hsa_units FINAL WHERE deleted = 0 AND hsa_id IN {ids:Array(String)} "
    "UNION DISTINCT SELECT DISTINCT logical_address FROM calls_counted "
    "WHERE logical_address IN {ids:Array(String)}"
)

# A unit's care provider as the reports attribute it: the current catalogue's.
UNIT_PROVIDERS = (
    "SELECT hsa_id, care_provider_id FROM hsa_units FINAL WHERE deleted = 0 "
    "AND hsa_id IN {ids:Array(String)}"
)

CONNECTED = (
    "SELECT count() FROM (SELECT DISTINCT r.logical_address FROM ntjp_routing AS r FINAL "
    "JOIN (SELECT hsa_id, care_provider_id FROM hsa_units FINAL WHERE deleted = 0) AS u "
    "ON r.logical_address = u.hsa_id "
    "WHERE r.deleted = 0 AND u.care_provider_id IN {ids:Array(String)})"
)
