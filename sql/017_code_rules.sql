-- One rule for codes, in SQL as in C (include/codes.h, server/codes.c).
--
-- Each shape is one IMMUTABLE function named as its C twin, and every
-- CHECK on a code column calls it, so that the rule exists once on each
-- side; tests/integration/test_codes.py runs both on the same cases and
-- checks that every such column's CHECK calls its function.
--
-- Two rules become stricter than the regular expressions of 001-006:
-- a region is E12 and six digits (E13, the inner/outer London statistical
-- areas, never was a region of the DfE files), and a forecast's scope is an
-- authority, a region or England (any E and 8 digits before).  Existing
-- rows are checked again when the constraints are added.

CREATE FUNCTION code_is_ons_authority(s text) RETURNS boolean
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS
    $$ SELECT s ~ '^E(06|08|09|10|11)[0-9]{6}$' $$;
CREATE FUNCTION code_is_dfe_authority(s text) RETURNS boolean
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS
    $$ SELECT s ~ '^[0-9]{3}$' $$;
CREATE FUNCTION code_is_region(s text) RETURNS boolean
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS
    $$ SELECT s ~ '^E12[0-9]{6}$' $$;
CREATE FUNCTION code_is_scope(s text) RETURNS boolean
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS
    $$ SELECT s ~ '^E(06|08|09|10|11|12)[0-9]{6}$' OR s = 'E92000001' $$;
CREATE FUNCTION code_is_metric_id(s text) RETURNS boolean
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS
    $$ SELECT s ~ '^[a-z][a-z0-9_]{1,62}$' $$;

ALTER TABLE authorities DROP CONSTRAINT authorities_new_la_code_check,
    ADD CONSTRAINT authorities_new_la_code_check CHECK (code_is_ons_authority(new_la_code)),
    DROP CONSTRAINT authorities_old_la_code_check,
    ADD CONSTRAINT authorities_old_la_code_check CHECK (code_is_dfe_authority(old_la_code)),
    DROP CONSTRAINT authorities_region_code_check,
    ADD CONSTRAINT authorities_region_code_check CHECK (code_is_region(region_code));

ALTER TABLE authority_code_aliases DROP CONSTRAINT authority_code_aliases_code_check,
    ADD CONSTRAINT authority_code_aliases_code_check CHECK (code_is_ons_authority(code)),
    DROP CONSTRAINT authority_code_aliases_current_code_check,
    ADD CONSTRAINT authority_code_aliases_current_code_check
        CHECK (code_is_ons_authority(current_code)),
    DROP CONSTRAINT authority_code_aliases_old_la_code_check,
    ADD CONSTRAINT authority_code_aliases_old_la_code_check
        CHECK (code_is_dfe_authority(old_la_code));

ALTER TABLE authority_reference DROP CONSTRAINT authority_reference_old_la_code_check,
    ADD CONSTRAINT authority_reference_old_la_code_check CHECK (code_is_dfe_authority(old_la_code)),
    DROP CONSTRAINT authority_reference_new_la_code_check,
    ADD CONSTRAINT authority_reference_new_la_code_check CHECK (code_is_ons_authority(new_la_code)),
    DROP CONSTRAINT authority_reference_region_code_check,
    ADD CONSTRAINT authority_reference_region_code_check CHECK (code_is_region(region_code));

ALTER TABLE metrics DROP CONSTRAINT metrics_id_check,
    ADD CONSTRAINT metrics_id_check CHECK (code_is_metric_id(id));

ALTER TABLE forecasts DROP CONSTRAINT forecasts_scope_code_check,
    ADD CONSTRAINT forecasts_scope_code_check CHECK (code_is_scope(scope_code));
