-- pgbench: the limit of the write benchmark (bench/writes.sh).  One
-- transaction per submission writing the rows the API writes for the same
-- body: a submissions row, its 5 observations and an audit_log row, for a
-- random authority (bench_auth, by number) and ended quarter (0 = 2014-15 Q1
-- .. :nq - 1).  Versions come from a sequence (no lookup, no lock): the
-- fewest steps that write the same rows.
\set a random(1, :nauth)
\set q random(0, :nq - 1)
\set plans random(100, 999)
BEGIN;
WITH p AS (SELECT (2014 + :q / 4) || '-' || lpad(((2015 + :q / 4) % 100)::text, 2, '0') || ' Q' || (1 + :q % 4) AS period,
                  make_date(2014 + :q / 4, 4, 1) + make_interval(months => 3 * (:q % 4)) AS start,
                  (SELECT code FROM bench_auth WHERE i = :a) AS authority,
                  nextval('bench_version')::int AS v),
     s AS (INSERT INTO submissions (authority, period, version, content_type, figures)
           SELECT authority, period, v, 'application/json',
                  jsonb_build_object('ehcp_caseload', :plans * 20, 'requests_received', :plans + 50,
                                     'new_plans_issued', :plans, 'new_plans_within_20_weeks', :plans / 2,
                                     'case_officers_fte', 7.5)
           FROM p RETURNING id),
     o AS (INSERT INTO observations (authority, metric, period, period_kind, period_start, value,
                                     published, source, submission_id, version)
           SELECT p.authority, f.metric, p.period, 'fy_quarter', p.start, f.value, false, 'submission', s.id, p.v
           FROM p, s, (VALUES ('ehcp_caseload', :plans * 20), ('requests_received', :plans + 50),
                              ('new_plans_issued', :plans), ('new_plans_within_20_weeks', :plans / 2),
                              ('case_officers_fte', 7.5)) f (metric, value))
INSERT INTO audit_log (actor, action, authority, detail)
SELECT 'bench', 'submission.create', p.authority, jsonb_build_object('submission_id', s.id, 'period', p.period)
FROM p, s;
COMMIT;
