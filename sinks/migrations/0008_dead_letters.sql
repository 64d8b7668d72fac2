-- The latest dead-letter reasons for the operations view, whichever process
-- rejected them (worker or embedded). Reasons never carry a personal identity
-- number (schemas/ redacts them); the original bytes stay in the DLQ topic only.
CREATE TABLE IF NOT EXISTS dead_letters
(
    at DateTime64(3, 'UTC') DEFAULT now64(3),
    topic LowCardinality(String),
    source_partition Int32,
    source_offset Int64,
    reason String
)
ENGINE = MergeTree
ORDER BY at
TTL toDateTime(at) + INTERVAL 30 DAY
SETTINGS non_replicated_deduplication_window = 10000;
