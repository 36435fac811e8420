-- Narrow cache invalidation (issue 8, load): a statement that inserts the
-- figures of ONE authority and ONE period (a council submission, a
-- correction) tells the servers exactly that, as
--   {"authority": "E09000033", "period": "2024-25 Q2", "metrics": [...]}
-- so that each server drops only the cached tables and profiles that read
-- those figures (server/routes_tables.c on_data_changed).  Any other
-- statement on observations (a bulk import of many authorities or periods,
-- an update, a delete, a truncate) still sends the bare table name, which
-- empties every cache.  Statement level, as 005's; a transition table tells
-- what the statement inserted.
CREATE FUNCTION notify_observations_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    payload text;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM inserted) THEN
        RETURN NULL;    -- nothing changed
    END IF;
    SELECT CASE WHEN count(DISTINCT authority) = 1 AND count(DISTINCT period) = 1
                     AND count(DISTINCT metric) <= 16
                THEN jsonb_build_object('authority', min(authority), 'period', min(period),
                         'metrics', jsonb_agg(DISTINCT metric))::text END
      INTO payload FROM inserted;
    IF payload IS NULL OR octet_length(payload) > 7000 THEN
        payload := TG_TABLE_NAME;
    END IF;
    PERFORM pg_notify('sendbench_data', payload);
    RETURN NULL;
END $$;

DROP TRIGGER observations_notify ON observations;
CREATE TRIGGER observations_notify AFTER UPDATE OR DELETE OR TRUNCATE ON observations
    FOR EACH STATEMENT EXECUTE FUNCTION notify_table_inputs();
CREATE TRIGGER observations_insert_notify AFTER INSERT ON observations
    REFERENCING NEW TABLE AS inserted
    FOR EACH STATEMENT EXECUTE FUNCTION notify_observations_inserted();
