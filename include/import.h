/*
 * The importers of `sendbench import` (CLI only: blocking libpq through
 * dbsync.h, one transaction per file).
 *
 * Every file goes through one routine, import_file():
 *
 *   1. read: the CSV is parsed on a second thread while the file's
 *      transaction opens (BEGIN, the import lock and the register, once per
 *      run and after a file that changed the authorities);
 *   2. stage: the importer's stage() checks every row in C and stages its
 *      figures (import_stage_figure) for authorities, and the published
 *      England and regional rows (import_stage_area_figure); a bad row
 *      refuses the whole file (import_fail, with the line);
 *   3. after_stage: the importer's own database work before the figures are
 *      written (new authorities and the boundary register; the neighbour
 *      links, which are not figures);
 *   4. the staged figures are written as new versions where they differ from
 *      the figure in force (observations; area_observations for England and
 *      the regions), and the import checks (import_quality.c) flag the rows
 *      to quarantine or to query;
 *   5. the audit row, COMMIT, and the report (the importer's report() adds
 *      its own lines).
 *
 * Adding an importer (docs/import.md, "Adding an importer"):
 *   - write server/import_NAME.c defining `const struct importer
 *     importer_NAME = {...}` with detect(), stage() and, if needed,
 *     after_stage() and report();
 *   - declare it below and add it to import_table[] (server/import_table.c):
 *     its position there is the order `import all` imports files of
 *     different kinds; detect() gives a release date ordering files of the
 *     same kind;
 *   - new metric ids go in the catalogue (a migration) with their period
 *     kind: a staged figure whose kind differs from the catalogue's refuses
 *     the file;
 *   - a test with a crafted file for every refusal, and docs/import.md.
 */
#ifndef SENDBENCH_IMPORT_H
#define SENDBENCH_IMPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <libpq-fe.h>

#include "import_csv.h"
#include "import_parse.h"
#include "import_registry.h"

#define IMPORT_MAX_SKIP_KINDS 8

/* One figure read from a file, before it is compared with the database. */
struct staged_obs {
    const char *metric;         /* static: an importer's metric id */
    const char *kind;           /* static: a period kind name */
    char authority[10];         /* an authority's ONS code, or an area's (E92000001, E12...) */
    char region[10];            /* authorities: the row's region_code ("" when unknown) */
    char period[8];
    char start[11];
    struct import_cell cell;    /* IMPORT_CELL_VALUE or IMPORT_CELL_SYMBOL */
    unsigned line;
    int cur_version;            /* the version in force, 0 when none */
    bool same, older;           /* same figure as in force; in force from a later release */
    /* After import_write_figures: same is true when the figure is stored
     * (unchanged, or written now) as version cur_version. */
    unsigned char quality;      /* import_quality.c: IMPORT_Q_* of this figure */
};

struct obs_counts {
    long added, revised, unchanged, older;
};

/* Where a file's time goes, printed on its "time" line (docs/import.md). */
enum import_phase {
    PH_READ,        /* reading and splitting the CSV */
    PH_REGISTRY,    /* BEGIN, lock, the authority register */
    PH_STAGE,       /* checking rows and staging the figures in C */
    PH_COPY,        /* COPY of new authorities (neighbours: into staging) */
    PH_BOUNDARY,    /* import_apply_boundaries() */
    PH_CHECK,       /* duplicates, catalogue, and the figures in force */
    PH_WRITE,       /* the COPY of new versions (neighbours: the replace) */
    PH_COMMIT,      /* audit row and COMMIT */
    IMPORT_NPHASE
};

/* A figure the import checks flagged (import_quality.h). */
struct import_flag {
    size_t obs;                 /* index into run->obs */
    const char *rule;           /* static: a rule name of migration 020 */
    bool quarantine;            /* else a query */
    bool recorded_before;       /* an earlier import of this figure flagged it already */
    char detail[300];           /* the values, as printed and stored */
};

/* Options of `import KIND` that an importer may read. */
struct import_opts {
    const char *release;        /* --release (sen2): NULL for the layout's */
    const char *published;      /* --published */
};

/* One file's state, from open to report. */
struct import_run {
    const char *path;
    const char *file_name;      /* basename of path */
    const struct import_opts *opts;
    const char *title;          /* what the file is: the report's first line (stage sets it) */
    char source[201];           /* observations.source (import_set_source) */
    char release[121];
    char published[11];         /* "" when unknown */
    size_t rows_read, rows_loaded;
    const char *skip_reason[IMPORT_MAX_SKIP_KINDS];
    size_t skip_count[IMPORT_MAX_SKIP_KINDS];
    size_t aliased_rows;
    bool defer_flush;           /* commit without waiting for the WAL flush */
    struct staged_obs *obs;     /* the file's authority figures */
    size_t nobs, capobs;
    struct staged_obs *area;    /* the file's England and regional figures */
    size_t narea, caparea;
    struct obs_counts counts, area_counts;
    long authorities_added, boundaries, links_written, links_removed;
    size_t quarantined, queried;     /* import checks (import_quality.c) */
    struct import_flag *flags;
    size_t nflags, capflags;
    void *state;                /* the importer's own (freed by its cleanup) */
    char err[600];
    unsigned err_line;
    double phase[IMPORT_NPHASE];     /* seconds spent in each phase */
    double phase_mark;               /* when the current phase started */
};

