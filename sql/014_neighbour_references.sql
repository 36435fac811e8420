-- statistical_neighbours checks its references once per statement too.
--
-- The neighbours file is written as one statement of ~1,600 rows, each
-- naming two authorities: as declared foreign keys that was 3,200 row-level
-- checks and row locks, most of the time of importing the file.  Authority
-- keys are permanent (013), so the same set-wise check as observations'
-- keeps the guarantee: after every INSERT or UPDATE statement, the distinct
-- authorities and neighbours it wrote must all be registered, else the
-- statement fails with foreign_key_violation (SQLSTATE 23503) under the old
-- constraint names.

ALTER TABLE statistical_neighbours
    DROP CONSTRAINT statistical_neighbours_authority_fkey,
    DROP CONSTRAINT statistical_neighbours_neighbour_fkey;

CREATE FUNCTION statistical_neighbours_check_references() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    bad text;
    col text;
BEGIN
    SELECT k.code, k.col INTO bad, col
      FROM (SELECT DISTINCT authority AS code, 'authority' AS col FROM written
            UNION SELECT DISTINCT neighbour, 'neighbour' FROM written) k
     WHERE NOT EXISTS (SELECT 1 FROM authorities a WHERE a.new_la_code = k.code)
     ORDER BY k.col, k.code LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'insert or update on table "statistical_neighbours" violates foreign key constraint "statistical_neighbours_%_fkey"', col
            USING ERRCODE = 'foreign_key_violation',
                  CONSTRAINT = format('statistical_neighbours_%s_fkey', col),
                  TABLE = 'statistical_neighbours', COLUMN = col,
                  DETAIL = format('Key (%s)=(%s) is not present in table "authorities".', col, bad);
    END IF;
    RETURN NULL;
END $$;

-- A trigger with transition tables has one event, hence two.
CREATE TRIGGER statistical_neighbours_references_insert AFTER INSERT ON statistical_neighbours
    REFERENCING NEW TABLE AS written
    FOR EACH STATEMENT EXECUTE FUNCTION statistical_neighbours_check_references();
CREATE TRIGGER statistical_neighbours_references_update AFTER UPDATE ON statistical_neighbours
    REFERENCING NEW TABLE AS written
    FOR EACH STATEMENT EXECUTE FUNCTION statistical_neighbours_check_references();
