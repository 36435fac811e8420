-- Submission read functions that need the derived metrics (005): the
-- derived figures of a quarter shown beside a submission version.

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

