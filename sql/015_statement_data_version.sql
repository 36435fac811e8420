-- The data version moves once per write statement, not once per row.
--
-- data_version() was the newest observation id, so every observation row
-- kept a primary-key index entry whose only reader was max(id): a B-tree
-- insertion per row of every import and submission (~0.7 us a row, about a
-- tenth of the cost of writing an observation; docs/bench.md).  Now every
-- INSERT statement that adds observations adds one row to data_changes
-- (a statement trigger sharing the transition table the reference check of
-- 013 reads), and the data version is the newest of those.  It still only grows, moves
-- with every committed change and never for a statement that changed
-- nothing; observations refuse UPDATE and DELETE (001), so an INSERT is the
-- only change.  The id column stays, unique by its sequence.

CREATE TABLE data_changes (
    id          bigserial PRIMARY KEY,
    changed_at  timestamptz NOT NULL DEFAULT now()
);
GRANT INSERT ON data_changes TO sendbench_app;
GRANT USAGE ON SEQUENCE data_changes_id_seq TO sendbench_app;

-- Continuity: start at the old version (the newest observation id), so the
-- data versions stored with forecasts compare as before.
INSERT INTO data_changes (id) SELECT coalesce(max(id), 0) FROM observations;
SELECT setval('data_changes_id_seq', (SELECT max(id) FROM data_changes) + 1, false);

CREATE OR REPLACE FUNCTION data_version() RETURNS bigint LANGUAGE sql STABLE AS
    $$ SELECT coalesce(max(id), 0) FROM data_changes $$;

ALTER TABLE observations DROP CONSTRAINT observations_pkey;

CREATE FUNCTION record_data_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM inserted) THEN
        INSERT INTO data_changes DEFAULT VALUES;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER observations_data_change AFTER INSERT ON observations
    REFERENCING NEW TABLE AS inserted
    FOR EACH STATEMENT EXECUTE FUNCTION record_data_change();
