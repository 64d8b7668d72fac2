-- Support and treatment, read-optimised (issue 17): reports read day rollups
-- whose size follows days x organisation units, not the cases stored.

-- Moment transitions per Stockholm day, as day snapshots. A late transaction
-- can move a case's start, completion or first attributes to other days, and
-- a count cannot be taken back out of an aggregate state; so the sink
-- recomputes every day a batch's cases ever had a transition on
-- (sinks/sob_rollups.py), from the lifecycle as it is now, and writes the
-- day's rows anew under one version (now64 of the server, taken when the
-- recomputing query starts: a later recompute has seen every row an earlier
-- one saw). A day reads as its rows of the day's highest version; each
-- snapshot has a marker row (kind '') so that a day left empty reads empty.
-- kind 's' rows are starts (done_on = the case's completion day, or
-- 2149-06-06 while it has none: ongoing at D = starts up to D with done_on > D),
-- kind 'c' rows completions (done_on = day).
CREATE TABLE IF NOT EXISTS sob_moments_daily
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
PARTITION BY toYYYYMM(day)
ORDER BY (day, kind, care_provider_id, care_unit_id, process_name, moment_name, done_on, reason);

-- The rows of the days {days} (all days when empty) from the lifecycle as it
-- is now: the cases with a start or completion on one of them are those with
-- an Inprogress or Done transaction on it (in the stream: in the raw table's
-- partitions {months}, the UTC months the days touch) or a start or
-- completion on it in a file. One definition for the sink's recompute and
-- every rebuild.
CREATE VIEW IF NOT EXISTS sob_moments_day_rows AS
WITH cases AS
(
    SELECT case_id FROM ${database}.sob_transactions
    WHERE case_type = 'Process' AND status IN ('Inprogress', 'Done')
      AND (empty({months:Array(UInt32)}) OR toYYYYMM(occurred_at) IN {months:Array(UInt32)})
      AND (empty({days:Array(Date)}) OR toDate(occurred_at, 'Europe/Stockholm') IN {days:Array(Date)})
    UNION DISTINCT
    SELECT case_id FROM ${database}.sob_file_cases
    WHERE case_type = 'Process'
      AND (empty({days:Array(Date)})
           OR toDate(started_at, 'Europe/Stockholm') IN {days:Array(Date)}
           OR toDate(completed_at, 'Europe/Stockholm') IN {days:Array(Date)})
)
SELECT
    day, kind, care_provider_id, care_unit_id, process_name, moment_name, done_on, reason,
    count() AS n,
    uniqExactStateIf(patient, patient != '') AS patients,
    uniqExactStateIf(by, by != '') AS practitioners
