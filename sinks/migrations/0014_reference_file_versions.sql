-- The version a reference file last gave each key of a dimension table
-- (reconcile/apply.py, file_versions): a file's row outranks every stream
-- record of its key read before it (one above the newest offset), and a later
-- file over no new stream record keeps that version instead of climbing past
-- the offsets of records still to come.
CREATE TABLE IF NOT EXISTS reference_file_versions
(
    table_name LowCardinality(String),
    key String,
    version UInt64
)
ENGINE = ReplacingMergeTree(version)
ORDER BY (table_name, key);
