-- Notes that travel with a figure (issue 14): a DfE footnote the import
-- checks recognise, rule all_exceptions.  For 2024 the DfE's footnote says
-- "Dorset and City of London have classed all new plans as having
-- permitted exceptions to the 20 week statutory timeframe": their new
-- plans *excluding exceptions* are 0 by that classification, not a count
-- of 0 plans.  The importer flags every row whose plans excluding
-- exceptions are 0 while plans were issued (new_plans_issued_ex and
-- new_plans_within_20_weeks_ex of that row) as a query (in force, listed
-- by `sendbench quality list`, not releasable) carrying the note.  Tables,
-- profiles, pages and the evidence pack show the figure with its note and
-- leave it out of ranks, bands and summaries (docs/import.md).
DO $$
DECLARE c record;
BEGIN
    FOR c IN SELECT conname FROM pg_constraint
             WHERE conrelid = 'import_quality'::regclass AND contype = 'c'
               AND pg_get_constraintdef(oid) LIKE '%year_on_year%' LOOP
        EXECUTE format('ALTER TABLE import_quality DROP CONSTRAINT %I', c.conname);
    END LOOP;
END $$;
ALTER TABLE import_quality
    ADD CONSTRAINT import_quality_rule_check
        CHECK (rule IN ('equals_area_total', 'exceeds_area_total', 'contradiction',
                        'year_on_year', 'all_exceptions')),
    ADD CONSTRAINT import_quality_action_of_rule
        CHECK ((action = 'query') = (rule IN ('year_on_year', 'all_exceptions')));

-- The note of each figure in force that carries one, and of a derived
-- figure one of whose inputs does (pct_within_20_weeks_ex of a noted
-- new_plans_issued_ex): one row per (authority, metric, period).
CREATE VIEW figure_notes AS
SELECT DISTINCT ON (authority, metric, period) authority, metric, period, note
FROM (
    SELECT q.authority, q.metric, q.period, q.detail AS note
    FROM import_quality q
    JOIN current_observations c ON c.authority = q.authority AND c.metric = q.metric
         AND c.period = q.period AND c.version = q.version
    WHERE q.rule = 'all_exceptions'
    UNION ALL
    SELECT q.authority, d.metric, q.period, q.detail
    FROM import_quality q
    JOIN current_observations c ON c.authority = q.authority AND c.metric = q.metric
         AND c.period = q.period AND c.version = q.version
    JOIN derived_inputs d ON d.input = q.metric
    WHERE q.rule = 'all_exceptions') n
ORDER BY authority, metric, period, note;
GRANT SELECT ON figure_notes TO sendbench_app;
