/*
 * import_file(): the one path every imported file takes (include/import.h):
 * read and open, the importer's stage and after-stage, the figures written
 * as versions, the import checks, the audit row, COMMIT and the report.
 */
#include "import.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "codes.h"
#include "dbsync.h"
#include "import_quality.h"

/* Serialises imports (two `make run` first starts, a manual import during
 * load_history.sh) so the version numbers computed from the database hold. */
#define IMPORT_LOCK_KEY "727275"

static const char *const phase_name[IMPORT_NPHASE] = {
    "read", "register", "stage", "copy", "boundaries", "checks", "write", "commit"};

void import_copy_str(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src ? src : "");
}

bool import_is_area_code(const char *s)
{
    return code_is_england(s) || code_is_region(s);
}

void import_skip(struct import_run *run, const char *reason)
{
    for (int i = 0; i < IMPORT_MAX_SKIP_KINDS; i++) {
        if (run->skip_reason[i] == reason || !run->skip_reason[i] ||
            strcmp(run->skip_reason[i], reason) == 0) {
            run->skip_reason[i] = reason;
            run->skip_count[i]++;
            return;
        }
    }
}

int import_fail(struct import_run *run, unsigned line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(run->err, sizeof run->err, fmt, ap);
    va_end(ap);
    run->err_line = line;
    return -1;
}

void import_phase(struct import_run *run, enum import_phase ph)
{
    double t = clock_seconds();
    if (run->phase_mark > 0)
        run->phase[ph] += t - run->phase_mark;
    run->phase_mark = t;
}

static void print_time(const struct import_run *run, double t0)
{
    printf("  time %.3f s (", clock_seconds() - t0);
    for (int i = 0; i < IMPORT_NPHASE; i++)
        printf("%s%s %.3f", i ? ", " : "", phase_name[i], run->phase[i]);
    printf(")\n");
}

static void print_rows(const struct import_run *run)
{
    size_t skipped = 0;
    for (int i = 0; i < IMPORT_MAX_SKIP_KINDS && run->skip_reason[i]; i++)
        skipped += run->skip_count[i];
    printf("  rows read %zu, loaded %zu, skipped %zu\n", run->rows_read, run->rows_loaded, skipped);
    for (int i = 0; i < IMPORT_MAX_SKIP_KINDS && run->skip_reason[i]; i++)
        printf("    skipped %zu: %s\n", run->skip_count[i], run->skip_reason[i]);
}

static int reserve(struct import_run *run, struct staged_obs **v, size_t *cap, size_t have,
                   size_t n)
{
    if (*cap - have >= n)
        return 0;
    size_t c = have + n;
    struct staged_obs *o = realloc(*v, c * sizeof *o);
    if (!o)
        return import_fail(run, 0, "out of memory");
    *v = o;
    *cap = c;
    return 0;
}

int import_stage_reserve(struct import_run *run, size_t n)
{
    return reserve(run, &run->obs, &run->capobs, run->nobs, n);
}

static int stage(struct import_run *run, struct staged_obs **v, size_t *n, size_t *cap,
                 const char *code, const char *region, const char *metric, const char *period,
                 const char *kind, const char *start, const struct import_cell *cell,
                 unsigned line)
{
    struct staged_obs *o = *v;
    if (strlen(code) >= sizeof o->authority || strlen(region) >= sizeof o->region ||
        strlen(period) >= sizeof o->period || strlen(start) >= sizeof o->start)
        return import_fail(run, line, "authority code or period too long");
    if (*n == *cap && reserve(run, v, cap, *n, *cap ? *cap : 1024) != 0)
        return -1;
    o = &(*v)[(*n)++];
    memset(o, 0, sizeof *o);
    o->metric = metric;
    o->kind = kind;
    strcpy(o->authority, code);
    strcpy(o->region, region);
    strcpy(o->period, period);
    strcpy(o->start, start);
    o->cell = *cell;
    o->line = line;
    return 0;
}

