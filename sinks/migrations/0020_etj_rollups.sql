-- 1177 e-services, read-optimised (issue 17): the case reports read a day
-- rollup whose size follows days x units x case types, not the cases stored.
--
-- Cases per Stockholm day, as day snapshots kept by the sink exactly as
-- sob_moments_daily is (sinks/day_rollups.py, sinks/etj_rollups.py): a late
-- event can move a case's milestones, unit or type to other days, so every
-- day a batch's cases ever had an event on is recomputed whole from the
-- lifecycle (etj_case_life) and written under one version; a day reads as its
-- rows of its highest version (a marker row, kind '', per snapshot).
--
-- Kinds, each on its day (a case's first event of the kind; unit and type of
-- its first event); dates that do not apply are 2149-06-06:
--   'r' received  assigned_on, closed_on: the case's assigned and closed days
--                 (case-status: each case once, closed beats assigned beats received)
--   'a' assigned  closed_on; ms/timed: milliseconds since received, cases received
--   's' started   ms/timed: since assigned
--   'c' closed    ms/timed: since started; ms_received/timed_received: since received
--   'e' every day the case had an event on, for cases received and not answered
--       and closed within 240 hours of it: prev_on = its previous event day
--       (1970-01-01 for the first), due_on = the Stockholm day of receipt + 240 h.
--       A case with an event in [F, T] has exactly one such day d with
--       prev_on < F <= d <= T; it is overdue at the end of T when due_on <= T.
CREATE TABLE IF NOT EXISTS etj_cases_daily
(
    day Date,
    kind LowCardinality(String),
    unit_id String,
    case_type String,
    case_type_kind LowCardinality(String),
    assigned_on Date,
    closed_on Date,
    prev_on Date,
    due_on Date,
    n UInt64,
    ms Int64,
    timed UInt64,
    ms_received Int64,
    timed_received UInt64,
    version DateTime64(9, 'UTC')
)
ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(day)
ORDER BY (day, kind, unit_id, case_type, case_type_kind, assigned_on, closed_on, prev_on, due_on);

