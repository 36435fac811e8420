/*
 * Comparative tables and profiles: the request's state, its cache and its
 * reads (include/tables_query.h).  A request validated by
 * server/routes_tables.c is answered from the in-memory cache when the same
 * reply for the same visibility was computed since the data last changed,
 * waits on a computation of the same key already under way (single
 * flight, cache.h), or computes: server/tables_table.c for a table and its
 * metadata, server/tables_profile.c for a profile.  The serialised body is
 * kept with its ETag and what it depends on.  Every server LISTENs on
 * 'sendbench_data' (server/changes.c) and drops what a change touches,
 * whichever process made it.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "auth.h"
#include "cache.h"
#include "changes.h"
#include "db.h"
#include "db_read.h"
#include "log.h"
#include "metrics.h"
#include "routes.h"
#include "tables.h"
#include "tables_page.h"
#include "tables_query.h"
#include "tables_xsec.h"

#define TABLES_CACHE_MAX 8192
/* Every metric in every period a profile may show (~100 x ~20). */
#define TABLES_XSEC_MAX 4096


/* ---------------------------------------------------------------- start */


int tables_start(struct app *app)
{
    app->tables_cache = cache_new(TABLES_CACHE_MAX);
    app->xsec = xsec_store_new(TABLES_XSEC_MAX);
    if (!app->tables_cache || !app->xsec)
        return -1;
    if (changes_listen(app) != 0)
        return -1;
    return 0;
}

void tables_stop(struct app *app)
{
    changes_stop(app);
    cache_free(app->tables_cache);
    app->tables_cache = NULL;
    xsec_store_free(app->xsec);
    app->xsec = NULL;
}

/* ---------------------------------------------------------------- helpers */

static void reply_entry(struct request *r, struct cache_entry *e);

/* The leader has been answered (its state is being freed): each waiter
 * gets the leader's result unless something that result depends on changed
 * between the flight's start and the waiter's arrival (then it computes
 * afresh); when the leader failed, a waiter gets 503 if the database was
 * unavailable, else computes alone. */
static void flight_landed(void *arg, enum cache_flight_outcome outcome, struct cache_entry *e)
{
    struct request *w = arg;
    struct tq *wq = w->state;
    switch (outcome) {
    case CACHE_FLIGHT_SHARED:
        metrics_count("tables_flight_shared");
        reply_entry(w, e);
        break;
    case CACHE_FLIGHT_UNAVAILABLE:
        http_add_header(w, "Retry-After", "2");
        http_reply_error(w, 503, "database_unavailable",
                         "the database is unavailable; try again shortly", NULL);
        break;
    case CACHE_FLIGHT_CHANGED:
    case CACHE_FLIGHT_FAILED:
        wq->solo = outcome == CACHE_FLIGHT_FAILED;
        tq_serve_or_compute(w);
        break;
    }
}

/* A query of this module failed: the flight's waiters learn whether the
 * database was unavailable. */
void tq_db_failed(struct request *r, const struct db_reply *reply)
{
    struct tq *q = r->state;
    if (q->flight && reply->unavailable)
        cache_flight_unavailable(q->flight);
    http_reply_db_error(r, reply);
}

static void tq_free(void *state)
{
    struct tq *q = state;
    if (q->flight)
        cache_flight_land(q->app->tables_cache, q->flight, flight_landed);
    if (q->arg_free)
        q->arg_free(q->arg);
    PQclear(q->kept_res);
    for (size_t k = 0; k < q->nxruns; k++)
        xsec_run_release(&q->xruns[k]);
    free(q->xruns);
    free(q);
}

void tq_bad_param(struct request *r, int status, const char *field, const char *message)
{
    const struct tq *q = r->state;
    if (q && q->page && q->page->error) {
        q->page->error(r, status, field, message);
        return;
    }
    json_t *details = json_pack("[{s:s, s:s}]", "field", field, "reason", message);
    http_reply_error(r, status, status == 404 ? "not_found" : "bad_parameter", message, details);
}

