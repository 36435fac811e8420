-- An approval puts a quarterly return in force (041), and moves the data
-- version so that tables and caches see it.  041 recorded that change with
-- DEFAULT VALUES, which 081 made annual = true: every approval of a quarter
-- marked every stored forecast stale and the worker refitted all of them,
-- though forecasts read only annual periods.  The change is now annual only
-- when the approved version holds an annual period (a return never does).

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
        -- annual as record_data_change() (081) judges it: a return's figures
        -- are quarters, which no forecast reads, so an approval moves
        -- data_version() (tables, caches) but not forecast_data_version().
        INSERT INTO data_changes (annual)
        VALUES (EXISTS (SELECT 1 FROM observations o
                         WHERE o.submission_id = p_id AND o.period_kind <> 'fy_quarter'));
        PERFORM pg_notify('sendbench_data', jsonb_build_object(
            'authority', s.authority, 'period', s.period, 'submission_id', p_id,
            'metrics', (SELECT jsonb_agg(o.metric ORDER BY o.metric) FROM observations o
                        WHERE o.submission_id = p_id))::text);
    END IF;
    RETURN submission_json(p_id);
END $$;
