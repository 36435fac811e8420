-- Quarterly forecasts (issue 18): the forecast worker fits each council's
-- approved quarters on their own (server/forecast_quarterly.c) and keeps
-- the documents here, apart from `forecasts`: they are never public and
-- never cached, so storing them must not send the change notice that
-- empties every server's cache (forecasts_notify, 011).  One row per
-- metric and authority; decisions_version is the newest sign-off
-- (submission_states id) the fit saw.  A row the worker's pass did not
-- refresh (the authority no longer has enough approved quarters) is
-- deleted by that pass: these are derived documents, not figures.
CREATE TABLE quarterly_forecasts (
    metric            text NOT NULL REFERENCES metrics,
    authority         text NOT NULL REFERENCES authorities,
    data_version      bigint NOT NULL CHECK (data_version >= 0),
    decisions_version bigint NOT NULL CHECK (decisions_version >= 0),
    fitted_at         timestamptz NOT NULL DEFAULT now(),
    doc               jsonb NOT NULL CHECK (jsonb_typeof(doc) = 'object'),
    PRIMARY KEY (metric, authority)
);
GRANT SELECT, INSERT, UPDATE, DELETE ON quarterly_forecasts TO sendbench_app;
