-- High Needs money (issue 17): the published money metrics the ESFA DSG
-- allocations and the DfE High Needs Benchmarking Tool 2021-22 are imported
-- as, and the scenarios (levers of a DSG deficit management plan) councils
-- save.  See docs/high-needs.md.

INSERT INTO metrics (id, label, unit, dp, polarity, kind, annual_period, submittable, sort_order, description) VALUES
('hnb_before_deductions_gbp', 'High needs block before deductions (ESFA)', '£', 0, 'neutral', 'money', 'financial_year', false, 600,
 'ESFA DSG allocations: the high needs block before academy recoupment and direct funding of places; the projection''s allocation (the HNBT budget lines are gross).'),
('hnb_after_deductions_gbp', 'High needs block after deductions (ESFA)', '£', 0, 'neutral', 'money', 'financial_year', false, 601,
 'ESFA DSG allocations: the high needs block after deductions for academies recoupment and ESFA''s direct funding of high needs places.'),
('dsg_total_before_deductions_gbp', 'Total DSG before deductions (ESFA)', '£', 0, 'neutral', 'money', 'financial_year', false, 602,
 'ESFA DSG allocations: total dedicated schools grant before recoupment and deductions (schools, central school services, high needs and early years blocks).'),
('dsg_total_after_deductions_gbp', 'Total DSG after deductions (ESFA)', '£', 0, 'neutral', 'money', 'financial_year', false, 603,
 'ESFA DSG allocations: total dedicated schools grant after academies recoupment, NNDR and direct high needs funding.'),
('hnbt_ehcp_total', 'Children and young people with an EHC plan (HNBT)', 'count', 0, 'neutral', 'stock', 'financial_year', false, 610,
 'DfE High Needs Benchmarking Tool: children and young people with an EHC plan counted in its placements by setting.'),
('hnbt_placed_mainstream', 'EHC plans placed in mainstream schools (HNBT)', 'count', 0, 'neutral', 'stock', 'financial_year', false, 611,
 'HNBT placements by setting: mainstream schools.'),
('hnbt_placed_resourced_provision', 'EHC plans placed in resourced provision or SEN units (HNBT)', 'count', 0, 'neutral', 'stock', 'financial_year', false, 612,
 'HNBT placements by setting: resourced provision or SEN unit.'),
('hnbt_placed_maintained_special', 'EHC plans placed in maintained special schools or special academies (HNBT)', 'count', 0, 'neutral', 'stock', 'financial_year', false, 613,
 'HNBT placements by setting: maintained special school or special academy.'),
('hnbt_placed_independent_special', 'EHC plans placed in non-maintained or independent special schools (HNBT)', 'count', 0, 'neutral', 'stock', 'financial_year', false, 614,
 'HNBT placements by setting: non-maintained special school or independent special school.'),
('hnbt_placed_hospital_ap', 'EHC plans placed in hospital schools or alternative provision (HNBT)', 'count', 0, 'neutral', 'stock', 'financial_year', false, 615,
 'HNBT placements by setting: hospital school or alternative provision.'),
('hnbt_placed_post16', 'EHC plans placed in post-16 settings (HNBT)', 'count', 0, 'neutral', 'stock', 'financial_year', false, 616,
 'HNBT placements by setting: post-16 (further education and specialist post-16 institutions).'),
('hnbt_placed_other', 'EHC plans in other arrangements (HNBT)', 'count', 0, 'neutral', 'stock', 'financial_year', false, 617,
 'HNBT placements by setting: other arrangements (education otherwise than at school, not placed).'),
('hnbt_budget_total_gbp', 'High needs budget, section 251 (HNBT)', '£', 0, 'neutral', 'money', 'financial_year', false, 620,
 'HNBT section 251 budget: place funding + top-up funding (maintained and non-maintained/independent) + SEN support + alternative provision + hospital education + therapies.'),
('hnbt_budget_mainstream_gbp', 'High needs budget for mainstream and resourced places (HNBT)', '£', 0, 'neutral', 'money', 'financial_year', false, 621,
 'HNBT s251 budget: place funding and maintained top-up funding for early years, primary and secondary.'),
('hnbt_budget_maintained_special_gbp', 'High needs budget for maintained special places (HNBT)', '£', 0, 'neutral', 'money', 'financial_year', false, 622,
 'HNBT s251 budget: place funding and maintained top-up funding for special schools.'),
('hnbt_budget_independent_gbp', 'High needs budget for non-maintained and independent top-ups (HNBT)', '£', 0, 'neutral', 'money', 'financial_year', false, 623,
 'HNBT s251 budget: top-up funding for non-maintained and independent providers (all phases).'),
