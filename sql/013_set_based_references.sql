-- observations checks its references once per statement, not once per row.
--
-- observations is the one large table: every import and every submission
-- writes to it.  As declared foreign keys, its three references (authority,
-- metric, submission) were checked row by row: for each new row and each
-- reference PostgreSQL runs a query on the referenced table and takes a row
-- lock (FOR KEY SHARE) there.  With the planner's choice for a table of 160
-- rows (a sequential scan) that is about 10 us per reference per row: more
-- than half of the time taken to load the DfE history (docs/bench.md).
--
-- The same guarantee is kept, set-wise:
--   1. after every INSERT statement on observations, one anti-join of the
--      rows it inserted (a transition table) against authorities, metrics
--      and submissions raises foreign_key_violation (SQLSTATE 23503, with
--      the old constraint names) if any reference is missing, so the
--      statement and its transaction fail as before;
--   2. a referenced key can never go away: authorities and metrics refuse
--      DELETE, TRUNCATE and any change of their key; submissions already
--      refuse UPDATE and DELETE and now refuse TRUNCATE too.
-- observations itself refuses UPDATE and DELETE (001), so an INSERT is the
-- only way a reference is made.  Because no referenced row can be deleted or
-- re-keyed by anybody, the per-row lock that protected a foreign key check
-- from a concurrent DELETE has nothing left to protect.

ALTER TABLE observations
    DROP CONSTRAINT observations_authority_fkey,
    DROP CONSTRAINT observations_metric_fkey,
    DROP CONSTRAINT observations_submission_id_fkey;

CREATE FUNCTION observations_check_references() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    bad text;
BEGIN
    -- Each distinct key once (a DfE file has 160 authorities in 10,000 rows).
    SELECT k.authority INTO bad FROM (SELECT DISTINCT authority FROM inserted) k
     WHERE NOT EXISTS (SELECT 1 FROM authorities a WHERE a.new_la_code = k.authority) LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'insert or update on table "observations" violates foreign key constraint "observations_authority_fkey"'
            USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'observations_authority_fkey',
                  TABLE = 'observations', COLUMN = 'authority',
                  DETAIL = format('Key (authority)=(%s) is not present in table "authorities".', bad);
    END IF;
    SELECT k.metric INTO bad FROM (SELECT DISTINCT metric FROM inserted) k
     WHERE NOT EXISTS (SELECT 1 FROM metrics m WHERE m.id = k.metric) LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'insert or update on table "observations" violates foreign key constraint "observations_metric_fkey"'
            USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'observations_metric_fkey',
                  TABLE = 'observations', COLUMN = 'metric',
                  DETAIL = format('Key (metric)=(%s) is not present in table "metrics".', bad);
    END IF;
    SELECT k.submission_id::text INTO bad
      FROM (SELECT DISTINCT submission_id FROM inserted WHERE submission_id IS NOT NULL) k
     WHERE NOT EXISTS (SELECT 1 FROM submissions s WHERE s.id = k.submission_id) LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'insert or update on table "observations" violates foreign key constraint "observations_submission_id_fkey"'
            USING ERRCODE = 'foreign_key_violation', CONSTRAINT = 'observations_submission_id_fkey',
                  TABLE = 'observations', COLUMN = 'submission_id',
                  DETAIL = format('Key (submission_id)=(%s) is not present in table "submissions".', bad);
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER observations_references AFTER INSERT ON observations
    REFERENCING NEW TABLE AS inserted
    FOR EACH STATEMENT EXECUTE FUNCTION observations_check_references();

-- The referenced keys are permanent.
CREATE FUNCTION refuse_key_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% keys are permanent (observations refer to them): % refused',
        TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'integrity_constraint_violation', TABLE = TG_TABLE_NAME;
END $$;

CREATE TRIGGER authorities_key_permanent BEFORE DELETE OR UPDATE OF new_la_code ON authorities
    FOR EACH ROW EXECUTE FUNCTION refuse_key_change();
CREATE TRIGGER authorities_no_truncate BEFORE TRUNCATE ON authorities
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_key_change();
CREATE TRIGGER metrics_key_permanent BEFORE DELETE OR UPDATE OF id ON metrics
    FOR EACH ROW EXECUTE FUNCTION refuse_key_change();
CREATE TRIGGER metrics_no_truncate BEFORE TRUNCATE ON metrics
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_key_change();
CREATE TRIGGER submissions_no_truncate BEFORE TRUNCATE ON submissions
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_key_change();

-- The notification of new observations (012) counted distinct authorities,
-- periods and metrics over every inserted row (three sorts: 14 ms for the
-- 8,500 rows of one DfE file).  It only needs to know whether the rows share
-- one authority and one period, which the first row that differs settles.
CREATE OR REPLACE FUNCTION notify_observations_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    a text;
    p text;
    payload text;
BEGIN
    SELECT authority, period INTO a, p FROM inserted LIMIT 1;
    IF NOT FOUND THEN
        RETURN NULL;    -- nothing changed
    END IF;
    IF NOT EXISTS (SELECT 1 FROM inserted WHERE authority <> a OR period <> p) THEN
        SELECT CASE WHEN count(DISTINCT metric) <= 16
                    THEN jsonb_build_object('authority', a, 'period', p,
                             'metrics', jsonb_agg(DISTINCT metric))::text END
          INTO payload FROM inserted;
    END IF;
    IF payload IS NULL OR octet_length(payload) > 7000 THEN
        payload := TG_TABLE_NAME;
    END IF;
    PERFORM pg_notify('sendbench_data', payload);
    RETURN NULL;
END $$;