struct importer {
    const char *name;           /* `sendbench import NAME`; audit action "import NAME" */
    const char *what;           /* what files it reads, for usage and refusals */
    /* Whether the header (record 0) is this importer's file: 1 yes
     * (*published: the release date ordering files of this importer in
     * `import all`, "" when none), 0 not its file, -1 its file but unusable
     * (reason in why). */
    int (*detect)(char *const *header, size_t n, const char **published, char *why,
                  size_t whylen);
    /* Checks every row and stages the figures; sets run->title and the
     * source (import_set_source).  0, or -1 through import_fail. */
    int (*stage)(struct import_run *run, const struct import_csv *csv, struct registry *reg);
    /* Database work after staging, before the figures are written (NULL:
     * none).  0, or -1 through import_fail. */
    int (*after_stage)(PGconn *conn, struct import_run *run, struct registry *reg);
    /* Lines of its own after "rows read" (NULL: none). */
    void (*report)(const struct import_run *run);
    void (*cleanup)(struct import_run *run);   /* frees run->state (NULL: none) */
    bool figures;               /* writes observations (prints the observations line) */
    bool single_file;           /* `import NAME` takes exactly one FILE */
    bool release_option;        /* takes --release NAME --published YYYY-MM-DD */
};

extern const struct importer importer_sen2, importer_neighbours, importer_dsg, importer_lait;
extern const struct importer importer_money;   /* server/import_money.c */

/* The importers in `import all` order (NULL-terminated). */
extern const struct importer *const import_table[];

/* The importer called name, or NULL. */
const struct importer *import_find(const char *name);

/* Imports one file with imp inside its own transaction (conn connected or
 * still connecting, reg shared by the run's files).  0, or -1 with the
 * reason in run->err (and the line in run->err_line) and nothing of the
 * file kept. */
int import_file(PGconn *conn, const struct importer *imp, struct import_run *run,
                struct registry *reg);

/* ---- helpers for importers ---- */

/* Records the reason the file is refused; returns -1. */
int import_fail(struct import_run *run, unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Counts a row skipped for reason (a static string: one output line each). */
void import_skip(struct import_run *run, const char *reason);

/* Names the release: source = "RELEASE: FILE".  0 or -1 (import_fail). */
int import_set_source(struct import_run *run, const char *release, const char *published);

/* Refuses a line whose field count differs from the header's. */
int import_check_width(struct import_run *run, const struct import_csv *csv, size_t i);

/* Room for n more authority figures (one allocation for a whole file). */
int import_stage_reserve(struct import_run *run, size_t n);

/* Stages an authority's figure (metric, kind: static strings); region is the
 * row's region code or "".  0 or -1 (import_fail). */
int import_stage_figure(struct import_run *run, const char *authority, const char *region,
                        const char *metric, const char *period, const char *kind,
                        const char *start, const struct import_cell *cell, unsigned line);

/* Stages a published England (E92000001) or regional (E12...) figure. */
int import_stage_area_figure(struct import_run *run, const char *area, const char *metric,
                             const char *period, const char *kind, const char *start,
                             const struct import_cell *cell, unsigned line);

/* Charges the time since the last mark to phase ph. */
void import_phase(struct import_run *run, enum import_phase ph);

/* The whole of buf through one COPY ... FROM STDIN (in 64 KiB chunks). */
int import_copy_in(PGconn *conn, const char *sql, const struct import_buf *buf, char *err,
                   size_t errlen);

/* Appends s to a text[] literal being built in b (after its "{"). */
int import_array_put(struct import_buf *b, const char *s) __attribute__((warn_unused_result));

/* England (E92000001) or a region (E12 and 6 digits). */
bool import_is_area_code(const char *s);

/* snprintf(dst, cap, "%s", src or ""). */
void import_copy_str(char *dst, size_t cap, const char *src);

/* ---- shared with import_quality.c ---- */

/* Staged figures in key order: metric, period, code (bytewise); the order
 * import_write_figures leaves run->obs and run->area in. */
int import_staged_cmp(const void *a, const void *b);

/* Writes the staged figures of run (authorities: into observations; areas:
 * into area_observations) as new versions where they differ from the figure
 * in force, and records the release.  0 or -1 (import_fail). */
int import_write_figures(PGconn *conn, struct import_run *run, const struct registry *reg);

#endif
