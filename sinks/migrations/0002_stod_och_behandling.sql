-- Support and treatment: raw SOB transactions, their seen-event store, and the
-- lifecycle of every Process case (a moment) kept by a materialized view.

-- Every transaction, whatever its case type or status: only Process cases are
-- moments, but the rest is stored for later questions. patient_id is personal
-- data: no open report selects it; it feeds exact distinct counts only.
CREATE TABLE IF NOT EXISTS sob_transactions
(
    event_id String,
    occurred_at DateTime64(3, 'UTC'),
    case_id String,
    case_type LowCardinality(String),
    status LowCardinality(String),
    process_name LowCardinality(String),
    moment_name LowCardinality(String),
    care_provider_id String,
    care_unit_id String,
    practitioner_id String,
    patient_id String,
    patient_gender LowCardinality(String),
    patient_age Nullable(UInt8),
    closing_reason String,
    source LowCardinality(String) DEFAULT 'stream',
    source_partition Int32,
    source_offset Int64,
    ingested_at DateTime64(3, 'UTC') DEFAULT now64(3),
    INDEX idx_event_id event_id TYPE bloom_filter GRANULARITY 4,
    INDEX idx_offset source_offset TYPE minmax GRANULARITY 1
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(occurred_at)
ORDER BY (case_type, case_id, occurred_at)
SETTINGS non_replicated_deduplication_window = 10000;

CREATE TABLE IF NOT EXISTS sob_transactions_seen
(
    event_id String
)
ENGINE = EmbeddedRocksDB
PRIMARY KEY event_id;

CREATE MATERIALIZED VIEW IF NOT EXISTS sob_transactions_seen_mv TO sob_transactions_seen AS
SELECT event_id FROM sob_transactions WHERE source = 'stream';

-- The lifecycle of a moment: first Inprogress starts it, first Done completes
-- it, in whatever order transactions arrive. min and argMin are idempotent and
-- order-free (ties broken by event_id), so re-delivery or a replay can never move a start or completion.
CREATE TABLE IF NOT EXISTS sob_moments
(
    case_id String,
    started_at SimpleAggregateFunction(min, Nullable(DateTime64(3, 'UTC'))),
    completed_at SimpleAggregateFunction(min, Nullable(DateTime64(3, 'UTC'))),
    attrs AggregateFunction(argMin, Tuple(String, String, String, String), Tuple(DateTime64(3, 'UTC'), String)),
    patient AggregateFunction(argMinIf, String, Tuple(DateTime64(3, 'UTC'), String), UInt8),
    started_by AggregateFunction(argMinIf, String, Tuple(DateTime64(3, 'UTC'), String), UInt8),
    completed_by AggregateFunction(argMinIf, String, Tuple(DateTime64(3, 'UTC'), String), UInt8),
    closing_reason AggregateFunction(argMinIf, String, Tuple(DateTime64(3, 'UTC'), String), UInt8)
)
ENGINE = AggregatingMergeTree
ORDER BY case_id
SETTINGS non_replicated_deduplication_window = 10000;

CREATE MATERIALIZED VIEW IF NOT EXISTS sob_moments_mv TO sob_moments AS
SELECT
    case_id,
    min(if(status = 'Inprogress', occurred_at, NULL)) AS started_at,
    min(if(status = 'Done', occurred_at, NULL)) AS completed_at,
    argMinState((process_name, moment_name, care_provider_id, care_unit_id), (occurred_at, event_id)) AS attrs,
    argMinIfState(patient_id, (occurred_at, event_id), toUInt8(patient_id != '')) AS patient,
    argMinIfState(practitioner_id, (occurred_at, event_id), toUInt8(status = 'Inprogress')) AS started_by,
    argMinIfState(practitioner_id, (occurred_at, event_id), toUInt8(status = 'Done')) AS completed_by,
    argMinIfState(closing_reason, (occurred_at, event_id), toUInt8(status = 'Done')) AS closing_reason
FROM sob_transactions
WHERE case_type = 'Process'
GROUP BY case_id;

-- One row per moment, merged: what the reports read. Dates are Stockholm days.
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
        case_id,
        min(m.started_at) AS started_at,
        min(m.completed_at) AS completed_at,
        argMinMerge(m.attrs) AS a,
        argMinIfMerge(m.patient) AS patient_id,
        argMinIfMerge(m.started_by) AS started_by,
        argMinIfMerge(m.completed_by) AS completed_by,
        argMinIfMerge(m.closing_reason) AS closing_reason
    FROM sob_moments AS m
    GROUP BY case_id
);

-- Staff names for logged-in reports (hsa.persons.v1).
CREATE TABLE IF NOT EXISTS hsa_persons
(
    hsa_id String,
    given_name String,
    family_name String,
    care_provider_id String,
    deleted UInt8,
    version UInt64
)
ENGINE = ReplacingMergeTree(version)
ORDER BY hsa_id;
