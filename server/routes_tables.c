/*
 * Comparative tables and authority profiles (issue 6).
 *
 *   GET /api/v1/tables/{metric}?period=&group=&authority=&base=&format=
 *   GET /api/v1/tables/{metric}/meta?format=csv|xlsx
 *   GET /api/v1/authorities/{code}/profile?period=
 *
 * A request is validated, its caller resolved (anonymous, a council, an
 * admin), then answered from the in-memory cache when the same reply for the
 * same visibility was computed since the data last changed.  On a miss ONE
 * query fetches every authority's figures (PostgreSQL does the joins),
 * server/tables.c ranks, bands and masks them, and the serialised body is
 * kept with its ETag.  Every server LISTENs on 'sendbench_data' (triggers
 * of sql/005_tables.sql) and empties its cache on any change, whichever
 * process made it.
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "auth.h"
#include "cache.h"
#include "changes.h"
#include "codes.h"
#include "db.h"
#include "db_read.h"
#include "log.h"
#include "metrics.h"
#include "routes.h"
#include "sheet.h"
#include "tables.h"
#include "tables_page.h"
#include "tables_query.h"
#include "tables_xsec.h"
#include "xlsx.h"

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
    /* columns: value, symbol, published (figure_state, sql/180: 'true',
     * 'released' or 'false'; a bool's 't' or 'f') */
    memset(c, 0, sizeof *c);
    const char *v = tq_cell(res, row, col_value);
    const char *sym = tq_cell(res, row, col_value + 1);
    const char *pub = tq_cell(res, row, col_value + 2);
    if (!v && !sym && !pub)
        return;
    c->exists = 1;
    c->published = pub && pub[0] == 't';
    c->released = c->published || (pub && pub[0] == 'r');
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

/* ---------------------------------------------------------------- callers */

/* The caller: the dispatcher resolved it (ROUTE_TOKEN_OPTIONAL in the route
 * table), for the API and the pages alike (a signed-in council sees its own
 * figures on pages too; the published-only evidence pack is anonymous). */
void tq_caller_resolve(struct request *r, void (*next)(struct request *r))
{
    struct tq *q = r->state;
    q->caller = r->caller;
    next(r);
}

/* ---------------------------------------------------------------- tables */

