/*
 * sendbench import sen2|neighbours|dsg: loads the DfE's published statistics
 * (data/dfe/) into the database.  CLI only: blocking libpq (dbsync.h), one
 * transaction per file.  Rows are parsed, checked and compared with what is
 * stored in C (one query fetches the figures in force), and what is new is
 * written with one COPY.  docs/import.md has the column mapping, period
 * conventions and boundary changes.
 */
#include <dirent.h>
#include <errno.h>
#include <libgen.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "dbsync.h"
#include "import_csv.h"
#include "import_parse.h"

/* Serialises imports (two `make run` first starts, a manual import during
 * load_history.sh) so the version numbers computed from the database hold. */
#define IMPORT_LOCK_KEY "727275"

/* ---------------------------------------------------------------- register */

/* The authorities as the database knows them when a file's transaction
 * starts, plus the ones the file adds: codes are resolved in C so that an
 * error can name the line. */
struct reg_authority {
    char old_code[4];
    char code[10];
    char name[201];
    char valid_from[11];    /* "" when open */
    char valid_to[11];
    bool from_file;         /* added by the file being imported */
    char region_code[10];
    char region_name[101];
};

struct reg_alias {
    char code[10], current[10], old_code[4];
};

struct reg_reference {
    char old_code[4], code[10];
};

struct reg_source {
    char source[201];
    char published[11];     /* "" when unknown */
};

/* What one import run knows of the database: read with the first file's
 * BEGIN, and again after a file that changed the authorities.  The run
 * holds the import lock for its whole session, so nothing else changes
 * these tables between its files. */
struct registry {
    struct reg_authority *auth;
    size_t nauth, capauth;
    struct reg_alias *alias;
    size_t nalias;
    struct reg_reference *ref;
    size_t nref;
    PGresult *metrics;      /* id, annual_period: the metric catalogue */
    struct reg_source *src; /* the releases imported before */
    size_t nsrc, capsrc;
    bool loaded;            /* holds the database's state (see open_file) */
};

static void registry_free(struct registry *r)
{
    free(r->auth);
    free(r->alias);
    free(r->ref);
    PQclear(r->metrics);
    free(r->src);
    memset(r, 0, sizeof *r);
}

static void copy_str(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src ? src : "");
}

/* Records a release (source, its publication date or "") in r. */
static int registry_add_source(struct registry *r, const char *source, const char *published)
{
    for (size_t i = 0; i < r->nsrc; i++)
        if (strcmp(r->src[i].source, source) == 0)
            return 0;
    if (r->nsrc == r->capsrc) {
        size_t cap = r->capsrc ? r->capsrc * 2 : 16;
        struct reg_source *g = realloc(r->src, cap * sizeof *g);
        if (!g)
            return -1;
        r->src = g;
        r->capsrc = cap;
    }
    copy_str(r->src[r->nsrc].source, sizeof r->src[r->nsrc].source, source);
    copy_str(r->src[r->nsrc].published, sizeof r->src[r->nsrc].published, published);
    r->nsrc++;
    return 0;
}

static struct reg_authority *registry_add(struct registry *r)
{
    if (r->nauth == r->capauth) {
        size_t cap = r->capauth ? r->capauth * 2 : 256;
        struct reg_authority *n = realloc(r->auth, cap * sizeof *n);
        if (!n)
            return NULL;
        r->auth = n;
        r->capauth = cap;
    }
    struct reg_authority *a = &r->auth[r->nauth++];
    memset(a, 0, sizeof *a);
    return a;
}

/* The registry's queries, run together with the file's BEGIN (see
 * open_file). */
#define REGISTRY_SQL                                                                 \
    "SELECT old_la_code, new_la_code, name, coalesce(valid_from::text, ''),"          \
    " coalesce(valid_to::text, ''), region_code, region_name"                         \
    " FROM authorities ORDER BY old_la_code;"                                         \
    " SELECT code, current_code, old_la_code FROM authority_code_aliases;"            \
    " SELECT old_la_code, new_la_code FROM authority_reference;"                      \
    " SELECT id, annual_period FROM metrics;"                                         \
    " SELECT source, to_char(published, 'YYYY-MM-DD') FROM import_sources"
#define REGISTRY_NRES 5

/* Fills r from REGISTRY_SQL's results: authorities, aliases, references,
 * the releases, and keeps the catalogue's result (r owns it after). */
static int registry_fill(struct registry *r, PGresult *res[REGISTRY_NRES], char *err,
                         size_t errlen)
{
    r->metrics = res[3];
    res[3] = NULL;
    for (int i = 0; i < PQntuples(res[4]); i++)
        if (registry_add_source(r, PQgetvalue(res[4], i, 0),
                                PQgetisnull(res[4], i, 1) ? "" : PQgetvalue(res[4], i, 1)) != 0) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
    for (int i = 0; i < PQntuples(res[0]); i++) {
        struct reg_authority *a = registry_add(r);
        if (!a) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        copy_str(a->old_code, sizeof a->old_code, PQgetvalue(res[0], i, 0));
        copy_str(a->code, sizeof a->code, PQgetvalue(res[0], i, 1));
        copy_str(a->name, sizeof a->name, PQgetvalue(res[0], i, 2));
        copy_str(a->valid_from, sizeof a->valid_from, PQgetvalue(res[0], i, 3));
        copy_str(a->valid_to, sizeof a->valid_to, PQgetvalue(res[0], i, 4));
        copy_str(a->region_code, sizeof a->region_code, PQgetvalue(res[0], i, 5));
        copy_str(a->region_name, sizeof a->region_name, PQgetvalue(res[0], i, 6));
    }
    r->nalias = (size_t)PQntuples(res[1]);
    r->alias = calloc(r->nalias ? r->nalias : 1, sizeof *r->alias);
    r->nref = (size_t)PQntuples(res[2]);
    r->ref = calloc(r->nref ? r->nref : 1, sizeof *r->ref);
    if (!r->alias || !r->ref) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < r->nalias; i++) {
        copy_str(r->alias[i].code, sizeof r->alias[i].code, PQgetvalue(res[1], (int)i, 0));
        copy_str(r->alias[i].current, sizeof r->alias[i].current, PQgetvalue(res[1], (int)i, 1));
        copy_str(r->alias[i].old_code, sizeof r->alias[i].old_code, PQgetvalue(res[1], (int)i, 2));
    }
    for (size_t i = 0; i < r->nref; i++) {
        copy_str(r->ref[i].old_code, sizeof r->ref[i].old_code, PQgetvalue(res[2], (int)i, 0));
        copy_str(r->ref[i].code, sizeof r->ref[i].code, PQgetvalue(res[2], (int)i, 1));
    }
    return 0;
}

static struct reg_authority *registry_by_old(struct registry *r, const char *old_code)
{
    for (size_t i = 0; i < r->nauth; i++)
        if (strcmp(r->auth[i].old_code, old_code) == 0)
            return &r->auth[i];
    return NULL;
}

static struct reg_authority *registry_by_code(struct registry *r, const char *code)
{
    for (size_t i = 0; i < r->nauth; i++)
        if (strcmp(r->auth[i].code, code) == 0)
            return &r->auth[i];
    return NULL;
}

/* Resolves a SEN2 row's (old code, ONS code) to the authority's current ONS
 * code, adding the authority when the register does not know either code.
 * *aliased is set when the row used a superseded code.  Returns the current
 * code (borrowed from the register) or NULL with the reason in err. */
