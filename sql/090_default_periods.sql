-- Public default periods (issue 15, docs/disclosure.md): the period a
-- table, the home page's "latest", a profile or a chart shows when none is
-- asked for.  A period with a published (DfE) figure may always be a
-- default; a quarter of council submissions only once at least half of
-- England's current authorities contributed to it, so that a quarter sent
-- by a few councils never displaces the DfE's latest published figures.
-- The one place this rule is written: every default reads this view.
CREATE FUNCTION quarter_is_default(contributors bigint) RETURNS boolean
LANGUAGE sql STABLE AS $$
    SELECT contributors > 0 AND 2 * contributors >= (
        SELECT count(*) FROM authorities
        WHERE valid_to IS NULL AND code_is_ons_authority(new_la_code))
$$;

CREATE VIEW default_periods AS
SELECT metric, period, min(period_start) AS period_start, bool_or(published) AS published,
       count(DISTINCT authority) AS contributors
FROM (SELECT metric, period, period_start, published, authority FROM current_observations
      UNION ALL
      SELECT metric, period, period_start, published, authority FROM derived_observations
      WHERE value IS NOT NULL) s
GROUP BY metric, period
HAVING bool_or(published) OR quarter_is_default(count(DISTINCT authority));