static const char TABLE_SQL[] =
    "WITH m AS (SELECT id, label, unit, dp, polarity, kind, annual_period, description, additive"
    "           FROM metrics"
    "           WHERE id = $1),"
    " obs AS ("
    "  SELECT authority, period, value, symbol,"
    "   figure_state(published, authority, metric, period) AS published, NULL::text AS reason"
    "  FROM current_observations WHERE metric = $1 AND period IN ($2, $3, $4, coalesce($5, $2))"
    "  UNION ALL"
    "  SELECT authority, period, value, CASE WHEN value IS NULL THEN 'x' END,"
    "   figure_state(published, authority, metric, period), reason"
    "  FROM derived_observations WHERE metric = $1 AND period IN ($2, $3, $4, coalesce($5, $2))),"
    /* A DfE footnote the import checks carry (sql/170): shown, not ranked. */
    " notes AS MATERIALIZED (SELECT authority, note FROM figure_notes"
    "  WHERE metric = $1 AND period = $2),"
    /* A derived rate's numerator and denominator (sql/150) of each
     * authority in the period: England's and a region's ratio of sums
     * where nothing is published. */
    " dm AS MATERIALIZED (SELECT numerator, denominator, fallback_denominator,"
    "  sign * scale AS k FROM derived_metrics WHERE metric = $1 AND formula = 'ratio'),"
    " nd AS MATERIALIZED (SELECT o.authority,"
    "  max(o.value) FILTER (WHERE o.metric = dm.numerator) AS num,"
    "  coalesce(max(o.value) FILTER (WHERE o.metric = dm.denominator),"
    "   max(o.value) FILTER (WHERE o.metric = dm.fallback_denominator)) AS den"
    "  FROM dm JOIN current_observations o ON o.period = $2"
    "   AND o.metric IN (dm.numerator, dm.denominator, dm.fallback_denominator)"
    "  GROUP BY o.authority),"
    " focal AS (SELECT new_la_code FROM authorities WHERE new_la_code = $6 OR old_la_code = $6"
    "           ORDER BY new_la_code LIMIT 1),"
    /* England's and the regions' figures as the DfE publishes them (sql/091). */
    " ar AS MATERIALIZED (SELECT area, value, symbol FROM area_figures"
    "  WHERE metric = $1 AND period = $2)"
    " SELECT m.id, m.label, m.unit, m.dp, m.polarity, m.kind, m.annual_period,"         /* 0-6 */
    "  (SELECT key FROM table_mask_key), (SELECT new_la_code FROM focal),"             /* 7-8 */
    "  a.new_la_code, a.old_la_code, a.name, a.region_code, a.region_name,"             /* 9-13 */
    "  a.consent_to_name,"                                                              /* 14 */
    "  CASE WHEN a.new_la_code = (SELECT new_la_code FROM focal) THEN 0 ELSE nb.rank END," /* 15 */
    "  c.value, c.symbol, c.published, c.reason,"                                       /* 16-19 */
    "  p.value, p.symbol, p.published, y.value, y.symbol, y.published,"                 /* 20-25 */
    "  b.value, b.symbol, b.published,"                                                 /* 26-28 */
    /* For pages only ($8): the periods with figures in force (a version
     * awaiting approval, rejected or quarantined lists nothing) and the
     * sources of the period's published figures (a derived metric's
     * inputs'). */
    "  CASE WHEN $8 THEN (SELECT json_agg(period ORDER BY ps DESC, period DESC) FROM ("
    "   SELECT period, min(period_start) AS ps FROM ("
    "    SELECT period, period_start FROM current_observations WHERE metric = $1"
    "    UNION ALL SELECT period, period_start FROM derived_observations WHERE metric = $1"
    "     AND (SELECT kind FROM m) = 'derived') s"
    "   GROUP BY period) z)::text END,"                                                 /* 29 */
    /* A source cites the DfE release and its publication date
     * (import_sources), not when it was imported. */
    "  CASE WHEN $8 THEN (SELECT json_agg(json_build_object('source', z.source, 'recorded',"
    "    to_char(rec, 'YYYY-MM-DD'), 'release', i.release,"
    "    'published', to_char(i.published, 'YYYY-MM-DD')) ORDER BY z.source) FROM ("
    "   SELECT source, max(recorded_at) AS rec FROM current_observations"
    "   WHERE published AND period = $2 AND metric = ANY (ARRAY(SELECT $1 UNION ALL"
    "    SELECT input FROM (" TABLES_DERIVED_INPUTS ") d(metric, input) WHERE d.metric = $1))"
    "   GROUP BY source) z LEFT JOIN import_sources i ON i.source = z.source)::text END,"
    "  m.description,"                                                                  /* 30-31 */
    "  (SELECT value FROM ar WHERE area = 'E92000001'),"
    "  (SELECT symbol FROM ar WHERE area = 'E92000001'),"
    "  (SELECT 't' FROM ar WHERE area = 'E92000001'),"                                  /* 32-34 */
    "  (SELECT ar.value FROM ar JOIN authorities x ON x.region_code = ar.area"
    "   WHERE x.new_la_code = (SELECT new_la_code FROM focal)),"
    "  (SELECT ar.symbol FROM ar JOIN authorities x ON x.region_code = ar.area"
    "   WHERE x.new_la_code = (SELECT new_la_code FROM focal)),"
    "  (SELECT 't' FROM ar JOIN authorities x ON x.region_code = ar.area"
    "   WHERE x.new_la_code = (SELECT new_la_code FROM focal)),"                        /* 35-37 */
    "  (SELECT note FROM notes WHERE notes.authority = a.new_la_code),"                 /* 38 */
    "  nd.num, nd.den, (SELECT k FROM dm), m.additive"                                  /* 39-42 */
    " FROM m"
    " LEFT JOIN authorities a ON true"
    " LEFT JOIN obs c ON c.authority = a.new_la_code AND c.period = $2"
    " LEFT JOIN obs p ON p.authority = a.new_la_code AND p.period = $3"
    " LEFT JOIN obs y ON y.authority = a.new_la_code AND y.period = $4"
    " LEFT JOIN obs b ON b.authority = a.new_la_code AND b.period = $5"
    " LEFT JOIN statistical_neighbours nb ON nb.authority = (SELECT new_la_code FROM focal)"
    "  AND nb.neighbour = a.new_la_code"
    " LEFT JOIN nd ON nd.authority = a.new_la_code"
    " WHERE a.new_la_code IS NULL OR c.authority IS NOT NULL"
    "  OR a.new_la_code = (SELECT new_la_code FROM focal)"
    "  OR ((a.valid_from IS NULL OR a.valid_from <= $7::date)"
    "      AND (a.valid_to IS NULL OR a.valid_to > $7::date))"
    " ORDER BY a.new_la_code";

