-- The 1177 e-services nightly file (etj/cases-YYYY-MM-DD.csv) compared with the
-- stream: events per (day, unit, case type, event). Case reports count each
-- case's own milestones, which a count per day cannot correct, so a file is
-- compared, not applied as corrections; a difference becomes a data-quality
-- annotation on every e-tjanster answer that covers the day.
CREATE TABLE IF NOT EXISTS etj_reconciliation
(
    file String,
    sha256 String,
    day Date,
    unit_id String,
    case_type String,
    event LowCardinality(String),
    stream_count Int64,
    file_count Int64,
    at DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree(at)
ORDER BY (day, unit_id, case_type, event, sha256);
