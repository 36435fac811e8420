-- Quarterly submissions: one statement stores a version atomically, and the
-- derived metrics are computed in one place for every reader.

-- First day of a financial-year quarter 'YYYY-YY Qn' (Q1 = April-June).
CREATE FUNCTION fy_quarter_start(p text) RETURNS date
    LANGUAGE sql IMMUTABLE STRICT AS $$
    SELECT (make_date(substr(p, 1, 4)::int, 4, 1)
            + make_interval(months => 3 * (substr(p, 10, 1)::int - 1)))::date
$$;


-- One submission version as the API shows it.
CREATE FUNCTION submission_json(p_id bigint) RETURNS jsonb
    LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('id', s.id, 'authority', s.authority, 'period', s.period,
               'version', s.version, 'created_at', s.created_at, 'token_id', s.token_id,
               'content_type', s.content_type, 'idempotency_key', s.idempotency_key,
               'figures', s.figures, 'notes', s.notes)
    FROM submissions s WHERE s.id = p_id
$$;

-- The metrics of a version whose value differs from the value in force
-- just before it (the previous version of that authority, metric and
-- period), or that had no value before.
CREATE FUNCTION submission_changes(p_id bigint) RETURNS jsonb
    LANGUAGE sql STABLE AS $$
    SELECT coalesce(jsonb_agg(o.metric ORDER BY o.metric), '[]')
    FROM observations o
    LEFT JOIN observations p ON p.authority = o.authority AND p.metric = o.metric
         AND p.period = o.period AND p.version = o.version - 1
    WHERE o.submission_id = p_id
      AND (p.id IS NULL OR p.value IS DISTINCT FROM o.value OR p.symbol IS DISTINCT FROM o.symbol)
$$;

/*
 * Stores one validated submission: the submission version, one observation
 * per figure and the audit row, in the one transaction of the calling
 * statement, then notifies 'sendbench_data' (delivered on commit only).
 *
 * Versions: the (authority, period) lock serialises concurrent submissions
 * for the same quarter, so max + 1 is safe.  Idempotency: a key already
 * used by the same token returns that first version (replayed = true) when
 * the submission is the same, and raises SQLSTATE SBK01 when it differs.
 */
CREATE FUNCTION submit_figures(p_authority text, p_period text, p_figures jsonb,
                               p_token_id bigint, p_idempotency_key text,
                               p_content_type text, p_notes text)
    RETURNS jsonb LANGUAGE plpgsql AS $$
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

    PERFORM pg_notify('sendbench_data', jsonb_build_object(
        'authority', p_authority, 'period', p_period, 'submission_id', new_id,
        'metrics', (SELECT jsonb_agg(k ORDER BY k) FROM jsonb_object_keys(p_figures) k))::text);

    RETURN submission_json(new_id)
           || jsonb_build_object('replayed', false, 'changed', submission_changes(new_id));
END $$;

CREATE INDEX submissions_authority ON submissions (authority, id DESC);
CREATE INDEX observations_submission ON observations (submission_id) WHERE submission_id IS NOT NULL;