/* The public default period (sql/090_default_periods.sql): the latest
 * published one, or a quarter with enough contributors. */
static const char LATEST_SQL[] =
    "SELECT m.id, (SELECT d.period FROM default_periods d WHERE d.metric = $1"
    "  ORDER BY d.period_start DESC, d.published DESC, d.period DESC LIMIT 1)"
    " FROM metrics m WHERE m.id = $1";


static void table_fetched(const struct db_reply *reply, void *arg)
{
    struct request *r = arg;
    struct tq *q = r->state;
    struct table_row *rows = NULL;
    const char **reasons = NULL;
    struct table t;
    memset(&t, 0, sizeof t);
    if (reply->error) {
        tq_db_failed(r, reply);
        return;
    }
    const PGresult *res = reply->res;
    int nres = PQntuples(res);
    if (nres == 0) {
        tq_bad_param(r, 404, "metric", "no such metric (see /api/v1/metrics)");
        return;
    }
    struct table_meta tm;
    memset(&tm, 0, sizeof tm);
    tm.id = PQgetvalue(res, 0, 0);
    tm.label = PQgetvalue(res, 0, 1);
    tm.unit = PQgetvalue(res, 0, 2);
    tm.dp = atoi(PQgetvalue(res, 0, 3));
    if (table_polarity_parse(PQgetvalue(res, 0, 4), &tm.polarity) != 0)
        tm.polarity = POLARITY_NEUTRAL;
    tm.kind = PQgetvalue(res, 0, 5);
    tm.annual_period = PQgetvalue(res, 0, 6);
    tm.mask_key = PQgetvalue(res, 0, 7);
    tm.focal = tq_cell(res, 0, 8);
    tm.additive = PQgetvalue(res, 0, 42)[0] == 't';
    if (!period_fits(&q->per, tq_annual_basis(tm.annual_period))) {
        char msg[200];
        snprintf(msg, sizeof msg, "%s is a %s metric: give a period like %s or 2024-25 Q2",
                 tm.id, tm.annual_period,
                 strcmp(tm.annual_period, "financial_year") == 0 ? "2021-22" : "2022");
        tq_bad_param(r, 400, "period", msg);
        return;
    }
    if (q->authority[0] && !tm.focal) {
        tq_bad_param(r, 404, "authority", "no such authority");
        return;
    }
    struct period pp = period_previous(&q->per), py = period_year_earlier(&q->per);
    period_format(&pp, tm.prev, sizeof tm.prev);
    period_format(&py, tm.year, sizeof tm.year);
    if (q->base[0]) {
        struct period pb;
        if (period_base(&q->per, q->base, &pb) == 0) {
            period_format(&pb, tm.base, sizeof tm.base);
            tm.has_base = 1;
        }
    }

    rows = calloc((size_t)nres, sizeof *rows);
    reasons = calloc((size_t)nres, sizeof *reasons);
    if (!rows || !reasons)
        goto oom;
    size_t n = 0;
    long focal = -1;
    int any_figure = 0;
    const char *region_name = NULL;
    for (int i = 0; i < nres; i++) {
        if (PQgetisnull(res, i, 9))
            continue;   /* the metric exists but there are no authorities */
        struct table_row *row = &rows[n];
        row->code = PQgetvalue(res, i, 9);
        row->old_code = PQgetvalue(res, i, 10);
        row->name = PQgetvalue(res, i, 11);
        row->region_code = PQgetvalue(res, i, 12);
        row->region_name = PQgetvalue(res, i, 13);
        row->consent_to_name = PQgetvalue(res, i, 14)[0] == 't';
        row->neighbour_rank = PQgetisnull(res, i, 15) ? -1 : atoi(PQgetvalue(res, i, 15));
        tq_read_cell(res, i, 16, &row->cur);
        reasons[n] = tq_cell(res, i, 19);
        row->note = tq_cell(res, i, 38);
        row->has_ratio = !PQgetisnull(res, i, 39) && !PQgetisnull(res, i, 40);
        if (row->has_ratio) {
            row->num = strtod(PQgetvalue(res, i, 39), NULL);
            row->den = strtod(PQgetvalue(res, i, 40), NULL);
        }
        if (row->note)
            reasons[n] = row->note;
        tq_read_cell(res, i, 20, &row->prev);
        tq_read_cell(res, i, 23, &row->year);
        if (tm.has_base)
            tq_read_cell(res, i, 26, &row->base);
        any_figure |= row->cur.exists;
        if (tm.focal && strcmp(row->code, tm.focal) == 0) {
            focal = (long)n;
            region_name = row->region_name;
        }
        n++;
    }
    if (!any_figure) {
        char msg[200];
        snprintf(msg, sizeof msg, "no figures for %s in period %s", tm.id, q->period);
        tq_bad_param(r, 404, "period", msg);
        goto done;
    }
    char table_id[200];
    snprintf(table_id, sizeof table_id, "%s|%s|%s|%s", tm.id, q->period, q->group_name,
             tm.focal ? tm.focal : "");
    t.rows = rows;
    t.n = n;
    t.polarity = tm.polarity;
    t.dp = tm.dp;
    t.group = q->group;
    t.focal = focal;
    t.caller = q->caller;
    t.min_contributors = MIN_CONTRIBUTORS;
    t.mask_key = tm.mask_key;
    t.table_id = table_id;
    t.additive = tm.additive;
    t.ratio_scale = PQgetisnull(res, 0, 41) ? 0 : strtod(PQgetvalue(res, 0, 41), NULL);
    tq_read_cell(res, 0, 32, &t.england_area);
    tq_read_cell(res, 0, 35, &t.region_area);
    if (table_compute(&t) != 0)
        goto oom;
    if (q->page) {
        json_t *periods = json_loads(tq_cell(res, 0, 29) ? tq_cell(res, 0, 29) : "[]", 0, NULL);
        json_t *sources = json_loads(tq_cell(res, 0, 30) ? tq_cell(res, 0, 30) : "[]", 0, NULL);
        struct tables_view v = {.t = &t, .reasons = reasons, .id = tm.id, .label = tm.label,
                                .unit = tm.unit, .kind = tm.kind,
                                .description = PQgetvalue(res, 0, 31),
                                .polarity_name = PQgetvalue(res, 0, 4), .dp = tm.dp,
                                .polarity = tm.polarity, .period = q->period,
                                .focal = tm.focal, .region_name = region_name,
                                .periods = periods, .sources = sources};
        size_t len = 0;
        char *body = periods && sources ? q->page->table(r, &v, &len) : NULL;
        json_decref(periods);
        json_decref(sources);
        if (!body)
            goto oom;
        tq_store_and_reply(r, q, q->page->content_type, body, len);
    } else if (q->csv || q->xlsx) {
        struct sheet *rows_sheet = table_sheet(q, &t, &tm, region_name);
        struct sheet *cols = q->xlsx ? table_meta_sheet(tm.id, tm.label, tm.unit, tm.dp) : NULL;
        if (sheet_failed(rows_sheet) || (q->xlsx && sheet_failed(cols))) {
            sheet_free(rows_sheet);
            sheet_free(cols);
            goto oom;
        }
        char title[300];
        snprintf(title, sizeof title, "Comparative table: %s, %s (%s)", tm.label, q->period,
                 q->group_name);
        const char *extra[] = {"metric", tm.id, "period", q->period, "group", q->group_name,
                               "authority", q->authority[0] ? q->authority : "none", NULL};
        const struct sheet *sheets[] = {rows_sheet, cols};
        table_reply_download(r, q, sheets, 2, title, extra);
        sheet_free(rows_sheet);
        sheet_free(cols);
    } else {
        json_t *doc = table_json(q, &t, &tm, reasons, region_name);
        tq_reply_json_doc(r, q, doc);
    }
    goto done;
oom:
    http_reply_oom(r);
done:
    table_release(&t);
    free(rows);
    free(reasons);
}

