-- Forecasts are fitted off the event loop by the forecast worker and kept
-- here with the data version they came from; the API serves them from here
-- and marks them stale when the data have moved on since.

-- What forecasts are fitted on: every current figure with a value.
CREATE VIEW forecast_input AS
    SELECT authority, metric, period, period_kind, period_start, value
    FROM current_observations
    WHERE value IS NOT NULL;

-- The data version: the newest observation id.  Observations are
-- append-only, so any change to the data moves it.
CREATE FUNCTION data_version() RETURNS bigint LANGUAGE sql STABLE AS
    $$ SELECT coalesce(max(id), 0) FROM observations $$;

CREATE TABLE forecasts (
    metric        text NOT NULL REFERENCES metrics,
    scope         text NOT NULL CHECK (scope IN ('authority', 'region', 'england')),
    scope_code    text NOT NULL CHECK (scope_code ~ '^E[0-9]{8}$'),
    frequency     text NOT NULL CHECK (frequency IN ('annual', 'quarterly')),
    data_version  bigint NOT NULL CHECK (data_version >= 0),
    fitted_at     timestamptz NOT NULL DEFAULT now(),
    doc           jsonb NOT NULL CHECK (jsonb_typeof(doc) = 'object'),
    PRIMARY KEY (metric, frequency, scope_code)
);

-- One row per metric and frequency: when it was last refitted and how long
-- that took (shown in /metrics and the benchmark).
CREATE TABLE forecast_runs (
    metric        text NOT NULL REFERENCES metrics,
    frequency     text NOT NULL CHECK (frequency IN ('annual', 'quarterly')),
    data_version  bigint NOT NULL,
    fitted_at     timestamptz NOT NULL DEFAULT now(),
    n_series      integer NOT NULL CHECK (n_series >= 0),
    cpu_ms        double precision NOT NULL CHECK (cpu_ms >= 0),
    PRIMARY KEY (metric, frequency)
);
