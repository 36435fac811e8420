-- The quarterly return's states, queries and sign-off.  A submission
-- version is in force (tables, profiles, forecasts, collections) only once
-- approved; every state change is a row of submission_states, never an
-- update.  A figure can be withdrawn: a new observation version marked
-- withdrawn, which takes the metric out of force without deleting anything.

CREATE TABLE submission_states (
    id             bigserial PRIMARY KEY,
    submission_id  bigint NOT NULL REFERENCES submissions,
    state          text NOT NULL CHECK (state IN ('awaiting_approval', 'approved', 'rejected')),
    at             timestamptz NOT NULL DEFAULT now(),
    user_id        bigint REFERENCES users,
    token_id       bigint REFERENCES tokens,
    reason         text CHECK (length(reason) <= 2000)
);
CREATE INDEX submission_states_submission ON submission_states (submission_id, id DESC);
-- At most one approval per version; the in-force view looks it up here.
CREATE UNIQUE INDEX submission_states_approved ON submission_states (submission_id)
    WHERE state = 'approved';
CREATE TRIGGER submission_states_append_only BEFORE UPDATE OR DELETE ON submission_states
    FOR EACH ROW EXECUTE FUNCTION refuse_change();

-- Queries raised on a version and the explanation given (NULL: unexplained,
-- as an API submission may leave them for the approver to see).
CREATE TABLE submission_queries (
    id             bigserial PRIMARY KEY,
    submission_id  bigint NOT NULL REFERENCES submissions,
    metric         text NOT NULL REFERENCES metrics,
    rule           text NOT NULL,
    message        text NOT NULL,
    explanation    text CHECK (length(explanation) <= 2000)
);
CREATE INDEX submission_queries_submission ON submission_queries (submission_id);
CREATE TRIGGER submission_queries_append_only BEFORE UPDATE OR DELETE ON submission_queries
    FOR EACH ROW EXECUTE FUNCTION refuse_change();

-- Who sent a version when it was a person (the form), and the form's type.
ALTER TABLE submissions ADD COLUMN user_id bigint REFERENCES users;
ALTER TABLE submissions DROP CONSTRAINT submissions_content_type_check;
ALTER TABLE submissions ADD CONSTRAINT submissions_content_type_check
    CHECK (content_type IN ('application/json', 'text/csv', 'application/x-www-form-urlencoded'));

ALTER TABLE observations ADD COLUMN withdrawn boolean NOT NULL DEFAULT false;
ALTER TABLE observations DROP CONSTRAINT observations_check;
ALTER TABLE observations ADD CONSTRAINT observations_value_symbol_or_withdrawn
    CHECK (CASE WHEN withdrawn THEN value IS NULL AND symbol IS NULL AND NOT published
                ELSE (value IS NULL) <> (symbol IS NULL) END);

-- Versions stored before sign-off existed were in force: they stay so.
INSERT INTO submission_states (submission_id, state, reason)
SELECT id, 'approved', 'in force before sign-off existed (migration 041)' FROM submissions;

-- The figure in force: the latest *approved* version of each (authority,
-- metric, period) -- published figures need no approval -- unless that
-- version withdrew the figure.
CREATE OR REPLACE VIEW current_observations AS
    SELECT c.* FROM (
        SELECT DISTINCT ON (o.authority, o.metric, o.period) o.*
        FROM observations o
        -- A join, not EXISTS: the planner hashes the (small) approvals once
        -- instead of probing them per row (3x faster over the history).
        -- The unique index on approvals keeps it one row per observation.
        LEFT JOIN submission_states st ON st.submission_id = o.submission_id
             AND st.state = 'approved'
        WHERE (o.submission_id IS NULL OR st.id IS NOT NULL)
          -- A version the import checks quarantined is not in force (020).
          AND NOT EXISTS (SELECT 1 FROM quarantined_observations q
                          WHERE q.authority = o.authority AND q.metric = o.metric
                            AND q.period = o.period AND q.version = o.version)
        ORDER BY o.authority, o.metric, o.period, o.version DESC) c
    WHERE NOT c.withdrawn;

-- The quarter n quarters after (or before, n < 0) 'YYYY-YY Qn'.
CREATE FUNCTION fy_quarter_shift(p text, n int) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT AS $$
    SELECT to_char(y, 'FM0000') || '-' || to_char((y + 1) % 100, 'FM00') || ' Q' || (q + 1)
    FROM (SELECT (substr(p, 1, 4)::int * 4 + substr(p, 10, 1)::int - 1 + n) AS k) s,
         LATERAL (SELECT s.k / 4 AS y, s.k % 4 AS q) t
$$;

