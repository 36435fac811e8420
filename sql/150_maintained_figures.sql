-- The figures in force and the derived metrics, maintained when written
-- (issues 13 and 19).
--
-- Every read of a figure went through two views: current_observations
-- (the latest approved, not quarantined, not withdrawn version of each
-- authority, metric and period: a DISTINCT ON over every version, an
-- anti-join with the quarantine, a join with the approvals) and
-- derived_observations (five GROUP BYs over those, one per ratio, and a
-- self-join for the growth rate).  A profile or table pushed its
-- conditions into them but still sorted and aggregated on every read, and
-- the inputs of each derived metric were written three times (005's view,
-- DERIVED_INPUTS in server/changes.c, TABLES_DERIVED_INPUTS in
-- include/tables_query.h).
--
-- Now:
--   derived_metrics      one row per derived metric: its formula and its
--                        inputs.  The one declaration; the server loads its
--                        view derived_inputs (change notices, pages'
--                        sources), the SQL below computes from it.
--   current_observations_computed  the in-force rule, exactly as it was
--                        defined when this migration ran (copied from the
--                        view's own definition).
--   figures_in_force     the version in force of each (authority, metric,
--                        period): what the rule says, kept (a copy of those
--                        rows, so a read is one index scan).
--   current_observations keeps its name and columns and reads the table.
--   derived_figures_computed  derived figures computed from the figures in
--                        force (005's rules: the same values, reasons and
--                        publication flags), from derived_metrics.
--   derived_figures      what that view says, kept; derived_observations
--                        keeps its name and columns and reads the table.
-- Both tables are brought up to date in the writing transaction, at its
-- commit: each write that can change what is in force (a new observation
-- version, an approval, a quarantine or its release) notes the
-- authorities, metrics and periods it touched in figures_pending, and a
-- deferred trigger recomputes those (and, for growth rates, the year
-- after) just before the commit, holding the lock with which sql/018
-- numbers commits, so that two writers' recomputations run one after the
-- other and the second reads what the first committed.  The database stays
-- the source of truth: tests/integration/test_derived.py compares each
-- table with its computed view after each kind of write.
--
-- A later change of the in-force rule must redefine
-- current_observations_computed (and add to figures_in_force any column
-- added to observations), and note in figures_pending what its new kind of
-- write touches.

CREATE TABLE derived_metrics (
    metric               text PRIMARY KEY REFERENCES metrics,
    formula              text NOT NULL CHECK (formula IN ('ratio', 'growth')),
    -- ratio: sign * numerator / denominator * scale;
    -- growth: (numerator / numerator a year earlier - 1) * scale.
    numerator            text NOT NULL REFERENCES metrics,
    -- The denominator, and the one used where an authority and period have
    -- no figure of it (the 20-week rate: the DfE's timeliness count where
    -- SEN2 publishes it, else the plans issued, as councils submit them).
    denominator          text REFERENCES metrics,
    fallback_denominator text REFERENCES metrics,
    sign                 numeric NOT NULL CHECK (sign IN (1, -1)),
    scale                numeric NOT NULL CHECK (scale > 0),
    CHECK ((formula = 'ratio') = (denominator IS NOT NULL)),
    CHECK (formula = 'ratio' OR (fallback_denominator IS NULL AND sign = 1))
);
INSERT INTO derived_metrics VALUES
    ('pct_within_20_weeks', 'ratio', 'new_plans_within_20_weeks', 'new_plans_timeliness_den',
     'new_plans_issued', 1, 100),
    ('pct_within_20_weeks_ex', 'ratio', 'new_plans_within_20_weeks_ex', 'new_plans_issued_ex',
     NULL, 1, 100),
    ('caseload_per_officer', 'ratio', 'ehcp_caseload', 'case_officers_fte', NULL, 1, 1),
    ('deficit_pct_of_hnb', 'ratio', 'dsg_cumulative_balance_gbp', 'hnb_allocation_gbp', NULL, -1, 100),
    ('request_to_assessment_rate', 'ratio', 'requests_decided_to_assess', 'requests_received',
     NULL, 1, 100),
    ('caseload_growth_pct', 'growth', 'ehcp_caseload', NULL, NULL, 1, 100);

CREATE VIEW derived_inputs AS
    SELECT metric, numerator AS input FROM derived_metrics
    UNION SELECT metric, denominator FROM derived_metrics WHERE denominator IS NOT NULL
    UNION SELECT metric, fallback_denominator FROM derived_metrics
          WHERE fallback_denominator IS NOT NULL;

-- The period a year later: the inverse of period_year_earlier (005).
CREATE FUNCTION period_year_later(p text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT AS $$
    SELECT CASE
        WHEN p ~ '^[0-9]{4}$' THEN (left(p, 4)::int + 1)::text
        WHEN p ~ '^[0-9]{4}-[0-9]{2}( Q[1-4])?$' THEN
            (left(p, 4)::int + 1)::text || '-' || lpad(((left(p, 4)::int + 2) % 100)::text, 2, '0')
            || substr(p, 8)
    END
$$;

-- One row per (derived metric, authority, period) for which at least one
-- input exists (for a growth rate: the figure itself); when an input is
-- missing, suppressed or a zero denominator the value is NULL and `reason`
-- says why: missing is never 0.  A derived figure is published only when
-- every input is.  Conditions on authority and period reach the figures in
-- force (they are grouping and DISTINCT ON columns all the way down).
CREATE VIEW derived_figures_computed AS
SELECT authority, metric, period, period_kind, period_start,
       CASE WHEN has_n AND has_d AND nv IS NOT NULL AND dv IS NOT NULL AND dv <> 0
            THEN sign * nv / dv * scale END AS value,
       CASE WHEN NOT has_n THEN num || ' missing'
            WHEN nv IS NULL THEN num || ' is ' || ns
            WHEN NOT has_d THEN den || ' missing'
            WHEN dv IS NULL THEN den || ' is ' || ds
            WHEN dv = 0 THEN den || ' is zero' END AS reason,
       published
FROM (
    SELECT d.metric, d.numerator AS num, d.sign, d.scale, c.authority, c.period, c.period_kind,
           min(c.period_start) AS period_start,
           CASE WHEN bool_or(c.metric = d.denominator) THEN d.denominator
                ELSE coalesce(d.fallback_denominator, d.denominator) END AS den,
           bool_or(c.metric = d.numerator) AS has_n,
           max(c.value) FILTER (WHERE c.metric = d.numerator) AS nv,
           max(c.symbol) FILTER (WHERE c.metric = d.numerator) AS ns,
           bool_or(c.metric = d.denominator OR c.metric IS NOT DISTINCT FROM d.fallback_denominator)
               AS has_d,
           CASE WHEN bool_or(c.metric = d.denominator)
                THEN max(c.value) FILTER (WHERE c.metric = d.denominator)
                ELSE max(c.value) FILTER (WHERE c.metric IS NOT DISTINCT FROM d.fallback_denominator)
           END AS dv,
           CASE WHEN bool_or(c.metric = d.denominator)
                THEN max(c.symbol) FILTER (WHERE c.metric = d.denominator)
                ELSE max(c.symbol) FILTER (WHERE c.metric IS NOT DISTINCT FROM d.fallback_denominator)
           END AS ds,
           bool_and(c.published) AS published
    FROM derived_metrics d
    JOIN current_observations c
      ON c.metric = d.numerator OR c.metric = d.denominator
         OR c.metric IS NOT DISTINCT FROM d.fallback_denominator
    WHERE d.formula = 'ratio'
      -- Read only the inputs (the join alone would read every figure).
      AND c.metric = ANY (ARRAY(SELECT input FROM derived_inputs))
    GROUP BY d.metric, c.authority, c.period, c.period_kind
) r
UNION ALL
SELECT c.authority, d.metric, c.period, c.period_kind, c.period_start,
       CASE WHEN c.value IS NOT NULL AND p.value IS NOT NULL AND p.value <> 0
            THEN (c.value / p.value - 1) * d.scale END,
       CASE WHEN c.value IS NULL THEN d.numerator || ' is ' || c.symbol
            WHEN p.authority IS NULL THEN d.numerator || ' missing for ' || period_year_earlier(c.period)
            WHEN p.value IS NULL THEN d.numerator || ' for ' || p.period || ' is ' || p.symbol
            WHEN p.value = 0 THEN d.numerator || ' for ' || p.period || ' is zero' END,
       c.published AND coalesce(p.published, true)
FROM derived_metrics d
JOIN current_observations c ON c.metric = d.numerator
-- Lateral and fenced (OFFSET 0), so that the year before is looked up for
-- each figure (as a join it read every authority's every year).
LEFT JOIN LATERAL (SELECT y.authority, y.period, y.value, y.symbol, y.published
                   FROM current_observations y
                   WHERE y.authority = c.authority AND y.metric = d.numerator
                     AND y.period_kind = c.period_kind
                     AND y.period = period_year_earlier(c.period)
                   OFFSET 0) p ON true
WHERE d.formula = 'growth'
  AND c.metric = ANY (ARRAY(SELECT numerator FROM derived_metrics WHERE formula = 'growth'));

CREATE TABLE derived_figures (
    authority    text NOT NULL,
    metric       text NOT NULL,
    period       text NOT NULL,
    period_kind  text NOT NULL,
    period_start date NOT NULL,
    value        numeric,
    reason       text,
    published    boolean,
    PRIMARY KEY (metric, period, authority)
);
CREATE INDEX derived_figures_authority ON derived_figures (authority, period);

-- ---- the figures in force ----

DO $$
BEGIN
    EXECUTE 'CREATE VIEW current_observations_computed AS '
            || pg_get_viewdef('current_observations'::regclass);
END $$;

-- The rows in force themselves (a copy of those observation versions, with
-- the view's columns), so that a read is one index scan of one table.
CREATE TABLE figures_in_force AS SELECT * FROM current_observations_computed WITH NO DATA;
ALTER TABLE figures_in_force ADD PRIMARY KEY (metric, period, authority);
CREATE INDEX figures_in_force_authority ON figures_in_force (authority, metric, period);
INSERT INTO figures_in_force SELECT * FROM current_observations_computed;

CREATE OR REPLACE VIEW current_observations AS SELECT * FROM figures_in_force;

INSERT INTO derived_figures SELECT * FROM derived_figures_computed;

CREATE OR REPLACE VIEW derived_observations AS
    SELECT authority, metric, period, period_kind, period_start, value, reason, published
    FROM derived_figures;

-- ---- what a transaction touched, recomputed at its commit ----

-- One row per writing statement: the authorities, metrics and periods it
-- touched (NULL arrays: everything).  Rows live until their transaction's
-- commit, which deletes them.
CREATE TABLE figures_pending (
    xid          bigint NOT NULL DEFAULT txid_current(),
    authorities  text[],
    metrics      text[],
    periods      text[]
);
CREATE INDEX figures_pending_xid ON figures_pending (xid);

/*
 * Recomputes the figures in force and the derived figures of what this
 * transaction touched.  Called by a deferred trigger for each pending row:
 * the first call takes them all.  More than 32 authorities (an import):
 * every authority of the metrics and periods touched.
 */
CREATE FUNCTION figures_flush() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    a text[];
    m text[];
    p text[];
    everything boolean;
    dp text[];
BEGIN
    -- One recomputation at a time, after every commit before it (018's lock:
    -- a data change's commit takes it too, so the order of the two never
    -- deadlocks).
    PERFORM pg_advisory_xact_lock(hashtextextended('sendbench.data_changes', 0));
    WITH done AS (DELETE FROM figures_pending WHERE xid = txid_current() RETURNING *)
    SELECT bool_or(d.periods IS NULL OR d.metrics IS NULL),
           ARRAY(SELECT DISTINCT x FROM done, unnest(done.authorities) x ORDER BY 1),
           ARRAY(SELECT DISTINCT x FROM done, unnest(done.metrics) x ORDER BY 1),
           ARRAY(SELECT DISTINCT x FROM done, unnest(done.periods) x ORDER BY 1)
      INTO everything, a, m, p
      FROM done d;
    IF everything IS NULL THEN
        RETURN NULL;    -- an earlier call took them
    END IF;
    IF everything THEN
        DELETE FROM figures_in_force;
        INSERT INTO figures_in_force SELECT * FROM current_observations_computed;
        DELETE FROM derived_figures;
        INSERT INTO derived_figures SELECT * FROM derived_figures_computed;
        RETURN NULL;
    END IF;
    IF cardinality(a) > 32 THEN
        a := NULL;
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
        RETURN NULL;
    END IF;
    -- Derived figures of those periods and, for growth rates, the year after.
    dp := ARRAY(SELECT DISTINCT x FROM (SELECT unnest(p) UNION ALL
                                        SELECT period_year_later(unnest(p))) s(x)
                WHERE x IS NOT NULL ORDER BY 1);
    IF a IS NULL THEN
        DELETE FROM derived_figures WHERE period = ANY (dp);
        INSERT INTO derived_figures
        SELECT * FROM derived_figures_computed WHERE period = ANY (dp);
    ELSE
        DELETE FROM derived_figures WHERE period = ANY (dp) AND authority = ANY (a);
        INSERT INTO derived_figures
        SELECT * FROM derived_figures_computed WHERE period = ANY (dp) AND authority = ANY (a);
    END IF;
    RETURN NULL;
END $$;
REVOKE ALL ON FUNCTION figures_flush() FROM PUBLIC;

CREATE CONSTRAINT TRIGGER figures_pending_flush AFTER INSERT ON figures_pending
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION figures_flush();

-- What each kind of write touched.  A new version (a submission, an
-- import, a withdrawal):
CREATE FUNCTION figures_after_observations() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    INSERT INTO figures_pending (authorities, metrics, periods)
    SELECT array_agg(DISTINCT authority), array_agg(DISTINCT metric), array_agg(DISTINCT period)
      FROM inserted HAVING count(*) > 0;
    RETURN NULL;
END $$;
CREATE TRIGGER observations_figures AFTER INSERT ON observations
    REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT
    EXECUTE FUNCTION figures_after_observations();

-- An approval puts a version in force (a version awaiting approval or
-- rejected is in force nowhere):
CREATE FUNCTION figures_after_states() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    INSERT INTO figures_pending (authorities, metrics, periods)
    SELECT array_agg(DISTINCT o.authority), array_agg(DISTINCT o.metric),
           array_agg(DISTINCT o.period)
      FROM inserted i JOIN observations o ON o.submission_id = i.submission_id
     WHERE i.state = 'approved' HAVING count(*) > 0;
    RETURN NULL;
END $$;
CREATE TRIGGER submission_states_figures AFTER INSERT ON submission_states
    REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT
    EXECUTE FUNCTION figures_after_states();

-- A quarantine takes a version out of force, its release puts it back:
CREATE FUNCTION figures_after_quality() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    IF TG_TABLE_NAME = 'import_quality' THEN
        INSERT INTO figures_pending (authorities, metrics, periods)
        SELECT array_agg(DISTINCT authority), array_agg(DISTINCT metric),
               array_agg(DISTINCT period)
          FROM inserted WHERE action = 'quarantine' HAVING count(*) > 0;
    ELSE
        INSERT INTO figures_pending (authorities, metrics, periods)
        SELECT array_agg(DISTINCT q.authority), array_agg(DISTINCT q.metric),
               array_agg(DISTINCT q.period)
          FROM inserted i JOIN import_quality q ON q.id = i.quality_id HAVING count(*) > 0;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER import_quality_figures AFTER INSERT ON import_quality
    REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT
    EXECUTE FUNCTION figures_after_quality();
CREATE TRIGGER import_quality_releases_figures AFTER INSERT ON import_quality_releases
    REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT
    EXECUTE FUNCTION figures_after_quality();

-- A change of the declaration recomputes everything and tells the servers
-- (they reload derived_inputs and empty their caches).
CREATE FUNCTION figures_after_definitions() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    INSERT INTO figures_pending (authorities, metrics, periods) VALUES (NULL, NULL, NULL);
    RETURN NULL;
END $$;
CREATE TRIGGER derived_metrics_figures AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
    ON derived_metrics FOR EACH STATEMENT EXECUTE FUNCTION figures_after_definitions();
CREATE TRIGGER derived_metrics_notify AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
    ON derived_metrics FOR EACH STATEMENT EXECUTE FUNCTION notify_table_inputs();

GRANT SELECT ON derived_metrics, derived_inputs, derived_figures, derived_figures_computed,
    figures_in_force, current_observations_computed TO sendbench_app;
