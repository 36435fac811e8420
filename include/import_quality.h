/*
 * Import checks (server/import_quality.c; docs/import.md "Import checks"):
 * run by import_file() on a file's staged figures once they are written,
 * inside the file's transaction.  A figure that fails a rule is flagged in
 * import_quality (migration 020) with the rule, its values and file:line:
 *   equals_area_total   an authority's count equal to its region's (or
 *                       England's) published total while another authority
 *                       of that region has a positive figure;  quarantine
 *   exceeds_area_total  a region's authorities adding up to more than the
 *                       region's published total beyond the slack in the
 *                       thresholds table (suppression only makes a sum
 *                       smaller), and the same for England;    quarantine
 *   contradiction       a part greater than its whole in one row (within
 *                       20 weeks > issued, decisions > requests, settings >
 *                       plans);                                quarantine
 *   year_on_year        more than 3 times, or under a third of, the same
 *                       authority's previous year;             query (kept)
 *   all_exceptions      new plans excluding exceptions 0 while plans were
 *                       issued (the DfE's 2024 footnote: all classed as
 *                       exceptions);  query with a note: kept, shown with
 *                       it, not ranked or summarised (sql/170)
 * Quarantined figures are not in force (current_observations), so not
 * served, not tabled and not forecast, until an administrator releases them.
 */
#ifndef SENDBENCH_IMPORT_QUALITY_H
#define SENDBENCH_IMPORT_QUALITY_H

#include <libpq-fe.h>

#include "import.h"

/* Flags (staged_obs.quality). */
#define IMPORT_Q_QUARANTINE 1
#define IMPORT_Q_QUERY 2

/* One row of the thresholds table. */
struct import_quality_threshold {
    const char *name;
    double value;
    const char *meaning;
};

/* The thresholds, NULL-terminated (printed by docs and `quality list`). */
extern const struct import_quality_threshold import_quality_thresholds[];

/* Checks run's staged figures (after import_write_figures), records the
 * flags (once: a re-import adds none) and keeps what it found for the
 * report.  0, or -1 through import_fail. */
int import_quality_check(PGconn *conn, struct import_run *run, const struct registry *reg);

/* Prints one line per flagged figure (file:line, rule, values). */
void import_quality_report(const struct import_run *run);

/* Frees what import_quality_check kept. */
void import_quality_free(struct import_run *run);

#endif
