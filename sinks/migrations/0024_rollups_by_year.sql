-- The day rollups the reports read, one partition per year instead of one per
-- month (issue 17). They hold days x organisation units, a few thousand rows a
-- month, so a monthly partition is a part of its own for every month of a
-- period: a year's report opened 13 or more parts, and each costs about half
-- a millisecond before any row is read (measured at scale 50: the same SOB
-- query over 13 merged parts 14 ms, over 2 parts 8 ms; with the 52 parts a
-- bulk load leaves, 30 ms). Same columns, keys and engines.
--
-- Rebuilt from their own rows in statements that can run again, as 0021 does:
-- CREATE OR REPLACE fills a new table and swaps it in atomically (a second run
-- copies the table onto itself), and the materialized view that fills
-- sob_patients_daily writes to the new table. Rows written during the copy
-- by a process still running the old version go to the old table: the
-- patients' latest states are derived again from the raw rows afterwards
-- (argMax states: a state twice merges to the same), and a day snapshot of
-- the sink reads its previous snapshot until the day is recomputed (any later
-- batch of its cases, or a rebuild).
CREATE OR REPLACE TABLE sob_moments_daily
(
    day Date,
    kind LowCardinality(String),
    care_provider_id String,
    care_unit_id String,
    process_name LowCardinality(String),
    moment_name LowCardinality(String),
    done_on Date,
    reason String,
    n UInt64,
    patients AggregateFunction(uniqExact, String),
    practitioners AggregateFunction(uniqExact, String),
    version DateTime64(9, 'UTC')
)
ENGINE = ReplacingMergeTree(version)
PARTITION BY toYear(day)
ORDER BY (day, kind, care_provider_id, care_unit_id, process_name, moment_name, done_on, reason)
AS SELECT * FROM sob_moments_daily;

CREATE OR REPLACE TABLE sob_patients_daily
(
    day Date,
    care_provider_id String,
    care_unit_id String,
    process_name LowCardinality(String),
    moment_name LowCardinality(String),
    patient_id String,
    latest AggregateFunction(argMax, Tuple(String, Int16), Tuple(DateTime64(3, 'UTC'), String))
)
ENGINE = AggregatingMergeTree
PARTITION BY toYear(day)
ORDER BY (day, care_provider_id, care_unit_id, process_name, moment_name, patient_id)
SETTINGS non_replicated_deduplication_window = 10000
AS SELECT * FROM sob_patients_daily;

INSERT INTO sob_patients_daily
SELECT
    toDate(occurred_at, 'Europe/Stockholm') AS day,
    care_provider_id, care_unit_id, process_name, moment_name, patient_id,
    argMaxState(
        (if(patient_gender = '', 'U', patient_gender), ifNull(toInt16(patient_age), toInt16(-1))),
        (occurred_at, event_id)
    )
FROM sob_transactions
WHERE case_type = 'Process' AND patient_id != ''
GROUP BY day, care_provider_id, care_unit_id, process_name, moment_name, patient_id;

CREATE OR REPLACE TABLE etj_cases_daily
(
    day Date,
    kind LowCardinality(String),
    unit_id String,
    case_type String,
    case_type_kind LowCardinality(String),
    assigned_on Date,
    closed_on Date,
    prev_on Date,
    due_on Date,
    n UInt64,
    ms Int64,
    timed UInt64,
    ms_received Int64,
    timed_received UInt64,
    version DateTime64(9, 'UTC')
)
ENGINE = ReplacingMergeTree(version)
PARTITION BY toYear(day)
ORDER BY (day, kind, unit_id, case_type, case_type_kind, assigned_on, closed_on, prev_on, due_on)
AS SELECT * FROM etj_cases_daily;
