-- Nightly file drops. Every file seen, by content hash: applying the same file
-- twice changes nothing. Corrections of the calls are rows of ntjp_calls with
-- source = 'file:<name>' (never deletions), so what the stream said and what the
-- file said both stay queryable; this table records each day's discrepancy.
CREATE TABLE IF NOT EXISTS reconciliation_files
(
    sha256 String,
    name String,
    kind LowCardinality(String),
    day Date,
    status LowCardinality(String),
    rows UInt32,
    corrected UInt32,
    report String,
    at DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree(at)
ORDER BY sha256;

CREATE TABLE IF NOT EXISTS reconciliation_corrections
(
    file String,
    sha256 String,
    day Date,
    logical_address String,
    operation LowCardinality(String),
    stream_count Int64,
    file_count Int64,
    correction Int64,
    at DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree(at)
ORDER BY (day, logical_address, operation, sha256);
