-- Support and treatment leaves the reports database (issue 15). Its two views
-- gave moments started and completed per Stockholm day and unit, for every
-- unit: a moment is one patient's course of treatment, so a count of 1 on a
-- day at a unit is about one person, and the open tier shows neither counts
-- of 1–9 nor unit rows of care providers that did not opt in. Free SQL cannot
-- be held to that rule: a withheld day comes back as a month's total minus the
-- shown days, and sob_completed_per_reason summed over reasons gives
-- sob_moments_per_day's completed. The open and logged-in report API serves
-- these counts with the rule applied (stod-och-behandling reports).
DROP VIEW IF EXISTS ${reports_database}.sob_moments_per_day;
DROP VIEW IF EXISTS ${reports_database}.sob_completed_per_reason;
