/*
 * Pure parsing for the DfE importers: cells (numbers and suppression
 * symbols), period strings, authority codes, closeness labels, and COPY
 * text escaping (the SEN2 layouts: import_sen2_layout.h).  No I/O, no libpq:
 * unit-tested in tests/unit/test_import_parse.c.
 */
#ifndef SENDBENCH_IMPORT_PARSE_H
#define SENDBENCH_IMPORT_PARSE_H

#include <stdbool.h>
#include <stddef.h>

#include "period.h"

enum import_cell_kind {
    IMPORT_CELL_VALUE,      /* a number; text holds it normalised */
    IMPORT_CELL_SYMBOL,     /* x c z low: text holds the symbol */
    IMPORT_CELL_EMPTY,
    IMPORT_CELL_INVALID,
};

struct import_cell {
    enum import_cell_kind kind;
    char text[48];
};

/* Reads one cell.  integer: counts must be whole numbers ("12", not "12.5").
 * Accepts surrounding spaces, a leading '-', digits and (unless integer) one
 * '.' with digits after; anything else (thousands separators, "1e3", "NaN")
 * is IMPORT_CELL_INVALID.  Symbols are the DfE's x c z low, lower case. */
enum import_cell_kind import_cell_parse(const char *s, bool integer, struct import_cell *out);

/* The annual bases of include/period.h under the importers' names; the
 * rules themselves (spellings, range, census day) are period.h's. */
enum import_period_kind {
    IMPORT_PERIOD_CENSUS_YEAR = PERIOD_CENSUS_YEAR,         /* '2022': January 2022 census */
    IMPORT_PERIOD_CALENDAR_YEAR = PERIOD_CALENDAR_YEAR,     /* '2021': Jan-Dec 2021 */
    IMPORT_PERIOD_FINANCIAL_YEAR = PERIOD_FINANCIAL_YEAR,   /* '2021-22': Apr 2021-Mar 2022 */
};

/* "census_year", "calendar_year", "financial_year" (metrics.annual_period). */
const char *import_period_kind_name(enum import_period_kind kind);

/* Day of the January census of year y: the third Thursday of January (the
 * school census day, to which SEN2 aligns its snapshot), as "YYYY-MM-DD". */
void import_census_day(int year, char out[16]);

/* Converts a DfE time_period to our period string and its first day:
 *   census:    "2022" -> "2022"; academic "202122" -> "2022" (the January
 *              census falls in the second calendar year of the school year)
 *   calendar:  "2021" -> "2021", start 2021-01-01
 *   financial: "202122" or "2021-22" -> "2021-22", start 2021-04-01
 * (period_from_dfe, years PERIOD_MIN_YEAR..PERIOD_MAX_YEAR).  Returns 0, or
 * -1 when the string does not fit. */
int import_period_parse(const char *time_period, enum import_period_kind kind,
                        char period[16], char start[16]) __attribute__((warn_unused_result));

/* Code shapes: the rules of include/codes.h under the importers' names. */
bool import_is_old_la_code(const char *s);      /* code_is_dfe_authority */
bool import_is_new_la_code(const char *s);      /* code_is_ons_authority */
bool import_is_region_code(const char *s);      /* code_is_region */

/* The statistical-neighbour closeness label in its canonical spelling
 * ("Very Close" -> "Very close"), or NULL when it is not a DfE label. */
const char *import_closeness_canonical(const char *label);

/* The canonical text of a decimal as import_cell_parse accepts it
 * (-?digits[.digits]): leading zeros of the whole part and trailing zeros of
 * the fraction dropped, no '.' without a fraction, no "-0".  It is what
 * PostgreSQL prints for trim_scale(numeric), so two figures are equal as
 * numbers exactly when their canonical texts are equal.  Returns 0, or -1
 * when s is not such a decimal or out (cap bytes) is too small. */
int import_decimal_canonical(const char *s, char *out, size_t cap)
    __attribute__((warn_unused_result));

/* Appends s to a COPY text-format row: backslash, tab, newline and carriage
 * return escaped; NULL s writes \N.  Returns 0, -1 when out of memory. */
struct import_buf {
    char *data;
    size_t len, cap;
};
int import_buf_copy_field(struct import_buf *b, const char *s, bool last)
    __attribute__((warn_unused_result));
/* Appends n bytes of s to b and keeps b NUL-terminated.  0, or -1 when out
 * of memory. */
int import_buf_put(struct import_buf *b, const char *s, size_t n)
    __attribute__((warn_unused_result));
void import_buf_free(struct import_buf *b);

#endif
