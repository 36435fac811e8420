-- sendbench schema.  The database enforces what the API enforces, so that a
-- bug in the server cannot store what the contract forbids.

CREATE TABLE authorities (
    new_la_code   text PRIMARY KEY CHECK (new_la_code ~ '^E(06|08|09|10|11)[0-9]{6}$'),
    old_la_code   text NOT NULL UNIQUE CHECK (old_la_code ~ '^[0-9]{3}$'),
    name          text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    region_code   text NOT NULL CHECK (region_code ~ '^E1[23][0-9]{6}$'),
    region_name   text NOT NULL CHECK (length(region_name) BETWEEN 1 AND 100),
    -- Boundary changes: an authority that ceased has valid_to; its
    -- successors are in authority_successions.
    valid_from    date,
    valid_to      date,
    -- Whether the authority agreed to be named beside its unpublished
    -- (council-submitted) figures; set by an administrator.
    consent_to_name boolean NOT NULL DEFAULT false,
    CHECK (valid_to IS NULL OR valid_from IS NULL OR valid_to > valid_from)
);

CREATE TABLE authority_successions (
    predecessor  text NOT NULL REFERENCES authorities,
    successor    text NOT NULL REFERENCES authorities,
    effective    date NOT NULL,
    PRIMARY KEY (predecessor, successor),
    CHECK (predecessor <> successor)
);

CREATE TABLE statistical_neighbours (
    authority   text NOT NULL REFERENCES authorities,
    rank        smallint NOT NULL CHECK (rank BETWEEN 1 AND 10),
    neighbour   text NOT NULL REFERENCES authorities,
    closeness   text NOT NULL CHECK (closeness IN
                    ('Extremely close', 'Very close', 'Close', 'Somewhat close', 'Sometimes close', 'Not close')),
    source      text NOT NULL,
    PRIMARY KEY (authority, rank),
    UNIQUE (authority, neighbour),
    CHECK (authority <> neighbour)
);

CREATE TABLE metrics (
    id           text PRIMARY KEY CHECK (id ~ '^[a-z][a-z0-9_]{1,62}$'),
    label        text NOT NULL,
    unit         text NOT NULL CHECK (unit IN ('count', '%', '£', 'FTE', 'ratio')),
    dp           smallint NOT NULL CHECK (dp BETWEEN 0 AND 4),
    polarity     text NOT NULL CHECK (polarity IN ('higher_better', 'lower_better', 'neutral')),
    kind         text NOT NULL CHECK (kind IN ('stock', 'flow', 'rate', 'money', 'derived')),
    -- What an annual figure's period means: the January census (stocks), a
    -- calendar year (SEN2 flows) or a financial year (money).
    annual_period text NOT NULL CHECK (annual_period IN ('census_year', 'calendar_year', 'financial_year')),
    submittable  boolean NOT NULL,
    description  text NOT NULL,
    sort_order   smallint NOT NULL UNIQUE,
    CHECK (NOT (submittable AND kind = 'derived'))
);

-- How a period string is read: see README "Periods".
--   census_year    '2022'        plans in place at the January 2022 census
--   calendar_year  '2021'        January-December 2021
--   financial_year '2021-22'     April 2021 - March 2022
--   fy_quarter     '2024-25 Q2'  July-September 2024 (Q1 = April-June)
CREATE TABLE tokens (
    id          bigserial PRIMARY KEY,
    hash        bytea NOT NULL UNIQUE CHECK (length(hash) = 32),
    role        text NOT NULL CHECK (role IN ('admin', 'council')),
    authority   text REFERENCES authorities,
    label       text,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz,
    revoked_at  timestamptz,
    CHECK ((role = 'council') = (authority IS NOT NULL))
);

CREATE TABLE submissions (
    id               bigserial PRIMARY KEY,
    authority        text NOT NULL REFERENCES authorities,
    period           text NOT NULL CHECK (period ~ '^[0-9]{4}-[0-9]{2} Q[1-4]$'),
    version          integer NOT NULL CHECK (version >= 1),
    token_id         bigint REFERENCES tokens,
    idempotency_key  text CHECK (length(idempotency_key) BETWEEN 1 AND 200),
    content_type     text NOT NULL CHECK (content_type IN ('application/json', 'text/csv')),
    figures          jsonb NOT NULL CHECK (jsonb_typeof(figures) = 'object'),
    notes            text CHECK (length(notes) <= 2000),
    created_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (authority, period, version),
    UNIQUE (token_id, idempotency_key)
);

CREATE TABLE observations (
    id             bigserial PRIMARY KEY,
    authority      text NOT NULL REFERENCES authorities,
    metric         text NOT NULL REFERENCES metrics,
    period         text NOT NULL CHECK (period ~ '^[0-9]{4}(-[0-9]{2}( Q[1-4])?)?$'),
    period_kind    text NOT NULL CHECK (period_kind IN ('census_year', 'calendar_year', 'financial_year', 'fy_quarter')),
    -- First day the period covers (the census day for stocks): orders
    -- periods of different kinds on one time line.
    period_start   date NOT NULL,
    value          numeric,
    symbol         text CHECK (symbol IN ('c', 'x', 'z', 'low')),
    -- Published (DfE) figures are public; council submissions are not.
    published      boolean NOT NULL,
    source         text NOT NULL CHECK (length(source) BETWEEN 1 AND 200),
    submission_id  bigint REFERENCES submissions,
    -- Each (authority, metric, period) starts at version 1; a correction or
    -- a revised release adds the next version and never overwrites.
    version        integer NOT NULL CHECK (version >= 1),
    recorded_at    timestamptz NOT NULL DEFAULT now(),
    CHECK ((value IS NULL) <> (symbol IS NULL)),
    CHECK (published OR submission_id IS NOT NULL),
    UNIQUE (authority, metric, period, version)
);
CREATE INDEX observations_metric_period ON observations (metric, period);

-- The figure in force: the latest version of each (authority, metric, period).
CREATE VIEW current_observations AS
    SELECT DISTINCT ON (authority, metric, period) *
    FROM observations
    ORDER BY authority, metric, period, version DESC;

CREATE TABLE audit_log (
    id          bigserial PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT now(),
    token_id    bigint REFERENCES tokens,
    actor       text NOT NULL,          -- 'cli', 'token:<id>', 'import'
    action      text NOT NULL,
    authority   text REFERENCES authorities,
    detail      jsonb NOT NULL DEFAULT '{}'
);

-- History is append-only: submissions, observations and the audit log can
-- be added to, never changed or removed.
CREATE FUNCTION refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'integrity_constraint_violation';
END $$;
CREATE TRIGGER submissions_append_only BEFORE UPDATE OR DELETE ON submissions
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER observations_append_only BEFORE UPDATE OR DELETE ON observations
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
