-- Derived metrics declared once and maintained when written (issues 13, 19).
--
-- Until now the inputs of each derived metric were written three times
-- (005's derived_observations view, DERIVED_INPUTS in server/changes.c,
-- TABLES_DERIVED_INPUTS in include/tables_query.h), and every read of a
-- derived figure expanded the view: five GROUP BYs over the figures in
-- force, one per ratio, plus a self-join for the growth rate (about 0.6 s
-- for every derived figure; the profile and table queries pushed their
-- conditions into it, but still paid for the aggregation on every read).
--
-- Now:
--   derived_metrics      one row per derived metric: its formula and its
--                        inputs.  The only declaration; everything else
--                        reads it.
--   derived_inputs       (metric, input) pairs, a view of derived_metrics,
--                        for the server (change notices, pages' sources).
--   derived_figures_computed  the derived figures computed from the figures
--                        in force, from derived_metrics (005's rules, the
--                        same values, reasons and publication flags).
--   derived_figures      a table of what derived_figures_computed says,
--                        kept up to date by the triggers below within the
--                        writing transaction: a new observation version,
--                        an approval, a quarantine or its release recompute
--                        the derived figures of the authorities and periods
--                        they touch (and the year after, for growth rates).
--   derived_observations keeps its name and its columns, and now reads the
--                        table: every query written against it is unchanged.
-- The database stays the source of truth: a test compares the table with
-- derived_figures_computed after each kind of write.

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
INSERT INTO derived_figures SELECT * FROM derived_figures_computed;

/*
 * Recomputes the derived figures of the given authorities (NULL: every
 * authority) in the given periods and the year after each (growth rates
 * read the year before); NULL periods: everything.  Runs inside the
 * writing transaction, after its figures are written.
 *
 * Concurrent writers: each statement of this function takes a snapshot of
 * its own (READ COMMITTED), so a writer that waits here for another one's
 * locks recomputes from what that one committed.  An (authority, period)
 * takes a shared lock on its period and an exclusive one on the pair; a
 * whole period an exclusive lock on the period; everything the table lock.
 * Locks are taken in one order (period, then authority) so that two
 * writers cannot wait for each other.
 */
CREATE FUNCTION derived_refresh(p_authorities text[], p_periods text[]) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    per text;
    a text;
BEGIN
    IF p_periods IS NULL THEN
        LOCK TABLE derived_figures IN EXCLUSIVE MODE;
        DELETE FROM derived_figures;
        INSERT INTO derived_figures SELECT * FROM derived_figures_computed;
        RETURN;
    END IF;
    p_periods := ARRAY(SELECT DISTINCT x FROM (SELECT unnest(p_periods)
                                               UNION ALL
                                               SELECT period_year_later(unnest(p_periods))) s(x)
                       WHERE x IS NOT NULL ORDER BY 1);
    IF p_authorities IS NOT NULL THEN
        p_authorities := ARRAY(SELECT DISTINCT x FROM unnest(p_authorities) x
                               WHERE x IS NOT NULL ORDER BY 1);
    END IF;
    LOCK TABLE derived_figures IN ROW EXCLUSIVE MODE;
    FOREACH per IN ARRAY p_periods LOOP
        IF p_authorities IS NULL THEN
            PERFORM pg_advisory_xact_lock(hashtextextended('sendbench.derived:' || per, 0));
        ELSE
            PERFORM pg_advisory_xact_lock_shared(hashtextextended('sendbench.derived:' || per, 0));
            FOREACH a IN ARRAY p_authorities LOOP
                PERFORM pg_advisory_xact_lock(
                    hashtextextended('sendbench.derived:' || per || ':' || a, 0));
            END LOOP;
        END IF;
    END LOOP;
    IF p_authorities IS NULL THEN
        DELETE FROM derived_figures WHERE period = ANY (p_periods);
        INSERT INTO derived_figures
        SELECT * FROM derived_figures_computed WHERE period = ANY (p_periods);
    ELSE
        DELETE FROM derived_figures
         WHERE period = ANY (p_periods) AND authority = ANY (p_authorities);
        INSERT INTO derived_figures
        SELECT * FROM derived_figures_computed
         WHERE period = ANY (p_periods) AND authority = ANY (p_authorities);
    END IF;
END $$;
REVOKE ALL ON FUNCTION derived_refresh(text[], text[]) FROM PUBLIC;

-- More authorities than this in one statement (an import): the whole
-- periods are recomputed instead, which reads no more than naming them all.
CREATE FUNCTION derived_refresh_touched(p_authorities text[], p_periods text[]) RETURNS void
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    IF p_periods IS NULL OR cardinality(p_periods) = 0 THEN
        RETURN;     -- no input of a derived metric was touched
    END IF;
    IF cardinality(p_authorities) > 32 THEN
        p_authorities := NULL;
    END IF;
    PERFORM derived_refresh(p_authorities, p_periods);
END $$;
REVOKE ALL ON FUNCTION derived_refresh_touched(text[], text[]) FROM PUBLIC;

-- A new version of an input (a submission, an import, a withdrawal).
CREATE FUNCTION derived_after_observations() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    a text[];
    p text[];
BEGIN
    SELECT array_agg(DISTINCT i.authority), array_agg(DISTINCT i.period) INTO a, p
      FROM inserted i WHERE i.metric IN (SELECT input FROM derived_inputs);
    PERFORM derived_refresh_touched(a, p);
    RETURN NULL;
END $$;
CREATE TRIGGER observations_derived AFTER INSERT ON observations
    REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT
    EXECUTE FUNCTION derived_after_observations();

-- An approval puts a version in force (a rejection or a version awaiting
-- approval changes nothing in force).
CREATE FUNCTION derived_after_states() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    a text[];
    p text[];
BEGIN
    SELECT array_agg(DISTINCT s.authority), array_agg(DISTINCT s.period) INTO a, p
      FROM inserted i JOIN submissions s ON s.id = i.submission_id
     WHERE i.state = 'approved';
    PERFORM derived_refresh_touched(a, p);
    RETURN NULL;
END $$;
CREATE TRIGGER submission_states_derived AFTER INSERT ON submission_states
    REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT
    EXECUTE FUNCTION derived_after_states();

-- A quarantine takes a version out of force, a release puts it back.
CREATE FUNCTION derived_after_quality() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    a text[];
    p text[];
BEGIN
    IF TG_TABLE_NAME = 'import_quality' THEN
        SELECT array_agg(DISTINCT i.authority), array_agg(DISTINCT i.period) INTO a, p
          FROM inserted i WHERE i.action = 'quarantine'
           AND i.metric IN (SELECT input FROM derived_inputs);
    ELSE
        SELECT array_agg(DISTINCT q.authority), array_agg(DISTINCT q.period) INTO a, p
          FROM inserted i JOIN import_quality q ON q.id = i.quality_id
         WHERE q.metric IN (SELECT input FROM derived_inputs);
    END IF;
    PERFORM derived_refresh_touched(a, p);
    RETURN NULL;
END $$;
CREATE TRIGGER import_quality_derived AFTER INSERT ON import_quality
    REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT
    EXECUTE FUNCTION derived_after_quality();
CREATE TRIGGER import_quality_releases_derived AFTER INSERT ON import_quality_releases
    REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT
    EXECUTE FUNCTION derived_after_quality();

-- A change of the declaration recomputes everything and tells the servers
-- (they reload derived_inputs and empty their caches).
CREATE FUNCTION derived_after_definitions() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    PERFORM derived_refresh(NULL, NULL);
    RETURN NULL;
END $$;
CREATE TRIGGER derived_metrics_refresh AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
    ON derived_metrics FOR EACH STATEMENT EXECUTE FUNCTION derived_after_definitions();
CREATE TRIGGER derived_metrics_notify AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
    ON derived_metrics FOR EACH STATEMENT EXECUTE FUNCTION notify_table_inputs();

-- The name and the columns every query reads, now from the table.
CREATE OR REPLACE VIEW derived_observations AS
    SELECT authority, metric, period, period_kind, period_start, value, reason, published
    FROM derived_figures;

GRANT SELECT ON derived_metrics, derived_inputs, derived_figures, derived_figures_computed
    TO sendbench_app;
