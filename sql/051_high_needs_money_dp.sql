-- The High Needs money metrics keep their pennies (the files carry two
-- decimals): pages and the evidence pack round figures to the catalogue's
-- dp, and the trajectory they draw must equal the API's, which reads the
-- stored figures.
UPDATE metrics SET dp = 2
WHERE id IN ('hnb_before_deductions_gbp', 'hnb_after_deductions_gbp',
             'dsg_total_before_deductions_gbp', 'dsg_total_after_deductions_gbp',
             'hnbt_budget_total_gbp', 'hnbt_budget_mainstream_gbp',
             'hnbt_budget_maintained_special_gbp', 'hnbt_budget_independent_gbp',
             'hnbt_budget_post16_gbp', 'hnbt_budget_non_placement_gbp', 'hnbt_outturn_total_gbp',
             'hnbt_cost_mainstream_gbp', 'hnbt_cost_maintained_special_gbp',
             'hnbt_cost_independent_gbp', 'hnbt_cost_post16_gbp', 'hnb_per_ehc_plan_gbp');
