-- Comparative tables (issue 6): derived metrics, the masking key, and the
-- notifications that keep every server's table cache coherent.

-- The year-earlier period of an annual or quarterly period string:
-- '2022' -> '2021', '2021-22' -> '2020-21', '2024-25 Q2' -> '2023-24 Q2'.
CREATE FUNCTION period_year_earlier(p text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT AS $$
    SELECT CASE
        WHEN p ~ '^[0-9]{4}$' THEN (left(p, 4)::int - 1)::text
        WHEN p ~ '^[0-9]{4}-[0-9]{2}( Q[1-4])?$' THEN
            (left(p, 4)::int - 1)::text || '-' || lpad(((left(p, 4)::int) % 100)::text, 2, '0')
            || substr(p, 8)
    END
$$;

-- Derived metrics, computed from the figures in force.  One row per
-- (derived metric, authority, period) for which at least one input exists;
-- when an input is missing, suppressed or a zero denominator the value is
-- NULL and `reason` says why: missing is never 0.  A derived figure is
-- published only when every input is.
CREATE VIEW derived_observations AS
-- One branch per ratio with constant metric ids, so that a query for one
-- derived metric and period prunes the other branches and reads only its
-- inputs through the (metric, period) index.
WITH inputs AS (
    -- The 20-week rate's denominator is the plans the timeliness counts
    -- cover: the DfE's own (new_plans_timeliness_den) where SEN2 publishes
    -- it, else the plans issued in the period (council submissions).
    SELECT 'pct_within_20_weeks'::text AS metric, 'new_plans_within_20_weeks'::text AS num,
           CASE WHEN bool_or(c.metric = 'new_plans_timeliness_den') THEN 'new_plans_timeliness_den'
                ELSE 'new_plans_issued' END AS den,
           1::numeric AS sign, 100::numeric AS scale, c.authority, c.period, c.period_kind,
           min(c.period_start) AS period_start,
           bool_or(c.metric = 'new_plans_within_20_weeks') AS has_n,
           max(c.value) FILTER (WHERE c.metric = 'new_plans_within_20_weeks') AS nv,
           max(c.symbol) FILTER (WHERE c.metric = 'new_plans_within_20_weeks') AS ns,
           bool_or(c.metric IN ('new_plans_issued', 'new_plans_timeliness_den')) AS has_d,
           CASE WHEN bool_or(c.metric = 'new_plans_timeliness_den')
                THEN max(c.value) FILTER (WHERE c.metric = 'new_plans_timeliness_den')
                ELSE max(c.value) FILTER (WHERE c.metric = 'new_plans_issued') END AS dv,
           CASE WHEN bool_or(c.metric = 'new_plans_timeliness_den')
                THEN max(c.symbol) FILTER (WHERE c.metric = 'new_plans_timeliness_den')
                ELSE max(c.symbol) FILTER (WHERE c.metric = 'new_plans_issued') END AS ds,
           bool_and(c.published) FILTER (WHERE c.metric IN ('new_plans_within_20_weeks',
               'new_plans_timeliness_den', 'new_plans_issued')) AS published
    FROM current_observations c
    WHERE c.metric IN ('new_plans_within_20_weeks', 'new_plans_issued', 'new_plans_timeliness_den')
    GROUP BY c.authority, c.period, c.period_kind
    UNION ALL
    SELECT 'pct_within_20_weeks_ex'::text AS metric, 'new_plans_within_20_weeks_ex'::text AS num, 'new_plans_issued_ex'::text AS den,
           1::numeric AS sign, 100::numeric AS scale, c.authority, c.period, c.period_kind,
           min(c.period_start) AS period_start,
           bool_or(c.metric = 'new_plans_within_20_weeks_ex') AS has_n,
           max(c.value) FILTER (WHERE c.metric = 'new_plans_within_20_weeks_ex') AS nv,
           max(c.symbol) FILTER (WHERE c.metric = 'new_plans_within_20_weeks_ex') AS ns,
           bool_or(c.metric = 'new_plans_issued_ex') AS has_d,
           max(c.value) FILTER (WHERE c.metric = 'new_plans_issued_ex') AS dv,
           max(c.symbol) FILTER (WHERE c.metric = 'new_plans_issued_ex') AS ds,
           bool_and(c.published) AS published
    FROM current_observations c
    WHERE c.metric IN ('new_plans_within_20_weeks_ex', 'new_plans_issued_ex')
    GROUP BY c.authority, c.period, c.period_kind
    UNION ALL
    SELECT 'caseload_per_officer'::text AS metric, 'ehcp_caseload'::text AS num, 'case_officers_fte'::text AS den,
           1::numeric AS sign, 1::numeric AS scale, c.authority, c.period, c.period_kind,
           min(c.period_start) AS period_start,
           bool_or(c.metric = 'ehcp_caseload') AS has_n,
           max(c.value) FILTER (WHERE c.metric = 'ehcp_caseload') AS nv,
           max(c.symbol) FILTER (WHERE c.metric = 'ehcp_caseload') AS ns,
           bool_or(c.metric = 'case_officers_fte') AS has_d,
           max(c.value) FILTER (WHERE c.metric = 'case_officers_fte') AS dv,
           max(c.symbol) FILTER (WHERE c.metric = 'case_officers_fte') AS ds,
           bool_and(c.published) AS published
    FROM current_observations c
    WHERE c.metric IN ('ehcp_caseload', 'case_officers_fte')
    GROUP BY c.authority, c.period, c.period_kind
    UNION ALL
    SELECT 'deficit_pct_of_hnb'::text AS metric, 'dsg_cumulative_balance_gbp'::text AS num, 'hnb_allocation_gbp'::text AS den,
           -1::numeric AS sign, 100::numeric AS scale, c.authority, c.period, c.period_kind,
           min(c.period_start) AS period_start,
           bool_or(c.metric = 'dsg_cumulative_balance_gbp') AS has_n,
           max(c.value) FILTER (WHERE c.metric = 'dsg_cumulative_balance_gbp') AS nv,
           max(c.symbol) FILTER (WHERE c.metric = 'dsg_cumulative_balance_gbp') AS ns,
           bool_or(c.metric = 'hnb_allocation_gbp') AS has_d,
           max(c.value) FILTER (WHERE c.metric = 'hnb_allocation_gbp') AS dv,
           max(c.symbol) FILTER (WHERE c.metric = 'hnb_allocation_gbp') AS ds,
           bool_and(c.published) AS published
    FROM current_observations c
    WHERE c.metric IN ('dsg_cumulative_balance_gbp', 'hnb_allocation_gbp')
    GROUP BY c.authority, c.period, c.period_kind
    UNION ALL
    SELECT 'request_to_assessment_rate'::text AS metric, 'requests_decided_to_assess'::text AS num, 'requests_received'::text AS den,
           1::numeric AS sign, 100::numeric AS scale, c.authority, c.period, c.period_kind,
           min(c.period_start) AS period_start,
           bool_or(c.metric = 'requests_decided_to_assess') AS has_n,
           max(c.value) FILTER (WHERE c.metric = 'requests_decided_to_assess') AS nv,
           max(c.symbol) FILTER (WHERE c.metric = 'requests_decided_to_assess') AS ns,
           bool_or(c.metric = 'requests_received') AS has_d,
           max(c.value) FILTER (WHERE c.metric = 'requests_received') AS dv,
           max(c.symbol) FILTER (WHERE c.metric = 'requests_received') AS ds,
           bool_and(c.published) AS published
    FROM current_observations c
    WHERE c.metric IN ('requests_decided_to_assess', 'requests_received')
    GROUP BY c.authority, c.period, c.period_kind
),
ratios AS (
    SELECT authority, metric, period, period_kind, period_start,
           CASE WHEN has_n AND has_d AND nv IS NOT NULL AND dv IS NOT NULL AND dv <> 0
                THEN sign * nv / dv * scale END AS value,
           CASE WHEN NOT has_n THEN num || ' missing'
                WHEN nv IS NULL THEN num || ' is ' || ns
                WHEN NOT has_d THEN den || ' missing'
                WHEN dv IS NULL THEN den || ' is ' || ds
                WHEN dv = 0 THEN den || ' is zero' END AS reason,
           published
    FROM inputs
),
growth AS (
    SELECT c.authority, 'caseload_growth_pct'::text AS metric, c.period, c.period_kind,
           c.period_start,
           CASE WHEN c.value IS NOT NULL AND p.value IS NOT NULL AND p.value <> 0
                THEN (c.value / p.value - 1) * 100 END AS value,
           CASE WHEN c.value IS NULL THEN 'ehcp_caseload is ' || c.symbol
                WHEN p.authority IS NULL THEN 'ehcp_caseload missing for ' || period_year_earlier(c.period)
                WHEN p.value IS NULL THEN 'ehcp_caseload for ' || p.period || ' is ' || p.symbol
                WHEN p.value = 0 THEN 'ehcp_caseload for ' || p.period || ' is zero' END AS reason,
           c.published AND coalesce(p.published, true) AS published
    FROM current_observations c
    LEFT JOIN current_observations p
           ON p.authority = c.authority AND p.metric = 'ehcp_caseload'
          AND p.period_kind = c.period_kind AND p.period = period_year_earlier(c.period)
    WHERE c.metric = 'ehcp_caseload'
)
SELECT authority, metric, period, period_kind, period_start, value, reason, published FROM ratios
UNION ALL
SELECT authority, metric, period, period_kind, period_start, value, reason, published FROM growth;

-- The secret that orders masked authorities ("Neighbour A", "B"...) in a
-- table: letters follow HMAC-SHA256(key, table identity + authority), so they
-- are stable for one table, differ between tables, and cannot be recomputed
-- by a reader who knows the (public) list of neighbours.  One row, made here.
CREATE TABLE table_mask_key (
    id   boolean PRIMARY KEY DEFAULT true CHECK (id),
    key  text NOT NULL DEFAULT (gen_random_uuid()::text || gen_random_uuid()::text)
);
INSERT INTO table_mask_key DEFAULT VALUES;

-- Every server caches computed tables; a change to any of their inputs,
-- by whichever process, tells every server through this channel.  Statement
-- level: a bulk import sends one notification per statement (and PostgreSQL
-- folds identical notifications of one transaction into one).
CREATE FUNCTION notify_table_inputs() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('sendbench_data', TG_TABLE_NAME);
    RETURN NULL;
END $$;

CREATE TRIGGER observations_notify AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON observations
    FOR EACH STATEMENT EXECUTE FUNCTION notify_table_inputs();
CREATE TRIGGER statistical_neighbours_notify AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
    ON statistical_neighbours FOR EACH STATEMENT EXECUTE FUNCTION notify_table_inputs();
CREATE TRIGGER authorities_notify AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON authorities
    FOR EACH STATEMENT EXECUTE FUNCTION notify_table_inputs();
CREATE TRIGGER metrics_notify AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON metrics
    FOR EACH STATEMENT EXECUTE FUNCTION notify_table_inputs();
CREATE TRIGGER table_mask_key_notify AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON table_mask_key
    FOR EACH STATEMENT EXECUTE FUNCTION notify_table_inputs();
