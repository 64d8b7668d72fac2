"""SQL of the web-booking reports. Constant text; only bound parameters vary.
Every query reads the counted calls (view calls_counted) per Stockholm day and
attributes units through the *current* HSA catalogue; a unit missing from the
catalogue counts under county 00."""

from __future__ import annotations

_UNITS = (
    "(SELECT hsa_id, county_code, care_provider_id, name FROM hsa_units FINAL WHERE deleted = 0)"
)
_COUNTY = "if(u.hsa_id = '', '00', u.county_code)"
_FILTERS = (
    f" AND (length({{county:Array(String)}}) = 0 OR {_COUNTY} IN {{county:Array(String)}})"
    " AND (length({care_provider:Array(String)}) = 0"
    " OR u.care_provider_id IN {care_provider:Array(String)})"
)


def _calls_sql(keys: str, group: str) -> str:
    return (
        f"SELECT {keys}, sum(d.calls) AS events FROM calls_counted AS d "
        f"LEFT JOIN {_UNITS} AS u ON d.logical_address = u.hsa_id "
        "WHERE d.day >= {date_from:Date} AND d.day <= {date_to:Date} "
        "AND d.operation IN {ops:Array(String)} "
        "AND (length({unit:Array(String)}) = 0 OR d.logical_address IN {unit:Array(String)})"
        f"{_FILTERS} GROUP BY {group}"
    )


BY_MONTH = _calls_sql("formatDateTime(d.day, '%Y-%m') AS month, d.operation", "month, d.operation")
BY_OPERATION = _calls_sql("d.operation", "d.operation")
BY_WEEKDAY = _calls_sql("toDayOfWeek(d.day) AS weekday, d.operation", "weekday, d.operation")
BOOKINGS_BY_COUNTY_YEAR = _calls_sql(f"{_COUNTY} AS county, toYear(d.day) AS year", "county, year")
UNITS_USED = (
    "SELECT county, count() FROM ("
    + _calls_sql(f"{_COUNTY} AS county, d.logical_address", "county, d.logical_address")
    + " HAVING events > 0) GROUP BY county"
)
HIERARCHY = (
    f"SELECT {_COUNTY} AS county, u.care_provider_id, any(cp.name), d.logical_address, "
    "any(u.name), any(u.hsa_id) != '' AS known, d.operation, sum(d.calls) AS events "
    "FROM calls_counted AS d "
    f"LEFT JOIN {_UNITS} AS u ON d.logical_address = u.hsa_id "
    "LEFT JOIN (SELECT hsa_id, name FROM hsa_units FINAL WHERE deleted = 0) AS cp "
    "ON u.care_provider_id = cp.hsa_id "
    "WHERE d.day >= {date_from:Date} AND d.day <= {date_to:Date} "
    "AND d.operation IN {ops:Array(String)} "
    "AND (length({unit:Array(String)}) = 0 OR d.logical_address IN {unit:Array(String)})"
    f"{_FILTERS} GROUP BY county, u.care_provider_id, d.logical_address, d.operation"
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
    "WHERE (length({unit:Array(String)}) = 0 OR r.logical_address IN {unit:Array(String)})"
    f"{_FILTERS} GROUP BY county"
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