/* An anonymous caller's miss may be computed on the replica (--db-read,
 * db_read.h); a council's or an administrator's reads stay on the primary,
 * so a caller always reads what it has just written. */
int tq_read(struct request *r, const char *sql, int nparams, const char *const *params,
            db_cb cb)
{
    struct tq *q = r->state;
    if (q->caller.kind == CALLER_ANONYMOUS)
        return db_read_query(r->app, sql, nparams, params, cb, r);
    return db_pool_query(r->app->pool, sql, nparams, params, cb, r);
}

static void table_query(struct request *r)
{
    struct tq *q = r->state;
    struct period pp = period_previous(&q->per), py = period_year_earlier(&q->per), pb;
    char prev[PERIOD_MAX], year[PERIOD_MAX], base[PERIOD_MAX], start[16];
    period_format(&pp, prev, sizeof prev);
    period_format(&py, year, sizeof year);
    period_start_date(&q->per, start, sizeof start);
    int has_base = 0;
    if (q->base[0]) {
        if (period_base(&q->per, q->base, &pb) != 0) {
            tq_bad_param(r, 400, "base",
                      "base must be a year (2015) or a period of the table's kind before the "
                      "table's period");
            return;
        }
        period_format(&pb, base, sizeof base);
        has_base = 1;
    }
    const char *params[8] = {q->metric, q->period, prev, year, has_base ? base : NULL,
                             q->authority[0] ? q->authority : NULL, start,
                             q->page ? "true" : "false"};
    if (tq_read(r, TABLE_SQL, 8, params, table_fetched) != 0)
        http_reply_oom(r);
}