int import_stage_figure(struct import_run *run, const char *authority, const char *region,
                        const char *metric, const char *period, const char *kind,
                        const char *start, const struct import_cell *cell, unsigned line)
{
    return stage(run, &run->obs, &run->nobs, &run->capobs, authority, region ? region : "",
                 metric, period, kind, start, cell, line);
}

int import_stage_area_figure(struct import_run *run, const char *area, const char *metric,
                             const char *period, const char *kind, const char *start,
                             const struct import_cell *cell, unsigned line)
{
    if (!import_is_area_code(area))
        return import_fail(run, line,
                           "area code \"%.20s\" is not England (E92000001) or a region (E12 and 6 "
                           "digits)",
                           area);
    return stage(run, &run->area, &run->narea, &run->caparea, area, "", metric, period, kind,
                 start, cell, line);
}

int import_check_width(struct import_run *run, const struct import_csv *csv, size_t i)
{
    const struct import_csv_record *rec = &csv->record[i];
    size_t want = csv->record[0].nfield;
    if (rec->nfield < want)
        return import_fail(run, rec->line, "truncated line: %zu fields, the header has %zu",
                           rec->nfield, want);
    if (rec->nfield > want)
        return import_fail(run, rec->line, "line has %zu fields, the header has %zu", rec->nfield,
                           want);
    return 0;
}

int import_set_source(struct import_run *run, const char *release, const char *published)
{
    import_copy_str(run->release, sizeof run->release, release);
    import_copy_str(run->published, sizeof run->published, published);
    int n = snprintf(run->source, sizeof run->source, "%s: %s", release, run->file_name);
    if (n < 0 || (size_t)n >= sizeof run->source)
        return import_fail(run, 0, "file name too long for a source (200 characters)");
    return 0;
}

int import_array_put(struct import_buf *b, const char *s)
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

/* --------------------------------------------------------------- COPY */

#define COPY_CHUNK (64 * 1024)

int import_copy_in(PGconn *conn, const char *sql, const struct import_buf *buf, char *err,
                   size_t errlen)
{
    if (dbsync_copy_start(conn, sql, err, errlen) != 0)
        return -1;
    bool ok = true;
    for (size_t at = 0; ok && at < buf->len; at += COPY_CHUNK) {
        size_t n = buf->len - at < COPY_CHUNK ? buf->len - at : COPY_CHUNK;
        ok = PQputCopyData(conn, buf->data + at, (int)n) == 1;
    }
    return dbsync_copy_finish(conn, ok, err, errlen, NULL);
}

/* ------------------------------------------------------------ reading */

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
    double t = clock_seconds();
    job->rc = import_csv_read(job->path, job->csv, job->err, sizeof job->err);
    job->seconds = clock_seconds() - t;
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
            return import_fail(run, line, "%s", colon ? colon + 2 : job->err);
        }
        return import_fail(run, 0, "%s", job->err);
    }
    if (csv->nrecord == 0)
        return import_fail(run, 0, "empty file (no header line)");
    if (csv->nrecord == 1)
        return import_fail(run, csv->record[0].line, "no data rows after the header");
    run->rows_read = csv->nrecord - 1;
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
    double t = clock_seconds();
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
    run->phase[PH_REGISTRY] += clock_seconds() - t;
    if (threaded)
        pthread_join(reader, NULL);
    run->phase[PH_READ] += job.seconds;
    run->phase_mark = clock_seconds();
    if (read_result(run, &job) != 0)
        return -1;
    if (db != 0)
        return import_fail(run, 0, "%s", err);
    return 0;
}

/* -------------------------------------------------------------- audit */

