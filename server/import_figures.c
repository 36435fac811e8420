/*
 * The staged figures of a file written as versions (docs/import.md,
 * "Revisions and releases"): authorities' into observations, the published
 * England and regional figures into area_observations.  Each figure is
 * compared in C with the version in force (one query per table); what is
 * new or revised goes in with one COPY.
 */
#include "import.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dbsync.h"

/* Where a set of staged figures goes. */
struct figure_table {
    const char *in_force;   /* $1 metrics, $2 periods: key, version, value, symbol, source */
    const char *copy;       /* COPY ... FROM STDIN of the columns written below */
    bool published_column;  /* observations.published (always true for imports) */
};

static const struct figure_table authority_figures = {
    "SELECT DISTINCT ON (o.metric, o.period, o.authority)"
    " o.metric, o.period, o.authority, o.version, trim_scale(o.value)::text, o.symbol, o.source"
    " FROM observations o"
    " WHERE (o.metric, o.period) IN (SELECT * FROM unnest($1::text[], $2::text[]))"
    " ORDER BY o.metric, o.period, o.authority, o.version DESC",
    "COPY observations (authority, metric, period, period_kind, period_start,"
    " value, symbol, published, source, version) FROM STDIN",
    true,
};

static const struct figure_table area_figures = {
    "SELECT DISTINCT ON (o.metric, o.period, o.area)"
    " o.metric, o.period, o.area, o.version, trim_scale(o.value)::text, o.symbol, o.source"
    " FROM area_observations o"
    " WHERE (o.metric, o.period) IN (SELECT * FROM unnest($1::text[], $2::text[]))"
    " ORDER BY o.metric, o.period, o.area, o.version DESC",
    "COPY area_observations (area, metric, period, period_kind, period_start,"
    " value, symbol, source, version) FROM STDIN",
    false,
};

/* Sends what b holds once it has a chunk's worth (or anything, when all):
 * rows go out as they are made, not the whole file's rows in memory twice. */
#define COPY_CHUNK (64 * 1024)

static int copy_send(PGconn *conn, struct import_buf *b, bool all)
{
    if (b->len == 0 || (!all && b->len < COPY_CHUNK))
        return 0;
    int rc = PQputCopyData(conn, b->data, (int)b->len) == 1 ? 0 : -1;
    b->len = 0;
    return rc;
}

int import_staged_cmp(const void *a, const void *b)
{
    const struct staged_obs *x = a, *y = b;
    int d = strcmp(x->metric, y->metric);
    if (!d)
        d = strcmp(x->period, y->period);
    if (!d)
        d = strcmp(x->authority, y->authority);
    return d;
}

/* Two figures for one code, metric and period in one file: refused, naming
 * both lines (the pair whose later line comes first). */
static int check_duplicates(struct import_run *run, const struct staged_obs *obs, size_t nobs)
{
    const struct staged_obs *best = NULL;
    unsigned best_min = 0, best_max = 0;
    for (size_t i = 0; i < nobs;) {
        size_t j = i + 1;
        unsigned lo = obs[i].line, hi = lo;
        while (j < nobs && import_staged_cmp(&obs[i], &obs[j]) == 0) {
            lo = obs[j].line < lo ? obs[j].line : lo;
            hi = obs[j].line > hi ? obs[j].line : hi;
            j++;
        }
        if (j - i > 1 && (!best || hi < best_max)) {
            best = &obs[i];
            best_min = lo;
            best_max = hi;
        }
        i = j;
    }
    if (best)
        return import_fail(run, best_max,
                           "duplicate row: %s %s, %s, period %s already given on line %u",
                           import_is_area_code(best->authority) ? "area" : "authority",
                           best->authority, best->metric, best->period, best_min);
    return 0;
}

/* A metric whose catalogue period kind is not the one the importer gives
 * would mix periods on one time line: a bug in the importer's table. */
