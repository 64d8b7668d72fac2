-- SOB month files fill in at read time (issue 23). A file's cases are stored
-- as the file has them; the lifecycle a report reads takes each start and
-- completion from the stream where the stream has one and from the applied
-- files (the earliest they say) where it has none. No fill is stored as a
-- transaction computed against the stream rows of the moment, so a backfill,
-- whatever it replays, leaves every filled transition filled. Transactions an
-- older version wrote for a file (source = file:<name>) still count as before.
CREATE TABLE IF NOT EXISTS sob_file_cases
(
    sha256 String,
    month Date,
    case_id String,
    case_type LowCardinality(String),
    process_name String,
    moment_name String,
    care_provider_id String,
    care_unit_id String,
    started_at Nullable(DateTime64(3, 'UTC')),
    completed_at Nullable(DateTime64(3, 'UTC')),
    closing_reason String,
    at DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree(at)
ORDER BY (sha256, case_id);

DROP VIEW IF EXISTS sob_moment_facts;

-- One row per moment, merged: what the reports read. Dates are Stockholm days.
-- A side missing from the join reads as its defaults: NULL instants, ''.
CREATE VIEW IF NOT EXISTS sob_moment_facts AS
SELECT
    case_id,
    started_at,
    completed_at,
    toDate(started_at, 'Europe/Stockholm') AS started_on,
    toDate(completed_at, 'Europe/Stockholm') AS completed_on,
    a.1 AS process_name,
    a.2 AS moment_name,
    a.3 AS care_provider_id,
    a.4 AS care_unit_id,
    patient_id,
    started_by,
    completed_by,
    closing_reason
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
        WHERE c.case_type = 'Process' AND c.sha256 IN (
            SELECT sha256 FROM ${database}.reconciliation_files
            WHERE kind = 'sob/cases' AND status = 'applied'
        )
        GROUP BY c.case_id
    ) AS f ON s.case_id = f.case_id
);