static const char *registry_resolve(struct registry *r, const char *old_code, const char *code,
                                    const char *name, const char *region_code,
                                    const char *region_name, bool *aliased, char *err,
                                    size_t errlen)
{
    *aliased = false;
    if (!import_is_old_la_code(old_code)) {
        snprintf(err, errlen, "unknown authority code: old_la_code \"%.20s\" is not 3 digits",
                 old_code);
        return NULL;
    }
    if (!import_is_new_la_code(code)) {
        snprintf(err, errlen,
                 "unknown authority code: new_la_code \"%.20s\" is not an English local authority "
                 "code (E06, E08, E09, E10 or E11 and 6 digits)",
                 code);
        return NULL;
    }
    for (size_t i = 0; i < r->nalias; i++)
        if (strcmp(r->alias[i].code, code) == 0) {
            if (strcmp(r->alias[i].old_code, old_code) != 0) {
                snprintf(err, errlen,
                         "unknown authority code: %s is a superseded code of authority %s, not %s",
                         code, r->alias[i].old_code, old_code);
                return NULL;
            }
            code = r->alias[i].current;
            *aliased = true;
            break;
        }
    for (size_t i = 0; i < r->nref; i++)
        if ((strcmp(r->ref[i].old_code, old_code) == 0) != (strcmp(r->ref[i].code, code) == 0)) {
            snprintf(err, errlen,
                     "unknown authority code: %s / %s contradicts the boundary-change register "
                     "(%s is %s)",
                     old_code, code, r->ref[i].old_code, r->ref[i].code);
            return NULL;
        }
    struct reg_authority *a = registry_by_old(r, old_code);
    if (a) {
        if (strcmp(a->code, code) != 0) {
            snprintf(err, errlen,
                     "unknown authority code: authority %s is %s in the database, the file says %s",
                     old_code, a->code, code);
            return NULL;
        }
        return a->code;
    }
    a = registry_by_code(r, code);
    if (a) {
        snprintf(err, errlen,
                 "unknown authority code: %s is authority %s in the database, the file says %s",
                 code, a->old_code, old_code);
        return NULL;
    }
    if (!name[0] || strlen(name) > 200) {
        snprintf(err, errlen, "authority %s has no usable la_name", old_code);
        return NULL;
    }
    if (!import_is_region_code(region_code) || !region_name[0] || strlen(region_name) > 100) {
        snprintf(err, errlen, "authority %s has no usable region_code / region_name (\"%.20s\")",
                 old_code, region_code);
        return NULL;
    }
    a = registry_add(r);
    if (!a) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    copy_str(a->old_code, sizeof a->old_code, old_code);
    copy_str(a->code, sizeof a->code, code);
    copy_str(a->name, sizeof a->name, name);
    copy_str(a->region_code, sizeof a->region_code, region_code);
    copy_str(a->region_name, sizeof a->region_name, region_name);
    a->from_file = true;
    return a->code;
}

/* ------------------------------------------------------------ db helpers */

static int exec_simple(PGconn *conn, const char *sql, char *err, size_t errlen)
{
    PGresult *r = dbsync_exec(conn, sql, 0, NULL, err, errlen);
    if (!r)
        return -1;
    PQclear(r);
    return 0;
}

/* COPY ... FROM STDIN in three steps, so that rows can be sent as they are
 * made (a 64 KiB buffer, not the whole file's rows in memory twice, once
 * here and once in libpq's output buffer). */
#define COPY_CHUNK (64 * 1024)

static int copy_start(PGconn *conn, const char *sql, char *err, size_t errlen)
{
    PGresult *r = PQexec(conn, sql);
    int rc = 0;
    if (PQresultStatus(r) != PGRES_COPY_IN) {
        snprintf(err, errlen, "%s", PQresultErrorMessage(r));
        err[strcspn(err, "\n")] = '\0';
        rc = -1;
    }
    PQclear(r);
    return rc;
}

/* Sends what b holds once it has a chunk's worth (or anything, when all). */
static int copy_send(PGconn *conn, struct import_buf *b, bool all)
{
    if (b->len == 0 || (!all && b->len < COPY_CHUNK))
        return 0;
    int rc = PQputCopyData(conn, b->data, (int)b->len) == 1 ? 0 : -1;
    b->len = 0;
    return rc;
}

/* Ends the COPY (aborting it when !ok) and collects its result.  When the
 * server refuses a row, *copy_line (if given) gets its line in the data. */
static int copy_finish(PGconn *conn, bool ok, char *err, size_t errlen, unsigned *copy_line)
{
    if (PQputCopyEnd(conn, ok ? NULL : "client failed to send data") != 1)
        ok = false;
    int rc = ok ? 0 : -1;
    if (!ok)
        snprintf(err, errlen, "COPY: %s", PQerrorMessage(conn));
    PGresult *r;
    while ((r = PQgetResult(conn)) != NULL) {
        if (PQresultStatus(r) != PGRES_COMMAND_OK && rc == 0) {
            snprintf(err, errlen, "%s", PQresultErrorMessage(r));
            const char *ctx = PQresultErrorField(r, PG_DIAG_CONTEXT);
            const char *at = ctx ? strstr(ctx, ", line ") : NULL;
            if (copy_line && at)
                *copy_line = (unsigned)strtoul(at + 7, NULL, 10);
            rc = -1;
        }
        PQclear(r);
    }
    err[strcspn(err, "\n")] = '\0';
    return rc;
}

