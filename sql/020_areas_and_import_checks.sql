-- England and the regions as the DfE publishes them, and the import checks
-- (issue 14; docs/import.md "England and regions" and "Import checks").
--
-- The SEN2 files carry the DfE's own national (E92000001) and regional
-- (E12...) rows.  They are stored as geographies of their own, beside the
-- authorities' figures and versioned the same way, so that England's 2024
-- rate of new plans within 20 weeks is the DfE's 46.4% and not a mean or
-- a sum of authorities.  How to read them: current_area_observations
-- (area, metric, period, value or symbol, source), joined to areas.

CREATE TABLE areas (
    code   text PRIMARY KEY CHECK (code = 'E92000001' OR code_is_region(code)),
    level  text NOT NULL CHECK (level IN ('national', 'regional')),
    name   text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    CHECK ((level = 'national') = (code = 'E92000001'))
);
INSERT INTO areas (code, level, name) VALUES
    ('E92000001', 'national', 'England'),
    ('E12000001', 'regional', 'North East'),
    ('E12000002', 'regional', 'North West'),
    ('E12000003', 'regional', 'Yorkshire and The Humber'),
    ('E12000004', 'regional', 'East Midlands'),
    ('E12000005', 'regional', 'West Midlands'),
    ('E12000006', 'regional', 'East of England'),
    ('E12000007', 'regional', 'London'),
    ('E12000008', 'regional', 'South East'),
    ('E12000009', 'regional', 'South West');
CREATE TRIGGER areas_append_only BEFORE UPDATE OR DELETE ON areas
    FOR EACH ROW EXECUTE FUNCTION refuse_change();

-- Published England and regional figures: the same shape and rules as
-- observations (append-only, one version per revision, symbols as
-- symbols), all published.
CREATE TABLE area_observations (
    area          text NOT NULL REFERENCES areas,
    metric        text NOT NULL REFERENCES metrics,
    period        text NOT NULL CHECK (period ~ '^[0-9]{4}(-[0-9]{2}( Q[1-4])?)?$'),
    period_kind   text NOT NULL CHECK (period_kind IN ('census_year', 'calendar_year', 'financial_year', 'fy_quarter')),
    period_start  date NOT NULL,
    value         numeric,
    symbol        text CHECK (symbol IN ('c', 'x', 'z', 'low')),
    source        text NOT NULL CHECK (length(source) BETWEEN 1 AND 200),
    version       integer NOT NULL CHECK (version >= 1),
    recorded_at   timestamptz NOT NULL DEFAULT now(),
    CHECK ((value IS NULL) <> (symbol IS NULL)),
    UNIQUE (area, metric, period, version)
);
CREATE INDEX area_observations_metric_period ON area_observations (metric, period);
CREATE TRIGGER area_observations_append_only BEFORE UPDATE OR DELETE ON area_observations
    FOR EACH ROW EXECUTE FUNCTION refuse_change();

-- The published figure in force for each area, metric and period.
CREATE VIEW current_area_observations AS
    SELECT DISTINCT ON (area, metric, period) a.*, ar.level, ar.name AS area_name
    FROM area_observations a JOIN areas ar ON ar.code = a.area
    ORDER BY area, metric, period, version DESC;

-- Every server's caches and the forecasts follow these figures like any
-- other input (005, 015).
CREATE TRIGGER area_observations_notify AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
    ON area_observations FOR EACH STATEMENT EXECUTE FUNCTION notify_table_inputs();
CREATE TRIGGER area_observations_data_change AFTER INSERT ON area_observations
    REFERENCING NEW TABLE AS inserted
    FOR EACH STATEMENT EXECUTE FUNCTION record_data_change();

-- Import checks.  A figure the importer finds suspect is stored as
-- published (nothing is dropped or changed) and flagged here with the rule,
-- the values and the file:line it came from:
--   quarantine  (rules equals_area_total, exceeds_area_total,
--                contradiction): not in force, so not served, not in any
--                table, page or evidence pack, not forecast, until an
--                administrator releases it with a reason;
--   query       (rule year_on_year): kept in force, listed for a look.
-- Thresholds: server/import_quality.c (one table) and docs/import.md.
CREATE TABLE import_quality (
    id          bigserial PRIMARY KEY,
    authority   text NOT NULL REFERENCES authorities,
    metric      text NOT NULL REFERENCES metrics,
    period      text NOT NULL,
    version     integer NOT NULL CHECK (version >= 1),
    rule        text NOT NULL CHECK (rule IN ('equals_area_total', 'exceeds_area_total',
                                              'contradiction', 'year_on_year')),
    action      text NOT NULL CHECK (action IN ('quarantine', 'query')),
    detail      text NOT NULL CHECK (length(detail) BETWEEN 1 AND 500),
    file_name   text NOT NULL,
    line        integer NOT NULL CHECK (line >= 1),
    source      text NOT NULL,
    found_at    timestamptz NOT NULL DEFAULT now(),
    CHECK ((action = 'query') = (rule = 'year_on_year')),
    UNIQUE (authority, metric, period, version, rule)
);
CREATE TRIGGER import_quality_append_only BEFORE UPDATE OR DELETE ON import_quality
    FOR EACH ROW EXECUTE FUNCTION refuse_change();

