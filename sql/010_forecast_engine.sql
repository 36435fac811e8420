-- Forecasts are refitted when the data change and also when the fitting
-- code changes: each run records the engine version that made it.
ALTER TABLE forecast_runs ADD COLUMN engine text NOT NULL DEFAULT '';