static int check_catalogue(struct import_run *run, const struct registry *reg,
                           const struct staged_obs *obs, size_t nobs)
{
    const struct staged_obs *bad = NULL;
    const char *bad_says = NULL;
    for (size_t i = 0; i < nobs;) {
        const char *says = registry_metric_period(reg, obs[i].metric);
        if (!says)
            says = "no such metric";
        size_t j = i;
        for (; j < nobs && strcmp(obs[j].metric, obs[i].metric) == 0; j++)
            if (strcmp(obs[j].kind, says) != 0 && (!bad || obs[j].line < bad->line)) {
                bad = &obs[j];
                bad_says = says;
            }
        i = j;
    }
    if (bad)
        return import_fail(run, bad->line, "metric %s: period kind %s, the catalogue says %s",
                           bad->metric, bad->kind, bad_says);
    return 0;
}

/* Finds, for every staged figure, the version in force (if any), whether it
 * is the same figure, and whether it came from a release published after
 * this one.  One query over the (metric, period) pairs the file covers. */
static int compare_with_database(PGconn *conn, struct import_run *run,
                                 const struct registry *reg, const struct figure_table *t,
                                 struct staged_obs *obs, size_t nobs)
{
    struct import_buf metrics = {0}, periods = {0};
    char err[512];
    int rc = -1;
    if (import_buf_put(&metrics, "{", 1) != 0 || import_buf_put(&periods, "{", 1) != 0)
        goto oom;
    for (size_t i = 0; i < nobs; i++) {
        const struct staged_obs *o = &obs[i];
        if (i > 0 && strcmp(o->metric, o[-1].metric) == 0 && strcmp(o->period, o[-1].period) == 0)
            continue;
        if (import_array_put(&metrics, o->metric) != 0 || import_array_put(&periods, o->period) != 0)
            goto oom;
    }
    if (import_buf_put(&metrics, "}", 1) != 0 || import_buf_put(&periods, "}", 1) != 0)
        goto oom;

    const char *p[2] = {metrics.data, periods.data};
    PGresult *r = dbsync_exec(conn, t->in_force, 2, p, err, sizeof err);
    if (!r) {
        import_fail(run, 0, "%s", err);
        goto done;
    }
    for (int k = 0; k < PQntuples(r); k++) {
        struct staged_obs key;
        key.metric = PQgetvalue(r, k, 0);
        if (PQgetlength(r, k, 1) >= (int)sizeof key.period ||
            PQgetlength(r, k, 2) >= (int)sizeof key.authority)
            continue;   /* not a key a file can stage */
        import_copy_str(key.period, sizeof key.period, PQgetvalue(r, k, 1));
        import_copy_str(key.authority, sizeof key.authority, PQgetvalue(r, k, 2));
        struct staged_obs *o = bsearch(&key, obs, nobs, sizeof *o, import_staged_cmp);
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
        o->older = run->published[0] &&
                   registry_source_published_after(reg, PQgetvalue(r, k, 6), run->published);
    }
    PQclear(r);
    rc = 0;
    goto done;
oom:
    import_fail(run, 0, "out of memory");
done:
    import_buf_free(&metrics);
    import_buf_free(&periods);
    return rc;
}

/* Writes the staged figures obs[0..nobs) to t as new versions where they
 * differ from the figure in force, with one COPY.  A figure from a release
 * published before the one in force is not recorded (counted as "older").
 * Runs inside the file's transaction, which holds the import lock, so the
 * versions computed here are the next ones. */
static int write_table(PGconn *conn, struct import_run *run, const struct registry *reg,
                       const struct figure_table *t, struct staged_obs *obs, size_t nobs,
                       struct obs_counts *c)
{
    char err[512];
    qsort(obs, nobs, sizeof *obs, import_staged_cmp);
    if (check_duplicates(run, obs, nobs) != 0 || check_catalogue(run, reg, obs, nobs) != 0 ||
        compare_with_database(conn, run, reg, t, obs, nobs) != 0)
        return -1;
    import_phase(run, PH_CHECK);

