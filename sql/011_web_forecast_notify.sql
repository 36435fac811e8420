-- The web pages and the evidence pack draw stored forecasts, and are kept
-- rendered in each server's tables cache: a forecast stored by any process
-- (a refit after new data, `sendbench forecast`) must empty every server's
-- cache like any other input of a page.  Statement level, as 005's.
CREATE TRIGGER forecasts_notify AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON forecasts
    FOR EACH STATEMENT EXECUTE FUNCTION notify_table_inputs();
