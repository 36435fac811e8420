-- Quarterly submissions: one statement stores a version atomically, and the
-- derived metrics are computed in one place for every reader.

-- First day of a financial-year quarter 'YYYY-YY Qn' (Q1 = April-June).
CREATE FUNCTION fy_quarter_start(p text) RETURNS date
    LANGUAGE sql IMMUTABLE STRICT AS $$
    SELECT (make_date(substr(p, 1, 4)::int, 4, 1)
            + make_interval(months => 3 * (substr(p, 10, 1)::int - 1)))::date
$$;

-- The same period a year earlier, in the same notation: '2022' -> '2021',
-- '2021-22' -> '2020-21', '2024-25 Q2' -> '2023-24 Q2'; NULL otherwise.
CREATE FUNCTION period_year_earlier(p text) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT AS $$
    SELECT CASE
        WHEN p ~ '^[0-9]{4}$' THEN (p::int - 1)::text
        WHEN p ~ '^[0-9]{4}-[0-9]{2}( Q[1-4])?$' THEN
            (substr(p, 1, 4)::int - 1)::text || '-' ||
            lpad((substr(p, 1, 4)::int % 100)::text, 2, '0') || substr(p, 8)
    END
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

/*
 * Derived metrics, computed from the figures in force (current_observations)
 * and never stored: value = scale * numerator / denominator + offset.
 * A row exists for each (authority, period) where the numerator, or a
 * same-period denominator, is present.  When an input is missing,
 * suppressed (a DfE symbol) or the denominator is 0, value is NULL and
 * reason says why: a derived figure is never 0 for want of data.
 * published is true only when every input is a published (public) figure.
 */
CREATE TABLE derived_metric_definitions (
    metric      text PRIMARY KEY REFERENCES metrics,
    numerator   text NOT NULL REFERENCES metrics,
    denominator text NOT NULL REFERENCES metrics,
    year_earlier_denominator boolean NOT NULL DEFAULT false,
    scale       numeric NOT NULL,
    "offset"    numeric NOT NULL DEFAULT 0
);
INSERT INTO derived_metric_definitions VALUES
    ('pct_within_20_weeks', 'new_plans_within_20_weeks', 'new_plans_issued', false, 100, 0),
    ('pct_within_20_weeks_ex', 'new_plans_within_20_weeks_ex', 'new_plans_issued_ex', false, 100, 0),
    ('caseload_per_officer', 'ehcp_caseload', 'case_officers_fte', false, 1, 0),
    ('deficit_pct_of_hnb', 'dsg_cumulative_balance_gbp', 'hnb_allocation_gbp', false, -100, 0),
    ('caseload_growth_pct', 'ehcp_caseload', 'ehcp_caseload', true, 100, -100),
    ('request_to_assessment_rate', 'requests_decided_to_assess', 'requests_received', false, 100, 0);

CREATE VIEW derived_observations AS
WITH keys AS (
    SELECT DISTINCT authority, period, period_kind, period_start FROM current_observations
)
SELECT k.authority, d.metric, k.period, k.period_kind, k.period_start,
       CASE WHEN n.value IS NOT NULL AND dn.value IS NOT NULL AND dn.value <> 0
            THEN round(d.scale * n.value / dn.value + d."offset", 6) END AS value,
       CASE WHEN n.metric IS NULL THEN 'missing input: ' || d.numerator || ' for ' || k.period
            WHEN n.value IS NULL THEN d.numerator || ' is suppressed (' || n.symbol || ') for ' || k.period
            WHEN dn.metric IS NULL THEN 'missing input: ' || d.denominator || ' for ' ||
                 CASE WHEN d.year_earlier_denominator THEN coalesce(period_year_earlier(k.period), 'a year earlier')
                      ELSE k.period END
            WHEN dn.value IS NULL THEN d.denominator || ' is suppressed (' || dn.symbol || ')'
            WHEN dn.value = 0 THEN d.denominator || ' is 0: the ratio is undefined'
       END AS reason,
       n.value AS numerator_value, dn.value AS denominator_value,
       coalesce(n.published AND dn.published, false) AS published
FROM keys k
CROSS JOIN derived_metric_definitions d
LEFT JOIN current_observations n
       ON n.authority = k.authority AND n.period = k.period AND n.metric = d.numerator
LEFT JOIN current_observations dn
       ON dn.authority = k.authority AND dn.metric = d.denominator
      AND dn.period = CASE WHEN d.year_earlier_denominator THEN period_year_earlier(k.period)
                           ELSE k.period END
WHERE n.metric IS NOT NULL OR (NOT d.year_earlier_denominator AND dn.metric IS NOT NULL);

-- The derived figures of one (authority, period) as a JSON object:
-- {"pct_within_20_weeks": {"value": 17.8}, "caseload_per_officer":
--  {"value": null, "reason": "missing input: ..."}}.
CREATE FUNCTION derived_json(p_authority text, p_period text) RETURNS jsonb
    LANGUAGE sql STABLE AS $$
    SELECT coalesce(jsonb_object_agg(metric,
               CASE WHEN value IS NULL THEN jsonb_build_object('value', NULL, 'reason', reason)
                    ELSE jsonb_build_object('value', value) END), '{}')
    FROM derived_observations WHERE authority = p_authority AND period = p_period
$$;

-- One version in full: the figures it carried, what changed, the figures in
-- force for its quarter now, and the derived metrics of that quarter now.
CREATE FUNCTION submission_detail(p_id bigint) RETURNS jsonb
    LANGUAGE sql STABLE AS $$
    SELECT submission_json(s.id) || jsonb_build_object(
               'changed', submission_changes(s.id),
               'current', (SELECT coalesce(jsonb_object_agg(c.metric, c.value), '{}')
                             FROM current_observations c
                            WHERE c.authority = s.authority AND c.period = s.period),
               'derived', derived_json(s.authority, s.period))
    FROM submissions s WHERE s.id = p_id
$$;

CREATE INDEX submissions_authority ON submissions (authority, id DESC);
CREATE INDEX observations_submission ON observations (submission_id) WHERE submission_id IS NOT NULL;
