-- England and the regions as the DfE publishes them (issue 14): the
-- published figure of an area (E92000001, E12...) for a metric and period,
-- and for a derived rate the DfE's own rate where it is published, else
-- the ratio of the published numerator and denominator (as
-- derived_observations computes them for authorities, sql/005).  The
-- tables, profiles, pages and evidence pack take England's and a region's
-- value from here; where nothing is published (council submissions) they
-- fall back to the sum of contributors under the disclosure rules
-- (docs/disclosure.md).  Areas are imported by `sendbench import`
-- (area_observations, sql/020).
CREATE VIEW area_figures AS
WITH c AS NOT MATERIALIZED (
    SELECT area, metric, period, period_kind, period_start, value, symbol
    FROM current_area_observations),
r(metric, num, den, alt_den, sign, scale) AS (VALUES
    ('pct_within_20_weeks', 'new_plans_within_20_weeks', 'new_plans_timeliness_den',
     'new_plans_issued', 1::numeric, 100::numeric),
    ('pct_within_20_weeks_ex', 'new_plans_within_20_weeks_ex', 'new_plans_issued_ex', NULL,
     1::numeric, 100::numeric),
    ('request_to_assessment_rate', 'requests_decided_to_assess', 'requests_received', NULL,
     1::numeric, 100::numeric),
    ('deficit_pct_of_hnb', 'dsg_cumulative_balance_gbp', 'hnb_allocation_gbp', NULL,
     -1::numeric, 100::numeric)),
ratios AS (
    SELECT n.area, r.metric, n.period, n.period_kind, n.period_start,
           CASE WHEN n.value IS NOT NULL AND coalesce(d.value, d2.value) <> 0
                THEN r.sign * n.value / coalesce(d.value, d2.value) * r.scale END AS value,
           CASE WHEN n.value IS NULL THEN n.symbol
                WHEN coalesce(d.value, d2.value) IS NULL THEN coalesce(d.symbol, d2.symbol, 'x')
                WHEN coalesce(d.value, d2.value) = 0 THEN 'x' END AS symbol
    FROM r JOIN c n ON n.metric = r.num
    LEFT JOIN c d ON d.area = n.area AND d.period = n.period AND d.metric = r.den
    LEFT JOIN c d2 ON d2.area = n.area AND d2.period = n.period AND d2.metric = r.alt_den
    WHERE d.area IS NOT NULL OR d2.area IS NOT NULL),
growth AS (
    SELECT y.area, 'caseload_growth_pct'::text AS metric, y.period, y.period_kind, y.period_start,
           CASE WHEN y.value IS NOT NULL AND p.value <> 0
                THEN 100 * (y.value - p.value) / p.value END AS value,
           CASE WHEN y.value IS NULL THEN y.symbol
                WHEN p.value IS NULL THEN coalesce(p.symbol, 'x')
                WHEN p.value = 0 THEN 'x' END AS symbol
    FROM c y JOIN c p ON p.area = y.area AND p.metric = y.metric
        AND p.period = period_year_earlier(y.period)
    WHERE y.metric = 'ehcp_caseload'),
derived AS (
    SELECT * FROM ratios UNION ALL SELECT * FROM growth)
SELECT area, metric, period, period_kind, period_start, value, symbol, 'published'::text AS how
FROM c
UNION ALL
SELECT d.area, d.metric, d.period, d.period_kind, d.period_start, d.value, d.symbol,
       'ratio of published figures'
FROM derived d
WHERE NOT EXISTS (SELECT 1 FROM c x WHERE x.area = d.area AND x.metric = d.metric
                  AND x.period = d.period);