    /* What each staged figure is: unchanged, older than the one in force,
     * or a new version (numbered after the one in force). */
    size_t nrow = 0;
    for (size_t i = 0; i < nobs; i++) {
        const struct staged_obs *o = &obs[i];
        if (o->cur_version && o->same)
            c->unchanged++;
        else if (o->cur_version && o->older)
            c->older++;
        else
            nrow++;
    }
    if (nrow == 0)
        return 0;
    unsigned *lines = malloc(nrow * sizeof *lines);
    if (!lines)
        return import_fail(run, 0, "out of memory");
    if (dbsync_copy_start(conn, t->copy, err, sizeof err) != 0) {
        free(lines);
        return import_fail(run, 0, "%s", err);
    }
    struct import_buf b = {0};
    bool ok = true;
    size_t row = 0;
    for (size_t i = 0; ok && i < nobs; i++) {
        struct staged_obs *o = &obs[i];
        if (o->cur_version && (o->same || o->older))
            continue;
        if (o->cur_version)
            c->revised++;
        else
            c->added++;
        o->cur_version++;   /* now the version written */
        o->same = true;
        char version[16];
        snprintf(version, sizeof version, "%d", o->cur_version);
        bool value = o->cell.kind == IMPORT_CELL_VALUE;
        ok = import_buf_copy_field(&b, o->authority, false) == 0 &&
             import_buf_copy_field(&b, o->metric, false) == 0 &&
             import_buf_copy_field(&b, o->period, false) == 0 &&
             import_buf_copy_field(&b, o->kind, false) == 0 &&
             import_buf_copy_field(&b, o->start, false) == 0 &&
             import_buf_copy_field(&b, value ? o->cell.text : NULL, false) == 0 &&
             import_buf_copy_field(&b, value ? NULL : o->cell.text, false) == 0 &&
             (!t->published_column || import_buf_copy_field(&b, "t", false) == 0) &&
             import_buf_copy_field(&b, run->source, false) == 0 &&
             import_buf_copy_field(&b, version, true) == 0 &&
             copy_send(conn, &b, false) == 0;
        lines[row++] = o->line;
    }
    ok = ok && copy_send(conn, &b, true) == 0;
    import_buf_free(&b);
    unsigned copy_line = 0;
    int rc = dbsync_copy_finish(conn, ok, err, sizeof err, &copy_line);
    unsigned line = copy_line >= 1 && copy_line <= row ? lines[copy_line - 1] : 0;
    free(lines);
    if (rc != 0)
        return import_fail(run, line, "%s", err);
    return 0;
}

/* Records the file's release once; one imported before under another
 * publication date is refused (the SELECT sees the table as it was before
 * this statement's INSERT). */
static int record_release(PGconn *conn, struct import_run *run)
{
    char err[512];
    const char *pub = run->published[0] ? run->published : NULL;
    const char *p[4] = {run->source, run->release, pub, run->file_name};
    PGresult *r = dbsync_exec(conn,
                    "WITH ins AS (INSERT INTO import_sources (source, release, published, file_name)"
                    "  VALUES ($1, $2, $3, $4) ON CONFLICT (source) DO NOTHING)"
                    " SELECT coalesce(published::text, 'unknown') FROM import_sources"
                    " WHERE source = $1 AND published IS DISTINCT FROM $3::date"
                    "  AND $2::text IS NOT NULL",
                    4, p, err, sizeof err);
    if (!r)
        return import_fail(run, 0, "%s", err);
    if (PQntuples(r) > 0) {
        import_fail(run, 0, "source \"%s\" was imported before as published %s, not %s",
                    run->source, PQgetvalue(r, 0, 0), pub ? pub : "unknown");
        PQclear(r);
        return -1;
    }
    PQclear(r);
    return 0;
}

int import_write_figures(PGconn *conn, struct import_run *run, const struct registry *reg)
{
    if (write_table(conn, run, reg, &authority_figures, run->obs, run->nobs, &run->counts) != 0)
        return -1;
    if (run->narea > 0 &&
        write_table(conn, run, reg, &area_figures, run->area, run->narea, &run->area_counts) != 0)
        return -1;
    if (record_release(conn, run) != 0)
        return -1;
    import_phase(run, PH_WRITE);
    return 0;
}
