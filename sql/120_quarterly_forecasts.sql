-- Quarterly forecasts (issue 18): the forecast worker fits each council's
-- approved quarters (server/forecast_quarterly.c) and stores them in
-- `forecasts` with frequency 'quarterly'.  When a council no longer has
-- enough approved quarters (a version withdrawn or rejected), its old fit
-- must not be served: the worker removes the quarterly rows it did not
-- refresh.  The server's role may not DELETE from forecasts (annual fits
-- are only ever replaced by newer ones); this function removes quarterly
-- rows older than a given data version, and their runs, and nothing else.
CREATE FUNCTION drop_old_quarterly_forecasts(p_before bigint) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    n integer;
BEGIN
    DELETE FROM forecasts WHERE frequency = 'quarterly' AND data_version < p_before;
    GET DIAGNOSTICS n = ROW_COUNT;
    DELETE FROM forecast_runs r WHERE r.frequency = 'quarterly'
        AND NOT EXISTS (SELECT 1 FROM forecasts f WHERE f.metric = r.metric
                        AND f.frequency = 'quarterly');
    RETURN n;
END $$;

REVOKE ALL ON FUNCTION drop_old_quarterly_forecasts(bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION drop_old_quarterly_forecasts(bigint) TO sendbench_app;
