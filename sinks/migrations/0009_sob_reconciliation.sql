-- Monthly SOB case files: cases whose snapshot disagrees with the streamed
-- lifecycle (filled-in transitions themselves are rows of sob_transactions with
-- source = 'file:<name>').
CREATE TABLE IF NOT EXISTS sob_reconciliation
(
    file String,
    sha256 String,
    month Date,
    case_id String,
    issue String,
    stream_started_at Nullable(DateTime64(3, 'UTC')),
    stream_completed_at Nullable(DateTime64(3, 'UTC')),
    file_started_at Nullable(DateTime64(3, 'UTC')),
    file_completed_at Nullable(DateTime64(3, 'UTC')),
    at DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree(at)
ORDER BY (month, case_id, issue, sha256);
