-- Data-quality notes: an operator records a known gap or fault; every answer
-- whose period overlaps it carries the text in its notes, in every format.
CREATE TABLE IF NOT EXISTS annotations
(
    id UUID DEFAULT generateUUIDv4(),
    created_at DateTime64(3, 'UTC') DEFAULT now64(3),
    created_by String,
    service LowCardinality(String),
    reports Array(String),
    date_from Date,
    date_to Date,
    text String
)
ENGINE = MergeTree
ORDER BY (service, date_from, id);
