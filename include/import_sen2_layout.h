/*
 * The SEN2 file layouts (2022 and 2025 releases): which column feeds which
 * metric, detected from the header, and the figure of one row for one
 * metric (as published, a sum of published columns, or a share of the
 * row's total).  Pure: no I/O, no libpq; unit-tested in
 * tests/unit/test_import_parse.c and fuzzed by tests/fuzz/fuzz_sen2.c.
 * The mapping and why: docs/import.md ("Column mapping").
 */
#ifndef SENDBENCH_IMPORT_SEN2_LAYOUT_H
#define SENDBENCH_IMPORT_SEN2_LAYOUT_H

#include <stdbool.h>
#include <stddef.h>

#include "import_parse.h"

#define SEN2_MAX_SUM 7
#define SEN2_MAX_PER 3
#define SEN2_MAX_COLUMNS 24

/* One metric of a layout.  The figure is the sum of the published columns
 * in sum[] (one column: as published); when per[0] is set it is that sum
 * as a % of the sum of the columns in per[] (a stored rate, 4 decimals). */
struct sen2_column {
    const char *metric;
    const char *sum[SEN2_MAX_SUM + 1];     /* NULL-terminated */
    const char *per[SEN2_MAX_PER + 1];     /* NULL-terminated; empty: a count */
};

struct sen2_layout {
    const char *name;               /* e.g. "SEN2 2022 caseload" */
    const char *release;            /* default release, e.g. "DfE SEN2 2022" */
    const char *published;          /* its publication date, YYYY-MM-DD */
    const char *marker;             /* column whose presence identifies it */
    enum import_period_kind period_kind;
    const char *filter_column;      /* rows kept only where this column ... */
    const char *filter_value;       /* ... equals this (NULL: no filter) */
    const char *filter_reason;      /* skip reason for the other rows */
    struct sen2_column columns[SEN2_MAX_COLUMNS + 1];  /* terminated by metric NULL */
};

/* Geography and code columns every SEN2 layout has. */
extern const char *const sen2_common_columns[];

/* The layout whose marker column is in the header and whose every required
 * column is present, or NULL with the reason in err (missing column named,
 * or "not a known SEN2 layout"). */
const struct sen2_layout *import_sen2_detect(char *const *header, size_t n, char *err,
                                             size_t errlen);

/* Where one metric's columns are in a header (import_sen2_columns). */
struct sen2_column_index {
    int sum[SEN2_MAX_SUM];
    int nsum;
    int per[SEN2_MAX_PER];
    int nper;
};

/* Finds c's columns in the header; -1 when one is missing (detect has
 * checked they are all there). */
int import_sen2_columns(const struct sen2_column *c, char *const *header, size_t n,
                        struct sen2_column_index *idx);

/* The figure of metric c in one row (fields f, found through idx): each
 * column a whole number or a symbol.  A sum with a suppressed part is that
 * part's symbol (c before x before the others); a share is the symbol of a
 * suppressed part, z when the total is 0, else sum x 100 / total rounded to
 * 4 decimals.  Returns IMPORT_CELL_VALUE or IMPORT_CELL_SYMBOL with *out
 * filled, or IMPORT_CELL_EMPTY / IMPORT_CELL_INVALID with *bad the index
 * (into f) of the offending field. */
enum import_cell_kind import_sen2_figure(const struct sen2_column *c,
                                         const struct sen2_column_index *idx, char *const *f,
                                         struct import_cell *out, int *bad);

#endif
