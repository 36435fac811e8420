-- Forecasts are stale only when THEIR inputs change (issue 19).
--
-- A forecast is fitted from a metric's annual series (forecast_input at the
-- metric's annual_period: census, calendar or financial years), never from
-- council quarters.  But its staleness was judged against data_version(),
-- which every write moves: each quarterly submission marked every stored
-- forecast stale, the worker refitted every metric (a second of CPU and
-- 1,800 rows written) and every cached forecast reply was dropped, twice
-- (the data, then the refit).  Now each data change records whether it
-- touched an annual period, and forecast_data_version() is the newest
-- change that did: the worker refits, and a reply says "stale", only when
-- annual figures moved.  Both versions come from one sequence, so a stored
-- forecast's data_version (data_version() when it was fitted) compares with
-- either.
ALTER TABLE data_changes ADD COLUMN annual boolean NOT NULL DEFAULT true;
CREATE INDEX data_changes_annual ON data_changes (id) WHERE annual;

-- The first row of an import settles it (EXISTS stops there); a submission
-- has a handful of rows.
CREATE OR REPLACE FUNCTION record_data_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM inserted) THEN
        INSERT INTO data_changes (annual)
        VALUES (EXISTS (SELECT 1 FROM inserted WHERE period_kind <> 'fy_quarter'));
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION forecast_data_version() RETURNS bigint LANGUAGE sql STABLE AS
    $$ SELECT coalesce(max(id), 0) FROM data_changes WHERE annual $$;
