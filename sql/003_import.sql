-- Importing the DfE's published statistics (sendbench import ...): the
-- reference data the importers check files against, where each imported
-- figure came from, and one metric the SEN2 files need.  See docs/import.md.

-- The 20-week timeliness denominator.  SEN2 publishes two counts of new
-- plans for a calendar year: NewallEHC / new_ehc_plans (all new plans, the
-- headline: 62,180 in 2021) -> new_plans_issued, and TotIncExcEHC /
-- plans_issued_den (new plans for which timeliness is counted, including
-- exceptions: 61,269 in 2021), the denominator of the DfE's published
-- 20-week rate (35,470 / 61,269 = 57.9%).  Both are kept, under their own ids.
INSERT INTO metrics (id, label, unit, dp, polarity, kind, annual_period, submittable, sort_order, description) VALUES
('new_plans_timeliness_den', 'New EHC plans in the 20-week timeliness count', 'count', 0, 'neutral', 'flow', 'calendar_year', false, 75,
 'DfE published (SEN2 TotIncExcEHC; 2025 layout plans_issued_den): new EHC plans issued in the calendar year whose timeliness is counted, including exception cases; the denominator of the DfE''s 20-week rate including exceptions. Slightly below new_plans_issued (all new plans).');

-- The statistical-neighbour closeness labels of the DfE's model are
-- Extremely close, Very close, Close, Somewhat close, Not close.
-- 001 listed a "Sometimes close" that the DfE does not use (no row can hold
-- it yet): the CHECK now lists exactly the DfE's labels.
ALTER TABLE statistical_neighbours DROP CONSTRAINT statistical_neighbours_closeness_check;
ALTER TABLE statistical_neighbours ADD CONSTRAINT statistical_neighbours_closeness_check
    CHECK (closeness IN ('Extremely close', 'Very close', 'Close', 'Somewhat close', 'Not close'));

-- ONS codes the DfE files use for an authority whose code later changed
-- while the education authority (old_la_code, area) stayed the same.  The
-- importer files such rows under the current code and reports how many it
-- mapped; a code not listed here never silently joins another authority.
CREATE TABLE authority_code_aliases (
    code          text PRIMARY KEY CHECK (code ~ '^E(06|08|09|10|11)[0-9]{6}$'),
    current_code  text NOT NULL CHECK (current_code ~ '^E(06|08|09|10|11)[0-9]{6}$'),
    old_la_code   text NOT NULL CHECK (old_la_code ~ '^[0-9]{3}$'),
    changed       date NOT NULL,
    note          text NOT NULL,
    CHECK (code <> current_code)
);
INSERT INTO authority_code_aliases VALUES
('E08000020', 'E08000037', '390', '2013-04-01', 'Gateshead: recoded by ONS after a minor boundary change with Northumberland'),
('E06000048', 'E06000057', '929', '2013-04-01', 'Northumberland: recoded by ONS after a minor boundary change with Gateshead'),
('E10000002', 'E06000060', '825', '2020-04-01', 'Buckinghamshire: the county council became the unitary Buckinghamshire Council; same education authority and area');

-- Authorities involved in boundary changes, with their codes as published
-- (checked against the SEN2 and neighbours files).  The importer refuses a
-- file that gives one of these a different code, creates the successors
-- that no shipped file has yet (Cumberland, Westmorland and Furness), and
-- keeps predecessors with valid_to, linked in authority_successions.
CREATE TABLE authority_reference (
    old_la_code  text PRIMARY KEY CHECK (old_la_code ~ '^[0-9]{3}$'),
    new_la_code  text NOT NULL UNIQUE CHECK (new_la_code ~ '^E(06|08|09|10|11)[0-9]{6}$'),
    name         text NOT NULL,
    region_code  text NOT NULL CHECK (region_code ~ '^E1[23][0-9]{6}$'),
    region_name  text NOT NULL
);
INSERT INTO authority_reference VALUES
('835', 'E10000009', 'Dorset', 'E12000009', 'South West'),
('836', 'E06000029', 'Poole', 'E12000009', 'South West'),
('837', 'E06000028', 'Bournemouth', 'E12000009', 'South West'),
('838', 'E06000059', 'Dorset', 'E12000009', 'South West'),
('839', 'E06000058', 'Bournemouth, Christchurch and Poole', 'E12000009', 'South West'),
('928', 'E10000021', 'Northamptonshire', 'E12000004', 'East Midlands'),
('940', 'E06000061', 'North Northamptonshire', 'E12000004', 'East Midlands'),
('941', 'E06000062', 'West Northamptonshire', 'E12000004', 'East Midlands'),
('909', 'E10000006', 'Cumbria', 'E12000002', 'North West'),
('942', 'E06000063', 'Cumberland', 'E12000002', 'North West'),
('943', 'E06000064', 'Westmorland and Furness', 'E12000002', 'North West');

