"""One rule for codes: the C rules (include/codes.h) and the SQL CHECKs
(sql/017_code_rules.sql) give the same answer on the same cases.

The C side is tests/unit/test_codes --classify; the SQL side is each CHECK
itself, run by inserting the case into its column inside a subtransaction
that is always rolled back (a check_violation means refused)."""

import json
import os
import subprocess

import harness

SERVER = False

# Beyond the unit test's own table: spellings a client or a file could send.
EXTRA = ["E06000059 ", " E06000059", "E06\u0660\u0660\u0660\u0660\u0665\u0669", "E12000001",
         "E12", "E1200000", "E14000001", "E92000001 ", "00838", "\u0668\u0663\u0668",
         "abc", "ab_c9", "a" * 200, "E06000059'; DROP TABLE metrics; --"]

# (column, C field, statement inserting $1 into that column)
COLUMNS = [
    ("authorities.new_la_code", "ons",
     "INSERT INTO authorities (new_la_code, old_la_code, name, region_code, region_name)"
     " VALUES ($1, '999', 'x', 'E12000001', 'x')"),
    ("authorities.old_la_code", "dfe",
     "INSERT INTO authorities (new_la_code, old_la_code, name, region_code, region_name)"
     " VALUES ('E06999999', $1, 'x', 'E12000001', 'x')"),
    ("authorities.region_code", "region",
     "INSERT INTO authorities (new_la_code, old_la_code, name, region_code, region_name)"
     " VALUES ('E06999999', '999', 'x', $1, 'x')"),
    ("authority_code_aliases.code", "ons",
     "INSERT INTO authority_code_aliases VALUES ($1, 'E06999998', '999', '2020-01-01', 'x')"),
    ("authority_reference.region_code", "region",
     "INSERT INTO authority_reference VALUES ('999', 'E06999999', 'x', $1, 'x')"),
    ("metrics.id", "metric",
     "INSERT INTO metrics (id, label, unit, dp, polarity, kind, annual_period, submittable,"
     " description, sort_order) VALUES ($1, 'x', 'count', 0, 'neutral', 'stock',"
     " 'census_year', false, 'x', 32000)"),
    ("forecasts.scope_code", "scope",
     "INSERT INTO forecasts (metric, scope, scope_code, frequency, data_version, doc)"
     " VALUES ('ehcp_caseload', 'authority', $1, 'annual', 0, '{}')"),
]
FIELDS = ["ons", "dfe", "region", "scope", "metric"]

ACCEPTS = """
CREATE FUNCTION pg_temp.accepts(stmt text, v text) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE stmt USING v;
    RAISE EXCEPTION 'accepted' USING ERRCODE = 'SB001';
EXCEPTION
    WHEN check_violation THEN RETURN false;
    -- Other constraints are checked after the CHECKs: the CHECK passed.
    WHEN SQLSTATE 'SB001' OR unique_violation OR foreign_key_violation THEN RETURN true;
END $$;
"""


def unit_bin():
    return os.path.join(os.path.dirname(os.path.abspath(harness.BIN)), "tests", "test_codes")


def c_rules(codes):
    out = subprocess.run([unit_bin(), "--classify"], input="".join(c + "\n" for c in codes),
                         capture_output=True, text=True, timeout=60, check=True).stdout
    rows = {}
    for line in out.splitlines():
        parts = line.split("\t")
        rows[parts[0]] = dict(zip(FIELDS, (p == "1" for p in parts[1:])))
    return rows


def cases():
    out = subprocess.run([unit_bin(), "--cases"], capture_output=True, text=True, timeout=60,
                         check=True).stdout
    return out.split("\n")[:-1] + EXTRA


def test_sql_checks_and_c_rules_agree(t):
    codes = cases()
    c = c_rules(codes)
    t.eq(len(c), len(set(codes)), "C classified every case")
    stmts = json.dumps([s for _, _, s in COLUMNS])
    rows = t.psql(ACCEPTS + """
        SELECT s.i, v.j, pg_temp.accepts(s.stmt, v.code)
          FROM jsonb_array_elements_text(:'p1'::jsonb) WITH ORDINALITY s(stmt, i),
               jsonb_array_elements_text(:'p2'::jsonb) WITH ORDINALITY v(code, j)""",
                  stmts, json.dumps(codes))
    t.eq(len(rows), len(COLUMNS) * len(codes), "one answer per column and case")
    bad = []
    for i, j, ok in rows:
        col, field, _ = COLUMNS[int(i) - 1]
        code = codes[int(j) - 1]
        if (ok == "t") != c[code][field]:
            bad.append("%s %r: SQL %s, C %s" % (col, code, ok, c[code][field]))
    t.true(not bad, "SQL and C disagree:\n" + "\n".join(bad))
    # The cases cover both answers of every rule.
    for f in FIELDS:
        t.true(any(c[x][f] for x in codes) and not all(c[x][f] for x in codes),
               "cases accept and refuse for %s" % f)


def test_every_code_check_calls_its_function(t):
    want = {
        "authorities": {"new_la_code": "code_is_ons_authority", "old_la_code": "code_is_dfe_authority",
                        "region_code": "code_is_region"},
        "authority_code_aliases": {"code": "code_is_ons_authority",
                                   "current_code": "code_is_ons_authority",
                                   "old_la_code": "code_is_dfe_authority"},
        "authority_reference": {"old_la_code": "code_is_dfe_authority",
                                "new_la_code": "code_is_ons_authority",
                                "region_code": "code_is_region"},
        "metrics": {"id": "code_is_metric_id"},
        "forecasts": {"scope_code": "code_is_scope"},
    }
    for table, cols in want.items():
        for col, fn in cols.items():
            defs = [r[0] for r in t.psql(
                "SELECT pg_get_constraintdef(c.oid) FROM pg_constraint c"
                " JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = ANY (c.conkey)"
                " WHERE c.contype = 'c' AND c.conrelid = :'p1'::regclass AND a.attname = :'p2'"
                "   AND cardinality(c.conkey) = 1", table, col)]
            t.eq(defs, ["CHECK (%s(%s))" % (fn, col)], "%s.%s CHECK" % (table, col))
