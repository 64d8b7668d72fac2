-- Coordination between processes (issue 19): a lease per name, e.g.
-- 'backfill/<topic>' or 'reconcile', held by one process at a time, whichever
-- process that is (`statflow api`, `statflow worker` xN, `statflow reconcile`).
-- Rows are only ever appended: a 'claim' of epoch N, 'renew' rows that move
-- its expiry, a 'release'. Every claim of (name, epoch) is inserted under the
-- same deduplication token, so of two processes racing for epoch N exactly one
-- row lands (the block deduplication is atomic in the server and in Keeper)
-- and both read back the same holder (sinks/leases.py). A per-partition epoch
-- for checkpoint fencing fits as another name ('checkpoint/<topic>/<p>').
CREATE TABLE IF NOT EXISTS leases
(
    name String,
    epoch UInt64,
    kind Enum8('claim' = 1, 'renew' = 2, 'release' = 3),
    holder String,
    at DateTime64(3, 'UTC'),
    expires_at DateTime64(3, 'UTC')
)
ENGINE = MergeTree
ORDER BY (name, epoch, at)
TTL toDateTime(at) + INTERVAL 7 DAY
SETTINGS non_replicated_deduplication_window = 10000;

-- What each worker's ingest loop holds, written every few seconds and when it
-- pauses for a backfill: the live view's "workers alive" and the backfill's
-- proof that every live owner of the topic has stopped writing.
CREATE TABLE IF NOT EXISTS worker_heartbeats
(
    worker String,
    topic LowCardinality(String),
    at DateTime64(3, 'UTC'),
    partitions Array(Int32),
    paused_epoch UInt64
)
ENGINE = MergeTree
ORDER BY (topic, worker, at)
TTL toDateTime(at) + INTERVAL 1 DAY;
