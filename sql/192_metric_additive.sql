-- One rule for "does a sum of authorities' figures mean something"
-- (issue 13): metrics.additive.  Counts, FTE and sums of money add up over
-- authorities (England's plans are the sum of its authorities' plans); a
-- rate, a ratio and a unit cost do not (England's weekly unit cost is not
-- the sum of 153 weekly unit costs).  Before this column the server
-- decided it from unit and kind in four places (tables, profile,
-- collections, forecasts; the pages a fifth way), all treating every £
-- figure as a sum of money: unit costs were offered with a "total",
-- England's published weekly unit cost was labelled "DfE's published
-- total" and England's High Needs Block per plan was forecast as the sum of
-- its authorities' forecasts (about £2.7m a plan).  Every reader now reads
-- this column: the table and profile SQL, the collections, the forecast
-- panel, and the pages through the profile document's "additive".
ALTER TABLE metrics ADD COLUMN additive boolean;
UPDATE metrics SET additive = unit IN ('count', '£', 'FTE') AND kind IN ('stock', 'flow', 'money');
-- Figures per child, per plan or per placement: money, but not a sum.
UPDATE metrics SET additive = false WHERE id IN (
    'sen_weekly_unit_cost_gbp',
    'hnb_per_ehc_plan_gbp',
    'hnbt_cost_mainstream_gbp', 'hnbt_cost_maintained_special_gbp',
    'hnbt_cost_independent_gbp', 'hnbt_cost_post16_gbp',
    'cost_per_placement_mainstream_gbp', 'cost_per_placement_resourced_provision_gbp',
    'cost_per_placement_maintained_special_gbp', 'cost_per_placement_independent_special_gbp',
    'cost_per_placement_post16_gbp');

-- A metric added later without saying gets the rule by unit and kind (as
-- before this column); a unit cost must say additive = false.
CREATE FUNCTION metrics_additive_default() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.additive IS NULL THEN
        NEW.additive := NEW.unit IN ('count', '£', 'FTE') AND NEW.kind IN ('stock', 'flow', 'money');
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER metrics_additive_default BEFORE INSERT ON metrics
    FOR EACH ROW EXECUTE FUNCTION metrics_additive_default();

ALTER TABLE metrics ALTER COLUMN additive SET NOT NULL;
-- A rate, a ratio or a derived figure never adds up.
ALTER TABLE metrics ADD CONSTRAINT metrics_additive_unit
    CHECK (NOT additive OR (unit IN ('count', '£', 'FTE') AND kind IN ('stock', 'flow', 'money')));
