-- Forecasts also cover the derived metrics (the 20-week rates, caseload
-- per officer...): the forecast input adds the derived values that exist.
CREATE OR REPLACE VIEW forecast_input AS
    SELECT authority, metric, period, period_kind, period_start, value
    FROM current_observations
    WHERE value IS NOT NULL
    UNION ALL
    SELECT authority, metric, period, period_kind, period_start, value
    FROM derived_observations
    WHERE value IS NOT NULL;