const char *tq_visibility_key(const struct auth_caller *c, char *buf, size_t len)
{
    switch (c->kind) {
    case CALLER_ADMIN: return "admin";
    case CALLER_COUNCIL: snprintf(buf, len, "council:%s", c->authority); return buf;
    default: return "public";
    }
}

static const char *cache_control_for(const struct auth_caller *c)
{
    /* Revalidate every time (answered 304 from memory): a table changes as
     * soon as its data does.  Token callers' tables may hold unmasked
     * figures: no shared cache may keep them. */
    return c->kind == CALLER_ANONYMOUS ? "public, no-cache" : "private, no-cache";
}

static void reply_entry(struct request *r, struct cache_entry *e)
{
    http_reply_cached(r, e, "Authorization, Accept");
}

/* What a computed reply was made from (see include/cache.h): a table,
 * the figures of its metric in its periods (a derived growth metric also
 * the year before each); a profile, its authority's own figures and, for
 * each metric, the period shown (any period when the authority has none of
 * its own, since the latest anyone has is then shown); a page, every
 * change to the figures and forecasts; metadata, only what empties the
 * cache. */
static int declare_deps(const struct tq *q, struct cache_entry *e)
{
    if (q->page)
        return cache_entry_depend(e, CACHE_DEP_ANY_DATA | CACHE_DEP_FORECASTS, NULL);
    int rc = cache_entry_depend(e, 0, NULL);
    int growth = strcmp(q->metric, GROWTH_METRIC) == 0;
    switch (q->kind) {
    case TQ_META:
        break;
    case TQ_TABLE: {
        if (q->latest)
            return cache_entry_depend_on(e, q->metric, NULL);
        struct period ps[5];
        size_t n = 0;
        ps[n++] = q->per;
        ps[n++] = period_previous(&q->per);
        ps[n++] = period_year_earlier(&q->per);
        if (q->base[0] && period_base(&q->per, q->base, &ps[n]) == 0)
            n++;
        for (size_t i = 0, m = n; i < m; i++) {
            char buf[PERIOD_MAX];
            period_format(&ps[i], buf, sizeof buf);
            rc |= cache_entry_depend_on(e, q->metric, buf);
            if (growth) {
                struct period y = period_year_earlier(&ps[i]);
                period_format(&y, buf, sizeof buf);
                rc |= cache_entry_depend_on(e, q->metric, buf);
            }
        }
        break;
    }
    case TQ_PROFILE: {
        const PGresult *res = q->res;
        if (!res || PQntuples(res) == 0)
            return cache_entry_depend(e, CACHE_DEP_ANY_DATA, NULL);
        const char *subject = PQgetvalue(res, 0, 3);
        rc |= cache_entry_depend(e, 0, subject);
        /* A caller who may not name the subject sees none of its hidden
         * figures (tables_profile.c leaves them out of the series, and
         * they never choose a period): a hidden change of the subject's
         * leaves this reply but for the cross-sections below. */
        json_t *info = json_loads(PQgetvalue(res, 0, 11), 0, NULL);
        int consent = json_is_true(json_object_get(info, "consent_to_name"));
        json_decref(info);
        int sees_hidden = table_may_name(&q->caller, subject, consent);
        if (!sees_hidden)
            cache_entry_depend_public_view(e);
        int nres = PQntuples(res);
        for (int i = 1; i < nres && PQgetvalue(res, i, 0)[0] == 'm'; i++) {
            const char *metric = PQgetvalue(res, i, 1);
            const char *period = tq_cell(res, i, 2);
            /* Only a figure of its own that the caller sees chooses the
             * period shown; otherwise the latest default, which any
             * authority's figure may move. */
            int own = 0;
            for (int j = i + 1; j < nres && !own; j++)
                own = PQgetvalue(res, j, 0)[0] == 's' && strcmp(PQgetvalue(res, j, 1), metric) == 0 &&
                      (sees_hidden || strcmp(PQgetvalue(res, j, 8), "true") == 0);
            if (!period || !own) {
                rc |= cache_entry_depend_on(e, metric, NULL);
                continue;
            }
            rc |= cache_entry_depend_on(e, metric, period);
            struct period p, y;
            if (strcmp(metric, GROWTH_METRIC) == 0 && period_parse(period, &p) == 0) {
                char buf[PERIOD_MAX];
                y = period_year_earlier(&p);
                period_format(&y, buf, sizeof buf);
                rc |= cache_entry_depend_on(e, metric, buf);
            }
        }
        break;
    }
    }
    return rc ? -1 : 0;
}

