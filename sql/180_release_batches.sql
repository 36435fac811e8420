-- Release in batches (issue 15, docs/disclosure.md rule 11): a council's
-- submitted figure enters England's and its region's aggregates only once
-- at least three figures of its region, for the same metric and period,
-- are released together.
--
-- Without it a quarter's public region total moved by one council's figure
-- whenever one return was approved, so reading the total before and after
-- an approval gave that figure away (two aggregates that differ by one
-- authority, over time).  Now a region's aggregate of a metric and period
-- changes only by a batch of at least three protected figures, and
-- England's (the regions' union) only by whole batches.
--
--   figure_releases   (authority, metric, period) released into aggregates,
--                     with the batch it came in; never deleted
--   figure_state()    what a reader selects instead of `published`: 'true'
--                     (published), 'released' (unpublished, in aggregates)
--                     or 'false' (unpublished and waiting); the one place
--                     the readers learn it (server/tables.c applies it)
--
-- A figure is waiting while it is unpublished, its authority has not
-- consented to be named (a consented figure is public anyway) and it has
-- no release.  When a write puts a figure in force (figures_in_force or
-- derived_figures, both maintained at commit by sql/150), every waiting
-- figure of the same metric, period and region is released as one batch
-- if at least three of them carry a value (rows with a symbol only go with
-- them, as they add nothing to a total).  Figures with fewer than three
-- waiting in their region wait for the next.  A derived figure (a rate) is
-- batched in its own right, as its region's mean and ratio are aggregates
-- of their own.

CREATE TABLE figure_releases (
    authority   text NOT NULL,
    metric      text NOT NULL,
    period      text NOT NULL,
    batch       bigint NOT NULL,
    released_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (authority, metric, period)
);
CREATE INDEX figure_releases_batch ON figure_releases (batch);
CREATE SEQUENCE figure_release_batches;

CREATE FUNCTION figure_state(p_published boolean, p_authority text, p_metric text,
                             p_period text) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN p_published THEN 'true'
                WHEN EXISTS (SELECT 1 FROM figure_releases r WHERE r.authority = p_authority
                             AND r.metric = p_metric AND r.period = p_period) THEN 'released'
                ELSE 'false' END
$$;

-- Releases the due batches of the (metric, period, region)s where `tbl`
-- (figures_in_force or derived_figures) holds a waiting figure among
-- `keys` (rows of metric, period, authority).
CREATE FUNCTION figure_releases_due(tbl regclass, keys jsonb) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    EXECUTE format($q$
        WITH touched AS (
            SELECT DISTINCT k.metric, k.period, a.region_code
            FROM jsonb_to_recordset($1) AS k(metric text, period text, authority text)
            JOIN authorities a ON a.new_la_code = k.authority),
        waiting AS (
            SELECT f.authority, f.metric, f.period, t.region_code, f.value IS NOT NULL AS valued
            FROM touched t
            JOIN %s f ON f.metric = t.metric AND f.period = t.period AND f.published IS NOT TRUE
            JOIN authorities a ON a.new_la_code = f.authority
             AND a.region_code IS NOT DISTINCT FROM t.region_code AND NOT a.consent_to_name
            WHERE NOT EXISTS (SELECT 1 FROM figure_releases r WHERE r.authority = f.authority
                              AND r.metric = f.metric AND r.period = f.period)),
        groups AS (
            SELECT metric, period, region_code, nextval('figure_release_batches') AS batch
            FROM waiting GROUP BY metric, period, region_code
            HAVING count(*) FILTER (WHERE valued) >= 3)
        INSERT INTO figure_releases (authority, metric, period, batch)
        SELECT w.authority, w.metric, w.period, g.batch
        FROM waiting w JOIN groups g ON g.metric = w.metric AND g.period = w.period
         AND g.region_code IS NOT DISTINCT FROM w.region_code
        ON CONFLICT DO NOTHING$q$, tbl) USING keys;
END $$;

CREATE FUNCTION figure_releases_after_insert() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    keys jsonb;
BEGIN
    SELECT jsonb_agg(DISTINCT jsonb_build_object('metric', metric, 'period', period,
                                                 'authority', authority))
    INTO keys FROM added WHERE published IS NOT TRUE;
    IF keys IS NOT NULL THEN
        PERFORM figure_releases_due(TG_RELID::regclass, keys);
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER figures_in_force_releases AFTER INSERT ON figures_in_force
    REFERENCING NEW TABLE AS added FOR EACH STATEMENT
    EXECUTE FUNCTION figure_releases_after_insert();
CREATE TRIGGER derived_figures_releases AFTER INSERT ON derived_figures
    REFERENCING NEW TABLE AS added FOR EACH STATEMENT
    EXECUTE FUNCTION figure_releases_after_insert();

-- What is already in force on a deployment: released in batches by the
-- same rule (a region with one or two waiting keeps them waiting).
SELECT figure_releases_due('figures_in_force',
       (SELECT jsonb_agg(DISTINCT jsonb_build_object('metric', metric, 'period', period,
                                                     'authority', authority))
        FROM figures_in_force WHERE published IS NOT TRUE))
WHERE EXISTS (SELECT 1 FROM figures_in_force WHERE published IS NOT TRUE);
SELECT figure_releases_due('derived_figures',
       (SELECT jsonb_agg(DISTINCT jsonb_build_object('metric', metric, 'period', period,
                                                     'authority', authority))
        FROM derived_figures WHERE published IS NOT TRUE))
WHERE EXISTS (SELECT 1 FROM derived_figures WHERE published IS NOT TRUE);

REVOKE ALL ON FUNCTION figure_releases_due(regclass, jsonb) FROM PUBLIC;
GRANT SELECT ON figure_releases TO sendbench_app;