/* The whole of buf through one COPY, in chunks. */
static int copy_in(PGconn *conn, const char *sql, const struct import_buf *buf, char *err,
                   size_t errlen)
{
    if (copy_start(conn, sql, err, errlen) != 0)
        return -1;
    bool ok = true;
    for (size_t at = 0; ok && at < buf->len; at += COPY_CHUNK) {
        size_t n = buf->len - at < COPY_CHUNK ? buf->len - at : COPY_CHUNK;
        ok = PQputCopyData(conn, buf->data + at, (int)n) == 1;
    }
    return copy_finish(conn, ok, err, errlen, NULL);
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ------------------------------------------------------- one file's state */

#define MAX_SKIP_KINDS 8

/* One figure read from a file, before it is compared with the database. */
struct staged_obs {
    const char *metric;         /* static: a layout's metric id */
    const char *kind;           /* static: a period kind name */
    char authority[10];
    char period[8];
    char start[11];
    struct import_cell cell;    /* IMPORT_CELL_VALUE or IMPORT_CELL_SYMBOL */
    unsigned line;
    int cur_version;            /* the version in force, 0 when none */
    bool same, older;
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
static const char *const phase_name[IMPORT_NPHASE] = {
    "read", "register", "stage", "copy", "boundaries", "checks", "write", "commit"};

struct import_run {
    const char *path;
    const char *file_name;      /* basename of path */
    char source[201];           /* observations.source */
    char release[121];
    char published[11];         /* "" when unknown */
    size_t rows_read, rows_loaded;
    const char *skip_reason[MAX_SKIP_KINDS];
    size_t skip_count[MAX_SKIP_KINDS];
    size_t aliased_rows;
    bool defer_flush;           /* commit without waiting for the WAL flush */
    struct staged_obs *obs;     /* the file's figures, checked in C */
    size_t nobs, capobs;
    char err[600];
    unsigned err_line;
    double phase[IMPORT_NPHASE];     /* seconds spent in each phase */
    double phase_mark;               /* when the current phase started */
};

static void run_skip(struct import_run *run, const char *reason)
{
    for (int i = 0; i < MAX_SKIP_KINDS; i++) {
        if (run->skip_reason[i] == reason || !run->skip_reason[i] ||
            strcmp(run->skip_reason[i], reason) == 0) {
            run->skip_reason[i] = reason;
            run->skip_count[i]++;
            return;
        }
    }
}

static int run_fail(struct import_run *run, unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int run_fail(struct import_run *run, unsigned line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(run->err, sizeof run->err, fmt, ap);
    va_end(ap);
    run->err_line = line;
    return -1;
}

static double now_seconds(void);

/* Charges the time since the last mark to phase ph. */
static void run_phase(struct import_run *run, enum import_phase ph)
{
    double t = now_seconds();
    if (run->phase_mark > 0)
        run->phase[ph] += t - run->phase_mark;
    run->phase_mark = t;
}

static void run_print_time(const struct import_run *run, double t0)
{
    printf("  time %.3f s (", now_seconds() - t0);
    for (int i = 0; i < IMPORT_NPHASE; i++)
        printf("%s%s %.3f", i ? ", " : "", phase_name[i], run->phase[i]);
    printf(")\n");
}

static void run_print_rows(const struct import_run *run)
{
    size_t skipped = 0;
    for (int i = 0; i < MAX_SKIP_KINDS && run->skip_reason[i]; i++)
        skipped += run->skip_count[i];
    printf("  rows read %zu, loaded %zu, skipped %zu\n", run->rows_read, run->rows_loaded, skipped);
    for (int i = 0; i < MAX_SKIP_KINDS && run->skip_reason[i]; i++)
        printf("    skipped %zu: %s\n", run->skip_count[i], run->skip_reason[i]);
}

/* Room for n more staged figures (one allocation for a whole file). */
static int stage_reserve(struct import_run *run, size_t n)
{
    if (run->capobs - run->nobs >= n)
        return 0;
    size_t cap = run->nobs + n;
    struct staged_obs *o = realloc(run->obs, cap * sizeof *o);
    if (!o)
        return run_fail(run, 0, "out of memory");
    run->obs = o;
    run->capobs = cap;
    return 0;
}

/* metric and kind must be static strings (the layout tables). */
static int stage_observation(struct import_run *run, const char *authority, const char *metric,
                             const char *period, const char *kind, const char *start,
                             const struct import_cell *cell, unsigned line)
{
    if (strlen(authority) >= sizeof run->obs->authority ||
        strlen(period) >= sizeof run->obs->period || strlen(start) >= sizeof run->obs->start)
        return run_fail(run, line, "authority code or period too long");
    if (run->nobs == run->capobs && stage_reserve(run, run->capobs ? run->capobs : 1024) != 0)
        return -1;
    struct staged_obs *o = &run->obs[run->nobs++];
    o->metric = metric;
    o->kind = kind;
    strcpy(o->authority, authority);
    strcpy(o->period, period);
    strcpy(o->start, start);
    o->cell = *cell;
    o->line = line;
    o->cur_version = 0;
    o->same = o->older = false;
    return 0;
}

/* Checks the line has as many fields as the header: a truncated line (or
 * one with stray commas) is refused rather than read into wrong columns. */
static int check_width(struct import_run *run, const struct import_csv *csv, size_t i)
{
    const struct import_csv_record *rec = &csv->record[i];
    size_t want = csv->record[0].nfield;
    if (rec->nfield < want)
        return run_fail(run, rec->line, "truncated line: %zu fields, the header has %zu",
                        rec->nfield, want);
    if (rec->nfield > want)
        return run_fail(run, rec->line, "line has %zu fields, the header has %zu", rec->nfield,
                        want);
    return 0;
}

/* A file read on a thread of its own while the main thread opens the
 * file's transaction (import_csv_read is pure: its own memory, no globals). */
struct read_job {
    const char *path;
    struct import_csv *csv;
    int rc;
    double seconds;
    char err[300];
};


static void *read_job_run(void *arg)
{
    struct read_job *job = arg;
    double t = now_seconds();
    job->rc = import_csv_read(job->path, job->csv, job->err, sizeof job->err);
    job->seconds = now_seconds() - t;
    return NULL;
}

/* The outcome of a read_job, as the file's error (with its line) if any. */
static int read_result(struct import_run *run, const struct read_job *job)
{
    const struct import_csv *csv = job->csv;
    if (job->rc != 0) {
        unsigned line = 0;
        if (sscanf(job->err, "line %u:", &line) == 1) {
            const char *colon = strchr(job->err, ':');
            return run_fail(run, line, "%s", colon ? colon + 2 : job->err);
        }
        return run_fail(run, 0, "%s", job->err);
    }
    if (csv->nrecord == 0)
        return run_fail(run, 0, "empty file (no header line)");
    if (csv->nrecord == 1)
        return run_fail(run, csv->record[0].line, "no data rows after the header");
    run->rows_read = csv->nrecord - 1;
    return 0;
}

/* ------------------------------------------------ versioned observations */

struct obs_counts {
    long added, revised, unchanged, older;
};

/* Staged figures in key order: metric, period, authority (bytewise). */
static int staged_cmp(const void *a, const void *b)
{
    const struct staged_obs *x = a, *y = b;
    int d = strcmp(x->metric, y->metric);
    if (!d)
        d = strcmp(x->period, y->period);
    if (!d)
        d = strcmp(x->authority, y->authority);
    return d;
}

/* Two figures for one authority, metric and period in one file: refused,
 * naming both lines (the pair whose later line comes first). */
static int check_duplicates(struct import_run *run)
{
    const struct staged_obs *best = NULL;
    unsigned best_min = 0, best_max = 0;
    for (size_t i = 0; i < run->nobs;) {
        size_t j = i + 1;
        unsigned lo = run->obs[i].line, hi = lo;
        while (j < run->nobs && staged_cmp(&run->obs[i], &run->obs[j]) == 0) {
            lo = run->obs[j].line < lo ? run->obs[j].line : lo;
            hi = run->obs[j].line > hi ? run->obs[j].line : hi;
            j++;
        }
        if (j - i > 1 && (!best || hi < best_max)) {
            best = &run->obs[i];
            best_min = lo;
            best_max = hi;
        }
        i = j;
    }
    if (best)
        return run_fail(run, best_max,
                        "duplicate row: authority %s, %s, period %s already given on line %u",
                        best->authority, best->metric, best->period, best_min);
    return 0;
}

/* A metric whose catalogue period kind is not the one the layout gives
 * would mix periods on one time line: a bug in the layout table. */
static int check_catalogue(struct import_run *run, const struct registry *reg)
{
    const PGresult *r = reg->metrics;
    const struct staged_obs *bad = NULL;
    const char *bad_says = NULL;
    for (size_t i = 0; i < run->nobs;) {
        const char *says = "no such metric";
        for (int k = 0; k < PQntuples(r); k++)
            if (strcmp(PQgetvalue(r, k, 0), run->obs[i].metric) == 0) {
                says = PQgetisnull(r, k, 1) ? "no annual period" : PQgetvalue(r, k, 1);
                break;
            }
        size_t j = i;
        for (; j < run->nobs && strcmp(run->obs[j].metric, run->obs[i].metric) == 0; j++)
            if (strcmp(run->obs[j].kind, says) != 0 && (!bad || run->obs[j].line < bad->line)) {
                bad = &run->obs[j];
                bad_says = says;
            }
        i = j;
    }
    int rc = 0;
    if (bad)
        rc = run_fail(run, bad->line, "metric %s: period kind %s, the catalogue says %s",
                      bad->metric, bad->kind, bad_says);
    return rc;
}

/* Appends s to a text[] literal (after its "{") as a quoted element. */
static int array_put(struct import_buf *b, const char *s)
{
    if (b->len > 1 && import_buf_put(b, ",", 1) != 0)
        return -1;
    if (import_buf_put(b, "\"", 1) != 0)
        return -1;
    for (; *s; s++) {
        if ((*s == '"' || *s == '\\') && import_buf_put(b, "\\", 1) != 0)
            return -1;
        if (import_buf_put(b, s, 1) != 0)
            return -1;
    }
    return import_buf_put(b, "\"", 1);
}

/* Whether source (an observation's) is an imported release published after
 * date (YYYY-MM-DD; ISO dates compare as text).  Submitted figures have no
 * import source: never. */
static bool source_published_after(const struct registry *reg, const char *source,
                                   const char *date)
{
    for (size_t k = 0; k < reg->nsrc; k++)
        if (strcmp(reg->src[k].source, source) == 0)
            return reg->src[k].published[0] && strcmp(date, reg->src[k].published) < 0;
    return false;
}

/* Finds, for every staged figure, the version in force (if any), whether it
 * is the same figure, and whether it came from a release published after
 * this one.  One query over the (metric, period) pairs the file covers. */
static int compare_with_database(PGconn *conn, struct import_run *run,
                                 const struct registry *reg)
{
    struct import_buf metrics = {0}, periods = {0};
    char err[512];
    int rc = -1;
    if (import_buf_put(&metrics, "{", 1) != 0 || import_buf_put(&periods, "{", 1) != 0)
        goto oom;
    for (size_t i = 0; i < run->nobs; i++) {
        const struct staged_obs *o = &run->obs[i];
        if (i > 0 && strcmp(o->metric, o[-1].metric) == 0 && strcmp(o->period, o[-1].period) == 0)
            continue;
        if (array_put(&metrics, o->metric) != 0 || array_put(&periods, o->period) != 0)
            goto oom;
    }
    if (import_buf_put(&metrics, "}", 1) != 0 || import_buf_put(&periods, "}", 1) != 0)
        goto oom;

    const char *p[2] = {metrics.data, periods.data};
    PGresult *r = dbsync_exec(
        conn,
        "SELECT DISTINCT ON (o.metric, o.period, o.authority)"
        " o.metric, o.period, o.authority, o.version, trim_scale(o.value)::text, o.symbol,"
        " o.source"
        " FROM observations o"
        " WHERE (o.metric, o.period) IN (SELECT * FROM unnest($1::text[], $2::text[]))"
        " ORDER BY o.metric, o.period, o.authority, o.version DESC",
        2, p, err, sizeof err);
    if (!r) {
        run_fail(run, 0, "%s", err);
        goto done;
    }
    for (int k = 0; k < PQntuples(r); k++) {
        struct staged_obs key;
        key.metric = PQgetvalue(r, k, 0);
        if (PQgetlength(r, k, 1) >= (int)sizeof key.period ||
            PQgetlength(r, k, 2) >= (int)sizeof key.authority)
            continue;   /* not a key a file can stage */
        copy_str(key.period, sizeof key.period, PQgetvalue(r, k, 1));
        copy_str(key.authority, sizeof key.authority, PQgetvalue(r, k, 2));
        struct staged_obs *o = bsearch(&key, run->obs, run->nobs, sizeof *o, staged_cmp);
        if (!o)
            continue;   /* in force, not in this file */
        o->cur_version = atoi(PQgetvalue(r, k, 3));
        char canon[sizeof o->cell.text];
        if (o->cell.kind == IMPORT_CELL_VALUE)
            o->same = !PQgetisnull(r, k, 4) &&
                      import_decimal_canonical(o->cell.text, canon, sizeof canon) == 0 &&
                      strcmp(PQgetvalue(r, k, 4), canon) == 0;
        else
            o->same = !PQgetisnull(r, k, 5) && strcmp(PQgetvalue(r, k, 5), o->cell.text) == 0;
        o->older = run->published[0] && source_published_after(reg, PQgetvalue(r, k, 6),
                                                               run->published);
    }
    PQclear(r);
    rc = 0;
    goto done;
oom:
    run_fail(run, 0, "out of memory");
done:
    import_buf_free(&metrics);
    import_buf_free(&periods);
    return rc;
}

/* Writes the staged observations (run->obs) as new versions where they
 * differ from the figure in force, with one COPY straight into observations.
 * A figure from a release published before the one in force is not recorded
 * (counted as "older").  Runs inside the file's transaction, which holds the
 * import lock, so the versions computed here are the next ones. */
static int load_observations(PGconn *conn, struct import_run *run, const struct registry *reg,
                             struct obs_counts *c)
{
    char err[512];
    qsort(run->obs, run->nobs, sizeof *run->obs, staged_cmp);
    if (check_duplicates(run) != 0 || check_catalogue(run, reg) != 0 ||
        compare_with_database(conn, run, reg) != 0)
        return -1;
    run_phase(run, PH_CHECK);

    /* What each staged figure is: unchanged, older than the one in force,
     * or a new version (numbered after the one in force). */
    size_t nrow = 0;
    for (size_t i = 0; i < run->nobs; i++) {
        const struct staged_obs *o = &run->obs[i];
        if (o->cur_version && o->same)
            c->unchanged++;
        else if (o->cur_version && o->older)
            c->older++;
        else
            nrow++;
    }
    if (nrow == 0)
        goto written;
    unsigned *lines = malloc(nrow * sizeof *lines);
    if (!lines)
        return run_fail(run, 0, "out of memory");
    if (copy_start(conn,
                   "COPY observations (authority, metric, period, period_kind, period_start,"
                   " value, symbol, published, source, version) FROM STDIN",
                   err, sizeof err) != 0) {
        free(lines);
        return run_fail(run, 0, "%s", err);
    }
    struct import_buf b = {0};
    bool ok = true;
    size_t row = 0;
    for (size_t i = 0; ok && i < run->nobs; i++) {
        const struct staged_obs *o = &run->obs[i];
        if (o->cur_version && (o->same || o->older))
            continue;
        if (o->cur_version)
            c->revised++;
        else
            c->added++;
        char version[16];
        snprintf(version, sizeof version, "%d", o->cur_version + 1);
        bool value = o->cell.kind == IMPORT_CELL_VALUE;
        ok = import_buf_copy_field(&b, o->authority, false) == 0 &&
             import_buf_copy_field(&b, o->metric, false) == 0 &&
             import_buf_copy_field(&b, o->period, false) == 0 &&
             import_buf_copy_field(&b, o->kind, false) == 0 &&
             import_buf_copy_field(&b, o->start, false) == 0 &&
             import_buf_copy_field(&b, value ? o->cell.text : NULL, false) == 0 &&
             import_buf_copy_field(&b, value ? NULL : o->cell.text, false) == 0 &&
             import_buf_copy_field(&b, "t", false) == 0 &&
             import_buf_copy_field(&b, run->source, false) == 0 &&
             import_buf_copy_field(&b, version, true) == 0 && copy_send(conn, &b, false) == 0;
        lines[row++] = o->line;
    }
    ok = ok && copy_send(conn, &b, true) == 0;
    import_buf_free(&b);
    unsigned copy_line = 0;
    int rc = copy_finish(conn, ok, err, sizeof err, &copy_line);
    unsigned line = copy_line >= 1 && copy_line <= row ? lines[copy_line - 1] : 0;
    free(lines);
    if (rc != 0)
        return run_fail(run, line, "%s", err);

written:;
    const char *pub = run->published[0] ? run->published : NULL;
    const char *p3[4] = {run->source, run->release, pub, run->file_name};
    /* The source is recorded once; one imported before under another
     * publication date is refused (the SELECT sees the table as it was
     * before this statement's INSERT). */
    PGresult *r = dbsync_exec(conn,
                    "WITH ins AS (INSERT INTO import_sources (source, release, published, file_name)"
                    "  VALUES ($1, $2, $3, $4) ON CONFLICT (source) DO NOTHING)"
                    " SELECT coalesce(published::text, 'unknown') FROM import_sources"
                    " WHERE source = $1 AND published IS DISTINCT FROM $3::date"
                    "  AND $2::text IS NOT NULL",
                    4, p3, err, sizeof err);
    if (!r)
        return run_fail(run, 0, "%s", err);
    if (PQntuples(r) > 0) {
        run_fail(run, 0, "source \"%s\" was imported before as published %s, not %s",
                 run->source, PQgetvalue(r, 0, 0), pub ? pub : "unknown");
        PQclear(r);
        return -1;
    }
    PQclear(r);
    run_phase(run, PH_WRITE);
    return 0;
}

static int write_audit(PGconn *conn, struct import_run *run, const char *what,
                       const struct obs_counts *c, long authorities, long boundaries,
                       long neighbours)
{
    char err[512], added[24], revised[24], auth[24], bound[24], nb[24], rows[24];
    snprintf(added, sizeof added, "%ld", c ? c->added : 0);
    snprintf(revised, sizeof revised, "%ld", c ? c->revised : 0);
    snprintf(auth, sizeof auth, "%ld", authorities);
    snprintf(bound, sizeof bound, "%ld", boundaries);
    snprintf(nb, sizeof nb, "%ld", neighbours);
    snprintf(rows, sizeof rows, "%zu", run->rows_read);
    const char *p[9] = {what, run->file_name, run->source, rows, added, revised, auth, bound, nb};
    PGresult *r = dbsync_exec(conn,
                              "INSERT INTO audit_log (actor, action, detail) VALUES ('import', $1,"
                              " jsonb_build_object('file', $2::text, 'source', $3::text,"
                              "  'rows_read', $4::int, 'observations_added', $5::int,"
                              "  'observations_revised', $6::int, 'authorities_added', $7::int,"
                              "  'boundary_changes', $8::int, 'neighbour_links_written', $9::int))",
                              9, p, err, sizeof err);
    if (!r)
        return run_fail(run, 0, "audit: %s", err);
    PQclear(r);
    return 0;
}


static int commit_file(PGconn *conn, struct import_run *run)
{
    char err[512];
    if (exec_simple(conn, "COMMIT", err, sizeof err) != 0)
        return run_fail(run, 0, "commit: %s", err);
    return 0;
}

static void rollback_file(PGconn *conn)
{
    PGresult *r = PQexec(conn, "ROLLBACK");
    PQclear(r);
}

static int set_source(struct import_run *run, const char *release, const char *published)
{
    copy_str(run->release, sizeof run->release, release);
    copy_str(run->published, sizeof run->published, published);
    int n = snprintf(run->source, sizeof run->source, "%s: %s", release, run->file_name);
    if (n < 0 || (size_t)n >= sizeof run->source)
        return run_fail(run, 0, "file name too long for a source (200 characters)");
    return 0;
}

/* Every file's start: its CSV is read on a second thread while this one
 * opens the file's transaction (and, when needed, takes the import lock
 * and reads the registry): the server works while the file is parsed; for
 * the first file, while the connection is still being made.  A file that
 * cannot be read is reported before a database error. */
static int open_file(PGconn *conn, struct import_run *run, struct import_csv *csv,
                     struct registry *reg)
{
    char err[512];
    struct read_job job = {.path = run->path, .csv = csv};
    pthread_t reader;
    bool threaded = pthread_create(&reader, NULL, read_job_run, &job) == 0;
    if (!threaded)
        read_job_run(&job);
    double t = now_seconds();
    /* One round trip: BEGIN (every file but the last without waiting for
     * its commit to be flushed), and when the registry is to be read, the
     * import lock for the rest of the session and the registry's queries
     * (both the first time, and after a file that changed the authorities). */
    char sql[1024];
    int n = snprintf(sql, sizeof sql, "BEGIN;%s%s",
                     run->defer_flush ? " SET LOCAL synchronous_commit = off;" : "",
                     reg->loaded ? "" : " SELECT pg_advisory_lock(" IMPORT_LOCK_KEY "); " REGISTRY_SQL);
    PGresult *res[3 + REGISTRY_NRES];
    int nres = 1 + (run->defer_flush ? 1 : 0) + (reg->loaded ? 0 : 1 + REGISTRY_NRES);
    int db = n > 0 && (size_t)n < sizeof sql ? dbsync_connect_end(conn, err, sizeof err) : -1;
    if (db == 0)
        db = dbsync_exec_many(conn, sql, res, nres, err, sizeof err);
    if (db == 0) {
        if (!reg->loaded) {
            registry_free(reg);
            db = registry_fill(reg, res + nres - REGISTRY_NRES, err, sizeof err);
            reg->loaded = db == 0;
        }
        for (int i = 0; i < nres; i++)
            PQclear(res[i]);
    }
    run->phase[PH_REGISTRY] += now_seconds() - t;
    if (threaded)
        pthread_join(reader, NULL);
    run->phase[PH_READ] += job.seconds;
    run->phase_mark = now_seconds();
    if (read_result(run, &job) != 0)
        return -1;
    if (db != 0)
        return run_fail(run, 0, "%s", err);
    return 0;
}


/* -------------------------------------------------------------- SEN2 */

struct sen2_opts {
    const char *release;        /* NULL: the layout's */
    const char *published;
};

static const char SKIP_NATIONAL[] =
    "national rows (published England totals, not authority figures)";
static const char SKIP_REGIONAL[] =
    "regional rows (published regional totals, not authority figures)";

static int sen2_stage(struct import_run *run, const struct import_csv *csv,
                      const struct sen2_layout *lay, struct registry *reg)
{
    int c_tp = import_csv_column(csv, "time_period");
    int c_geo = import_csv_column(csv, "geographic_level");
    int c_old = import_csv_column(csv, "old_la_code");
    int c_new = import_csv_column(csv, "new_la_code");
    int c_name = import_csv_column(csv, "la_name");
    int c_rcode = import_csv_column(csv, "region_code");
    int c_rname = import_csv_column(csv, "region_name");
    int c_filter = lay->filter_column ? import_csv_column(csv, lay->filter_column) : -1;
    int c_val[8];
    size_t nval = 0;
    for (const struct sen2_column *c = lay->columns; c->column; c++)
        c_val[nval++] = import_csv_column(csv, c->column);
    const char *kind = import_period_kind_name(lay->period_kind);
    if (stage_reserve(run, (csv->nrecord - 1) * nval) != 0)
        return -1;

    for (size_t i = 1; i < csv->nrecord; i++) {
        const struct import_csv_record *rec = &csv->record[i];
        if (check_width(run, csv, i) != 0)
            return -1;
        char **f = rec->field;
        const char *geo = f[c_geo];
        if (strcmp(geo, "National") == 0) {
            run_skip(run, SKIP_NATIONAL);
            continue;
        }
        if (strcmp(geo, "Regional") == 0) {
            run_skip(run, SKIP_REGIONAL);
            continue;
        }
        if (strcmp(geo, "Local authority") != 0)
            return run_fail(run, rec->line, "unexpected geographic_level \"%.40s\"", geo);
        if (c_filter >= 0 && strcmp(f[c_filter], lay->filter_value) != 0) {
            run_skip(run, lay->filter_reason);
            continue;
        }
        char period[16], start[16];
        if (import_period_parse(f[c_tp], lay->period_kind, period, start) != 0)
            return run_fail(run, rec->line, "time_period \"%.20s\" is not a %s", f[c_tp], kind);
        char why[300];
        bool aliased;
        const char *code = registry_resolve(reg, f[c_old], f[c_new], f[c_name], f[c_rcode],
                                            f[c_rname], &aliased, why, sizeof why);
        if (!code)
            return run_fail(run, rec->line, "%s", why);
        if (aliased)
            run->aliased_rows++;
        for (size_t v = 0; v < nval; v++) {
            struct import_cell cell;
            const char *text = f[c_val[v]];
            switch (import_cell_parse(text, true, &cell)) {
            case IMPORT_CELL_EMPTY:
                return run_fail(run, rec->line, "empty cell in column %s", lay->columns[v].column);
            case IMPORT_CELL_INVALID:
                return run_fail(run, rec->line,
                                "non-numeric cell \"%.40s\" in column %s (want a whole number or "
                                "one of x c z low)",
                                text, lay->columns[v].column);
            default:
                break;
            }
            if (stage_observation(run, code, lay->columns[v].metric, period, kind, start, &cell,
                                  rec->line) != 0)
                return -1;
        }
        run->rows_loaded++;
    }
    return 0;
}

static int sen2_add_authorities(PGconn *conn, struct import_run *run, struct registry *reg,
                                long *added)
{
    struct import_buf b = {0};
    char err[512];
    *added = 0;
    for (size_t i = 0; i < reg->nauth; i++) {
        struct reg_authority *a = &reg->auth[i];
        if (!a->from_file)
            continue;
        if (import_buf_copy_field(&b, a->code, false) != 0 ||
            import_buf_copy_field(&b, a->old_code, false) != 0 ||
            import_buf_copy_field(&b, a->name, false) != 0 ||
            import_buf_copy_field(&b, a->region_code, false) != 0 ||
            import_buf_copy_field(&b, a->region_name, true) != 0) {
            import_buf_free(&b);
            return run_fail(run, 0, "out of memory");
        }
        (*added)++;
    }
    int rc = 0;
    if (*added > 0 &&
        copy_in(conn, "COPY authorities (new_la_code, old_la_code, name, region_code, region_name)"
                      " FROM STDIN",
                &b, err, sizeof err) != 0)
        rc = run_fail(run, 0, "adding authorities: %s", err);
    import_buf_free(&b);
    return rc;
}

static int sen2_file(PGconn *conn, const char *path, const struct sen2_opts *opts,
                     struct import_run *run, struct registry *reg)
{
    struct import_csv csv = {0};
    char err[512];
    int rc = -1;
    double t0 = now_seconds();
    run->phase_mark = t0;

    if (open_file(conn, run, &csv, reg) != 0)
        goto done;
    const struct sen2_layout *lay =
        import_sen2_detect(csv.record[0].field, csv.record[0].nfield, err, sizeof err);
    if (!lay) {
        run_fail(run, csv.record[0].line, "%s", err);
        goto done;
    }
    if (set_source(run, opts->release ? opts->release : lay->release,
                   opts->published ? opts->published : lay->published) != 0)
        goto done;
    if (sen2_stage(run, &csv, lay, reg) != 0)
        goto done;
    run_phase(run, PH_STAGE);
    long added_auth = 0, boundaries = 0;
    if (sen2_add_authorities(conn, run, reg, &added_auth) != 0)
        goto done;
    run_phase(run, PH_COPY);
    /* The boundary register (003) is applied in the transaction that adds
     * authorities, and depends on nothing else: with no new authority it
     * has nothing to do.  (A migration that changes the register applies
     * it itself.) */
    if (added_auth > 0) {
        PGresult *r =
            dbsync_exec(conn, "SELECT import_apply_boundaries()", 0, NULL, err, sizeof err);
        if (!r) {
            run_fail(run, 0, "boundary changes: %s", err);
            goto done;
        }
        boundaries = atol(PQgetvalue(r, 0, 0));
        PQclear(r);
        reg->loaded = false;    /* read again with the next file */
    }
    run_phase(run, PH_BOUNDARY);
    struct obs_counts c = {0};
    if (load_observations(conn, run, reg, &c) != 0)
        goto done;
    if ((c.added || c.revised || added_auth || boundaries) &&
        write_audit(conn, run, "import sen2", &c, added_auth, boundaries, 0) != 0)
        goto done;
    if (commit_file(conn, run) != 0)
        goto done;
    run_phase(run, PH_COMMIT);

    printf("%s: %s (source \"%s\", published %s)\n", path, lay->name, run->source,
           run->published[0] ? run->published : "unknown");
    run_print_rows(run);
    printf("  authorities: %ld added from the file; boundary register: %ld changes "
           "(successors, end dates, links)\n",
           added_auth, boundaries);
    if (run->aliased_rows)
        printf("  %zu row(s) used a superseded ONS code, filed under the current code "
               "(authority_code_aliases)\n",
               run->aliased_rows);
    printf("  observations: %ld new, %ld revised (new version), %ld unchanged, %ld not recorded "
           "(the figure in force comes from a later release)\n",
           c.added, c.revised, c.unchanged, c.older);
    run_print_time(run, t0);
    rc = 0;
done:
    if (rc != 0 && PQtransactionStatus(conn) != PQTRANS_IDLE)
        rollback_file(conn);
    import_csv_free(&csv);
    return rc;
}

/* --------------------------------------------------------- neighbours */

static const char *const neighbour_header[5] = {"LA num", "LA Name", "LA number", "GOInd", "GOReg"};

/* One neighbour link read from the file. */
struct nb_link {
    char authority[10];
    char neighbour[10];
    const char *closeness;      /* static: import_closeness_canonical() */
    int rank;
    unsigned line;
    bool unchanged;             /* the same link is already stored */
};

struct nb_links {
    struct nb_link *link;
    size_t n, cap;
};

static int nb_link_cmp(const void *a, const void *b)
{
    const struct nb_link *x = a, *y = b;
    int d = strcmp(x->authority, y->authority);
    return d ? d : (x->rank > y->rank) - (x->rank < y->rank);
}

static int neighbours_stage(struct import_run *run, const struct import_csv *csv,
                            struct registry *reg, struct nb_links *links, size_t *skipped_ranks)
{
    const struct import_csv_record *h = &csv->record[0];
    if (h->nfield != 25)
        return run_fail(run, h->line,
                        "wrong header: %zu columns, a neighbours file has 25 (LA num, LA Name, "
                        "LA number, GOInd, GOReg, then SN1, SNP ... SN10, SNP)",
                        h->nfield);
    for (size_t i = 0; i < 25; i++) {
        char want[16];
        if (i < 5)
            snprintf(want, sizeof want, "%s", neighbour_header[i]);
        else if ((i - 5) % 2 == 0)
            snprintf(want, sizeof want, "SN%zu", (i - 5) / 2 + 1);
        else
            snprintf(want, sizeof want, "SNP");
        if (strcmp(h->field[i], want) != 0)
            return run_fail(run, h->line, "wrong header: column %zu is \"%.40s\", expected \"%s\"",
                            i + 1, h->field[i], want);
    }
    for (size_t i = 1; i < csv->nrecord; i++) {
        const struct import_csv_record *rec = &csv->record[i];
        if (check_width(run, csv, i) != 0)
            return -1;
        char **f = rec->field;
        struct reg_authority *a = registry_by_old(reg, f[0]);
        if (!a)
            return run_fail(run, rec->line, "unknown authority code \"%.20s\" (LA num)", f[0]);
        if (strcmp(f[2], f[0]) != 0)
            return run_fail(run, rec->line, "LA num %s and LA number %.20s differ", f[0], f[2]);
        for (size_t j = 1; j < i; j++)
            if (strcmp(csv->record[j].field[0], f[0]) == 0)
                return run_fail(run, rec->line, "authority %s already listed on line %u", f[0],
                                csv->record[j].line);
        size_t row_first = links->n;
        for (int rank = 1; rank <= 10; rank++) {
            const char *sn = f[5 + 2 * (rank - 1)], *snp = f[6 + 2 * (rank - 1)];
            if (!sn[0] && !snp[0]) {
                (*skipped_ranks)++;
                continue;
            }
            struct reg_authority *n = registry_by_old(reg, sn);
            if (!n)
                return run_fail(run, rec->line, "unknown authority code \"%.20s\" (SN%d)", sn,
                                rank);
            const char *label = import_closeness_canonical(snp);
            if (!label)
                return run_fail(run, rec->line, "unknown closeness label \"%.40s\" (SN%d)", snp,
                                rank);
            for (size_t k = row_first; k < links->n; k++)
                if (strcmp(links->link[k].neighbour, n->code) == 0)
                    return run_fail(run, rec->line, "neighbour %s listed twice for %s", n->code,
                                    a->code);
            if (links->n == links->cap) {
                size_t cap = links->cap ? links->cap * 2 : 2048;
                struct nb_link *g = realloc(links->link, cap * sizeof *g);
                if (!g)
                    return run_fail(run, rec->line, "out of memory");
                links->link = g;
                links->cap = cap;
            }
            struct nb_link *l = &links->link[links->n++];
            copy_str(l->authority, sizeof l->authority, a->code);
            copy_str(l->neighbour, sizeof l->neighbour, n->code);
            l->closeness = label;
            l->rank = rank;
            l->line = rec->line;
            l->unchanged = false;
        }
        run->rows_loaded++;
    }
    return 0;
}

static int neighbours_file(PGconn *conn, const char *path, struct import_run *run,
                           struct registry *reg)
{
    struct import_csv csv = {0};
    struct nb_links links = {0};
    struct import_buf del_a = {0}, del_r = {0}, b = {0};
    char err[512];
    int rc = -1;
    size_t skipped_ranks = 0;
    double t0 = now_seconds();
    run->phase_mark = t0;

    if (open_file(conn, run, &csv, reg) != 0 ||
        set_source(run, "DfE statistical neighbours", "") != 0)
        goto done;
    if (neighbours_stage(run, &csv, reg, &links, &skipped_ranks) != 0)
        goto done;
    qsort(links.link, links.n, sizeof *links.link, nb_link_cmp);
    run_phase(run, PH_STAGE);

    /* Replace, for the authorities in the file, only the links that differ
     * (compared here with what is stored): a second import of the same file
     * changes nothing. */
    struct import_buf auth = {0};
    int ok = import_buf_put(&auth, "{", 1) == 0;
    for (size_t i = 0; ok && i < links.n; i++)
        if (i == 0 || strcmp(links.link[i].authority, links.link[i - 1].authority) != 0)
            ok = array_put(&auth, links.link[i].authority) == 0;
    ok = ok && import_buf_put(&auth, "}", 1) == 0 && import_buf_put(&del_a, "{", 1) == 0 &&
         import_buf_put(&del_r, "{", 1) == 0;
    if (!ok) {
        import_buf_free(&auth);
        run_fail(run, 0, "out of memory");
        goto done;
    }
    const char *pa[1] = {auth.data};
    PGresult *r = dbsync_exec(conn,
                              "SELECT authority, rank, neighbour, closeness FROM statistical_neighbours"
                              " WHERE authority = ANY ($1::text[])",
                              1, pa, err, sizeof err);
    import_buf_free(&auth);
    if (!r) {
        run_fail(run, 0, "%s", err);
        goto done;
    }
    long removed = 0;
    for (int k = 0; ok && k < PQntuples(r); k++) {
        struct nb_link key = {.rank = atoi(PQgetvalue(r, k, 1))};
        copy_str(key.authority, sizeof key.authority, PQgetvalue(r, k, 0));
        struct nb_link *l = bsearch(&key, links.link, links.n, sizeof key, nb_link_cmp);
        if (l && strcmp(l->neighbour, PQgetvalue(r, k, 2)) == 0 &&
            strcmp(l->closeness, PQgetvalue(r, k, 3)) == 0) {
            l->unchanged = true;
            continue;
        }
        ok = array_put(&del_a, PQgetvalue(r, k, 0)) == 0 && array_put(&del_r, PQgetvalue(r, k, 1)) == 0;
        removed++;
    }
    PQclear(r);
    ok = ok && import_buf_put(&del_a, "}", 1) == 0 && import_buf_put(&del_r, "}", 1) == 0;
    long inserted = 0;
    for (size_t i = 0; ok && i < links.n; i++) {
        const struct nb_link *l = &links.link[i];
        if (l->unchanged)
            continue;
        char rank[4];
        snprintf(rank, sizeof rank, "%d", l->rank);
        ok = import_buf_copy_field(&b, l->authority, false) == 0 &&
             import_buf_copy_field(&b, rank, false) == 0 &&
             import_buf_copy_field(&b, l->neighbour, false) == 0 &&
             import_buf_copy_field(&b, l->closeness, false) == 0 &&
             import_buf_copy_field(&b, run->source, true) == 0;
        inserted++;
    }
    if (!ok) {
        run_fail(run, 0, "out of memory");
        goto done;
    }
    run_phase(run, PH_CHECK);
    if (removed > 0) {
        const char *pd[2] = {del_a.data, del_r.data};
        r = dbsync_exec(conn,
                        "DELETE FROM statistical_neighbours WHERE (authority, rank) IN"
                        " (SELECT * FROM unnest($1::text[], $2::smallint[]))",
                        2, pd, err, sizeof err);
        if (!r) {
            run_fail(run, 0, "%s", err);
            goto done;
        }
        PQclear(r);
    }
    if (inserted > 0 &&
        copy_in(conn, "COPY statistical_neighbours (authority, rank, neighbour, closeness, source)"
                      " FROM STDIN",
                &b, err, sizeof err) != 0) {
        run_fail(run, 0, "%s", err);
        goto done;
    }
    run_phase(run, PH_WRITE);
    if ((removed || inserted) && write_audit(conn, run, "import neighbours", NULL, 0, 0, inserted) != 0)
        goto done;
    if (commit_file(conn, run) != 0)
        goto done;
    run_phase(run, PH_COMMIT);
    printf("%s: statistical neighbours (source \"%s\")\n", path, run->source);
    run_print_rows(run);
    printf("  neighbour links: %ld written, %ld replaced or removed, %zu empty ranks skipped\n",
           inserted, removed, skipped_ranks);
    run_print_time(run, t0);
    rc = 0;
done:
    if (rc != 0 && PQtransactionStatus(conn) != PQTRANS_IDLE)
        rollback_file(conn);
    import_buf_free(&b);
    import_buf_free(&del_a);
    import_buf_free(&del_r);
    free(links.link);
    import_csv_free(&csv);
    return rc;
}

/* ----------------------------------------------------------------- DSG */

static const char DSG_COLUMN[] = "DSG cumulative balance as a % of the total income";

/* The DSG file names authorities, so the name is matched exactly among the
 * authorities that existed on the first day of the financial year (this
 * tells Dorset 835, gone 2019-04-01, from Dorset 838). */
static struct reg_authority *registry_by_name_on(struct registry *r, const char *name,
                                                 const char *day, int *matches)
{
    struct reg_authority *found = NULL;
    *matches = 0;
    for (size_t i = 0; i < r->nauth; i++) {
        struct reg_authority *a = &r->auth[i];
        if (strcmp(a->name, name) != 0)
            continue;
        if (a->valid_from[0] && strcmp(day, a->valid_from) < 0)
            continue;
        if (a->valid_to[0] && strcmp(day, a->valid_to) >= 0)
            continue;
        found = a;
        (*matches)++;
    }
    return found;
}

static int dsg_stage(struct import_run *run, const struct import_csv *csv, struct registry *reg)
{
    const char *need[] = {"time_period", "geographic_level", "la_name", DSG_COLUMN, "financial_year",
                          NULL};
    int col[5];
    for (int i = 0; need[i]; i++)
        if ((col[i] = import_csv_column(csv, need[i])) < 0)
            return run_fail(run, csv->record[0].line,
                            "wrong header: no column \"%s\" (a DfE DSG balance file has time_period, "
                            "geographic_level, la_name, \"%s\", financial_year)",
                            need[i], DSG_COLUMN);
    if (stage_reserve(run, csv->nrecord - 1) != 0)
        return -1;
    for (size_t i = 1; i < csv->nrecord; i++) {
        const struct import_csv_record *rec = &csv->record[i];
        if (check_width(run, csv, i) != 0)
            return -1;
        char **f = rec->field;
        const char *geo = f[col[1]];
        if (strcmp(geo, "National") == 0) {
            run_skip(run, SKIP_NATIONAL);
            continue;
        }
        if (strcmp(geo, "Regional") == 0) {
            run_skip(run, SKIP_REGIONAL);
            continue;
        }
        if (strcmp(geo, "Local authority") != 0)
            return run_fail(run, rec->line, "unexpected geographic_level \"%.40s\"", geo);
        char period[16], start[16], period2[16], start2[16];
        if (import_period_parse(f[col[4]], IMPORT_PERIOD_FINANCIAL_YEAR, period, start) != 0)
            return run_fail(run, rec->line, "financial_year \"%.20s\" is not like 2021-22",
                            f[col[4]]);
        if (import_period_parse(f[col[0]], IMPORT_PERIOD_FINANCIAL_YEAR, period2, start2) != 0 ||
            strcmp(period, period2) != 0)
            return run_fail(run, rec->line, "time_period \"%.20s\" does not match financial_year %s",
                            f[col[0]], period);
        int matches;
        struct reg_authority *a = registry_by_name_on(reg, f[col[2]], start, &matches);
        if (matches == 0)
            return run_fail(run, rec->line,
                            "unknown authority \"%.100s\" (no authority of that name existed on %s)",
                            f[col[2]], start);
        if (matches > 1)
            return run_fail(run, rec->line, "ambiguous authority name \"%.100s\" on %s", f[col[2]],
                            start);
        struct import_cell cell;
        switch (import_cell_parse(f[col[3]], false, &cell)) {
        case IMPORT_CELL_EMPTY:
            return run_fail(run, rec->line, "empty cell in column %s", DSG_COLUMN);
        case IMPORT_CELL_INVALID:
            return run_fail(run, rec->line,
                            "non-numeric cell \"%.40s\" in column %s (want a number or one of x c "
                            "z low)",
                            f[col[3]], DSG_COLUMN);
        default:
            break;
        }
        if (stage_observation(run, a->code, "dsg_balance_pct_of_income", period, "financial_year",
                              start, &cell, rec->line) != 0)
            return -1;
        run->rows_loaded++;
    }
    return 0;
}

static int dsg_file(PGconn *conn, const char *path, struct import_run *run,
                    struct registry *reg)
{
    struct import_csv csv = {0};
    int rc = -1;
    double t0 = now_seconds();
    run->phase_mark = t0;

    if (open_file(conn, run, &csv, reg) != 0 ||
        set_source(run, "DfE SEND and AP inclusion dashboard (S251 outturn)", "") != 0)
        goto done;
    if (dsg_stage(run, &csv, reg) != 0)
        goto done;
    run_phase(run, PH_STAGE);
    struct obs_counts c = {0};
    if (load_observations(conn, run, reg, &c) != 0)
        goto done;
    if ((c.added || c.revised) && write_audit(conn, run, "import dsg", &c, 0, 0, 0) != 0)
        goto done;
    if (commit_file(conn, run) != 0)
        goto done;
    run_phase(run, PH_COMMIT);
    printf("%s: DSG cumulative balance as %% of income (source \"%s\")\n", path, run->source);
    run_print_rows(run);
    printf("  observations: %ld new, %ld revised (new version), %ld unchanged, %ld not recorded "
           "(the figure in force comes from a later release)\n",
           c.added, c.revised, c.unchanged, c.older);
    run_print_time(run, t0);
    rc = 0;
done:
    if (rc != 0 && PQtransactionStatus(conn) != PQTRANS_IDLE)
        rollback_file(conn);
    import_csv_free(&csv);
    return rc;
}

/* ------------------------------------------------------------- command */

static bool is_iso_date(const char *s)
{
    int y, m, d;
    char extra;
    return strlen(s) == 10 && sscanf(s, "%4d-%2d-%2d%c", &y, &m, &d, &extra) == 3 && s[4] == '-' &&
           s[7] == '-' && y >= 1990 && y <= 2100 && m >= 1 && m <= 12 && d >= 1 && d <= 31;
}

/* ----------------------------------------------------------- import all */

enum import_kind { KIND_SEN2, KIND_NEIGHBOURS, KIND_DSG };

struct import_item {
    const char *path;       /* argv string or owned (dir entry): see owned */
    char *owned;
    enum import_kind kind;
    const char *published;  /* SEN2: the layout's release date, orders releases */
    size_t pos;             /* order given (directory entries by name) */
};

/* Parses only the header line of path (the first line, at most 64 KiB). */
static int read_header(const char *path, struct import_csv *h, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "cannot open: %m");
        return -1;
    }
    char *buf = malloc(65536);
    if (!buf) {
        fclose(f);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    size_t n = fread(buf, 1, 65536, f);
    fclose(f);
    char *nl = memchr(buf, '\n', n);
    if (nl)
        n = (size_t)(nl - buf) + 1;
    int rc = import_csv_parse(buf, n, h, err, errlen);
    free(buf);
    if (rc == 0 && h->nrecord == 0) {
        snprintf(err, errlen, "empty file (no header line)");
        import_csv_free(h);
        return -1;
    }
    return rc;
}

/* Tells which importer a file is for from its header. */
static int classify(struct import_item *it, char *err, size_t errlen)
{
    struct import_csv h = {0};
    if (read_header(it->path, &h, err, errlen) != 0)
        return -1;
    char **f = h.record[0].field;
    size_t n = h.record[0].nfield;
    int rc = 0;
    char why[300];
    const struct sen2_layout *lay = import_sen2_detect(f, n, why, sizeof why);
    if (lay) {
        it->kind = KIND_SEN2;
        it->published = lay->published;
    } else if (n > 0 && strcmp(f[0], neighbour_header[0]) == 0) {
        it->kind = KIND_NEIGHBOURS;
    } else if (import_csv_column(&h, DSG_COLUMN) >= 0) {
        it->kind = KIND_DSG;
    } else {
        snprintf(err, errlen,
                 "line 1: wrong header: not a SEN2, statistical neighbours or DSG balance file "
                 "(SEN2: %s)",
                 why);
        rc = -1;
    }
    import_csv_free(&h);
    return rc;
}

/* SEN2 releases oldest first (a newer release then revises an older one),
 * then neighbours and DSG, which need every authority the SEN2 files add. */
static int item_cmp(const void *a, const void *b)
{
    const struct import_item *x = a, *y = b;
    if (x->kind != y->kind)
        return (int)x->kind - (int)y->kind;
    if (x->kind == KIND_SEN2) {
        int c = strcmp(x->published, y->published);
        if (c != 0)
            return c;
    }
    return x->pos < y->pos ? -1 : x->pos > y->pos;
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Appends path, or the *.csv files of directory path (by name), to items.
 * Returns 0, or -1 with the reason in err. */
static int collect_path(const char *path, struct import_item **items, size_t *n, size_t *cap,
                        char *err, size_t errlen)
{
    char **names = NULL;
    size_t nnames = 0, capnames = 0;
    int rc = -1;
    DIR *d = opendir(path);
    if (!d) {
        if (errno != ENOTDIR) {
            snprintf(err, errlen, "%s: cannot open: %m", path);
            return -1;
        }
        names = malloc(sizeof *names);
        if (!names || !(names[0] = strdup(path)))
            goto oom;
        nnames = 1;
    } else {
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            size_t len = strlen(e->d_name);
            if (len < 5 || strcmp(e->d_name + len - 4, ".csv") != 0 || e->d_name[0] == '.')
                continue;
            if (nnames == capnames) {
                capnames = capnames ? capnames * 2 : 16;
                char **g = realloc(names, capnames * sizeof *g);
                if (!g)
                    goto oom;
                names = g;
            }
            size_t plen = strlen(path);
            char *full = malloc(plen + len + 2);
            if (!full)
                goto oom;
            snprintf(full, plen + len + 2, "%s%s%s", path,
                     plen && path[plen - 1] == '/' ? "" : "/", e->d_name);
            names[nnames++] = full;
        }
        closedir(d);
        d = NULL;
        if (nnames == 0) {
            snprintf(err, errlen, "%s: no .csv file in the directory", path);
            goto done;
        }
        qsort(names, nnames, sizeof *names, name_cmp);
    }
    for (size_t i = 0; i < nnames; i++) {
        if (*n == *cap) {
            *cap = *cap ? *cap * 2 : 16;
            struct import_item *g = realloc(*items, *cap * sizeof *g);
            if (!g)
                goto oom;
            *items = g;
        }
        struct import_item *it = &(*items)[(*n)++];
        memset(it, 0, sizeof *it);
        it->owned = names[i];
        it->path = names[i];
        it->pos = *n;
        names[i] = NULL;
    }
    rc = 0;
    goto done;
oom:
    snprintf(err, errlen, "out of memory");
done:
    if (d)
        closedir(d);
    for (size_t i = 0; i < nnames; i++)
        free(names[i]);
    free(names);
    return rc;
}

int cmd_import(int argc, char **argv)
{
    static const char usage[] =
        "usage: sendbench import sen2 [--release NAME --published YYYY-MM-DD] FILE... | "
        "import neighbours FILE | import dsg FILE | import all FILE|DIR...  [--db URL]";
    if (argc < 2)
        return cli_usage_error("import: say what to import (%s)", usage);
    const char *what = argv[1];
    bool sen2 = strcmp(what, "sen2") == 0, nb = strcmp(what, "neighbours") == 0,
         dsg = strcmp(what, "dsg") == 0, all = strcmp(what, "all") == 0;
    if (!sen2 && !nb && !dsg && !all)
        return cli_usage_error("import: unknown kind \"%.40s\" (%s)", what, usage);
    struct sen2_opts opts = {0};
    const char **files = calloc((size_t)argc, sizeof *files);
    if (!files)
        return cli_usage_error("import: out of memory");
    int nfiles = 0;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--db") == 0 && i + 1 < argc) {
            i++;
        } else if (strncmp(a, "--db=", 5) == 0) {
        } else if (sen2 && strcmp(a, "--release") == 0 && i + 1 < argc) {
            opts.release = argv[++i];
        } else if (sen2 && strcmp(a, "--published") == 0 && i + 1 < argc) {
            opts.published = argv[++i];
        } else if (a[0] == '-' && a[1] == '-') {
            free(files);
            return cli_usage_error("import: unknown option \"%.40s\" (%s)", a, usage);
        } else {
            files[nfiles++] = a;
        }
    }
    int rc = 0;
    if (nfiles == 0)
        rc = cli_usage_error("import %s: no FILE given (%s)", what, usage);
    else if ((nb || dsg) && nfiles != 1)
        rc = cli_usage_error("import %s: exactly one FILE (%s)", what, usage);
    else if (opts.published && !is_iso_date(opts.published))
        rc = cli_usage_error("import sen2: --published \"%.20s\" is not a date YYYY-MM-DD",
                             opts.published);
    else if (opts.release && (!opts.release[0] || strlen(opts.release) > 120))
        rc = cli_usage_error("import sen2: --release must be 1-120 characters");
    else if ((opts.release != NULL) != (opts.published != NULL))
        rc = cli_usage_error("import sen2: --release and --published go together");
    if (rc != 0) {
        free(files);
        return rc;
    }

    /* The files in the order they are imported, each with its importer. */
    struct import_item *items = NULL;
    size_t nitems = 0, capitems = 0;
    char err[512];
    struct registry reg = {0};     /* shared by the run's files (open_file) */
    /* The server starts its backend while the files are listed, recognised
     * and the first one read (open_file waits for it). */
    PGconn *conn = dbsync_connect_begin(cli_db_url(argc, argv), err, sizeof err);
    if (!conn) {
        fprintf(stderr, "sendbench: import %s: %s\n", what, err);
        free(files);
        return 1;
    }
    for (int i = 0; i < nfiles; i++) {
        if (all) {
            if (collect_path(files[i], &items, &nitems, &capitems, err, sizeof err) != 0) {
                fprintf(stderr, "sendbench: import all: %s\n", err);
                rc = 1;
                goto done;
            }
            continue;
        }
        if (nitems == capitems) {
            capitems = capitems ? capitems * 2 : 16;
            struct import_item *g = realloc(items, capitems * sizeof *g);
            if (!g) {
                rc = cli_usage_error("import: out of memory");
                goto done;
            }
            items = g;
        }
        items[nitems++] = (struct import_item){
            .path = files[i], .kind = sen2 ? KIND_SEN2 : nb ? KIND_NEIGHBOURS : KIND_DSG,
            .pos = (size_t)i};
    }
    if (all) {
        /* Every file is recognised before anything is loaded. */
        for (size_t i = 0; i < nitems; i++)
            if (classify(&items[i], err, sizeof err) != 0) {
                unsigned line = 0;
                const char *msg = err;
                if (sscanf(err, "line %u:", &line) == 1 && strchr(err, ':'))
                    msg = strchr(err, ':') + 2;
                if (line)
                    fprintf(stderr, "sendbench: import all: %s:%u: %s\n", items[i].path, line, msg);
                else
                    fprintf(stderr, "sendbench: import all: %s: %s\n", items[i].path, msg);
                fprintf(stderr, "sendbench: import all: nothing was loaded\n");
                rc = 1;
                goto done;
            }
        qsort(items, nitems, sizeof *items, item_cmp);
    }

    double t0 = now_seconds();
    int loaded = 0;
    for (size_t i = 0; i < nitems; i++) {
        const struct import_item *it = &items[i];
        /* Every file but the last commits without waiting for its WAL to
         * reach disk: the last file's commit flushes the log up to itself,
         * so when the command ends every file is as durable as with a
         * flush each (a crash of the server before then can lose files
         * already reported; importing again puts them back). */
        struct import_run run = {.path = it->path, .defer_flush = i + 1 < nitems};
        char *dup = strdup(it->path);
        run.file_name = dup ? basename(dup) : it->path;
        int frc = it->kind == KIND_SEN2         ? sen2_file(conn, it->path, &opts, &run, &reg)
                  : it->kind == KIND_NEIGHBOURS ? neighbours_file(conn, it->path, &run, &reg)
                                                : dsg_file(conn, it->path, &run, &reg);
        if (frc == 0 && registry_add_source(&reg, run.source, run.published) != 0) {
            run_fail(&run, 0, "out of memory");
            frc = -1;
        }
        free(run.obs);
        if (frc != 0) {
            const char *k = all ? "all" : what;
            fflush(stdout);
            if (run.err_line)
                fprintf(stderr, "sendbench: import %s: %s:%u: %s\n", k, it->path, run.err_line,
                        run.err);
            else
                fprintf(stderr, "sendbench: import %s: %s: %s\n", k, it->path, run.err);
            fprintf(stderr, "sendbench: import %s: nothing from %s was loaded%s\n", k, it->path,
                    loaded ? " (the files before it were)" : "");
            free(dup);
            rc = 1;
            break;
        }
        free(dup);
        loaded++;
    }
    if (rc == 0)
        printf("import %s: %d file%s in %.3f s\n", what, loaded, loaded == 1 ? "" : "s",
               now_seconds() - t0);
done:
    registry_free(&reg);
    if (conn)
        PQfinish(conn);
    for (size_t i = 0; i < nitems; i++)
        free(items[i].owned);
    free(items);
    free(files);
    return rc;
}
