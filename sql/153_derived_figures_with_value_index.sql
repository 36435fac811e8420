-- Each metric's public default periods (090's default_periods) are read
-- for every metric a profile shows without a figure of the subject's own:
-- for a derived metric, derived_figures' rows with a value, by metric.  A
-- profile's statement is prepared (a generic plan), for which the planner
-- expected a ninth of the table per metric and scanned all of it, once per
-- such metric: 6 ms each, 87 of an uncached profile's 150 ms in the
-- database (EXPLAIN ANALYZE, load average 7).  With this index 60-75 ms.
CREATE INDEX derived_figures_metric_with_value ON derived_figures (metric, period)
    WHERE value IS NOT NULL;