/* Keeps the computed body (stolen) and answers with it. */
void tq_store_and_reply(struct request *r, struct tq *q, const char *content_type,
                            char *body, size_t len)
{
    struct cache *c = r->app->tables_cache;
    if (q->page)
        content_type = q->page->content_type;
    struct cache_entry *e = cache_entry_new(q->key, content_type,
                                            cache_control_for(&q->caller), body, len);
    if (!e) {
        http_reply_oom(r);
        return;
    }
    if (declare_deps(q, e) != 0)
        log_debug("tables: %s depends on everything (out of memory)", q->key);
    cache_store(c, e, q->generation);
    if (q->flight)
        cache_flight_result(q->flight, e);
    reply_entry(r, e);
    cache_entry_unref(e);
}

void tq_reply_json_doc(struct request *r, struct tq *q, json_t *doc)
{
    size_t len;
    char *body = http_json_text(doc, &len);
    if (!body) {
        http_reply_oom(r);
        return;
    }
    tq_store_and_reply(r, q, "application/json", body, len);
}

/* A number as published: an integer when dp is 0, else rounded to dp. */
json_t *tq_jnum(double v, int dp)
{
    double rv = table_round(v, dp);
    if (dp == 0 && fabs(rv) < 9e15)
        return json_integer((json_int_t)llround(rv));
    return json_real(rv);
}

json_t *tq_jstr(const char *s)
{
    return s ? json_string(s) : json_null();
}

/* Reads a text cell of a result: NULL when SQL NULL. */
const char *tq_cell(const PGresult *res, int row, int col)
{
    return PQgetisnull(res, row, col) ? NULL : PQgetvalue(res, row, col);
}

void tq_read_cell(const PGresult *res, int row, int col_value, struct table_cell *c)
{
    tq_cell_from_text(tq_cell(res, row, col_value), tq_cell(res, row, col_value + 1),
                      tq_cell(res, row, col_value + 2), c);
}

void tq_cell_from_text(const char *v, const char *sym, const char *pub, struct table_cell *c)
{
    /* columns: value, symbol, published (figure_state, sql/180 and 181:
     * 'true', 'false', or 'released BATCH VALUE', the batch and the value
     * the aggregates hold (no value: the held version has a symbol); a
     * bool's 't' or 'f') */
    memset(c, 0, sizeof *c);
    if (!v && !sym && !pub)
        return;
    c->published = pub && pub[0] == 't';
    c->released = c->published || (pub && pub[0] == 'r');
    if (pub && pub[0] == 'r') {
        const char *h = strchr(pub, ' ');
        char *end = NULL;
        if (h) {
            c->held_batch = strtoll(h + 1, &end, 10);
            if (end && *end == ' ' && end[1]) {
                c->held_has_value = 1;
                c->held_value = strtod(end + 1, NULL);
            }
        }
    }
    /* A held figure no longer in force (sql/181 figures_held_out): no
     * figure to show, only what the aggregates hold. */
    if (!v && !sym)
        return;
    c->exists = 1;
    if (v) {
        c->has_value = 1;
        c->value = strtod(v, NULL);
    } else {
        c->symbol = sym ? sym : "x";
    }
}

