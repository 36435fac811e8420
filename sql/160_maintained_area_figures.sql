-- England's and the regions' figures kept when written (issue 19).
--
-- area_figures (091) was a view: a DISTINCT ON over every area version,
-- the ratios' joins, the growth rate's self-join and an anti-join, all
-- computed in full on every read (about 90 ms, the larger part of an
-- uncached profile and of an evidence pack: a condition on area, metric
-- or period did not reach the sort).  Its inputs change only when an
-- import writes area_observations (append-only, 020), so its rows are now
-- kept in a table, recomputed for the areas a statement wrote, and
-- area_figures keeps its name and columns and reads the table:
--   area_figures_computed  091's definition, unchanged (copied from the
--                          view itself);
--   area_figures_kept      its rows;
--   area_figures           the view every reader uses, over the table.
-- tests/integration/test_derived.py compares the table with the computed
-- view after the import and after a new area version.

DO $$
BEGIN
    EXECUTE 'CREATE VIEW area_figures_computed AS '
            || pg_get_viewdef('area_figures'::regclass);
END $$;

CREATE TABLE area_figures_kept AS SELECT * FROM area_figures_computed WITH NO DATA;
ALTER TABLE area_figures_kept ADD PRIMARY KEY (area, metric, period);
CREATE INDEX area_figures_kept_metric ON area_figures_kept (metric, period);
INSERT INTO area_figures_kept SELECT * FROM area_figures_computed;

CREATE OR REPLACE VIEW area_figures AS SELECT * FROM area_figures_kept;

-- Every area a statement wrote, recomputed whole (an area has a few
-- hundred figures; a derived figure of an area reads only that area's).
-- Two imports writing one area at once: the second waits for the first's
-- commit, then reads it (a new snapshot per statement).
CREATE FUNCTION area_figures_after_write() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    a text[];
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        DELETE FROM area_figures_kept;
        RETURN NULL;
    END IF;
    a := ARRAY(SELECT DISTINCT area FROM inserted ORDER BY 1);
    IF cardinality(a) = 0 THEN
        RETURN NULL;
    END IF;
    PERFORM pg_advisory_xact_lock(hashtextextended('sendbench.area_figures:' || x, 0))
       FROM unnest(a) x ORDER BY x;
    DELETE FROM area_figures_kept WHERE area = ANY (a);
    INSERT INTO area_figures_kept SELECT * FROM area_figures_computed WHERE area = ANY (a);
    RETURN NULL;
END $$;
REVOKE ALL ON FUNCTION area_figures_after_write() FROM PUBLIC;

CREATE TRIGGER area_observations_figures AFTER INSERT ON area_observations
    REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT
    EXECUTE FUNCTION area_figures_after_write();
CREATE TRIGGER area_observations_figures_truncate AFTER TRUNCATE ON area_observations
    FOR EACH STATEMENT EXECUTE FUNCTION area_figures_after_write();

GRANT SELECT ON area_figures_kept, area_figures_computed, area_figures TO sendbench_app;
