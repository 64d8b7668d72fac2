-- Web booking: raw NTjP calls, their daily rollup, the seen-event store for
-- deduplication, ingest checkpoints, and the reference dimensions.

-- One row per accepted call. `calls` is 1 for a streamed event; reconciliation
-- (file drops) adds its corrections as rows of their own with another source,
-- so what the stream said and what the file said both stay queryable.
-- source_partition/source_offset make a re-delivered batch recognisable.
CREATE TABLE IF NOT EXISTS ntjp_calls
(
    event_id String,
    occurred_at DateTime64(3, 'UTC'),
    operation LowCardinality(String),
    logical_address String,
    consumer_id String,
    status LowCardinality(String),
    county_at_ingest LowCardinality(String),
    source LowCardinality(String) DEFAULT 'stream',
    calls Int64 DEFAULT 1,
    source_partition Int32,
    source_offset Int64,
    ingested_at DateTime64(3, 'UTC') DEFAULT now64(3),
    INDEX idx_event_id event_id TYPE bloom_filter GRANULARITY 4,
    INDEX idx_offset source_offset TYPE minmax GRANULARITY 1
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(occurred_at)
ORDER BY (operation, logical_address, occurred_at)
SETTINGS non_replicated_deduplication_window = 10000;

-- Stockholm days: every web booking report is a sum over (day, unit, operation).
-- Exact under crashes: the sink inserts each batch (one month per block) with a
-- deduplication token and deduplicate_blocks_in_dependent_materialized_views,
-- so a repair that inserts the same rows again under the same token is dropped
-- by the raw table and by every view that already has it, and applied by a
-- view that missed it. Unpartitioned so that one raw block is one rollup block.
CREATE TABLE IF NOT EXISTS ntjp_calls_daily
(
    day Date,
    logical_address String,
    operation LowCardinality(String),
    status LowCardinality(String),
    calls SimpleAggregateFunction(sum, Int64)
)
ENGINE = AggregatingMergeTree
ORDER BY (day, operation, logical_address, status)
SETTINGS non_replicated_deduplication_window = 10000;

CREATE MATERIALIZED VIEW IF NOT EXISTS ntjp_calls_daily_mv TO ntjp_calls_daily AS
SELECT
    toDate(occurred_at, 'Europe/Stockholm') AS day,
    logical_address,
    operation,
    status,
    sum(calls) AS calls
FROM ntjp_calls
GROUP BY day, logical_address, operation, status;

-- Operations view: per minute of ingest, by operation and status.
CREATE TABLE IF NOT EXISTS ntjp_calls_minute
(
    minute DateTime('UTC'),
    operation LowCardinality(String),
    status LowCardinality(String),
    calls SimpleAggregateFunction(sum, Int64)
)
ENGINE = AggregatingMergeTree
ORDER BY (minute, operation, status)
TTL minute + INTERVAL 2 DAY
SETTINGS non_replicated_deduplication_window = 10000;

CREATE MATERIALIZED VIEW IF NOT EXISTS ntjp_calls_minute_mv TO ntjp_calls_minute AS
SELECT
    toStartOfMinute(ingested_at) AS minute,
    operation,
    status,
    sum(calls) AS calls
FROM ntjp_calls
WHERE source = 'stream'
GROUP BY minute, operation, status;

-- Every streamed event id ever accepted: a key lookup answers "seen before?"
-- for a re-published event in any later batch, across restarts.
CREATE TABLE IF NOT EXISTS ntjp_calls_seen
(
    event_id String
)
ENGINE = EmbeddedRocksDB
PRIMARY KEY event_id;

CREATE MATERIALIZED VIEW IF NOT EXISTS ntjp_calls_seen_mv TO ntjp_calls_seen AS
SELECT event_id FROM ntjp_calls WHERE source = 'stream';

-- The next offset to read per topic partition, written after each batch's rows.
CREATE TABLE IF NOT EXISTS ingest_checkpoints
(
    topic String,
    partition Int32,
    next_offset Int64,
    updated_at DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree(next_offset)
ORDER BY (topic, partition);

-- Reference dimensions: latest record per key wins (version = source offset),
-- a tombstone is a row with deleted = 1. Reports attribute at query time.
CREATE TABLE IF NOT EXISTS hsa_units
(
    hsa_id String,
    name String,
    kind LowCardinality(String),
    care_provider_id String,
    county_code LowCardinality(String),
    updated_at DateTime64(3, 'UTC'),
    deleted UInt8,
    version UInt64
)
ENGINE = ReplacingMergeTree(version)
ORDER BY hsa_id;

CREATE TABLE IF NOT EXISTS ntjp_routing
(
    logical_address String,
    operation LowCardinality(String),
    active_from Date,
    active_to Nullable(Date),
    deleted UInt8,
    version UInt64
)
ENGINE = ReplacingMergeTree(version)
ORDER BY (logical_address, operation);

CREATE TABLE IF NOT EXISTS scb_population
(
    county_code LowCardinality(String),
    year UInt16,
    population UInt64,
    deleted UInt8,
    version UInt64
)
ENGINE = ReplacingMergeTree(version)
ORDER BY (county_code, year);
