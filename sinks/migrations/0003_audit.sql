-- Who read or exported what, append-only. Logged-in reads, export creations
-- and every export download land here; nothing updates or deletes a row.
CREATE TABLE IF NOT EXISTS audit_log
(
    at DateTime64(3, 'UTC') DEFAULT now64(3),
    subject String,
    care_providers Array(String),
    roles Array(String),
    action LowCardinality(String),
    service LowCardinality(String),
    report LowCardinality(String),
    params String,
    outcome LowCardinality(String),
    export_id String
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(at)
ORDER BY (at, subject);
