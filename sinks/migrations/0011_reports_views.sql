-- The reports database: views for downstream report writers, who read it over
-- the store's ClickHouse HTTP interface with a sql_reader token (sinks/chhttp
-- lets such a token read this database only). No view has a column that
-- identifies a person: no patient_id, practitioner or assignee ids, staff
-- names, account ids, case ids or event ids; counts of residents (which the
-- reports withhold below 10) are not offered at all, since free SQL cannot be
-- held to disclosure control. Views name the statflow database, so they read
-- whatever table carries the name (a backfill's EXCHANGE included).
CREATE DATABASE IF NOT EXISTS ${reports_database};

-- Web booking: NTjP calls per Stockholm day, unit (HSA-id of the receiving
-- unit), operation and status, nightly-file corrections included.
CREATE VIEW IF NOT EXISTS ${reports_database}.calls_per_day AS
SELECT day, logical_address AS unit_id, operation, status, sum(calls) AS calls
FROM ${database}.ntjp_calls_daily
GROUP BY day, unit_id, operation, status;

-- The current HSA catalogue (organisations, not people): attribute units to
-- care providers and counties at query time, as the reports do.
CREATE VIEW IF NOT EXISTS ${reports_database}.hsa_units AS
SELECT hsa_id, name, kind, care_provider_id, county_code
FROM ${database}.hsa_units FINAL
WHERE deleted = 0;

CREATE VIEW IF NOT EXISTS ${reports_database}.ntjp_routing AS
SELECT logical_address AS unit_id, operation, active_from, active_to
FROM ${database}.ntjp_routing FINAL
WHERE deleted = 0;

CREATE VIEW IF NOT EXISTS ${reports_database}.scb_population AS
SELECT county_code, year, population
FROM ${database}.scb_population FINAL
WHERE deleted = 0;

-- Support and treatment: moments started and completed per Stockholm day,
-- programme, moment and unit (ongoing = started minus completed, cumulated).
CREATE VIEW IF NOT EXISTS ${reports_database}.sob_moments_per_day AS
SELECT
    assumeNotNull(e.1) AS day,
    process_name AS process,
    moment_name AS moment,
    care_provider_id,
    care_unit_id AS unit_id,
    countIf(e.2 = 'started') AS started,
    countIf(e.2 = 'completed') AS completed
FROM ${database}.sob_moment_facts
ARRAY JOIN [(started_on, 'started'), (completed_on, 'completed')] AS e
WHERE e.1 IS NOT NULL
GROUP BY day, process, moment, care_provider_id, unit_id;

-- Completed moments by the reason on their completing transition ('Okänd'
-- when it has none, as in completed-per-closing-reason).
CREATE VIEW IF NOT EXISTS ${reports_database}.sob_completed_per_reason AS
SELECT
    assumeNotNull(completed_on) AS day,
    process_name AS process,
    moment_name AS moment,
    care_provider_id,
    care_unit_id AS unit_id,
    if(closing_reason = '', 'Okänd', closing_reason) AS closing_reason,
    count() AS completed
FROM ${database}.sob_moment_facts
WHERE completed_on IS NOT NULL
GROUP BY day, process, moment, care_provider_id, unit_id, closing_reason;

-- 1177 e-services: each case's first event of each kind, per Stockholm day,
-- unit and case type.
CREATE VIEW IF NOT EXISTS ${reports_database}.etj_cases_per_day AS
SELECT
    assumeNotNull(e.1) AS day,
    unit_id,
    case_type,
    case_type_kind,
    countIf(e.2 = 'received') AS received,
    countIf(e.2 = 'assigned') AS assigned,
    countIf(e.2 = 'started') AS started,
    countIf(e.2 = 'answered') AS answered,
    countIf(e.2 = 'closed') AS closed
FROM ${database}.etj_case_facts
ARRAY JOIN [
    (received_on, 'received'),
    (assigned_on, 'assigned'),
    (started_on, 'started'),
    (toDate(answered_at, 'Europe/Stockholm'), 'answered'),
    (closed_on, 'closed')
] AS e
WHERE e.1 IS NOT NULL
GROUP BY day, unit_id, case_type, case_type_kind;

CREATE VIEW IF NOT EXISTS ${reports_database}.etj_logins_per_day AS
SELECT day, actor, method, county_code, sum(logins) AS logins
FROM ${database}.etj_logins_daily
GROUP BY day, actor, method, county_code;

CREATE VIEW IF NOT EXISTS ${reports_database}.etj_units AS
SELECT unit_id, name, care_provider_id, county_code, care_type, activated_on, active, case_types
FROM ${database}.etj_units FINAL
WHERE deleted = 0;
