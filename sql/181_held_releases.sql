-- Revisions and withdrawals wait for a batch too (issue 15,
-- docs/disclosure.md rule 12).
--
-- sql/180 batched a figure's first entry into England's and its region's
-- aggregates, but once released a figure's revision (a new approved
-- version) entered at once, so two readings around it differed by the
-- change in that council's figure, and a withdrawal took it out at once, so
-- two readings differed by the figure itself.  Now the aggregates hold the
-- version that was released:
--
--   figure_releases.value, .symbol   the version the aggregates hold (the
--                     one in force when its batch was released)
--   figure_state()    'released', the batch and the held value, separated
--                     by spaces (nothing after the batch: the held version
--                     has a symbol), so that the readers aggregate the held
--                     version, not the one in force, and can tell which
--                     batch brought it (server/tables_query.c tq_read_cell)
--   figures_held_out  released figures no longer in force (withdrawn, or
--                     quarantined): the readers add them as rows with no
--                     figure, whose held version still counts in aggregates
--   figure_aggregated_value()  the value an aggregate of inputs reads (a
--                     rate's numerator and denominator for a ratio of sums)
--
-- A change is a figure in force that differs from its held version, a
-- figure with no release (sql/180's waiting figure) or a held figure no
-- longer in force.  When at least three changes of one region, metric and
-- period carry a value (before or after), every change waiting there is
-- released together: held versions take the values in force, held figures
-- no longer in force leave.  A region's aggregate therefore moves only by
-- three or more changes at once, whether new figures, revisions or
-- withdrawals.

ALTER TABLE figure_releases ADD COLUMN value numeric, ADD COLUMN symbol text,
    ADD COLUMN period_kind text, ADD COLUMN period_start date;

UPDATE figure_releases r SET value = f.value, symbol = f.symbol, period_kind = f.period_kind,
       period_start = f.period_start
FROM figures_in_force f
WHERE f.authority = r.authority AND f.metric = r.metric AND f.period = r.period;
UPDATE figure_releases r SET value = f.value, symbol = NULL, period_kind = f.period_kind,
       period_start = f.period_start
FROM derived_figures f
WHERE f.authority = r.authority AND f.metric = r.metric AND f.period = r.period;
-- A release whose figure is in force nowhere (withdrawn since): nothing held.
DELETE FROM figure_releases WHERE period_start IS NULL;
ALTER TABLE figure_releases ALTER COLUMN period_kind SET NOT NULL,
    ALTER COLUMN period_start SET NOT NULL;

CREATE OR REPLACE FUNCTION figure_state(p_published boolean, p_authority text, p_metric text,
                                        p_period text) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN p_published THEN 'true'
                ELSE coalesce((SELECT 'released ' || r.batch || ' ' || coalesce(r.value::text, '')
                               FROM figure_releases r WHERE r.authority = p_authority
                               AND r.metric = p_metric AND r.period = p_period), 'false') END
$$;

CREATE FUNCTION figure_aggregated_value(p_published boolean, p_authority text, p_metric text,
                                        p_period text, p_value numeric) RETURNS numeric
LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN p_published THEN p_value
                ELSE coalesce((SELECT r.value FROM figure_releases r WHERE r.authority = p_authority
                               AND r.metric = p_metric AND r.period = p_period), p_value) END
$$;

CREATE VIEW figures_held_out AS
SELECT r.authority, r.metric, r.period, r.period_kind, r.period_start, r.value
FROM figure_releases r
WHERE NOT EXISTS (SELECT 1 FROM figures_in_force f WHERE f.authority = r.authority
                  AND f.metric = r.metric AND f.period = r.period)
  AND NOT EXISTS (SELECT 1 FROM derived_figures d WHERE d.authority = r.authority
                  AND d.metric = r.metric AND d.period = r.period);

-- What aggregates read of each figure (a rate's inputs for a ratio of
-- sums): the held version of a released figure, held figures no longer in
-- force, and every other figure in force as it is.
CREATE VIEW figures_aggregated AS
SELECT authority, metric, period,
       figure_aggregated_value(published, authority, metric, period, value) AS value
FROM figures_in_force
UNION ALL
SELECT authority, metric, period, value FROM figures_held_out;

-- Releases the due batches of the (metric, period, region)s of `keys`
-- (rows of metric, period, authority) among the figures of `tbl`
-- (figures_in_force or derived_figures).
CREATE OR REPLACE FUNCTION figure_releases_due(tbl regclass, keys jsonb) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    sym text := CASE WHEN tbl = 'derived_figures'::regclass THEN 'NULL::text' ELSE 'f.symbol' END;
    kind text := CASE WHEN tbl = 'derived_figures'::regclass THEN 'derived' ELSE 'plain' END;
BEGIN
    EXECUTE format($q$
        WITH touched AS (
            SELECT DISTINCT k.metric, k.period, a.region_code
            FROM jsonb_to_recordset($1) AS k(metric text, period text, authority text)
            JOIN authorities a ON a.new_la_code = k.authority),
        cur AS (
            SELECT f.authority, f.metric, f.period, f.period_kind, f.period_start, f.value,
                   %s AS symbol, t.region_code
            FROM touched t
            JOIN %s f ON f.metric = t.metric AND f.period = t.period AND f.published IS NOT TRUE
            JOIN authorities a ON a.new_la_code = f.authority
             AND a.region_code IS NOT DISTINCT FROM t.region_code AND NOT a.consent_to_name),
        held AS (
            SELECT r.*, t.region_code
            FROM touched t
            JOIN figure_releases r ON r.metric = t.metric AND r.period = t.period
            JOIN authorities a ON a.new_la_code = r.authority
             AND a.region_code IS NOT DISTINCT FROM t.region_code AND NOT a.consent_to_name
            -- a release of this kind of figure (a plain metric or a derived one)
            WHERE EXISTS (SELECT 1 FROM derived_metrics d WHERE d.metric = r.metric) = ($2 = 'derived')),
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
            period_start = excluded.period_start$q$, sym, tbl) USING keys, kind;
END $$;

-- A withdrawal (or a quarantine) takes a figure out of the table without
-- putting another in: checked at commit, once the figures in force are
-- recomputed (sql/150's flush deletes and re-inserts; the insert trigger
-- of sql/180 sees revisions).
CREATE FUNCTION figure_releases_after_delete() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    PERFORM figure_releases_due(TG_RELID::regclass,
        jsonb_build_array(jsonb_build_object('metric', OLD.metric, 'period', OLD.period,
                                             'authority', OLD.authority)));
    RETURN NULL;
END $$;

CREATE CONSTRAINT TRIGGER figures_in_force_held_out AFTER DELETE ON figures_in_force
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN (OLD.published IS NOT TRUE)
    EXECUTE FUNCTION figure_releases_after_delete();
CREATE CONSTRAINT TRIGGER derived_figures_held_out AFTER DELETE ON derived_figures
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN (OLD.published IS NOT TRUE)
    EXECUTE FUNCTION figure_releases_after_delete();

REVOKE ALL ON FUNCTION figure_releases_after_delete() FROM PUBLIC;
GRANT SELECT ON figures_held_out, figures_aggregated TO sendbench_app;
