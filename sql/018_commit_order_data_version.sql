-- Data changes are numbered in commit order.
--
-- data_version() (015) and forecast_data_version() (081) are the largest
-- data_changes id (of the annual ones for the second), and ids came from a
-- sequence in the order statements ran, not the order transactions
-- committed: a transaction that wrote first and committed last added an id
-- below one already visible, so neither version moved at its commit, and
-- what it wrote was never refitted nor flagged stale.
--
-- Now a change is written with a provisional negative id (a sequence of
-- its own, so no number of the real sequence is spent on it), and a
-- DEFERRED constraint trigger gives it its id as its transaction commits:
-- it takes a transaction-level advisory lock, held until the commit is
-- done, and only then the next id from the sequence.  A second committing
-- writer waits for the first (for the instant of a commit, not for the
-- whole transaction) and takes a larger id, so the largest visible id grows
-- with every commit, by one per change as before.  The functions that read
-- it stay as they are.
CREATE SEQUENCE data_changes_provisional_seq;
GRANT USAGE ON SEQUENCE data_changes_provisional_seq TO sendbench_app;
ALTER TABLE data_changes ALTER COLUMN id SET DEFAULT -nextval('data_changes_provisional_seq');
CREATE FUNCTION data_change_commit_order() RETURNS trigger LANGUAGE plpgsql
    SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    PERFORM pg_advisory_xact_lock(hashtextextended('sendbench.data_changes', 0));
    UPDATE data_changes SET id = nextval('data_changes_id_seq') WHERE id = NEW.id;
    RETURN NULL;
END $$;
-- SECURITY DEFINER: the application role may add a change, not number one.
REVOKE ALL ON FUNCTION data_change_commit_order() FROM PUBLIC;

CREATE CONSTRAINT TRIGGER data_changes_commit_order AFTER INSERT ON data_changes
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION data_change_commit_order();
