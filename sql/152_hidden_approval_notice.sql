-- An approval says whether what it puts in force is hidden (issue 19).
--
-- A council's approved quarter is unpublished: only the council itself and
-- administrators may see it under its name, and everyone once the council
-- consented to be named (docs/disclosure.md).  100's notice named the
-- authority, and every server dropped every reply that depends on that
-- authority's own figures -- its public profile too, though nothing in it
-- can show a figure the public may not see, and computed it again
-- unchanged.  Now the notice carries "hidden": true when the approved
-- figures are of an authority that has not consented and none is
-- published; a server then keeps the replies computed for callers who may
-- not name that authority (server/cache.c), and still drops every reply
-- that read the quarter's cross-section (England's and the regions'
-- aggregates count protected figures) and everything of the council's own
-- and administrators' views.
--
-- The consent is read after audit_log's row is written: its foreign key
-- holds a KEY SHARE lock on the authority's row until the commit, which
-- set_consent_to_name's FOR UPDATE waits for (and the other way round: the
-- insert waits for a consent change being committed, and the statement
-- after it then reads the new consent).  So the notice never says hidden
-- about figures that a consent committed before it made public.
-- 100's definition otherwise.
CREATE OR REPLACE FUNCTION submission_decide(p_id bigint, p_decision text, p_user_id bigint,
                                  p_token_id bigint, p_reason text)
    RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    s submissions;
BEGIN
    SELECT * INTO s FROM submissions WHERE id = p_id;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    PERFORM pg_advisory_xact_lock(hashtextextended('sendbench.submit:' || s.authority || ':' || s.period, 0));
    IF submission_state(p_id) IS DISTINCT FROM 'awaiting_approval' THEN
        RAISE EXCEPTION 'submission % is not awaiting approval', p_id USING ERRCODE = 'SBK20';
    END IF;
    IF EXISTS (SELECT 1 FROM submissions n WHERE n.authority = s.authority AND n.period = s.period
               AND n.version > s.version) THEN
        RAISE EXCEPTION 'submission % has a newer version', p_id USING ERRCODE = 'SBK21';
    END IF;
    IF (p_user_id IS NOT NULL AND p_user_id = s.user_id)
       OR (p_token_id IS NOT NULL AND p_token_id = s.token_id) THEN
        RAISE EXCEPTION 'the sender of submission % may not decide it', p_id USING ERRCODE = 'SBK22';
    END IF;
    INSERT INTO submission_states (submission_id, state, user_id, token_id, reason)
    VALUES (p_id, CASE p_decision WHEN 'approve' THEN 'approved' ELSE 'rejected' END,
            p_user_id, p_token_id, p_reason);
    INSERT INTO audit_log (token_id, user_id, actor, action, authority, detail)
    VALUES (p_token_id, p_user_id,
            CASE WHEN p_user_id IS NOT NULL THEN 'user:' || p_user_id
                 ELSE 'token:' || coalesce(p_token_id::text, '-') END,
            CASE p_decision WHEN 'approve' THEN 'submission.approve' ELSE 'submission.reject' END,
            s.authority, jsonb_build_object('submission_id', p_id, 'period', s.period,
                                            'version', s.version, 'reason', p_reason));
    IF p_decision = 'approve' THEN
        INSERT INTO data_changes (annual)
        VALUES (EXISTS (SELECT 1 FROM observations o
                         WHERE o.submission_id = p_id AND o.period_kind <> 'fy_quarter'));
        PERFORM pg_notify('sendbench_data', jsonb_build_object(
            'authority', s.authority, 'period', s.period, 'submission_id', p_id,
            'metrics', (SELECT jsonb_agg(o.metric ORDER BY o.metric) FROM observations o
                        WHERE o.submission_id = p_id),
            'hidden', NOT EXISTS (SELECT 1 FROM authorities a
                                   WHERE a.new_la_code = s.authority AND a.consent_to_name)
                      AND NOT EXISTS (SELECT 1 FROM observations o
                                       WHERE o.submission_id = p_id AND o.published))::text);
    END IF;
    RETURN submission_json(p_id);
END $$;
