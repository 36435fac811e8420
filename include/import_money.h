/*
 * The High Needs money files (data/high_needs/): ESFA DSG allocations
 * 2019-20..2023-24 and the DfE High Needs Benchmarking Tool 2021-22.
 *
 * The functions here are pure (no libpq): they recognise a file from its
 * header and turn each authority row into figures (metric, financial year,
 * cell), including the ones derived from a row (the indicative cost per
 * placement by setting).  importer_money (include/import.h) stages those
 * figures, adds the high needs block per EHC plan from the SEN2 caseload
 * already in the database, and loads them as published observations like
 * every other DfE file.  Unit-tested in tests/unit/test_import_money.c.
 */
#ifndef SENDBENCH_IMPORT_MONEY_H
#define SENDBENCH_IMPORT_MONEY_H

#include <stddef.h>

#include "import_csv.h"
#include "import_parse.h"

enum import_money_kind {
    IMPORT_MONEY_NONE = 0,
    IMPORT_MONEY_DSG_ALLOCATIONS,   /* esfa_dsg_allocations_2019_2024.csv */
    IMPORT_MONEY_HNBT               /* hnbt_2021_22.csv */
};

/* Which money file a header (record 0) is, or IMPORT_MONEY_NONE. */
enum import_money_kind import_money_detect(const struct import_csv *csv);

/* The source name observations carry, e.g. "ESFA DSG allocations 2019-20 to 2023-24". */
const char *import_money_source(enum import_money_kind kind);

/* Receives one figure; metric is a static string, old_la_code and period
 * ("2021-22") are borrowed for the call; old_la_code is NULL for England's
 * published row (the DSG allocations' National row).  Return non-zero to
 * stop. */
typedef int (*import_money_emit_fn)(void *arg, const char *old_la_code, const char *la_name,
                                    const char *metric, const char *period,
                                    const struct import_cell *cell, unsigned line);

struct import_money_counts {
    size_t rows;            /* authority rows read */
    size_t national;        /* England rows (emitted with no DfE number) */
    size_t figures;         /* authorities' figures emitted */
};

/* Reads every data row of csv (of the given kind) and emits its figures.
 * Returns 0, the emit function's non-zero value, or -1 with "line N:
 * reason" in err for a malformed row (the whole file is then refused). */
int import_money_stage(enum import_money_kind kind, const struct import_csv *csv,
                       import_money_emit_fn emit, void *arg, struct import_money_counts *counts,
                       char *err, size_t errlen) __attribute__((warn_unused_result));

/* One HNBT row's lines for one table: prefix "budget_2122_" (the
 * 2021-22 budget) or "outturn_2021_" (the latest outturn).  Setting lines
 * in the order mainstream (with resourced provision), maintained special,
 * independent, post-16; NAN where the source has x. */
#define IMPORT_MONEY_SETTING_LINES 4
struct import_money_hnbt {
    char old_la_code[4];
    double placed[7];           /* hn_setting order */
    double setting_gbp[IMPORT_MONEY_SETTING_LINES];
    double total_gbp;           /* the seven top-level lines */
    double non_placement_gbp;   /* total less the setting lines, >= 0 */
};
int import_money_hnbt_row(const struct import_csv *csv, size_t row, const char *prefix,
                          struct import_money_hnbt *out, char *err, size_t errlen)
    __attribute__((warn_unused_result));

#endif