-- The rows of the days {days} (all days when empty) from the lifecycle as it
-- is now: the cases with a row on one of them are those with an event on it
-- (in the raw table's partitions {months}, the UTC months the days touch).
-- One definition for the sink's recompute and every rebuild.
CREATE VIEW IF NOT EXISTS etj_cases_day_rows AS
WITH cases AS
(
    SELECT case_id FROM ${database}.etj_cases
    WHERE (empty({months:Array(UInt32)}) OR toYYYYMM(occurred_at) IN {months:Array(UInt32)})
      AND (empty({days:Array(Date)}) OR toDate(occurred_at, 'Europe/Stockholm') IN {days:Array(Date)})
)
SELECT
    t.1 AS day, t.2 AS kind, a.1 AS unit_id, a.2 AS case_type, a.3 AS case_type_kind,
    t.3 AS assigned_on, t.4 AS closed_on, t.5 AS prev_on, t.6 AS due_on,
    count() AS n, sum(t.7) AS ms, sum(t.8) AS timed, sum(t.9) AS ms_received,
    sum(t.10) AS timed_received
FROM
(
    SELECT
        a, r, asg, st, cl, ds,
        toDate('2149-06-06') AS none,
        r IS NOT NULL AND NOT (ifNull(an <= addHours(r, 240), 0) AND ifNull(cl <= addHours(r, 240), 0))
            AS late
    FROM
    (
        SELECT
            argMinMerge(l.attrs) AS a,
            min(l.received_at) AS r,
            min(l.assigned_at) AS asg,
            min(l.started_at) AS st,
            min(l.answered_at) AS an,
            min(l.closed_at) AS cl,
            arraySort(groupUniqArrayMerge(l.days)) AS ds
        FROM ${database}.etj_case_life AS l
        WHERE l.case_id IN (SELECT case_id FROM cases)
        GROUP BY l.case_id
    )
)
ARRAY JOIN arrayConcat(
    [
        (toDate(r, 'Europe/Stockholm'), 'r',
         ifNull(toDate(asg, 'Europe/Stockholm'), none), ifNull(toDate(cl, 'Europe/Stockholm'), none),
         none, none, toInt64(0), toUInt64(0), toInt64(0), toUInt64(0)),
        (toDate(asg, 'Europe/Stockholm'), 'a', none, ifNull(toDate(cl, 'Europe/Stockholm'), none),
         none, none, ifNull(toUnixTimestamp64Milli(asg) - toUnixTimestamp64Milli(r), toInt64(0)),
         toUInt64(r IS NOT NULL), toInt64(0), toUInt64(0)),
        (toDate(st, 'Europe/Stockholm'), 's', none, none, none, none,
         ifNull(toUnixTimestamp64Milli(st) - toUnixTimestamp64Milli(asg), toInt64(0)),
         toUInt64(asg IS NOT NULL), toInt64(0), toUInt64(0)),
        (toDate(cl, 'Europe/Stockholm'), 'c', none, none, none, none,
         ifNull(toUnixTimestamp64Milli(cl) - toUnixTimestamp64Milli(st), toInt64(0)),
         toUInt64(st IS NOT NULL),
         ifNull(toUnixTimestamp64Milli(cl) - toUnixTimestamp64Milli(r), toInt64(0)),
         toUInt64(r IS NOT NULL))
    ],
    if(late,
       arrayMap(i -> (toNullable(ds[i]), 'e', none, none,
                      if(i = 1, toDate('1970-01-01'), ds[i - 1]),
                      assumeNotNull(toDate(addHours(r, 240), 'Europe/Stockholm')),
                      toInt64(0), toUInt64(0), toInt64(0), toUInt64(0)),
                arrayEnumerate(ds)),
       [])
) AS t
WHERE t.1 IS NOT NULL AND (empty({days:Array(Date)}) OR t.1 IN {days:Array(Date)})
GROUP BY day, kind, unit_id, case_type, case_type_kind, assigned_on, closed_on, prev_on, due_on
UNION ALL
SELECT
    arrayJoin({days:Array(Date)}) AS day, '' AS kind, '' AS unit_id, '' AS case_type,
    '' AS case_type_kind, toDate('2149-06-06') AS assigned_on, toDate('2149-06-06') AS closed_on,
    toDate('2149-06-06') AS prev_on, toDate('2149-06-06') AS due_on, toUInt64(0) AS n,
    toInt64(0) AS ms, toUInt64(0) AS timed, toInt64(0) AS ms_received, toUInt64(0) AS timed_received;

INSERT INTO etj_cases_daily
SELECT *, now64(9)
FROM etj_cases_day_rows(days = [], months = []);

-- Accounts: one row per account with its runs of one county over time, so
-- the accounts report reads one row per account instead of every login ever
-- made. An account sits in the county of its latest login before the end of
-- the period ('00' before its first login, or for a login without a county)
-- while it exists: a run (first day, until, county) counts at the end of day
-- D when first day <= D < until (first day no earlier than the account's
-- creation; until the day of the next login in another county or of the
-- deletion, 2149-06-06 while neither; runs that hold at no day's end are left
-- out). Kept by the logins' sink and the accounts' reference agent
-- (sinks/etj_rollups.py): the batch's accounts are recomputed whole from what
-- is stored and written under a new version (now64 of the server when the
-- query starts); the latest version per account wins. A tombstoned account
-- has no runs.
CREATE TABLE IF NOT EXISTS etj_account_runs
(
    account_id String,
    actor LowCardinality(String),
    runs Array(Tuple(Date, Date, LowCardinality(String))),
    version DateTime64(9, 'UTC')
)
ENGINE = ReplacingMergeTree(version)
ORDER BY account_id;

-- The rows of the accounts {ids} (every account when empty).
CREATE VIEW IF NOT EXISTS etj_account_runs_rows AS
SELECT
    account_id,
    actor,
    arrayFilter(x -> x.1 < x.2,
        arrayMap(x -> (greatest(x.1, born), least(x.2, gone), x.3), raw_runs)) AS runs
FROM
(
    SELECT
        a.account_id AS account_id,
        a.actor AS actor,
        a.deleted AS deleted,
        toDate(a.created_at, 'Europe/Stockholm') AS born,
        if(a.deleted = 1, born,
           ifNull(toDate(a.deleted_at, 'Europe/Stockholm'), toDate('2149-06-06'))) AS gone,
        arrayMap(x -> x.1, l.logins) AS ts,
        arrayMap(x -> if(x.3 = '', '00', x.3), l.logins) AS cs,
        arrayFilter(i -> i = 1 OR cs[i] != cs[i - 1], arrayEnumerate(cs)) AS starts,
        -- (first day, until, county) of each run: before the first login, then per county
        arrayConcat(
            [(born, if(empty(ts), toDate('2149-06-06'), toDate(ts[1], 'Europe/Stockholm')), '00')],
            arrayMap(j -> (
                toDate(ts[starts[j]], 'Europe/Stockholm'),
                if(j < length(starts), toDate(ts[starts[j + 1]], 'Europe/Stockholm'),
                   toDate('2149-06-06')),
                cs[starts[j]]), arrayEnumerate(starts))
        ) AS raw_runs
    FROM
    (
        SELECT account_id, argMax(actor, version) AS actor, argMax(created_at, version) AS created_at,
               argMax(deleted_at, version) AS deleted_at, argMax(deleted, version) AS deleted
        FROM ${database}.etj_accounts
        WHERE empty({ids:Array(String)}) OR account_id IN {ids:Array(String)}
        GROUP BY account_id
    ) AS a
    LEFT JOIN
    (
        SELECT account_id, arraySort(x -> (x.1, x.2), groupArray((occurred_at, event_id, county_code)))
            AS logins
        FROM ${database}.etj_logins
        WHERE empty({ids:Array(String)}) OR account_id IN {ids:Array(String)}
        GROUP BY account_id
    ) AS l ON a.account_id = l.account_id
);

INSERT INTO etj_account_runs
SELECT *, now64(9) FROM etj_account_runs_rows(ids = []);