/* The metric's annual basis (metrics.annual_period); the CHECK admits only
 * the three annual names, so the fallback is never taken. */
enum period_basis tq_annual_basis(const char *annual_period)
{
    enum period_basis b;
    return period_basis_parse(annual_period, &b) == 0 ? b : PERIOD_CALENDAR_YEAR;
}

/* An anonymous caller's miss may be computed on the replica (--db-read,
 * db_read.h); a council's or an administrator's reads stay on the primary,
 * so a caller always reads what it has just written. */
int tq_read(struct request *r, const char *sql, int nparams, const char *const *params, db_cb cb)
{
    struct tq *q = r->state;
    if (q->caller.kind == CALLER_ANONYMOUS)
        return db_read_query(r->app, sql, nparams, params, cb, r);
    return db_pool_query(r->app->pool, sql, nparams, params, cb, r);
}

/* ---------------------------------------------------------------- compute */

void tq_serve_or_compute(struct request *r)
{
    struct tq *q = r->state;
    char vis[40];
    const char *v = tq_visibility_key(&q->caller, vis, sizeof vis);
    switch (q->kind) {
    case TQ_TABLE:
        snprintf(q->key, sizeof q->key, "T|%s|%s|%s|%s|%s|%s|%s|%s", q->metric, q->period,
                 q->group_name, q->authority, q->xlsx ? "xlsx" : q->csv ? "csv" : "json",
                 q->base, v,
                 q->page ? q->page->name : "");
        break;
    case TQ_META:
        snprintf(q->key, sizeof q->key, "M|%s|%s|%s", q->metric, v, q->xlsx ? "xlsx" : "csv");
        break;
    case TQ_PROFILE:
        snprintf(q->key, sizeof q->key, "P|%s|%s|%s|%s|%s%s%s", q->authority, q->period, v,
                 q->xlsx ? "xlsx" : q->csv ? "csv" : "json", q->page ? q->page->name : "",
                 q->variant[0] ? "|" : "", q->variant);
        break;
    }
    struct cache *c = r->app->tables_cache;
    struct cache_entry *e = cache_lookup(c, q->key);
    if (e) {
        reply_entry(r, e);
        return;
    }
    q->generation = cache_generation(c);
    if (!q->solo) {
        struct cache_flight *f = cache_flight_find(c, q->key);
        if (f) {
            cache_flight_wait(c, f, &q->waiter, r);
            return;
        }
        /* Without memory for a flight it simply computes alone. */
        q->flight = cache_flight_start(c, q->key, q->generation);
    }
    int rc = 0;
    switch (q->kind) {
    case TQ_TABLE:
        rc = tables_table_compute(r);
        break;
    case TQ_META:
        rc = tables_meta_compute(r);
        break;
    case TQ_PROFILE: {
        /* "As at P": each metric's latest period that begins before the
         * period after P begins (so P = 2022 takes the January 2022 census). */
        char start[16];
        if (q->period[0]) {
            struct period next = period_next(&q->per);
            period_start_date(&next, start, sizeof start);
        }
        const char *params[5] = {q->authority, q->period[0] ? start : NULL,
                                 q->page ? "true" : "false",
                                 q->caller.kind == CALLER_COUNCIL ? q->caller.authority : NULL,
                                 q->caller.kind == CALLER_ADMIN ? "true" : "false"};
        rc = tq_read(r, tables_profile_sql(q->page != NULL), 5, params,
                     tables_profile_fetched);
        break;
    }
    }
    if (rc != 0)
        http_reply_oom(r);
}

struct tq *tq_new(struct request *r, enum tq_kind kind)
{
    struct tq *q = calloc(1, sizeof *q);
    if (!q) {
        http_reply_oom(r);
        return NULL;
    }
    q->kind = kind;
    q->app = r->app;
    r->state = q;
    r->state_free = tq_free;
    return q;
}
