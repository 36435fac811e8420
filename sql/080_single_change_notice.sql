-- One change notice per transaction (issue 19).
--
-- A submission told the servers twice that the same figures changed:
-- submit_figures (004) sent {"authority", "period", "submission_id",
-- "metrics"} itself, and the statement trigger on observations (012, 013)
-- sent {"authority", "period", "metrics"} for the same INSERT.  The payloads
-- differ, so PostgreSQL delivered both, and every server scanned its whole
-- cache twice per submission.  The trigger's notice is the one every writer
-- gets (a submission, an import, a correction), so submit_figures stops
-- sending its own; nothing read submission_id from it.
--
-- Only 004's definition is replaced (recognised by the md5 of its body): a
-- later definition of submit_figures is its author's to keep free of a
-- notice of its own (tests/integration/test_dependencies.py counts them).
DO $do$
BEGIN
    IF (SELECT md5(prosrc) FROM pg_proc WHERE proname = 'submit_figures')
       = '892e0c76ce3cf6984a92c53c97b02148' THEN
        EXECUTE $def$
CREATE OR REPLACE FUNCTION submit_figures(p_authority text, p_period text, p_figures jsonb,
                               p_token_id bigint, p_idempotency_key text,
                               p_content_type text, p_notes text)
    RETURNS jsonb LANGUAGE plpgsql AS $f$
DECLARE
    prev submissions;
    new_id bigint;
    new_version integer;
    bad text;
BEGIN
    IF p_idempotency_key IS NOT NULL THEN
        PERFORM pg_advisory_xact_lock(hashtextextended(
            'sendbench.idem:' || coalesce(p_token_id::text, '-') || ':' || p_idempotency_key, 0));
        SELECT * INTO prev FROM submissions
         WHERE token_id = p_token_id AND idempotency_key = p_idempotency_key;
        IF FOUND THEN
            IF prev.authority = p_authority AND prev.period = p_period
               AND prev.figures = p_figures AND prev.notes IS NOT DISTINCT FROM p_notes THEN
                RETURN submission_json(prev.id)
                       || jsonb_build_object('replayed', true, 'changed', submission_changes(prev.id));
            END IF;
            RAISE EXCEPTION 'Idempotency-Key already used for submission % with different content', prev.id
                USING ERRCODE = 'SBK01', DETAIL = prev.id::text;
        END IF;
    END IF;

    -- The database refuses what the API refuses, should a caller skip it.
    SELECT string_agg(f.key, ', ') INTO bad
      FROM jsonb_each(p_figures) f LEFT JOIN metrics m ON m.id = f.key
     WHERE m.id IS NULL OR NOT m.submittable OR jsonb_typeof(f.value) <> 'number';
    IF bad IS NOT NULL OR p_figures = '{}'::jsonb THEN
        RAISE EXCEPTION 'figures not accepted: %', coalesce(bad, 'none sent') USING ERRCODE = 'SBK02';
    END IF;

    PERFORM pg_advisory_xact_lock(hashtextextended('sendbench.submit:' || p_authority || ':' || p_period, 0));
    SELECT coalesce(max(version), 0) + 1 INTO new_version
      FROM submissions WHERE authority = p_authority AND period = p_period;

    INSERT INTO submissions (authority, period, version, token_id, idempotency_key,
                             content_type, figures, notes)
    VALUES (p_authority, p_period, new_version, p_token_id, p_idempotency_key,
            p_content_type, p_figures, p_notes)
    RETURNING id INTO new_id;

    INSERT INTO observations (authority, metric, period, period_kind, period_start, value,
                              published, source, submission_id, version)
    SELECT p_authority, f.key, p_period, 'fy_quarter', fy_quarter_start(p_period),
           (f.value #>> '{}')::numeric, false, 'submission', new_id,
           coalesce((SELECT max(o.version) FROM observations o
                      WHERE o.authority = p_authority AND o.metric = f.key
                        AND o.period = p_period), 0) + 1
      FROM jsonb_each(p_figures) f;

    INSERT INTO audit_log (token_id, actor, action, authority, detail)
    VALUES (p_token_id, 'token:' || coalesce(p_token_id::text, '-'), 'submission.create', p_authority,
            jsonb_build_object('submission_id', new_id, 'period', p_period, 'version', new_version,
                               'metrics', (SELECT jsonb_agg(k ORDER BY k) FROM jsonb_object_keys(p_figures) k)));

    RETURN submission_json(new_id)
           || jsonb_build_object('replayed', false, 'changed', submission_changes(new_id));
END $f$;
        $def$;
    END IF;
END $do$;