-- The collection calendar: a quarter opens the day after it ends and is due
-- due_weeks later.  One row, an administrator's setting.
CREATE TABLE collection_settings (
    id         boolean PRIMARY KEY DEFAULT true CHECK (id),
    due_weeks  integer NOT NULL CHECK (due_weeks BETWEEN 1 AND 26),
    changed_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO collection_settings (due_weeks) VALUES (6);
GRANT UPDATE ON collection_settings TO sendbench_app;

CREATE FUNCTION return_opens(p text) RETURNS date LANGUAGE sql IMMUTABLE STRICT AS $$
    SELECT (fy_quarter_start(p) + interval '3 months')::date
$$;
CREATE FUNCTION return_due(p text) RETURNS date LANGUAGE sql STABLE STRICT AS $$
    SELECT return_opens(p) + 7 * (SELECT due_weeks FROM collection_settings)
$$;

-- A version's state: its latest state row.
CREATE FUNCTION submission_state(p_id bigint) RETURNS text LANGUAGE sql STABLE AS $$
    SELECT state FROM submission_states WHERE submission_id = p_id ORDER BY id DESC LIMIT 1
$$;

/*
 * A quarter's state for one authority, as /returns and the dashboard show
 * it: 'not_open' before it opens; with no version: 'open', then 'late'
 * after the due date; else the state of its latest version:
 * 'awaiting_approval', 'approved', or 'draft' when the latest version was
 * rejected (returned to the submitter).  late: past due and not approved by
 * then.
 */
CREATE FUNCTION return_status(p_authority text, p_period text, p_today date DEFAULT current_date)
    RETURNS TABLE (state text, late boolean, opens date, due date, latest_id bigint)
    LANGUAGE sql STABLE AS $$
    WITH v AS (SELECT s.id, submission_state(s.id) AS st FROM submissions s
               WHERE s.authority = p_authority AND s.period = p_period
               ORDER BY s.version DESC LIMIT 1),
         ap AS (SELECT min(st.at)::date AS at FROM submission_states st JOIN submissions s
                  ON s.id = st.submission_id
                WHERE s.authority = p_authority AND s.period = p_period AND st.state = 'approved')
    SELECT CASE WHEN p_today < return_opens(p_period) THEN 'not_open'
                WHEN v.id IS NULL THEN 'open'
                WHEN v.st = 'rejected' THEN 'draft'
                WHEN v.st = 'awaiting_approval'
                     AND EXISTS (SELECT 1 FROM submission_states x JOIN submissions s2 ON s2.id = x.submission_id
                                 WHERE s2.authority = p_authority AND s2.period = p_period
                                   AND x.state = 'approved') THEN 'awaiting_approval'
                ELSE v.st END,
           p_today > return_due(p_period) AND (ap.at IS NULL OR ap.at > return_due(p_period)),
           return_opens(p_period), return_due(p_period), v.id
    FROM (SELECT 1) x LEFT JOIN v ON true LEFT JOIN ap ON true
$$;

-- One submission version as the API shows it, with its state and queries.
CREATE OR REPLACE FUNCTION submission_json(p_id bigint) RETURNS jsonb
    LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('id', s.id, 'authority', s.authority, 'period', s.period,
               'version', s.version, 'created_at', s.created_at, 'token_id', s.token_id,
               'content_type', s.content_type, 'idempotency_key', s.idempotency_key,
               'figures', s.figures, 'notes', s.notes, 'user_id', s.user_id,
               'state', submission_state(s.id),
               'withdrawn', coalesce((SELECT jsonb_agg(o.metric ORDER BY o.metric) FROM observations o
                                      WHERE o.submission_id = s.id AND o.withdrawn), '[]'),
               'queries', coalesce((SELECT jsonb_agg(jsonb_build_object('metric', q.metric,
                                      'rule', q.rule, 'message', q.message,
                                      'explanation', q.explanation) ORDER BY q.id)
                                    FROM submission_queries q WHERE q.submission_id = s.id), '[]'))
    FROM submissions s WHERE s.id = p_id
$$;

/*
 * Stores one validated version awaiting approval: the submission, one
 * observation per figure (not in force until approved), a withdrawn
 * observation per metric in p_withdraw, the queries with their
 * explanations, the state row and the audit row, in the calling statement's
 * transaction.  Idempotency as in sql/004 (by token and key).
 */
CREATE FUNCTION submit_return(p_authority text, p_period text, p_figures jsonb, p_withdraw jsonb,
                              p_token_id bigint, p_user_id bigint, p_idempotency_key text,
                              p_content_type text, p_notes text, p_queries jsonb)
    RETURNS jsonb LANGUAGE plpgsql AS $$
DECLARE
    prev submissions;
    new_id bigint;
    new_version integer;
    bad text;
    withdraw jsonb := coalesce(p_withdraw, '[]');
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
     WHERE m.id IS NULL OR NOT m.submittable OR jsonb_typeof(f.value) <> 'number'
        OR withdraw ? f.key;
    IF bad IS NULL THEN
        SELECT string_agg(w, ', ') INTO bad FROM jsonb_array_elements_text(withdraw) w
          LEFT JOIN metrics m ON m.id = w WHERE m.id IS NULL OR NOT m.submittable;
    END IF;
    IF bad IS NOT NULL OR (p_figures = '{}'::jsonb AND withdraw = '[]'::jsonb) THEN
        RAISE EXCEPTION 'figures not accepted: %', coalesce(bad, 'none sent') USING ERRCODE = 'SBK02';
    END IF;

    PERFORM pg_advisory_xact_lock(hashtextextended('sendbench.submit:' || p_authority || ':' || p_period, 0));
    SELECT coalesce(max(version), 0) + 1 INTO new_version
      FROM submissions WHERE authority = p_authority AND period = p_period;

    INSERT INTO submissions (authority, period, version, token_id, user_id, idempotency_key,
                             content_type, figures, notes)
    VALUES (p_authority, p_period, new_version, p_token_id, p_user_id, p_idempotency_key,
            p_content_type, p_figures, p_notes)
    RETURNING id INTO new_id;

    INSERT INTO observations (authority, metric, period, period_kind, period_start, value,
                              published, source, submission_id, version, withdrawn)
    SELECT p_authority, f.key, p_period, 'fy_quarter', fy_quarter_start(p_period),
           f.value, false, 'submission', new_id,
           coalesce((SELECT max(o.version) FROM observations o
                      WHERE o.authority = p_authority AND o.metric = f.key
                        AND o.period = p_period), 0) + 1,
           f.withdrawn
      FROM (SELECT key, (value #>> '{}')::numeric AS value, false AS withdrawn FROM jsonb_each(p_figures)
            UNION ALL
            SELECT w, NULL, true FROM jsonb_array_elements_text(withdraw) w) f;

    INSERT INTO submission_queries (submission_id, metric, rule, message, explanation)
    SELECT new_id, q->>'metric', q->>'rule', q->>'message', nullif(q->>'explanation', '')
      FROM jsonb_array_elements(coalesce(p_queries, '[]')) q;

    INSERT INTO submission_states (submission_id, state, user_id, token_id)
    VALUES (new_id, 'awaiting_approval', p_user_id, p_token_id);

    INSERT INTO audit_log (token_id, user_id, actor, action, authority, detail)
    VALUES (p_token_id, p_user_id,
            CASE WHEN p_user_id IS NOT NULL THEN 'user:' || p_user_id
                 ELSE 'token:' || coalesce(p_token_id::text, '-') END,
            'submission.create', p_authority,
            jsonb_build_object('submission_id', new_id, 'period', p_period, 'version', new_version,
                               'metrics', (SELECT jsonb_agg(k ORDER BY k) FROM jsonb_object_keys(p_figures) k),
                               'withdrawn', withdraw,
                               'queries', jsonb_array_length(coalesce(p_queries, '[]'))));

    RETURN submission_json(new_id)
           || jsonb_build_object('replayed', false, 'changed', submission_changes(new_id));
END $$;

-- The API's former entry point: a version awaiting approval, no queries.
CREATE OR REPLACE FUNCTION submit_figures(p_authority text, p_period text, p_figures jsonb,
                                          p_token_id bigint, p_idempotency_key text,
                                          p_content_type text, p_notes text)
    RETURNS jsonb LANGUAGE sql AS $$
    SELECT submit_return(p_authority, p_period, p_figures, NULL, p_token_id, NULL,
                         p_idempotency_key, p_content_type, p_notes, NULL)
$$;

/*
 * Approves or rejects a version awaiting approval.  Only the authority's
 * latest version can be decided; never by the person (or token) that sent
 * it.  SQLSTATEs: SBK20 not awaiting approval, SBK21 a newer version exists,
 * SBK22 the sender may not decide their own return.  An approval puts the
 * version in force: the data version moves and 'sendbench_data' is
 * notified, as for any other change of figures.
 */
CREATE FUNCTION submission_decide(p_id bigint, p_decision text, p_user_id bigint,
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
        INSERT INTO data_changes DEFAULT VALUES;
        PERFORM pg_notify('sendbench_data', jsonb_build_object(
            'authority', s.authority, 'period', s.period, 'submission_id', p_id,
            'metrics', (SELECT jsonb_agg(o.metric ORDER BY o.metric) FROM observations o
                        WHERE o.submission_id = p_id))::text);
    END IF;
    RETURN submission_json(p_id);
END $$;

GRANT INSERT ON submission_states, submission_queries TO sendbench_app;
-- The admin page issues and revokes API tokens (server/routes_admin.c).
GRANT INSERT, UPDATE (revoked_at) ON tokens TO sendbench_app;

-- What the query rules compare a return with (server/query_rules.c): the
-- figures in force for the previous quarter and for the same quarter a
-- year earlier, and the authority's last published figure of each metric.
CREATE FUNCTION return_context(p_authority text, p_period text) RETURNS jsonb
    LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object(
        'prev', (SELECT coalesce(jsonb_object_agg(metric, value), '{}') FROM current_observations
                 WHERE authority = p_authority AND period = fy_quarter_shift(p_period, -1)
                   AND value IS NOT NULL),
        'year_ago', (SELECT coalesce(jsonb_object_agg(metric, value), '{}') FROM current_observations
                     WHERE authority = p_authority AND period = fy_quarter_shift(p_period, -4)
                       AND value IS NOT NULL),
        'published', (SELECT coalesce(jsonb_object_agg(metric, value), '{}') FROM (
                        SELECT DISTINCT ON (metric) metric, value FROM current_observations
                        WHERE authority = p_authority AND published AND value IS NOT NULL
                        ORDER BY metric, period_start DESC) p))
$$;
