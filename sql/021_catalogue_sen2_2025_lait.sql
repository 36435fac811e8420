-- Catalogue entries for the whole SEN2 2025 release and the LAIT measures
-- (issue 14; docs/import.md "Column mapping").  All are DfE-published (not
-- submittable).  Counts stay neutral (a count mostly measures size); the
-- shares and rates carry a polarity where more or less is plainly better
-- (timeliness, cost), and stay neutral where a share describes need as
-- much as practice (where children are placed).
--
-- Shares ("% of plans") are stored rates: the importer divides the
-- published counts of the same row (docs/import.md), so England's and each
-- region's are the DfE's own ratio, and a suppressed part or a zero total
-- gives a symbol, never 0.
INSERT INTO metrics (id, label, unit, dp, polarity, kind, annual_period, submittable, sort_order, description) VALUES
-- Plans in place at the January census, by setting
('plans_mainstream', 'EHC plans: mainstream schools', 'count', 0, 'neutral', 'stock', 'census_year', false, 300,
 'DfE SEN2 (caseload, mainstream_total): EHC plans of children and young people placed in mainstream schools (LA maintained, academies, free schools, independent mainstream), including resourced provision and SEN units.'),
('plans_mainstream_rp_unit', 'EHC plans: of which resourced provision or SEN unit', 'count', 0, 'neutral', 'stock', 'census_year', false, 301,
 'DfE SEN2 (caseload): the mainstream placements in resourced provision or an SEN unit (the sum of the six *_resourced_provision and *_senunit columns; a symbol if any of them is suppressed).'),
('plans_special_state', 'EHC plans: maintained special schools and special academies', 'count', 0, 'neutral', 'stock', 'census_year', false, 302,
 'DfE SEN2 (caseload): special_la_maintained + special_academy_free.'),
('plans_special_independent', 'EHC plans: independent and non-maintained special schools', 'count', 0, 'neutral', 'stock', 'census_year', false, 303,
 'DfE SEN2 (caseload): special_independent + special_non_maintained.'),
('plans_ap_pru', 'EHC plans: alternative provision and pupil referral units', 'count', 0, 'neutral', 'stock', 'census_year', false, 304,
 'DfE SEN2 (caseload, ap_pru_total): AP academies, AP free schools and LA maintained PRUs.'),
('plans_post16', 'EHC plans: further education and specialist post-16', 'count', 0, 'neutral', 'stock', 'census_year', false, 305,
 'DfE SEN2 (caseload, fe_total): general FE and tertiary colleges, specialist post-16 institutions and other UKRLP providers.'),
('plans_elsewhere', 'EHC plans: other arrangements, elective home education and NEET', 'count', 0, 'neutral', 'stock', 'census_year', false, 306,
 'DfE SEN2 (caseload, ed_elsewhere): educated elsewhere: elective home education, other arrangements by the authority or parents, online providers, other settings, and young people not in education, employment or training.'),
('pct_plans_mainstream', 'EHC plans in mainstream schools (% of plans)', '%', 1, 'neutral', 'rate', 'census_year', false, 310,
 'plans_mainstream / EHC plans in place (ehcplans) x 100, from the same published row.'),
('pct_plans_mainstream_rp_unit', 'EHC plans in resourced provision or SEN units (% of plans)', '%', 1, 'neutral', 'rate', 'census_year', false, 311,
 'plans_mainstream_rp_unit / EHC plans in place x 100.'),
('pct_plans_special_state', 'EHC plans in maintained special schools and special academies (% of plans)', '%', 1, 'neutral', 'rate', 'census_year', false, 312,
 'plans_special_state / EHC plans in place x 100.'),
('pct_plans_special_independent', 'EHC plans in independent and non-maintained special schools (% of plans)', '%', 1, 'neutral', 'rate', 'census_year', false, 313,
 'plans_special_independent / EHC plans in place x 100.  Neutral: a placement follows need and what is available; its cost is compared through the high needs figures.'),
('pct_plans_ap_pru', 'EHC plans in alternative provision and PRUs (% of plans)', '%', 1, 'neutral', 'rate', 'census_year', false, 314,
 'plans_ap_pru / EHC plans in place x 100.'),
('pct_plans_post16', 'EHC plans in further education and specialist post-16 (% of plans)', '%', 1, 'neutral', 'rate', 'census_year', false, 315,
 'plans_post16 / EHC plans in place x 100.'),
