-- The months stored before 0019, from the daily rollup (the same sums). Runs
-- after the view exists and before this process ingests; the guard makes a
-- re-run (a crash before the version was recorded, or a second process
-- migrating) insert nothing once the table has rows. A writer of an older
-- version still running against a server during the upgrade could put rows
-- in the daily rollup that this misses or double-counts: `statflow backfill
-- ntjp.calls.v1 --from-raw` then rebuilds both from the raw rows.
INSERT INTO ntjp_calls_monthly
SELECT toStartOfMonth(day) AS month, operation, logical_address, sum(calls) AS calls
FROM ntjp_calls_daily
WHERE (SELECT count() FROM ntjp_calls_monthly) = 0
GROUP BY month, operation, logical_address
ORDER BY month, operation, logical_address;