-- An administrator's release of a quarantined figure (audited as well in
-- audit_log).  Append-only: a release is never undone, only recorded.
CREATE TABLE import_quality_releases (
    quality_id   bigint PRIMARY KEY REFERENCES import_quality,
    reason       text NOT NULL CHECK (length(btrim(reason)) BETWEEN 1 AND 2000),
    actor        text NOT NULL,
    token_id     bigint REFERENCES tokens,
    released_at  timestamptz NOT NULL DEFAULT now()
);
CREATE TRIGGER import_quality_releases_append_only BEFORE UPDATE OR DELETE
    ON import_quality_releases FOR EACH ROW EXECUTE FUNCTION refuse_change();
GRANT INSERT ON import_quality_releases TO sendbench_app;

-- The versions held back: quarantined and not released.
CREATE VIEW quarantined_observations AS
    SELECT q.authority, q.metric, q.period, q.version
    FROM import_quality q
    WHERE q.action = 'quarantine'
      AND NOT EXISTS (SELECT 1 FROM import_quality_releases r WHERE r.quality_id = q.id);

-- The figure in force: the latest version that is not held back.  (A
-- quarantined revision leaves the version before it in force.)  041
-- redefines the view for sign-off and keeps this condition.  A database
-- where 041 ran before this migration (it was written first) has 041's
-- view, which this one must not undo: it gets 041's definition with the
-- condition instead.
DO $$
BEGIN
    IF pg_get_viewdef('current_observations'::regclass) NOT LIKE '%submission_states%' THEN
        CREATE OR REPLACE VIEW current_observations AS
            SELECT DISTINCT ON (authority, metric, period) o.*
            FROM observations o
            WHERE NOT EXISTS (SELECT 1 FROM quarantined_observations q
                              WHERE q.authority = o.authority AND q.metric = o.metric
                                AND q.period = o.period AND q.version = o.version)
            ORDER BY authority, metric, period, version DESC;
    ELSE
        CREATE OR REPLACE VIEW current_observations AS
            SELECT c.* FROM (
                SELECT DISTINCT ON (o.authority, o.metric, o.period) o.*
                FROM observations o
                LEFT JOIN submission_states st ON st.submission_id = o.submission_id
                     AND st.state = 'approved'
                WHERE (o.submission_id IS NULL OR st.id IS NOT NULL)
                  AND NOT EXISTS (SELECT 1 FROM quarantined_observations q
                                  WHERE q.authority = o.authority AND q.metric = o.metric
                                    AND q.period = o.period AND q.version = o.version)
                ORDER BY o.authority, o.metric, o.period, o.version DESC) c
            WHERE NOT c.withdrawn;
    END IF;
END $$;

-- A flag or a release changes what is in force: the data version moves and
-- every cache is emptied, as for a new observation.  (A function of its
-- own: record_data_change() reads the observations' columns.  The figures
-- flagged are imported, annual ones: a change forecasts see.)
CREATE FUNCTION record_quality_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM inserted) THEN
        INSERT INTO data_changes DEFAULT VALUES;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER import_quality_notify AFTER INSERT ON import_quality
    FOR EACH STATEMENT EXECUTE FUNCTION notify_table_inputs();
CREATE TRIGGER import_quality_data_change AFTER INSERT ON import_quality
    REFERENCING NEW TABLE AS inserted
    FOR EACH STATEMENT EXECUTE FUNCTION record_quality_change();
CREATE TRIGGER import_quality_releases_notify AFTER INSERT ON import_quality_releases
    FOR EACH STATEMENT EXECUTE FUNCTION notify_table_inputs();
CREATE TRIGGER import_quality_releases_data_change AFTER INSERT ON import_quality_releases
    REFERENCING NEW TABLE AS inserted
    FOR EACH STATEMENT EXECUTE FUNCTION record_quality_change();
