-- The figures in force recomputed under a lock per (authority, period),
-- not under the one lock every commit takes (issue 19).
--
-- 150's figures_flush ran under sql/018's commit lock, so every writing
-- transaction's recomputation (a submission's approval: a few ms; an
-- import's: hundreds) waited for every other's, and each held that lock
-- until its commit was on disk.  Now:
--   * a version awaiting approval (or rejected) is noted nowhere: it is in
--     force nowhere (150's in-force rule; 151 stopped its notice), and its
--     approval notes it (figures_after_states);
--   * the recomputation takes transaction locks in one fixed order: the
--     whole (shared; exclusive for a recompute of everything), each period
--     (shared; exclusive when every authority of it is recomputed, an
--     import), each (authority, period) (exclusive), over the periods whose
--     derived figures it recomputes (a growth rate: the year after too).
--     Two writers of one authority and period, or of a period an import
--     rewrites, run one after the other and the second reads what the
--     first committed (a new snapshot per statement, READ COMMITTED);
--     writers of different authorities or periods run side by side;
--   * it runs before 018's commit lock is taken (data_change_commit_order
--     flushes first), so the lock every commit queues for covers only the
--     numbering of the change.
-- tests/integration/test_derived.py: two writers of one (authority,
-- period) and writers of two authorities at once, each followed by a
-- comparison of every maintained table with its computed view.

CREATE OR REPLACE FUNCTION figures_after_observations() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    INSERT INTO figures_pending (authorities, metrics, periods)
    SELECT array_agg(DISTINCT authority), array_agg(DISTINCT metric), array_agg(DISTINCT period)
      FROM inserted i
     WHERE i.submission_id IS NULL
        OR EXISTS (SELECT 1 FROM submission_states s WHERE s.submission_id = i.submission_id
                   AND s.state = 'approved')
    HAVING count(*) > 0;
    RETURN NULL;
END $$;

-- The recomputation itself (150's figures_flush, under the locks above).
-- The first call of a transaction takes every pending row; later calls
-- find none and return at once.
CREATE FUNCTION figures_flush_now() RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    a text[];
    m text[];
    p text[];
    everything boolean;
    dp text[];
BEGIN
    WITH done AS (DELETE FROM figures_pending WHERE xid = txid_current() RETURNING *)
    SELECT bool_or(d.periods IS NULL OR d.metrics IS NULL),
           ARRAY(SELECT DISTINCT x FROM done, unnest(done.authorities) x ORDER BY 1),
           ARRAY(SELECT DISTINCT x FROM done, unnest(done.metrics) x ORDER BY 1),
           ARRAY(SELECT DISTINCT x FROM done, unnest(done.periods) x ORDER BY 1)
      INTO everything, a, m, p
      FROM done d;
    IF everything IS NULL THEN
        RETURN;    -- nothing pending, or an earlier call took it
    END IF;
    IF everything THEN
        PERFORM pg_advisory_xact_lock(hashtextextended('sendbench.figures', 0));
        DELETE FROM figures_in_force;
        INSERT INTO figures_in_force SELECT * FROM current_observations_computed;
        DELETE FROM derived_figures;
        INSERT INTO derived_figures SELECT * FROM derived_figures_computed;
        RETURN;
    END IF;
    IF cardinality(a) > 32 THEN
        a := NULL;
    END IF;
    -- The periods whose derived figures follow (a growth rate reads the
    -- year before): every lock below covers them.
    dp := ARRAY(SELECT DISTINCT x FROM (SELECT unnest(p) UNION ALL
                                        SELECT period_year_later(unnest(p))) s(x)
                WHERE x IS NOT NULL ORDER BY 1);
    PERFORM pg_advisory_xact_lock_shared(hashtextextended('sendbench.figures', 0));
    IF a IS NULL THEN
        PERFORM pg_advisory_xact_lock(k)
           FROM (SELECT DISTINCT hashtextextended('sendbench.figures:*:' || x, 0) AS k
                   FROM unnest(dp) x) s ORDER BY k;
    ELSE
        PERFORM pg_advisory_xact_lock_shared(k)
           FROM (SELECT DISTINCT hashtextextended('sendbench.figures:*:' || x, 0) AS k
                   FROM unnest(dp) x) s ORDER BY k;
        PERFORM pg_advisory_xact_lock(k)
           FROM (SELECT DISTINCT hashtextextended('sendbench.figures:' || y || ':' || x, 0) AS k
                   FROM unnest(dp) x, unnest(a) y) s ORDER BY k;
    END IF;
    IF a IS NULL THEN
        DELETE FROM figures_in_force WHERE metric = ANY (m) AND period = ANY (p);
        INSERT INTO figures_in_force
        SELECT * FROM current_observations_computed WHERE metric = ANY (m) AND period = ANY (p);
    ELSE
        DELETE FROM figures_in_force
         WHERE metric = ANY (m) AND period = ANY (p) AND authority = ANY (a);
        INSERT INTO figures_in_force
        SELECT * FROM current_observations_computed
         WHERE metric = ANY (m) AND period = ANY (p) AND authority = ANY (a);
    END IF;
    IF NOT EXISTS (SELECT 1 FROM derived_inputs WHERE input = ANY (m)) THEN
        RETURN;
    END IF;
    IF a IS NULL THEN
        DELETE FROM derived_figures WHERE period = ANY (dp);
        INSERT INTO derived_figures
        SELECT * FROM derived_figures_computed WHERE period = ANY (dp);
    ELSE
        DELETE FROM derived_figures WHERE period = ANY (dp) AND authority = ANY (a);
        INSERT INTO derived_figures
        SELECT * FROM derived_figures_computed WHERE period = ANY (dp) AND authority = ANY (a);
    END IF;
END $$;
REVOKE ALL ON FUNCTION figures_flush_now() FROM PUBLIC;

CREATE OR REPLACE FUNCTION figures_flush() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    PERFORM figures_flush_now();
    RETURN NULL;
END $$;

-- 018's numbering of a commit, after the recomputation: whichever of the
-- two deferred triggers fires first, the figures are recomputed before the
-- commit lock is taken, never while it is held.
CREATE OR REPLACE FUNCTION data_change_commit_order() RETURNS trigger LANGUAGE plpgsql
    SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    PERFORM figures_flush_now();
    PERFORM pg_advisory_xact_lock(hashtextextended('sendbench.data_changes', 0));
    UPDATE data_changes SET id = nextval('data_changes_id_seq') WHERE id = NEW.id;
    RETURN NULL;
END $$;
