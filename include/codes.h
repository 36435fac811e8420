/*
 * Codes: the one rule for the shape of each code a client or a file may
 * send.  Pure.  The SQL CHECKs of the same columns (sql/001_schema.sql,
 * sql/017_code_checks.sql) state the same rules, and
 * tests/integration/test_codes.py runs both on one list of cases
 * (tests/unit/test_codes.c --classify prints the C side).
 *
 * A shape is not existence: E06999999 is well formed and names no
 * authority; the database says which codes exist.
 */
#ifndef SENDBENCH_CODES_H
#define SENDBENCH_CODES_H

#include <stdbool.h>

#define CODE_ENGLAND "E92000001"
#define CODE_MAX 16         /* buffer size that holds any well-formed code */
#define CODE_METRIC_MAX 64  /* ... and any metric id */

/* ONS code of an English local authority with SEND duties: E06 (unitary),
 * E08 (metropolitan district), E09 (London borough), E10 (county), E11
 * (metropolitan county, as the DfE files carry) and 6 digits.
 * SQL: authorities.new_la_code. */
bool code_is_ons_authority(const char *s);
/* DfE local-authority number: 3 digits ("838").  SQL: authorities.old_la_code. */
bool code_is_dfe_authority(const char *s);
/* Either of the two: how a client may name an authority. */
bool code_is_authority(const char *s);
/* ONS region: E12 and 6 digits.  SQL: authorities.region_code. */
bool code_is_region(const char *s);
/* England, E92000001. */
bool code_is_england(const char *s);
/* What a forecast may be for (SQL: forecasts.scope_code, ONS codes only):
 * an ONS authority, a region or England. */
bool code_is_scope(const char *s);
/* A metric id: a lower-case letter, then 1-62 of a-z 0-9 _.  SQL: metrics.id. */
bool code_is_metric_id(const char *s);
/* A row's id as a path or an option gives it (a submission, a scenario, an
 * import-check flag, an account, a token): 1 to 18 decimal digits, so that
 * it fits a bigint.  Whether the row exists is the database's answer. */
bool code_is_row_id(const char *s);

#endif