FROM
(
    SELECT
        t.1 AS day, t.2 AS kind, t.3 AS by, if(t.2 = 's', patient_id, '') AS patient,
        a.3 AS care_provider_id, a.4 AS care_unit_id, a.1 AS process_name, a.2 AS moment_name,
        ifNull(toDate(completed_at, 'Europe/Stockholm'), toDate('2149-06-06')) AS done_on,
        closing_reason AS reason
    FROM
    (
        SELECT
            if(s.case_id != '', s.case_id, f.case_id) AS case_id,
            coalesce(s.started_at, f.started_at) AS started_at,
            coalesce(s.completed_at, f.completed_at) AS completed_at,
            if(s.case_id != '', s.a, f.a) AS a,
            s.patient_id AS patient_id,
            s.started_by AS started_by,
            s.completed_by AS completed_by,
            if(s.completed_at IS NULL AND f.completed_at IS NOT NULL, f.closing_reason,
               s.closing_reason) AS closing_reason
        FROM
        (
            SELECT
                case_id,
                min(m.started_at) AS started_at,
                min(m.completed_at) AS completed_at,
                argMinMerge(m.attrs) AS a,
                argMinIfMerge(m.patient) AS patient_id,
                argMinIfMerge(m.started_by) AS started_by,
                argMinIfMerge(m.completed_by) AS completed_by,
                argMinIfMerge(m.closing_reason) AS closing_reason
            FROM ${database}.sob_moments AS m
            WHERE m.case_id IN (SELECT case_id FROM cases)
            GROUP BY case_id
        ) AS s
        FULL OUTER JOIN
        (
            SELECT
                c.case_id AS case_id,
                min(c.started_at) AS started_at,
                min(c.completed_at) AS completed_at,
                argMin((c.process_name, c.moment_name, c.care_provider_id, c.care_unit_id),
                       (c.month, c.sha256)) AS a,
                argMinIf(c.closing_reason, (c.completed_at, c.sha256), c.completed_at IS NOT NULL)
                    AS closing_reason
            FROM ${database}.sob_file_cases AS c
            WHERE c.case_type = 'Process' AND c.case_id IN (SELECT case_id FROM cases)
              AND c.sha256 IN (
                SELECT sha256 FROM ${database}.reconciliation_files
                WHERE kind = 'sob/cases' AND status = 'applied'
            )
            GROUP BY c.case_id
        ) AS f ON s.case_id = f.case_id
    )
    ARRAY JOIN [
        (toDate(started_at, 'Europe/Stockholm'), 's', started_by),
        (toDate(completed_at, 'Europe/Stockholm'), 'c', completed_by)
    ] AS t
    WHERE t.1 IS NOT NULL AND (empty({days:Array(Date)}) OR t.1 IN {days:Array(Date)})
)
GROUP BY day, kind, care_provider_id, care_unit_id, process_name, moment_name, done_on, reason
UNION ALL
SELECT
    arrayJoin({days:Array(Date)}) AS day, '' AS kind, '' AS care_provider_id, '' AS care_unit_id,
    '' AS process_name, '' AS moment_name, toDate('2149-06-06') AS done_on, '' AS reason,
    toUInt64(0) AS n, uniqExactStateIf('', 0) AS patients, uniqExactStateIf('', 0) AS practitioners;

-- A recompute left unfinished (a backfill killed between its swap and the
-- rebuild; a file applied but its cases not yet recomputed) marks its rollup
-- stale here first (key: what was left, e.g. a file's hash); the latest row
-- per key says (a clean row's `at` is when its recompute started, so a mark
-- made during a recompute outlives it). A worker rebuilds a stale rollup
-- when it starts ingesting.
CREATE TABLE IF NOT EXISTS derived_state
(
    name String,
    key String,
    stale UInt8,
    at DateTime64(9, 'UTC')
)
ENGINE = ReplacingMergeTree(at)
ORDER BY (name, key);

INSERT INTO sob_moments_daily
SELECT *, now64(9)
FROM sob_moments_day_rows(days = [], months = []);

-- Patients: each patient's latest (gender, age) per Stockholm day and the
-- organisation and moment the transaction names. Transactions are only ever
-- added, so this is a plain view of the raw table (re-delivery merges into
-- the same argMax); a period's latest is the argMax over its days.
CREATE TABLE IF NOT EXISTS sob_patients_daily
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
PARTITION BY toYYYYMM(day)
ORDER BY (day, care_provider_id, care_unit_id, process_name, moment_name, patient_id)
SETTINGS non_replicated_deduplication_window = 10000;

CREATE MATERIALIZED VIEW IF NOT EXISTS sob_patients_daily_mv TO sob_patients_daily AS
SELECT
    toDate(occurred_at, 'Europe/Stockholm') AS day,
    care_provider_id, care_unit_id, process_name, moment_name, patient_id,
    argMaxState(
        (if(patient_gender = '', 'U', patient_gender), ifNull(toInt16(patient_age), toInt16(-1))),
        (occurred_at, event_id)
    ) AS latest
FROM sob_transactions
WHERE case_type = 'Process' AND patient_id != ''
GROUP BY day, care_provider_id, care_unit_id, process_name, moment_name, patient_id;

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