CREATE TABLE boundary_changes (
    predecessor  text NOT NULL REFERENCES authority_reference,   -- old_la_code
    successor    text NOT NULL REFERENCES authority_reference,
    effective    date NOT NULL,     -- first day of the successor
    PRIMARY KEY (predecessor, successor)
);
INSERT INTO boundary_changes VALUES
('835', '838', '2019-04-01'), ('836', '839', '2019-04-01'), ('837', '839', '2019-04-01'),
-- Christchurch (a district of the old Dorset county) went to BCP.
('835', '839', '2019-04-01'),
('928', '940', '2021-04-01'), ('928', '941', '2021-04-01'),
('909', '942', '2023-04-01'), ('909', '943', '2023-04-01');

-- Where each imported figure came from: observations.source names a row
-- here.  published orders releases: a figure from an older release never
-- replaces one from a newer release (NULL: date unknown, never refused).
CREATE TABLE import_sources (
    source       text PRIMARY KEY CHECK (length(source) BETWEEN 1 AND 200),
    release      text NOT NULL,
    published    date,
    file_name    text NOT NULL,
    first_imported timestamptz NOT NULL DEFAULT now()
);

-- Applies the boundary changes to the authorities present: creates the
-- successors of a present predecessor from authority_reference, sets
-- valid_to on predecessors and valid_from on successors, and links them.
-- Idempotent; returns the number of rows it changed.
CREATE FUNCTION import_apply_boundaries() RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    n integer := 0;
    k integer;
BEGIN
    INSERT INTO authorities (new_la_code, old_la_code, name, region_code, region_name)
    SELECT DISTINCT r.new_la_code, r.old_la_code, r.name, r.region_code, r.region_name
    FROM boundary_changes b
    JOIN authority_reference r ON r.old_la_code = b.successor
    WHERE EXISTS (SELECT 1 FROM authorities a WHERE a.old_la_code = b.predecessor)
      AND NOT EXISTS (SELECT 1 FROM authorities a WHERE a.old_la_code = r.old_la_code);
    GET DIAGNOSTICS k = ROW_COUNT;
    n := n + k;

    UPDATE authorities a SET valid_to = e.effective
    FROM (SELECT predecessor, max(effective) AS effective FROM boundary_changes GROUP BY 1) e
    WHERE a.old_la_code = e.predecessor AND a.valid_to IS DISTINCT FROM e.effective;
    GET DIAGNOSTICS k = ROW_COUNT;
    n := n + k;

    UPDATE authorities a SET valid_from = e.effective
    FROM (SELECT successor, min(effective) AS effective FROM boundary_changes GROUP BY 1) e
    WHERE a.old_la_code = e.successor AND a.valid_from IS DISTINCT FROM e.effective;
    GET DIAGNOSTICS k = ROW_COUNT;
    n := n + k;

    INSERT INTO authority_successions (predecessor, successor, effective)
    SELECT p.new_la_code, s.new_la_code, b.effective
    FROM boundary_changes b
    JOIN authorities p ON p.old_la_code = b.predecessor
    JOIN authorities s ON s.old_la_code = b.successor
    ON CONFLICT DO NOTHING;
    GET DIAGNOSTICS k = ROW_COUNT;
    RETURN n + k;
END $$;
