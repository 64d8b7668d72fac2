-- 1177 e-services (seed 004): raw case events and logins with their seen-event
-- stores, each case's lifecycle kept by a materialized view, a daily login
-- rollup, and the two compacted reference topics (accounts, units).

CREATE TABLE IF NOT EXISTS etj_cases
(
    event_id String,
    occurred_at DateTime64(3, 'UTC'),
    case_id String,
    unit_id String,
    case_type String,
    case_type_kind LowCardinality(String),
    event LowCardinality(String),
    assignee_id String,
    source LowCardinality(String) DEFAULT 'stream',
    source_partition Int32,
    source_offset Int64,
    ingested_at DateTime64(3, 'UTC') DEFAULT now64(3),
    INDEX idx_event_id event_id TYPE bloom_filter GRANULARITY 4,
    INDEX idx_offset source_offset TYPE minmax GRANULARITY 1
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(occurred_at)
ORDER BY (case_id, occurred_at)
SETTINGS non_replicated_deduplication_window = 10000;

CREATE TABLE IF NOT EXISTS etj_cases_seen
(
    event_id String
)
ENGINE = EmbeddedRocksDB
PRIMARY KEY event_id;

CREATE MATERIALIZED VIEW IF NOT EXISTS etj_cases_seen_mv TO etj_cases_seen AS
SELECT event_id FROM etj_cases WHERE source = 'stream';

-- A case's milestones: the first event of each kind, in whatever order events
-- arrive. min is idempotent and order-free, so re-delivery or a replay can
-- never move a milestone. The attributes are those of the case's first event
-- (ties broken by event_id); `days` holds every Stockholm day the case had an
-- event on (handling-times counts overdue cases "with any event in the period").
CREATE TABLE IF NOT EXISTS etj_case_life
(
    case_id String,
    attrs AggregateFunction(argMin, Tuple(String, String, String), Tuple(DateTime64(3, 'UTC'), String)),
    received_at SimpleAggregateFunction(min, Nullable(DateTime64(3, 'UTC'))),
    assigned_at SimpleAggregateFunction(min, Nullable(DateTime64(3, 'UTC'))),
    started_at SimpleAggregateFunction(min, Nullable(DateTime64(3, 'UTC'))),
    answered_at SimpleAggregateFunction(min, Nullable(DateTime64(3, 'UTC'))),
    closed_at SimpleAggregateFunction(min, Nullable(DateTime64(3, 'UTC'))),
    days AggregateFunction(groupUniqArray, Date)
)
ENGINE = AggregatingMergeTree
ORDER BY case_id
SETTINGS non_replicated_deduplication_window = 10000;

CREATE MATERIALIZED VIEW IF NOT EXISTS etj_case_life_mv TO etj_case_life AS
SELECT
    case_id,
    argMinState((unit_id, case_type, toString(case_type_kind)), (occurred_at, event_id)) AS attrs,
    min(if(event = 'received', occurred_at, NULL)) AS received_at,
    min(if(event = 'assigned', occurred_at, NULL)) AS assigned_at,
    min(if(event = 'started', occurred_at, NULL)) AS started_at,
    min(if(event = 'answered', occurred_at, NULL)) AS answered_at,
    min(if(event = 'closed', occurred_at, NULL)) AS closed_at,
    groupUniqArrayState(toDate(occurred_at, 'Europe/Stockholm')) AS days
FROM etj_cases
GROUP BY case_id;

-- One row per case, merged: what the reports read. Days are Stockholm days.
CREATE VIEW IF NOT EXISTS etj_case_facts AS
SELECT
    case_id,
    a.1 AS unit_id,
    a.2 AS case_type,
    a.3 AS case_type_kind,
    received_at,
    assigned_at,
    started_at,
    answered_at,
    closed_at,
    toDate(received_at, 'Europe/Stockholm') AS received_on,
    toDate(assigned_at, 'Europe/Stockholm') AS assigned_on,
    toDate(started_at, 'Europe/Stockholm') AS started_on,
    toDate(closed_at, 'Europe/Stockholm') AS closed_on,
    days
FROM
(
    SELECT
        case_id,
        argMinMerge(l.attrs) AS a,
        min(l.received_at) AS received_at,
        min(l.assigned_at) AS assigned_at,
        min(l.started_at) AS started_at,
        min(l.answered_at) AS answered_at,
        min(l.closed_at) AS closed_at,
        groupUniqArrayMerge(l.days) AS days
    FROM etj_case_life AS l
    GROUP BY case_id
);

-- Logins: opaque account ids only (the contract forbids personal numbers).
CREATE TABLE IF NOT EXISTS etj_logins
(
    event_id String,
    occurred_at DateTime64(3, 'UTC'),
    account_id String,
    actor LowCardinality(String),
    method LowCardinality(String),
    county_code LowCardinality(String),
    source LowCardinality(String) DEFAULT 'stream',
    source_partition Int32,
    source_offset Int64,
    ingested_at DateTime64(3, 'UTC') DEFAULT now64(3),
    INDEX idx_event_id event_id TYPE bloom_filter GRANULARITY 4,
    INDEX idx_offset source_offset TYPE minmax GRANULARITY 1
)
ENGINE = MergeTree
PARTITION BY toYYYYMM(occurred_at)
ORDER BY (account_id, occurred_at)
SETTINGS non_replicated_deduplication_window = 10000;

CREATE TABLE IF NOT EXISTS etj_logins_seen
(
    event_id String
)
ENGINE = EmbeddedRocksDB
PRIMARY KEY event_id;

CREATE MATERIALIZED VIEW IF NOT EXISTS etj_logins_seen_mv TO etj_logins_seen AS
SELECT event_id FROM etj_logins WHERE source = 'stream';

CREATE TABLE IF NOT EXISTS etj_logins_daily
(
    day Date,
    actor LowCardinality(String),
    method LowCardinality(String),
    county_code LowCardinality(String),
    logins UInt64
)
ENGINE = SummingMergeTree
ORDER BY (day, actor, method, county_code)
SETTINGS non_replicated_deduplication_window = 10000;

CREATE MATERIALIZED VIEW IF NOT EXISTS etj_logins_daily_mv TO etj_logins_daily AS
SELECT
    toDate(occurred_at, 'Europe/Stockholm') AS day,
    actor,
    method,
    county_code,
    count() AS logins
FROM etj_logins
GROUP BY day, actor, method, county_code;

-- Compacted reference topics: the latest record per key wins (version = source
-- offset; a key always lives in one partition), a tombstone is deleted = 1.
CREATE TABLE IF NOT EXISTS etj_accounts
(
    account_id String,
    actor LowCardinality(String),
    created_at DateTime64(3, 'UTC'),
    deleted_at Nullable(DateTime64(3, 'UTC')),
    deleted UInt8,
    version UInt64
)
ENGINE = ReplacingMergeTree(version)
ORDER BY account_id;

CREATE TABLE IF NOT EXISTS etj_units
(
    unit_id String,
    name String,
    care_provider_id String,
    county_code LowCardinality(String),
    care_type LowCardinality(String),
    activated_on Date32,
    active UInt8,
    case_types Array(Tuple(id String, kind String, active UInt8)),
    deleted UInt8,
    version UInt64
)
ENGINE = ReplacingMergeTree(version)
ORDER BY unit_id;
