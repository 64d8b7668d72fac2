-- Dead letters keyed by their source message (issue 21). The DLQ topic may
-- hold a message twice (rejects are sent before the batch's checkpoint, so a
-- batch read again after a crash sends them again), and the table got a row
-- per rejection: now (topic, source_partition, source_offset) is the key, so
-- a message rejected twice is one row once merged and every read takes one
-- row per key (FINAL). Rebuilt from the old table's rows in one statement that
-- can run again: CREATE OR REPLACE fills a new table and swaps it in
-- atomically, and a second run copies the keyed table onto itself.
CREATE OR REPLACE TABLE dead_letters
(
    at DateTime64(3, 'UTC') DEFAULT now64(3),
    topic LowCardinality(String),
    source_partition Int32,
    source_offset Int64,
    reason String
)
ENGINE = ReplacingMergeTree
ORDER BY (topic, source_partition, source_offset)
TTL toDateTime(at) + INTERVAL 30 DAY
SETTINGS non_replicated_deduplication_window = 10000
AS SELECT at, topic, source_partition, source_offset, reason FROM dead_letters;

-- What each replay did to each dead letter, per contract version (the
-- fingerprint of the contract as enforced, schemas/topics.contract_version):
-- 'producing' is written before the message is produced to its topic,
-- 'replayed' after the broker took it, 'still_failing' (with the new reason)
-- when the current contract refuses it too, 'gone' when the DLQ topic no
-- longer holds it (retention). The newest row per key is the outcome. A
-- replay skips a message replayed under any version, and one that failed or
-- was gone under this version; a 'producing' left by a killed replay is
-- produced again (the topic's event_id deduplication keeps it counted once).
CREATE TABLE IF NOT EXISTS dead_letter_replays
(
    topic LowCardinality(String),
    source_partition Int32,
    source_offset Int64,
    contract_version String,
    run_id String,
    outcome LowCardinality(String),
    reason String,
    replayed_by String,
    at DateTime64(6, 'UTC') DEFAULT now64(6)
)
ENGINE = ReplacingMergeTree(at)
ORDER BY (topic, source_partition, source_offset, contract_version);

-- One row per replay run and state ('started', then 'done'): who asked, when,
-- which selection, and what came of it. The newest row per run is its state.
CREATE TABLE IF NOT EXISTS dead_letter_replay_runs
(
    run_id String,
    at DateTime64(6, 'UTC') DEFAULT now64(6),
    started_at DateTime64(3, 'UTC'),
    replayed_by String,
    topic LowCardinality(String),
    contract_version String,
    selection String,
    dry_run UInt8,
    state LowCardinality(String),
    selected UInt64,
    replayed UInt64,
    still_failing UInt64,
    skipped UInt64,
    gone UInt64
)
ENGINE = ReplacingMergeTree(at)
ORDER BY run_id;
