-- Nightly calls files stand in for their day (issue 23; reconcile/rule.py).
-- A file's counts are stored as they are, not as a delta against what the
-- stream held when it was applied: on a reconciled day the standing file's
-- counts are the day's and no stream row counts, evaluated when a report
-- reads. A backfill swaps the stream tables only, so whatever it replays, a
-- reconciled day still equals its file and an unreconciled day its stream.
-- Duplicate rows (a run killed before the file was registered, applied
-- again) are harmless: readers take max(calls) per key of one file.
-- reconciliation_corrections (0005) is no longer written: the listing
-- computes stream, file and correction per day from what is there now.
-- A file's counts read as status 'ok' (the file has no status column).
CREATE TABLE IF NOT EXISTS calls_file_counts
(
    sha256 String,
    day Date,
    logical_address String,
    operation LowCardinality(String),
    calls Int64,
    at DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree(at)
ORDER BY (day, sha256, logical_address, operation);

-- A file registered by this version says report = 'counts': its counts are
-- here. Files applied before (report = '') keep their old correction rows
-- and count as before until reconcile/apply.py adopts them (adopt_legacy:
-- their day's sums become their counts), which the watcher and every
-- backfill do first; so no day reads 0 in between.

-- The calls every report sums: the stream on days no file closed, the
-- standing file (the last applied; ties by hash) on the days one did.
CREATE VIEW IF NOT EXISTS calls_counted AS
SELECT day, logical_address, toString(operation) AS operation, toString(status) AS status,
    toInt64(calls) AS calls
FROM ${database}.ntjp_calls_daily
WHERE day NOT IN (
    SELECT day FROM ${database}.reconciliation_files
    WHERE kind = 'ntjp/calls' AND status = 'applied' AND report = 'counts'
)
UNION ALL
SELECT day, logical_address, toString(operation) AS operation, 'ok' AS status,
    max(calls) AS calls
FROM ${database}.calls_file_counts
WHERE (day, sha256) IN (
    SELECT day, argMax(sha256, (at, sha256)) FROM ${database}.reconciliation_files
    WHERE kind = 'ntjp/calls' AND status = 'applied' AND report = 'counts' GROUP BY day
)
GROUP BY day, sha256, logical_address, operation;

-- The report writers' view follows the same rule.
DROP VIEW IF EXISTS ${reports_database}.calls_per_day;

CREATE VIEW IF NOT EXISTS ${reports_database}.calls_per_day AS
SELECT day, logical_address AS unit_id, operation, status, sum(calls) AS calls
FROM ${database}.calls_counted
GROUP BY day, unit_id, operation, status;