('pct_plans_elsewhere', 'EHC plans educated elsewhere, home educated or NEET (% of plans)', '%', 1, 'neutral', 'rate', 'census_year', false, 316,
 'plans_elsewhere / EHC plans in place x 100.'),
-- New plans made in the calendar year, by setting
('new_plans_mainstream', 'New EHC plans: mainstream schools', 'count', 0, 'neutral', 'flow', 'calendar_year', false, 320,
 'DfE SEN2 (new plans, mainstream_total): new EHC plans of children placed in mainstream schools, including resourced provision and SEN units.'),
('new_plans_mainstream_rp_unit', 'New EHC plans: of which resourced provision or SEN unit', 'count', 0, 'neutral', 'flow', 'calendar_year', false, 321,
 'DfE SEN2 (new plans): the sum of the six *_resourced_provision and *_senunit columns (a symbol if any is suppressed).'),
('new_plans_special_state', 'New EHC plans: maintained special schools and special academies', 'count', 0, 'neutral', 'flow', 'calendar_year', false, 322,
 'DfE SEN2 (new plans): special_la_maintained + special_academy_free.'),
('new_plans_special_independent', 'New EHC plans: independent and non-maintained special schools', 'count', 0, 'neutral', 'flow', 'calendar_year', false, 323,
 'DfE SEN2 (new plans): special_independent + special_non_maintained.'),
('new_plans_ap_pru', 'New EHC plans: alternative provision and PRUs', 'count', 0, 'neutral', 'flow', 'calendar_year', false, 324,
 'DfE SEN2 (new plans, ap_pru_total).'),
('new_plans_post16', 'New EHC plans: further education and specialist post-16', 'count', 0, 'neutral', 'flow', 'calendar_year', false, 325,
 'DfE SEN2 (new plans, fe_total).'),
('new_plans_elsewhere', 'New EHC plans: other arrangements, elective home education and NEET', 'count', 0, 'neutral', 'flow', 'calendar_year', false, 326,
 'DfE SEN2 (new plans, ed_elsewhere).'),
('pct_new_plans_mainstream', 'New EHC plans in mainstream schools (% of new plans)', '%', 1, 'neutral', 'rate', 'calendar_year', false, 330,
 'new_plans_mainstream / new EHC plans x 100, from the same published row.'),
('pct_new_plans_mainstream_rp_unit', 'New EHC plans in resourced provision or SEN units (% of new plans)', '%', 1, 'neutral', 'rate', 'calendar_year', false, 331,
 'new_plans_mainstream_rp_unit / new EHC plans x 100.'),
('pct_new_plans_special_state', 'New EHC plans in maintained special schools and special academies (% of new plans)', '%', 1, 'neutral', 'rate', 'calendar_year', false, 332,
 'new_plans_special_state / new EHC plans x 100.'),
('pct_new_plans_special_independent', 'New EHC plans in independent and non-maintained special schools (% of new plans)', '%', 1, 'neutral', 'rate', 'calendar_year', false, 333,
 'new_plans_special_independent / new EHC plans x 100.'),
('pct_new_plans_ap_pru', 'New EHC plans in alternative provision and PRUs (% of new plans)', '%', 1, 'neutral', 'rate', 'calendar_year', false, 334,
 'new_plans_ap_pru / new EHC plans x 100.'),
('pct_new_plans_post16', 'New EHC plans in further education and specialist post-16 (% of new plans)', '%', 1, 'neutral', 'rate', 'calendar_year', false, 335,
 'new_plans_post16 / new EHC plans x 100.'),
('pct_new_plans_elsewhere', 'New EHC plans educated elsewhere, home educated or NEET (% of new plans)', '%', 1, 'neutral', 'rate', 'calendar_year', false, 336,
 'new_plans_elsewhere / new EHC plans x 100.'),
-- Requests: decisions, their timeliness, mediation and tribunals
('requests_decided_over_6_weeks', 'Request decisions made after 6 weeks', 'count', 0, 'neutral', 'flow', 'calendar_year', false, 340,
 'DfE SEN2 (requests, request_outcome_over_6_weeks): decisions whether to assess made after the statutory 6 weeks.'),
('pct_decisions_within_6_weeks', 'Request decisions made within 6 weeks (%)', '%', 1, 'higher_better', 'rate', 'calendar_year', false, 341,
 'request_outcome_six_weeks / (request_outcome_six_weeks + request_outcome_over_6_weeks) x 100: the share of decisions whether to assess made within the statutory 6 weeks (the DfE''s request_outcome_six_weeks_pc).'),
