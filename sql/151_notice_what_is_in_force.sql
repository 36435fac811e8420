-- A version awaiting approval tells no server anything (issue 19).
--
-- Since sign-off (041) a submission's figures are in force only once
-- approved, and the approval sends its own notice (submission_decide).
-- Yet the statement trigger on observations (012, 013) sent a notice for
-- the submission's INSERT too, and every server dropped the submitting
-- authority's profile and every reply that read those metrics in that
-- quarter, to compute them again unchanged.  Now the notice names only the
-- rows that are in force when written (imports, corrections, fixtures:
-- rows of no submission, or of an approved one), and says nothing when
-- there are none.  013's definition otherwise.
CREATE OR REPLACE FUNCTION notify_observations_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    a text;
    p text;
    payload text;
BEGIN
    SELECT authority, period INTO a, p FROM inserted i
     WHERE i.submission_id IS NULL
        OR EXISTS (SELECT 1 FROM submission_states s WHERE s.submission_id = i.submission_id
                   AND s.state = 'approved')
     LIMIT 1;
    IF NOT FOUND THEN
        RETURN NULL;    -- nothing in force changed
    END IF;
    IF NOT EXISTS (SELECT 1 FROM inserted i
                    WHERE (i.authority <> a OR i.period <> p)
                      AND (i.submission_id IS NULL
                           OR EXISTS (SELECT 1 FROM submission_states s
                                      WHERE s.submission_id = i.submission_id
                                        AND s.state = 'approved'))) THEN
        SELECT CASE WHEN count(DISTINCT metric) <= 16
                    THEN jsonb_build_object('authority', a, 'period', p,
                             'metrics', jsonb_agg(DISTINCT metric))::text END
          INTO payload FROM inserted i
         WHERE i.submission_id IS NULL
            OR EXISTS (SELECT 1 FROM submission_states s WHERE s.submission_id = i.submission_id
                       AND s.state = 'approved');
    END IF;
    IF payload IS NULL OR octet_length(payload) > 7000 THEN
        payload := TG_TABLE_NAME;
    END IF;
    PERFORM pg_notify('sendbench_data', payload);
    RETURN NULL;
END $$;
