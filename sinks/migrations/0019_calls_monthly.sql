-- Web booking per Stockholm month (issue 17): a whole month of a report's
-- period is one row per (operation, unit) here instead of one per day in
-- ntjp_calls_daily, so the cost of a report follows the months asked for.
-- Kept exactly like the daily rollup: filled by a view from the same raw
-- blocks, whose deduplication tokens (sinks/events.py DEDUP) drop a repaired
-- block here too if this view already has it; unpartitioned, so that one raw
-- block is one part. Every stream row counts here whatever its day: the
-- nightly-file rule is applied when a report reads (reports/
-- webbtidbokning_sql.py: the month minus its file-closed days' stream rows
-- plus those days' file counts). Backfill swaps it with the other views'
-- targets (streams/backfill.py family_of); bench/scale.py fills it through
-- the view. The months stored before this migration are derived once from
-- ntjp_calls_daily (fill/0019_calls_monthly.sql).
CREATE TABLE IF NOT EXISTS ntjp_calls_monthly
(
    month Date,
    operation LowCardinality(String),
    logical_address String,
    calls SimpleAggregateFunction(sum, Int64)
)
ENGINE = AggregatingMergeTree
ORDER BY (month, operation, logical_address)
SETTINGS non_replicated_deduplication_window = 10000;

CREATE MATERIALIZED VIEW IF NOT EXISTS ntjp_calls_monthly_mv TO ntjp_calls_monthly AS
SELECT
    toStartOfMonth(toDate(occurred_at, 'Europe/Stockholm')) AS month,
    operation,
    logical_address,
    sum(calls) AS calls
FROM ntjp_calls
GROUP BY month, operation, logical_address;