static void latest_fetched(const struct db_reply *reply, void *arg)
{
    struct request *r = arg;
    struct tq *q = r->state;
    if (reply->error) {
        tq_db_failed(r, reply);
        return;
    }
    if (PQntuples(reply->res) == 0) {
        tq_bad_param(r, 404, "metric", "no such metric (see /api/v1/metrics)");
        return;
    }
    const char *p = tq_cell(reply->res, 0, 1);
    if (!p || period_parse(p, &q->per) != 0) {
        tq_bad_param(r, 404, "period", "no figures recorded for this metric yet");
        return;
    }
    snprintf(q->period, sizeof q->period, "%s", p);
    q->latest = 1;
    table_query(r);
}

/* ---------------------------------------------------------------- meta */

static void meta_fetched(const struct db_reply *reply, void *arg)
{
    struct request *r = arg;
    struct tq *q = r->state;
    if (reply->error) {
        tq_db_failed(r, reply);
        return;
    }
    if (PQntuples(reply->res) == 0) {
        tq_bad_param(r, 404, "metric", "no such metric (see /api/v1/metrics)");
        return;
    }
    const char *id = PQgetvalue(reply->res, 0, 0);
    const char *label = PQgetvalue(reply->res, 0, 1);
    struct sheet *b = table_meta_sheet(id, label, PQgetvalue(reply->res, 0, 2),
                                       atoi(PQgetvalue(reply->res, 0, 3)));
    char title[300];
    snprintf(title, sizeof title, "Columns of the comparative table of %s", label);
    const char *extra[] = {"metric", id, NULL};
    const struct sheet *sheets[] = {b};
    if (sheet_failed(b))
        http_reply_oom(r);
    else
        table_reply_download(r, q, sheets, 1, title, extra);
    sheet_free(b);
}


/* ---------------------------------------------------------------- handlers */

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
        if (!q->period[0]) {
            const char *params[1] = {q->metric};
            rc = tq_read(r, LATEST_SQL, 1, params, latest_fetched);
        } else {
            table_query(r);
        }
        break;
    case TQ_META: {
        const char *params[1] = {q->metric};
        rc = tq_read(r, "SELECT id, label, unit, dp FROM metrics WHERE id = $1", 1,
                     params, meta_fetched);
        break;
    }
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

static int take_metric(struct request *r, struct tq *q)
{
    const char *metric = http_param(r, 0);
    if (!metric || !code_is_metric_id(metric)) {
        tq_bad_param(r, 400, "metric", "metric must be a metric id such as ehcp_caseload");
        return -1;
    }
    snprintf(q->metric, sizeof q->metric, "%s", metric);
    return 0;
}

static int take_period(struct request *r, struct tq *q)
{
    const char *period = http_query(r, "period");
    if (!period || !*period)
        return 0;
    if (strlen(period) >= sizeof q->period || period_parse(period, &q->per) != 0) {
        tq_bad_param(r, 400, "period",
                  "period must be a year (2022), a financial year (2021-22) or a quarter "
                  "(2024-25 Q2)");
        return -1;
    }
    snprintf(q->period, sizeof q->period, "%s", period);
    return 0;
}