('requests_mediation_related', 'Requests subject to mediation', 'count', 0, 'neutral', 'flow', 'calendar_year', false, 342,
 'DfE SEN2 (requests, mediation_related_request): requests for an EHC needs assessment subject to mediation.'),
('requests_tribunal_related', 'Requests subject to a tribunal', 'count', 0, 'neutral', 'flow', 'calendar_year', false, 343,
 'DfE SEN2 (requests, tribunal_related_request): requests for an EHC needs assessment subject to a tribunal (appeal).'),
('requests_tribunal_after_mediation', 'Requests where a tribunal followed mediation', 'count', 0, 'neutral', 'flow', 'calendar_year', false, 344,
 'DfE SEN2 (requests, tribunal_after_mediation_request).'),
-- Timeliness beyond 20 weeks
('new_plans_over_20_weeks', 'New EHC plans issued after 20 weeks, within a year', 'count', 0, 'neutral', 'flow', 'calendar_year', false, 350,
 'DfE SEN2 (timeliness, plans_issued_gt20weeks_ltYear): new EHC plans issued between 20 and 52 weeks of the request, including exception cases.'),
('new_plans_over_1_year', 'New EHC plans issued after more than a year', 'count', 0, 'neutral', 'flow', 'calendar_year', false, 351,
 'DfE SEN2 (timeliness, plans_issued_gt_1_year): new EHC plans issued more than 52 weeks after the request, including exception cases.'),
('pct_new_plans_over_20_weeks', 'New EHC plans issued after 20 weeks, within a year (%)', '%', 1, 'lower_better', 'rate', 'calendar_year', false, 352,
 'new_plans_over_20_weeks / new_plans_timeliness_den x 100 (including exceptions; the DfE''s pc_plans_issued_gt20weeks_ltYear).'),
('pct_new_plans_over_1_year', 'New EHC plans issued after more than a year (%)', '%', 1, 'lower_better', 'rate', 'calendar_year', false, 353,
 'new_plans_over_1_year / new_plans_timeliness_den x 100 (including exceptions; the DfE''s pc_plans_issued_gt_1_year).'),
-- LAIT: rates per pupil and unit costs, which compare authorities of different sizes
('pct_pupils_ehc_plan', 'Pupils with an EHC plan (%)', '%', 1, 'lower_better', 'rate', 'census_year', false, 360,
 'DfE LAIT (SEN_TotStat, school census "Special educational needs in England"): pupils with a statement or EHC plan as a % of all pupils, all schools, where the pupil attends school, January census.  Lower is ranked better: fewer pupils needing a statutory plan.'),
('pct_pupils_sen_support', 'Pupils with SEN support (%)', '%', 1, 'neutral', 'rate', 'census_year', false, 361,
 'DfE LAIT (SEN_TotSENSuP, school census): pupils with SEN support (special educational needs without a statement or EHC plan) as a % of all pupils, all schools, January census: the pool from which requests for assessment come.  Neutral: more support without a plan is neither better nor worse on its own.'),
('sen_weekly_unit_cost_gbp', 'SEN weekly unit cost (£ per child per week)', '£', 0, 'lower_better', 'money', 'financial_year', false, 362,
 'DfE LAIT (SENFinance, section 251 outturn): spend on SEN support services, direct payments, SEN transport and SEN administration, assessment and coordination divided by the children with a statement or EHC plan in January, per week (x / y / 365 x 7), rounded to the nearest £5.');

-- Which metrics the forecast worker fits.  The setting breakdowns, their
-- shares and the other detail added here describe the headline series
-- rather than being planned on: fitting them (some 40 metrics, each over
-- every authority) would multiply the worker's time after every import
-- without a forecast anyone asked for.  The LAIT rates are left out too
-- for now (SEN support is a candidate input of the forecasts, not a series
-- to forecast on its own).  forecast_input leaves them out, so the API
-- answers them as it does a metric without data.
ALTER TABLE metrics ADD COLUMN forecast boolean NOT NULL DEFAULT true;
UPDATE metrics SET forecast = false WHERE sort_order BETWEEN 300 AND 369;

CREATE OR REPLACE VIEW forecast_input AS
    SELECT c.authority, c.metric, c.period, c.period_kind, c.period_start, c.value
    FROM current_observations c
    WHERE c.value IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM metrics m WHERE m.id = c.metric AND NOT m.forecast)
    UNION ALL
    SELECT authority, metric, period, period_kind, period_start, value
    FROM derived_observations
    WHERE value IS NOT NULL;
