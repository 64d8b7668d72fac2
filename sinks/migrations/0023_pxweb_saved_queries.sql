-- Saved queries of the PxWeb table API (issue 22): a table and a selection as
-- the caller wrote it (expressions such as top(12) are kept, not resolved, so
-- a saved "last 12 months" moves with time). The id is a hash of the query's
-- canonical JSON: saving one query twice, from any API process, is one row.
CREATE TABLE IF NOT EXISTS pxweb_saved_queries
(
    id String,
    table_id String,
    query String,
    created_at DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = ReplacingMergeTree
ORDER BY id;