/* ?format=json|csv|xlsx, else the Accept header (text/csv, the XLSX type),
 * else JSON: for a table and a profile alike. */
static int take_format(struct request *r, struct tq *q)
{
    const char *format = http_query(r, "format");
    const char *accept = http_header(r, "Accept");
    if (format && strcmp(format, "csv") == 0) {
        q->csv = 1;
    } else if (xlsx_requested(format, accept)) {
        q->xlsx = 1;
    } else if (format && strcmp(format, "json") != 0) {
        tq_bad_param(r, 400, "format", "format must be json, csv or xlsx");
        return -1;
    } else if (!format) {
        q->csv = accept && strstr(accept, "text/csv") != NULL;
    }
    return 0;
}

void route_table(struct request *r)
{
    struct tq *q = tq_new(r, TQ_TABLE);
    if (!q || take_metric(r, q) != 0 || take_period(r, q) != 0)
        return;
    const char *group = http_query(r, "group");
    const char *authority = http_query(r, "authority");
    const char *base = http_query(r, "base");
    if (!group || strcmp(group, "england") == 0) {
        q->group = GROUP_ENGLAND;
        q->group_name = "england";
    } else if (strcmp(group, "region") == 0) {
        q->group = GROUP_REGION;
        q->group_name = "region";
    } else if (strcmp(group, "neighbours") == 0) {
        q->group = GROUP_NEIGHBOURS;
        q->group_name = "neighbours";
    } else {
        tq_bad_param(r, 400, "group", "group must be england, region or neighbours");
        return;
    }
    if (authority && *authority) {
        if (!code_is_authority(authority)) {
            tq_bad_param(r, 400, "authority",
                      "authority must be an ONS code (E06000059) or a DfE number (838)");
            return;
        }
        snprintf(q->authority, sizeof q->authority, "%s", authority);
    } else if (q->group != GROUP_ENGLAND) {
        tq_bad_param(r, 400, "authority", "group region or neighbours needs an authority");
        return;
    }
    if (take_format(r, q) != 0)
        return;
    if (q->xlsx)
        table_download_name(r, q->metric, "");
    if (base && *base) {
        struct period pb;
        if (strlen(base) >= sizeof q->base || period_parse(base, &pb) != 0) {
            tq_bad_param(r, 400, "base", "base must be a year (2015) or a period (2015-16)");
            return;
        }
        if (q->period[0] && period_base(&q->per, base, &pb) != 0) {
            tq_bad_param(r, 400, "base",
                      "base must come before period and be of the same kind");
            return;
        }
        snprintf(q->base, sizeof q->base, "%s", base);
    }
    tq_caller_resolve(r, tq_serve_or_compute);
}

void route_table_meta(struct request *r)
{
    struct tq *q = tq_new(r, TQ_META);
    if (!q || take_metric(r, q) != 0)
        return;
    q->xlsx = xlsx_requested(http_query(r, "format"), http_header(r, "Accept"));
    if (q->xlsx)
        table_download_name(r, q->metric, "-meta");
    tq_caller_resolve(r, tq_serve_or_compute);
}

void route_profile(struct request *r)
{
    struct tq *q = tq_new(r, TQ_PROFILE);
    if (!q)
        return;
    const char *code = http_param(r, 0);
    if (!code || !code_is_authority(code)) {
        tq_bad_param(r, 404, "code", "no such authority");
        return;
    }
    snprintf(q->authority, sizeof q->authority, "%s", code);
    if (take_period(r, q) != 0 || take_format(r, q) != 0)
        return;
    if (q->csv || q->xlsx) {
        char disp[96], per[PERIOD_MAX];
        snprintf(per, sizeof per, "%s", q->period);
        for (char *c = per; *c; c++)
            if (*c == ' ')
                *c = '-';       /* "2024-25 Q2" -> profile-CODE-2024-25-Q2.csv */
        snprintf(disp, sizeof disp, "attachment; filename=\"profile-%s%s%s.%s\"", q->authority,
                 per[0] ? "-" : "", per, q->xlsx ? "xlsx" : "csv");
        http_add_header(r, "Content-Disposition", disp);
    }
    tq_caller_resolve(r, tq_serve_or_compute);
}