static int write_audit(PGconn *conn, struct import_run *run, const char *what)
{
    char err[512], added[24], revised[24], auth[24], bound[24], nb[24], rows[24], area[24],
        quar[24], query[24];
    snprintf(added, sizeof added, "%ld", run->counts.added);
    snprintf(revised, sizeof revised, "%ld", run->counts.revised);
    snprintf(auth, sizeof auth, "%ld", run->authorities_added);
    snprintf(bound, sizeof bound, "%ld", run->boundaries);
    snprintf(nb, sizeof nb, "%ld", run->links_written);
    snprintf(rows, sizeof rows, "%zu", run->rows_read);
    snprintf(area, sizeof area, "%ld", run->area_counts.added + run->area_counts.revised);
    snprintf(quar, sizeof quar, "%zu", run->quarantined);
    snprintf(query, sizeof query, "%zu", run->queried);
    const char *p[12] = {what, run->file_name, run->source, rows, added, revised, auth, bound,
                         nb, area, quar, query};
    PGresult *r = dbsync_exec(conn,
                              "INSERT INTO audit_log (actor, action, detail) VALUES ('import', $1,"
                              " jsonb_build_object('file', $2::text, 'source', $3::text,"
                              "  'rows_read', $4::int, 'observations_added', $5::int,"
                              "  'observations_revised', $6::int, 'authorities_added', $7::int,"
                              "  'boundary_changes', $8::int, 'neighbour_links_written', $9::int,"
                              "  'area_figures_written', $10::int, 'quarantined', $11::int,"
                              "  'queried', $12::int))",
                              12, p, err, sizeof err);
    if (!r)
        return import_fail(run, 0, "audit: %s", err);
    PQclear(r);
    return 0;
}

/* ---------------------------------------------------------- one file */

static void print_counts(const char *what, const struct obs_counts *c)
{
    printf("  %s: %ld new, %ld revised (new version), %ld unchanged, %ld not recorded "
           "(the figure in force comes from a later release)\n",
           what, c->added, c->revised, c->unchanged, c->older);
}

int import_file(PGconn *conn, const struct importer *imp, struct import_run *run,
                struct registry *reg)
{
    struct import_csv csv = {0};
    char err[512];
    int rc = -1;
    double t0 = clock_seconds();
    run->phase_mark = t0;

    if (open_file(conn, run, &csv, reg) != 0)
        goto done;
    if (imp->stage(run, &csv, reg) != 0)
        goto done;
    import_phase(run, PH_STAGE);
    if (imp->after_stage && imp->after_stage(conn, run, reg) != 0)
        goto done;
    if (imp->figures && import_write_figures(conn, run, reg) != 0)
        goto done;
    if (imp->figures && import_quality_check(conn, run, reg) != 0)
        goto done;
    bool changed = run->counts.added || run->counts.revised || run->area_counts.added ||
                   run->area_counts.revised || run->authorities_added || run->boundaries ||
                   run->links_written || run->links_removed;
    char action[64];
    snprintf(action, sizeof action, "import %s", imp->name);
    if (changed && write_audit(conn, run, action) != 0)
        goto done;
    if (dbsync_exec_simple(conn, "COMMIT", err, sizeof err) != 0) {
        import_fail(run, 0, "commit: %s", err);
        goto done;
    }
    import_phase(run, PH_COMMIT);

    printf("%s: %s (source \"%s\"", run->path, run->title, run->source);
    if (run->published[0])
        printf(", published %s", run->published);
    printf(")\n");
    print_rows(run);
    if (imp->report)
        imp->report(run);
    if (imp->figures) {
        print_counts("observations", &run->counts);
        if (run->narea)
            print_counts("England and regional figures", &run->area_counts);
        import_quality_report(run);
    }
    print_time(run, t0);
    rc = 0;
done:
    if (rc != 0 && PQtransactionStatus(conn) != PQTRANS_IDLE) {
        PGresult *r = PQexec(conn, "ROLLBACK");
        PQclear(r);
    }
    if (imp->cleanup)
        imp->cleanup(run);
    import_quality_free(run);
    import_csv_free(&csv);
    return rc;
}
