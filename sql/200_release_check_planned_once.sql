-- A write's release check, planned once (issue 19).
--
-- figure_releases_due (sql/180, revised by sql/181) runs at commit for every
-- write that touches a figure of a quarter: after each submission's and each
-- approval's recomputation of the figures in force, and once more for every
-- unpublished row the recomputation deletes.  It built its statement with
-- EXECUTE format(...) so that one text served both tables, and EXECUTE plans
-- a statement afresh on every call: on the shipped data 2.6 ms of planning
-- for 0.7 ms of execution on a quiet machine, 14-17 ms a call under
-- `make load` (perf's pgbench measurement, README "Performance").
--
-- Here the statement is static, so PL/pgSQL keeps its plan for the session:
-- both tables are read in one statement, each behind a condition on `tbl`
-- that the plan evaluates once.  The generic plan is forced
-- (plan_cache_mode), because jsonb_to_recordset gives the planner no row
-- count and a custom plan would be made again for each call.  The partial
-- indexes keep that generic plan away from the published rows (63,177 on the
-- shipped data) that the check never reads: only submitted figures are
-- unpublished, and those are few.
--
-- What the function decides is unchanged (docs/disclosure.md rules 11, 12).
CREATE INDEX figures_in_force_unpublished ON figures_in_force (metric, period)
    WHERE published IS NOT TRUE;
CREATE INDEX derived_figures_unpublished ON derived_figures (metric, period)
    WHERE published IS NOT TRUE;

CREATE OR REPLACE FUNCTION figure_releases_due(tbl regclass, keys jsonb) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = public, pg_temp SET plan_cache_mode = force_generic_plan AS $$
DECLARE
    derived boolean := tbl = 'derived_figures'::regclass;
BEGIN
    WITH touched AS (
        SELECT DISTINCT k.metric, k.period, a.region_code
        FROM jsonb_to_recordset(keys) AS k(metric text, period text, authority text)
        JOIN authorities a ON a.new_la_code = k.authority),
    unpublished AS (
        SELECT f.authority, f.metric, f.period, f.period_kind, f.period_start, f.value,
               f.symbol
        FROM figures_in_force f
        WHERE NOT derived AND f.published IS NOT TRUE
        UNION ALL
        SELECT f.authority, f.metric, f.period, f.period_kind, f.period_start, f.value,
               NULL::text
        FROM derived_figures f
        WHERE derived AND f.published IS NOT TRUE),
    cur AS (
        SELECT f.*, t.region_code
        FROM touched t
        JOIN unpublished f ON f.metric = t.metric AND f.period = t.period
        JOIN authorities a ON a.new_la_code = f.authority
         AND a.region_code IS NOT DISTINCT FROM t.region_code AND NOT a.consent_to_name),
    held AS (
        SELECT r.*, t.region_code
        FROM touched t
        JOIN figure_releases r ON r.metric = t.metric AND r.period = t.period
        JOIN authorities a ON a.new_la_code = r.authority
         AND a.region_code IS NOT DISTINCT FROM t.region_code AND NOT a.consent_to_name
        -- a release of this kind of figure (a plain metric or a derived one)
        WHERE EXISTS (SELECT 1 FROM derived_metrics d WHERE d.metric = r.metric) = derived),
    changes AS (
        SELECT coalesce(c.authority, h.authority) AS authority,
               coalesce(c.metric, h.metric) AS metric, coalesce(c.period, h.period) AS period,
               coalesce(c.region_code, h.region_code) AS region_code,
               c.authority IS NOT NULL AS in_force, c.value, c.symbol, c.period_kind,
               c.period_start,
               c.value IS NOT NULL OR h.value IS NOT NULL AS valued
        FROM cur c FULL JOIN held h ON h.authority = c.authority AND h.metric = c.metric
         AND h.period = c.period
        WHERE h.authority IS NULL OR c.authority IS NULL
           OR h.value IS DISTINCT FROM c.value OR h.symbol IS DISTINCT FROM c.symbol),
    groups AS (
        SELECT metric, period, region_code, nextval('figure_release_batches') AS batch
        FROM changes GROUP BY metric, period, region_code
        HAVING count(*) FILTER (WHERE valued) >= 3),
    due AS (
        SELECT c.*, g.batch FROM changes c JOIN groups g ON g.metric = c.metric
         AND g.period = c.period AND g.region_code IS NOT DISTINCT FROM c.region_code),
    gone AS (
        DELETE FROM figure_releases r USING due d
        WHERE NOT d.in_force AND r.authority = d.authority AND r.metric = d.metric
          AND r.period = d.period)
    INSERT INTO figure_releases (authority, metric, period, batch, value, symbol,
                                 period_kind, period_start)
    SELECT authority, metric, period, batch, value, symbol, period_kind, period_start
    FROM due WHERE in_force
    ON CONFLICT (authority, metric, period) DO UPDATE
    SET batch = excluded.batch, released_at = now(), value = excluded.value,
        symbol = excluded.symbol, period_kind = excluded.period_kind,
        period_start = excluded.period_start;
END $$;
REVOKE ALL ON FUNCTION figure_releases_due(regclass, jsonb) FROM PUBLIC;
