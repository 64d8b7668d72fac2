-- The e-services daily file's counts as the file has them, so the
-- reconciliation listing shows the whole day (stream and file) of a day that
-- differs, computed against the stream rows there now (issue 23).
CREATE TABLE IF NOT EXISTS etj_file_counts
(
    sha256 String,
    day Date,
    unit_id String,
    case_type String,
    event LowCardinality(String),
    count Int64,
    at DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree(at)
ORDER BY (sha256, unit_id, case_type, event);