('hnbt_budget_post16_gbp', 'High needs budget for post-16 places (HNBT)', '£', 0, 'neutral', 'money', 'financial_year', false, 624,
 'HNBT s251 budget: place funding and maintained top-up funding for post-school provision.'),
('hnbt_budget_non_placement_gbp', 'High needs budget not tied to a placement setting (HNBT)', '£', 0, 'neutral', 'money', 'financial_year', false, 625,
 'HNBT s251 budget total less the four setting lines: SEN support, alternative provision and PRUs, hospital education, therapies, and what the tool does not split by phase.'),
('hnbt_outturn_total_gbp', 'High needs outturn, section 251 (HNBT, latest outturn year)', '£', 0, 'neutral', 'money', 'financial_year', false, 626,
 'HNBT section 251 outturn of its latest outturn year (taken as 2020-21): the same lines as the budget total.'),
('hnbt_cost_mainstream_gbp', 'Indicative cost per mainstream or resourced placement (HNBT)', '£', 0, 'neutral', 'money', 'financial_year', false, 630,
 'Derived at import: hnbt_budget_mainstream_gbp / (placements in mainstream + resourced provision).'),
('hnbt_cost_maintained_special_gbp', 'Indicative cost per maintained special placement (HNBT)', '£', 0, 'neutral', 'money', 'financial_year', false, 631,
 'Derived at import: hnbt_budget_maintained_special_gbp / placements in maintained special schools and special academies.'),
('hnbt_cost_independent_gbp', 'Indicative cost per non-maintained or independent placement (HNBT)', '£', 0, 'neutral', 'money', 'financial_year', false, 632,
 'Derived at import: hnbt_budget_independent_gbp / placements in non-maintained or independent special schools (Derby 2021-22: 10,388,581 / 166 = 62,582).'),
('hnbt_cost_post16_gbp', 'Indicative cost per post-16 placement (HNBT)', '£', 0, 'neutral', 'money', 'financial_year', false, 633,
 'Derived at import: hnbt_budget_post16_gbp / placements in post-16 settings.'),
('hnb_per_ehc_plan_gbp', 'High needs block per EHC plan', '£', 0, 'neutral', 'money', 'financial_year', false, 634,
 'Derived at import: hnb_before_deductions_gbp / EHC plans in place at the January census inside the financial year (SEN2).');

-- Scenarios: a council's named set of levers.  Each save is a new row (a
-- version of the authority's scenario of that name); nothing is updated or
-- deleted.  Private to the authority (and admins) unless shared.
CREATE TABLE hn_scenarios (
    id          bigserial PRIMARY KEY,
    authority   text NOT NULL REFERENCES authorities,
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 120),
    version     integer NOT NULL CHECK (version >= 1),
    levers      jsonb NOT NULL CHECK (jsonb_typeof(levers) = 'object'),
    shared      boolean NOT NULL DEFAULT false,
    token_id    bigint REFERENCES tokens,
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (authority, name, version)
);
CREATE TRIGGER hn_scenarios_append_only BEFORE UPDATE OR DELETE ON hn_scenarios
    FOR EACH ROW EXECUTE FUNCTION refuse_change();

-- Saves the next version of (authority, name) under a lock on the name so
-- that two saves at once get versions n and n+1, never the same.
CREATE FUNCTION hn_scenario_save(p_authority text, p_name text, p_levers jsonb, p_shared boolean,
                                 p_token bigint) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    v integer;
    new_id bigint;
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('hn_scenario|' || p_authority || '|' || p_name));
    SELECT coalesce(max(version), 0) + 1 INTO v FROM hn_scenarios
        WHERE authority = p_authority AND name = p_name;
    INSERT INTO hn_scenarios (authority, name, version, levers, shared, token_id)
        VALUES (p_authority, p_name, v, p_levers, p_shared, p_token) RETURNING id INTO new_id;
    INSERT INTO audit_log (token_id, actor, action, authority, detail)
        VALUES (p_token, CASE WHEN p_token IS NULL THEN 'cli' ELSE 'token:' || p_token END,
                'scenario saved', p_authority,
                jsonb_build_object('scenario', new_id, 'name', p_name, 'version', v));
    RETURN jsonb_build_object('id', new_id, 'authority', p_authority, 'name', p_name,
                              'version', v, 'levers', p_levers, 'shared', p_shared);
END $$;

GRANT SELECT, INSERT ON hn_scenarios TO sendbench_app;
GRANT USAGE ON SEQUENCE hn_scenarios_id_seq TO sendbench_app;
