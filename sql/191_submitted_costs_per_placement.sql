-- A council's own cost per placement by setting (issue 17, point 2):
-- submitted as any council figure (POST /api/v1/submissions, the CSV, the
-- quarterly return form), validated (server/submit.c: more than £0 and at
-- most £1m a placement a year), queried by the same change rules as every
-- submitted sum of money (server/query_rules.c: 25% on the previous quarter
-- or the year before, a typed extra zero), approved like the rest.  The
-- High Needs trajectory uses the council's own latest approved cost of a
-- setting where it has one (for itself and admins, never in a public
-- answer unless published) and the HNBT's indicative cost otherwise, naming
-- which per setting (docs/high-needs.md).  A quarter's figure is the cost
-- of a placement for a whole year at that financial year's prices.  Not
-- forecast: they are inputs of the trajectory, which uplifts them by its
-- inflation assumption.
INSERT INTO metrics (id, label, unit, dp, polarity, kind, annual_period, submittable, sort_order, description, forecast) VALUES
('cost_per_placement_mainstream_gbp', 'Cost per mainstream school placement (council)', '£', 0, 'neutral', 'money', 'financial_year', true, 640,
 'The council''s own high needs cost of one EHC plan placement in a mainstream school for a year (place funding and top-up), in pounds at the financial year''s prices; the High Needs plan uses it instead of the HNBT indicative cost.', false),
('cost_per_placement_resourced_provision_gbp', 'Cost per resourced provision or SEN unit placement (council)', '£', 0, 'neutral', 'money', 'financial_year', true, 641,
 'The council''s own high needs cost of one placement in resourced provision or an SEN unit for a year, in pounds at the financial year''s prices (the HNBT prices it with mainstream).', false),
('cost_per_placement_maintained_special_gbp', 'Cost per maintained special placement (council)', '£', 0, 'neutral', 'money', 'financial_year', true, 642,
 'The council''s own high needs cost of one placement in a maintained special school or special academy for a year (place funding and top-up), in pounds at the financial year''s prices.', false),
('cost_per_placement_independent_special_gbp', 'Cost per independent or non-maintained special placement (council)', '£', 0, 'neutral', 'money', 'financial_year', true, 643,
 'The council''s own cost of one placement in a non-maintained or independent special school for a year (fees and top-up), in pounds at the financial year''s prices.', false),
('cost_per_placement_post16_gbp', 'Cost per post-16 placement (council)', '£', 0, 'neutral', 'money', 'financial_year', true, 644,
 'The council''s own high needs cost of one post-16 placement (FE college or specialist post-16 institution) for a year, in pounds at the financial year''s prices.', false);
