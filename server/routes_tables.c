/*
 * Comparative tables and authority profiles (issue 6).
 *
 *   GET /api/v1/tables/{metric}?period=&group=&authority=&base=&format=
 *   GET /api/v1/tables/{metric}/meta
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
#include <csv.h>
#include <event2/buffer.h>
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
#include "log.h"
#include "metrics.h"
#include "routes.h"
#include "tables.h"
#include "tables_page.h"

#define TABLES_CACHE_MAX 8192
#define MIN_CONTRIBUTORS 3
#define OGL_ATTRIBUTION \
    "Contains public sector information licensed under the Open Government Licence v3.0 " \
    "(Department for Education, SEN2 and DSG statistics)."

enum tq_kind { TQ_TABLE, TQ_META, TQ_PROFILE };

struct tq {
    enum tq_kind kind;
    char metric[64];
    char period[PERIOD_MAX];    /* "" = latest with data */
    struct period per;
    enum table_group group;
    const char *group_name;
    char authority[16];         /* as given ("" none) */
    int csv;
    char base[PERIOD_MAX];      /* "" none */
    struct auth_caller caller;
    const struct tables_page *page;     /* a page drawn from this table or profile, or NULL */
    char key[256];
    uint64_t generation;
    int latest;                 /* the period was "latest with data" */
    const PGresult *res;        /* a profile's rows, while they are being answered */
    /* Single flight (cache.h): one computation per key at a time. */
    struct app *app;
    struct cache_flight *flight;    /* the computation this request leads, or NULL */
    struct cache_waiter waiter;     /* while it waits on another's */
    int solo;                   /* compute alone (the flight it waited on failed) */
};

/* ---------------------------------------------------------------- start */

/* The one derived metric that also reads the year-earlier period. */
#define GROWTH_METRIC "caseload_growth_pct"

int tables_start(struct app *app)
{
    app->tables_cache = cache_new(TABLES_CACHE_MAX);
    if (!app->tables_cache)
        return -1;
    if (changes_listen(app) != 0)
        return -1;
    return 0;
}

void tables_stop(struct app *app)
{
    cache_free(app->tables_cache);
    app->tables_cache = NULL;
}

/* ---------------------------------------------------------------- helpers */

static void reply_entry(struct request *r, struct cache_entry *e);
static void serve_or_compute(struct request *r);
static const char *cell(const PGresult *res, int row, int col);

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
        serve_or_compute(w);
        break;
    }
}

/* A query of this module failed: the flight's waiters learn whether the
 * database was unavailable. */
static void db_failed(struct request *r, const struct db_reply *reply)
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
    free(q);
}

static void bad_param(struct request *r, int status, const char *field, const char *message)
{
    const struct tq *q = r->state;
    if (q && q->page && q->page->error) {
        q->page->error(r, status, field, message);
        return;
    }
    json_t *details = json_pack("[{s:s, s:s}]", "field", field, "reason", message);
    http_reply_error(r, status, status == 404 ? "not_found" : "bad_parameter", message, details);
}

static const char *visibility_key(const struct auth_caller *c, char *buf, size_t len)
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
        rc |= cache_entry_depend(e, 0, PQgetvalue(res, 0, 3));
        int nres = PQntuples(res);
        for (int i = 1; i < nres && PQgetvalue(res, i, 0)[0] == 'm'; i++) {
            const char *metric = PQgetvalue(res, i, 1);
            const char *period = cell(res, i, 2);
            int own = 0;
            for (int j = i + 1; j < nres && !own; j++)
                own = PQgetvalue(res, j, 0)[0] == 's' && strcmp(PQgetvalue(res, j, 1), metric) == 0;
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
static void store_and_reply(struct request *r, struct tq *q, const char *content_type,
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

static char *evbuffer_to_string(struct evbuffer *b, size_t *len)
{
    *len = evbuffer_get_length(b);
    char *s = malloc(*len + 1);
    if (!s)
        return NULL;
    evbuffer_remove(b, s, *len);
    s[*len] = '\0';
    return s;
}

static void reply_json_doc(struct request *r, struct tq *q, json_t *doc)
{
    size_t len;
    char *body = http_json_text(doc, &len);
    if (!body) {
        http_reply_oom(r);
        return;
    }
    store_and_reply(r, q, "application/json", body, len);
}

/* A number as published: an integer when dp is 0, else rounded to dp. */
static json_t *jnum(double v, int dp)
{
    double rv = table_round(v, dp);
    if (dp == 0 && fabs(rv) < 9e15)
        return json_integer((json_int_t)llround(rv));
    return json_real(rv);
}

static json_t *jstr(const char *s)
{
    return s ? json_string(s) : json_null();
}

/* Reads a text cell of a result: NULL when SQL NULL. */
static const char *cell(const PGresult *res, int row, int col)
{
    return PQgetisnull(res, row, col) ? NULL : PQgetvalue(res, row, col);
}

static void read_cell(const PGresult *res, int row, int col_value, struct table_cell *c)
{
    /* columns: value, symbol, published */
    memset(c, 0, sizeof *c);
    const char *v = cell(res, row, col_value);
    const char *sym = cell(res, row, col_value + 1);
    const char *pub = cell(res, row, col_value + 2);
    if (!v && !sym && !pub)
        return;
    c->exists = 1;
    c->published = pub && pub[0] == 't';
    if (v) {
        c->has_value = 1;
        c->value = strtod(v, NULL);
    } else {
        c->symbol = sym ? sym : "x";
    }
}

static int metric_additive(const char *unit, const char *kind)
{
    return (strcmp(kind, "stock") == 0 || strcmp(kind, "flow") == 0 ||
            strcmp(kind, "money") == 0) &&
           (strcmp(unit, "count") == 0 || strcmp(unit, "£") == 0 || strcmp(unit, "FTE") == 0);
}

/* The metric's annual basis (metrics.annual_period); the CHECK admits only
 * the three annual names, so the fallback is never taken. */
static enum period_basis annual_basis(const char *annual_period)
{
    enum period_basis b;
    return period_basis_parse(annual_period, &b) == 0 ? b : PERIOD_CALENDAR_YEAR;
}

/* ---------------------------------------------------------------- callers */

/* The caller: the dispatcher resolved it (ROUTE_TOKEN_OPTIONAL in the route
 * table); pages are always anonymous. */
static void caller_resolve(struct request *r, void (*next)(struct request *r))
{
    struct tq *q = r->state;
    q->caller = r->caller;
    next(r);
}

/* ---------------------------------------------------------------- tables */

/* The published figures a derived metric is computed from (the inputs of
 * sql/005_tables.sql's derived_observations): pages cite their sources. */
#define TABLES_DERIVED_INPUTS \
    "VALUES ('pct_within_20_weeks', 'new_plans_within_20_weeks')," \
    " ('pct_within_20_weeks', 'new_plans_timeliness_den'), ('pct_within_20_weeks', 'new_plans_issued')," \
    " ('pct_within_20_weeks_ex', 'new_plans_within_20_weeks_ex')," \
    " ('pct_within_20_weeks_ex', 'new_plans_issued_ex')," \
    " ('caseload_per_officer', 'ehcp_caseload'), ('caseload_per_officer', 'case_officers_fte')," \
    " ('deficit_pct_of_hnb', 'dsg_cumulative_balance_gbp'), ('deficit_pct_of_hnb', 'hnb_allocation_gbp')," \
    " ('caseload_growth_pct', 'ehcp_caseload')," \
    " ('request_to_assessment_rate', 'requests_decided_to_assess')," \
    " ('request_to_assessment_rate', 'requests_received')"

static const char TABLE_SQL[] =
    "WITH m AS (SELECT id, label, unit, dp, polarity, kind, annual_period, description FROM metrics"
    "           WHERE id = $1),"
    " obs AS ("
    "  SELECT authority, period, value, symbol, published, NULL::text AS reason"
    "  FROM current_observations WHERE metric = $1 AND period IN ($2, $3, $4, coalesce($5, $2))"
    "  UNION ALL"
    "  SELECT authority, period, value, CASE WHEN value IS NULL THEN 'x' END, published, reason"
    "  FROM derived_observations WHERE metric = $1 AND period IN ($2, $3, $4, coalesce($5, $2))),"
    " focal AS (SELECT new_la_code FROM authorities WHERE new_la_code = $6 OR old_la_code = $6"
    "           ORDER BY new_la_code LIMIT 1)"
    " SELECT m.id, m.label, m.unit, m.dp, m.polarity, m.kind, m.annual_period,"         /* 0-6 */
    "  (SELECT key FROM table_mask_key), (SELECT new_la_code FROM focal),"             /* 7-8 */
    "  a.new_la_code, a.old_la_code, a.name, a.region_code, a.region_name,"             /* 9-13 */
    "  a.consent_to_name,"                                                              /* 14 */
    "  CASE WHEN a.new_la_code = (SELECT new_la_code FROM focal) THEN 0 ELSE nb.rank END," /* 15 */
    "  c.value, c.symbol, c.published, c.reason,"                                       /* 16-19 */
    "  p.value, p.symbol, p.published, y.value, y.symbol, y.published,"                 /* 20-25 */
    "  b.value, b.symbol, b.published,"                                                 /* 26-28 */
    /* For pages only ($8): the periods with figures and the sources of
     * the period's published figures (a derived metric's inputs'). */
    "  CASE WHEN $8 THEN (SELECT json_agg(period ORDER BY ps DESC, period DESC) FROM ("
    "   SELECT period, min(period_start) AS ps FROM ("
    "    SELECT period, period_start FROM observations WHERE metric = $1"
    "    UNION ALL SELECT period, period_start FROM derived_observations WHERE metric = $1"
    "     AND (SELECT kind FROM m) = 'derived') s"
    "   GROUP BY period) z)::text END,"                                                 /* 29 */
    "  CASE WHEN $8 THEN (SELECT json_agg(json_build_object('source', source, 'recorded',"
    "    to_char(rec, 'YYYY-MM-DD')) ORDER BY source) FROM ("
    "   SELECT source, max(recorded_at) AS rec FROM current_observations"
    "   WHERE published AND period = $2 AND metric = ANY (ARRAY(SELECT $1 UNION ALL"
    "    SELECT input FROM (" TABLES_DERIVED_INPUTS ") d(metric, input) WHERE d.metric = $1))"
    "   GROUP BY source) z)::text END, m.description"                                   /* 30-31 */
    " FROM m"
    " LEFT JOIN authorities a ON true"
    " LEFT JOIN obs c ON c.authority = a.new_la_code AND c.period = $2"
    " LEFT JOIN obs p ON p.authority = a.new_la_code AND p.period = $3"
    " LEFT JOIN obs y ON y.authority = a.new_la_code AND y.period = $4"
    " LEFT JOIN obs b ON b.authority = a.new_la_code AND b.period = $5"
    " LEFT JOIN statistical_neighbours nb ON nb.authority = (SELECT new_la_code FROM focal)"
    "  AND nb.neighbour = a.new_la_code"
    " WHERE a.new_la_code IS NULL OR c.authority IS NOT NULL"
    "  OR a.new_la_code = (SELECT new_la_code FROM focal)"
    "  OR ((a.valid_from IS NULL OR a.valid_from <= $7::date)"
    "      AND (a.valid_to IS NULL OR a.valid_to > $7::date))"
    " ORDER BY a.new_la_code";

static const char LATEST_SQL[] =
    "SELECT m.id, (SELECT s.period FROM ("
    "   SELECT period, period_start, published FROM current_observations WHERE metric = $1"
    "   UNION ALL"
    "   SELECT period, period_start, published FROM derived_observations WHERE metric = $1) s"
    "  ORDER BY s.period_start DESC, s.published DESC, s.period DESC LIMIT 1)"
    " FROM metrics m WHERE m.id = $1";

struct table_meta {
    const char *id, *label, *unit, *kind, *annual_period, *mask_key, *focal;
    int dp;
    enum polarity polarity;
    int additive;
    char prev[PERIOD_MAX], year[PERIOD_MAX], base[PERIOD_MAX];
    int has_base;
};

static json_t *summary_json(const struct table_summary *s, const char *scope, const char *code,
                            const char *name, const struct table_meta *tm)
{
    json_t *o = json_pack("{s:s, s:o, s:o, s:I, s:I}", "scope", scope, "code", jstr(code),
                          "name", jstr(name), "n", (json_int_t)s->n, "n_missing",
                          (json_int_t)s->n_missing);
    if (!o)
        return NULL;
    int none = s->suppressed || s->n == 0;
    json_object_set_new(o, "mean", none ? json_null() : jnum(s->mean, tm->dp + 1));
    json_object_set_new(o, "median", none ? json_null() : jnum(s->median, tm->dp + 1));
    if (tm->additive)
        json_object_set_new(o, "total", none ? json_null() : jnum(s->total, tm->dp));
    json_object_set_new(o, "symbol", s->suppressed ? json_string("c")
                                     : s->n == 0  ? json_string("x")
                                                  : json_null());
    return o;
}

static json_t *cell_value(const struct table_cell *c, int dp)
{
    return c->has_value ? jnum(c->value, dp) : json_null();
}

static json_t *cell_symbol(const struct table_cell *c)
{
    if (c->has_value)
        return json_null();
    return json_string(c->exists && c->symbol ? c->symbol : "x");
}

static json_t *table_json(const struct tq *q, const struct table *t, const struct table_meta *tm,
                          const char *const *reasons, const char *region_name)
{
    json_t *rows = json_array();
    for (size_t k = 0; rows && k < t->n_in_group; k++) {
        const struct table_row *r = &t->rows[t->order[k]];
        int m = r->masked;
        json_t *o = json_object();
        if (!o)
            break;
        json_object_set_new(o, "code", m ? json_null() : jstr(r->code));
        json_object_set_new(o, "old_la_code", m ? json_null() : jstr(r->old_code));
        json_object_set_new(o, "name", m ? json_null() : jstr(r->name));
        json_object_set_new(o, "label", json_string(m ? r->mask_label : r->name));
        json_object_set_new(o, "masked", json_boolean(m));
        json_object_set_new(o, "region_code", m ? json_null() : jstr(r->region_code));
        json_object_set_new(o, "region_name", m ? json_null() : jstr(r->region_name));
        json_object_set_new(o, "neighbour_rank", m || r->neighbour_rank < 0
                                                     ? json_null()
                                                     : json_integer(r->neighbour_rank));
        json_object_set_new(o, "value", cell_value(&r->cur, tm->dp));
        json_object_set_new(o, "symbol", cell_symbol(&r->cur));
        json_object_set_new(o, "published", r->cur.exists ? json_boolean(r->cur.published)
                                                          : json_null());
        const char *reason = reasons[t->order[k]];
        if (reason || !r->cur.exists)
            json_object_set_new(o, "reason", json_string(reason ? reason : "no figure recorded"));
        json_object_set_new(o, "rank", r->rank ? json_integer(r->rank) : json_null());
        json_object_set_new(o, "rank_england",
                            r->rank_england ? json_integer(r->rank_england) : json_null());
        char band[2] = {r->band, 0};
        json_object_set_new(o, "band", r->band ? json_string(band) : json_null());
        json_object_set_new(o, "previous_value", cell_value(&r->prev, tm->dp));
        json_object_set_new(o, "change_previous",
                            r->has_change_prev ? jnum(r->change_prev, tm->dp) : json_null());
        json_object_set_new(o, "change_previous_pct", r->has_change_prev_pct
                                                          ? jnum(r->change_prev_pct, 1)
                                                          : json_null());
        json_object_set_new(o, "year_earlier_value", cell_value(&r->year, tm->dp));
        json_object_set_new(o, "change_year_earlier",
                            r->has_change_year ? jnum(r->change_year, tm->dp) : json_null());
        json_object_set_new(o, "change_year_earlier_pct", r->has_change_year_pct
                                                              ? jnum(r->change_year_pct, 1)
                                                              : json_null());
        json_object_set_new(o, "improvement", jstr(table_improvement_name(r->improvement)));
        if (tm->has_base) {
            json_object_set_new(o, "base_value", cell_value(&r->base, tm->dp));
            json_object_set_new(o, "growth_since_base",
                                r->has_growth ? jnum(r->growth, tm->dp) : json_null());
            json_object_set_new(o, "growth_since_base_pct",
                                r->has_growth_pct ? jnum(r->growth_pct, 1) : json_null());
        }
        json_array_append_new(rows, o);
    }
    json_t *sums = json_array();
    if (sums) {
        json_array_append_new(sums, summary_json(&t->england, "england", "E92000001", "England",
                                                 tm));
        if (t->has_region) {
            const struct table_row *f = &t->rows[t->focal];
            json_array_append_new(sums, summary_json(&t->region, "region", f->region_code,
                                                     region_name, tm));
            char name[300];
            snprintf(name, sizeof name, "Statistical neighbours of %s", f->name ? f->name : "");
            json_array_append_new(sums, summary_json(&t->neighbours, "neighbours", f->code,
                                                     name, tm));
        }
    }
    char vis[40];
    json_t *doc = json_pack(
        "{s:{s:s, s:s, s:s, s:i, s:s, s:s}, s:s, s:s, s:s, s:s, s:o, s:s, s:o, s:s, s:I, s:I,"
        " s:o, s:o, s:s}",
        "metric", "id", tm->id, "label", tm->label, "unit", tm->unit, "dp", tm->dp, "polarity",
        tm->polarity == POLARITY_HIGHER_BETTER  ? "higher_better"
        : tm->polarity == POLARITY_LOWER_BETTER ? "lower_better"
                                                : "neutral",
        "kind", tm->kind, "period", q->period, "period_kind",
        period_basis_name(period_basis_of(&q->per, annual_basis(tm->annual_period))), "previous_period", tm->prev,
        "year_earlier_period", tm->year, "base_period",
        tm->has_base ? json_string(tm->base) : json_null(), "group", q->group_name, "authority",
        jstr(tm->focal), "visibility", visibility_key(&q->caller, vis, sizeof vis), "n_rows",
        (json_int_t)t->n_in_group, "n_ranked_england", (json_int_t)t->n_ranked_england, "rows",
        rows ? rows : json_null(), "summaries", sums ? sums : json_null(), "attribution",
        OGL_ATTRIBUTION);
    return doc;
}

/* One CSV field: quoted by libcsv when it holds a comma, quote or newline. */
static void csv_put(struct evbuffer *b, const char *s, int first)
{
    if (!first)
        evbuffer_add(b, ",", 1);
    if (!s)
        return;
    size_t n = strlen(s);
    if (strpbrk(s, ",\"\r\n") == NULL) {
        evbuffer_add(b, s, n);
        return;
    }
    size_t need = csv_write(NULL, 0, s, n);
    char *tmp = malloc(need);
    if (!tmp)
        return;
    csv_write(tmp, need, s, n);
    evbuffer_add(b, tmp, need);
    free(tmp);
}

static void csv_num(struct evbuffer *b, int has, double v, int dp, const char *otherwise)
{
    char buf[64];
    if (has) {
        snprintf(buf, sizeof buf, "%.*f", dp, table_round(v, dp));
        if (strcmp(buf, "-0") == 0 || strncmp(buf, "-0.", 3) == 0) {
            /* -0.0 after rounding prints as 0 */
            double z = table_round(v, dp);
            if (z == 0)
                snprintf(buf, sizeof buf, "%.*f", dp, 0.0);
        }
        csv_put(b, buf, 0);
    } else {
        csv_put(b, otherwise, 0);
    }
}

static const char *const CSV_GEO[] = {"time_period", "time_identifier", "geographic_level",
                                      "country_code", "country_name", "region_code",
                                      "region_name", "new_la_code", "old_la_code", "la_name"};

static void csv_header(struct evbuffer *b, const struct table_meta *tm)
{
    for (size_t i = 0; i < 10; i++)
        csv_put(b, CSV_GEO[i], i == 0);
    csv_put(b, tm->id, 0);
    evbuffer_add_printf(b, ",rank,rank_england,band,change_previous,change_previous_pct,"
                           "change_year_earlier,change_year_earlier_pct,improvement");
    if (tm->has_base)
        evbuffer_add_printf(b, ",base_value,growth_since_base,growth_since_base_pct");
    evbuffer_add_printf(b, ",mean,median,contributors\r\n");
}

static void csv_summary(struct evbuffer *b, const char *tp, const char *tid, const char *level,
                        const char *rcode, const char *rname, const char *lcode,
                        const char *lold, const char *lname, const struct table_summary *s,
                        const struct table_meta *tm)
{
    const char *geo[] = {tp, tid, level, "E92000001", "England", rcode, rname, lcode, lold, lname};
    for (size_t i = 0; i < 10; i++)
        csv_put(b, geo[i], i == 0);
    int none = s->suppressed || s->n == 0;
    const char *sym = s->suppressed ? "c" : "x";
    if (tm->additive)
        csv_num(b, !none, s->total, tm->dp, sym);
    else
        csv_put(b, "z", 0);
    for (int i = 0; i < 8; i++)
        csv_put(b, "z", 0);
    if (tm->has_base)
        for (int i = 0; i < 3; i++)
            csv_put(b, "z", 0);
    csv_num(b, !none, s->mean, tm->dp + 1, sym);
    csv_num(b, !none, s->median, tm->dp + 1, sym);
    char n[32];
    snprintf(n, sizeof n, "%zu", s->n);
    csv_put(b, n, 0);
    evbuffer_add(b, "\r\n", 2);
}

static char *table_csv(const struct tq *q, const struct table *t, const struct table_meta *tm,
                       const char *region_name, size_t *len)
{
    struct evbuffer *b = evbuffer_new();
    if (!b)
        return NULL;
    char tp[16];
    const char *tid = "";
    period_tidy(&q->per, tp, sizeof tp, &tid);
    csv_header(b, tm);
    csv_summary(b, tp, tid, "National", "", "", "", "", "", &t->england, tm);
    if (t->has_region) {
        const struct table_row *f = &t->rows[t->focal];
        csv_summary(b, tp, tid, "Regional", f->region_code, region_name, "", "", "", &t->region,
                    tm);
        char name[300];
        snprintf(name, sizeof name, "Statistical neighbours of %s", f->name ? f->name : "");
        csv_summary(b, tp, tid, "Statistical neighbour group", f->region_code, f->region_name,
                    f->code, f->old_code, name, &t->neighbours, tm);
    }
    for (size_t k = 0; k < t->n_in_group; k++) {
        const struct table_row *r = &t->rows[t->order[k]];
        int m = r->masked;
        const char *geo[] = {tp, tid, "Local authority", "E92000001", "England",
                             m ? "" : r->region_code, m ? "" : r->region_name,
                             m ? "" : r->code, m ? "" : r->old_code,
                             m ? r->mask_label : r->name};
        for (size_t i = 0; i < 10; i++)
            csv_put(b, geo[i], i == 0);
        csv_num(b, r->cur.has_value, r->cur.value, tm->dp,
                r->cur.exists && r->cur.symbol ? r->cur.symbol : "x");
        char n[32];
        if (r->rank) {
            snprintf(n, sizeof n, "%d", r->rank);
            csv_put(b, n, 0);
        } else {
            csv_put(b, "x", 0);
        }
        if (r->rank_england) {
            snprintf(n, sizeof n, "%d", r->rank_england);
            csv_put(b, n, 0);
        } else {
            csv_put(b, "x", 0);
        }
        char band[2] = {r->band, 0};
        csv_put(b, r->band ? band : tm->polarity == POLARITY_NEUTRAL ? "z" : "x", 0);
        csv_num(b, r->has_change_prev, r->change_prev, tm->dp, "x");
        csv_num(b, r->has_change_prev_pct, r->change_prev_pct, 1, "x");
        csv_num(b, r->has_change_year, r->change_year, tm->dp, "x");
        csv_num(b, r->has_change_year_pct, r->change_year_pct, 1, "x");
        const char *imp = table_improvement_name(r->improvement);
        csv_put(b, imp ? imp : tm->polarity == POLARITY_NEUTRAL ? "z" : "x", 0);
        if (tm->has_base) {
            csv_num(b, r->base.has_value, r->base.value, tm->dp,
                    r->base.exists && r->base.symbol ? r->base.symbol : "x");
            csv_num(b, r->has_growth, r->growth, tm->dp, "x");
            csv_num(b, r->has_growth_pct, r->growth_pct, 1, "x");
        }
        evbuffer_add(b, ",z,z,z\r\n", 8);
    }
    char *s = evbuffer_to_string(b, len);
    evbuffer_free(b);
    return s;
}

static void table_fetched(const struct db_reply *reply, void *arg)
{
    struct request *r = arg;
    struct tq *q = r->state;
    struct table_row *rows = NULL;
    const char **reasons = NULL;
    struct table t;
    memset(&t, 0, sizeof t);
    if (reply->error) {
        db_failed(r, reply);
        return;
    }
    const PGresult *res = reply->res;
    int nres = PQntuples(res);
    if (nres == 0) {
        bad_param(r, 404, "metric", "no such metric (see /api/v1/metrics)");
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
    tm.focal = cell(res, 0, 8);
    tm.additive = metric_additive(tm.unit, tm.kind);
    if (!period_fits(&q->per, annual_basis(tm.annual_period))) {
        char msg[200];
        snprintf(msg, sizeof msg, "%s is a %s metric: give a period like %s or 2024-25 Q2",
                 tm.id, tm.annual_period,
                 strcmp(tm.annual_period, "financial_year") == 0 ? "2021-22" : "2022");
        bad_param(r, 400, "period", msg);
        return;
    }
    if (q->authority[0] && !tm.focal) {
        bad_param(r, 404, "authority", "no such authority");
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
        read_cell(res, i, 16, &row->cur);
        reasons[n] = cell(res, i, 19);
        read_cell(res, i, 20, &row->prev);
        read_cell(res, i, 23, &row->year);
        if (tm.has_base)
            read_cell(res, i, 26, &row->base);
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
        bad_param(r, 404, "period", msg);
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
    if (table_compute(&t) != 0)
        goto oom;
    if (q->page) {
        json_t *periods = json_loads(cell(res, 0, 29) ? cell(res, 0, 29) : "[]", 0, NULL);
        json_t *sources = json_loads(cell(res, 0, 30) ? cell(res, 0, 30) : "[]", 0, NULL);
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
        store_and_reply(r, q, q->page->content_type, body, len);
    } else if (q->csv) {
        size_t len = 0;
        char *body = table_csv(q, &t, &tm, region_name, &len);
        if (!body)
            goto oom;
        store_and_reply(r, q, "text/csv; charset=utf-8", body, len);
    } else {
        json_t *doc = table_json(q, &t, &tm, reasons, region_name);
        reply_json_doc(r, q, doc);
    }
    goto done;
oom:
    http_reply_oom(r);
done:
    table_release(&t);
    free(rows);
    free(reasons);
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
            bad_param(r, 400, "base",
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
    if (db_pool_query(r->app->pool, TABLE_SQL, 8, params, table_fetched, r) != 0)
        http_reply_oom(r);
}

static void latest_fetched(const struct db_reply *reply, void *arg)
{
    struct request *r = arg;
    struct tq *q = r->state;
    if (reply->error) {
        db_failed(r, reply);
        return;
    }
    if (PQntuples(reply->res) == 0) {
        bad_param(r, 404, "metric", "no such metric (see /api/v1/metrics)");
        return;
    }
    const char *p = cell(reply->res, 0, 1);
    if (!p || period_parse(p, &q->per) != 0) {
        bad_param(r, 404, "period", "no figures recorded for this metric yet");
        return;
    }
    snprintf(q->period, sizeof q->period, "%s", p);
    q->latest = 1;
    table_query(r);
}

/* ---------------------------------------------------------------- meta */

static void meta_row(struct evbuffer *b, const char *col, const char *label, const char *unit,
                     int dp)
{
    char d[16];
    snprintf(d, sizeof d, "%d", dp);
    csv_put(b, col, 1);
    csv_put(b, label, 0);
    csv_put(b, unit, 0);
    csv_put(b, d, 0);
    evbuffer_add(b, "\r\n", 2);
}

static void meta_fetched(const struct db_reply *reply, void *arg)
{
    struct request *r = arg;
    struct tq *q = r->state;
    if (reply->error) {
        db_failed(r, reply);
        return;
    }
    if (PQntuples(reply->res) == 0) {
        bad_param(r, 404, "metric", "no such metric (see /api/v1/metrics)");
        return;
    }
    const char *id = PQgetvalue(reply->res, 0, 0);
    const char *label = PQgetvalue(reply->res, 0, 1);
    const char *unit = PQgetvalue(reply->res, 0, 2);
    int dp = atoi(PQgetvalue(reply->res, 0, 3));
    /* The DfE's indicator_unit is "%", "£" or empty. */
    const char *iu = strcmp(unit, "%") == 0 || strcmp(unit, "£") == 0 ? unit : "";
    struct evbuffer *b = evbuffer_new();
    if (!b) {
        http_reply_oom(r);
        return;
    }
    char l[400];
    evbuffer_add_printf(b, "col_name,label,indicator_unit,indicator_dp\r\n");
    meta_row(b, id, label, iu, dp);
    meta_row(b, "rank", "Rank within the group (1 = best; ties share the better rank)", "", 0);
    meta_row(b, "rank_england", "Rank among all authorities in England", "", 0);
    meta_row(b, "band", "Quartile band across all authorities (A = best quarter)", "", 0);
    snprintf(l, sizeof l, "Change on the previous period: %s", label);
    meta_row(b, "change_previous", l, iu, dp);
    meta_row(b, "change_previous_pct", "Change on the previous period (%)", "%", 1);
    snprintf(l, sizeof l, "Change on the same period a year earlier: %s", label);
    meta_row(b, "change_year_earlier", l, iu, dp);
    meta_row(b, "change_year_earlier_pct", "Change on the same period a year earlier (%)", "%",
             1);
    meta_row(b, "improvement", "Whether the change on the previous period is an improvement",
             "", 0);
    snprintf(l, sizeof l, "%s in the base period (when base is given)", label);
    meta_row(b, "base_value", l, iu, dp);
    meta_row(b, "growth_since_base", "Growth since the base period", iu, dp);
    meta_row(b, "growth_since_base_pct", "Growth since the base period (%)", "%", 1);
    snprintf(l, sizeof l, "Mean of contributing authorities: %s", label);
    meta_row(b, "mean", l, iu, dp + 1);
    snprintf(l, sizeof l, "Median of contributing authorities: %s", label);
    meta_row(b, "median", l, iu, dp + 1);
    meta_row(b, "contributors", "Authorities contributing to the mean and median", "", 0);
    size_t len = 0;
    char *body = evbuffer_to_string(b, &len);
    evbuffer_free(b);
    if (!body) {
        http_reply_oom(r);
        return;
    }
    store_and_reply(r, q, "text/csv; charset=utf-8", body, len);
}

/* ---------------------------------------------------------------- profile */

/*
 * One query: the authority ('a'), the metrics ('m') with the period each
 * is shown for, the authority's own series ('s'), and the cross-sections
 * ('x': every authority's figure) of those periods, or with $3 (pages) of
 * every period, ordered by period so that each (metric, period) is one run
 * of rows.  With $3 the 'a' row also carries what only pages show
 * (sources, forecasts, submitted staffing).
 */
static const char PROFILE_SQL[] =
    "WITH subj AS (SELECT * FROM authorities WHERE new_la_code = $1 OR old_la_code = $1"
    "              ORDER BY new_la_code LIMIT 1),"
    /* Not materialised: each use below is expanded with its own
     * conditions (one authority; one metric; one metric and period), which
     * PostgreSQL pushes into current_observations and into the one branch
     * of derived_observations that makes the metric, so nothing reads every
     * authority's every figure (it did: 200 ms a profile). */
    " src AS NOT MATERIALIZED ("
    "  SELECT authority, metric, period, period_start, value, symbol, published,"
    "         NULL::text AS reason, source, recorded_at FROM current_observations"
    "  UNION ALL"
    "  SELECT authority, metric, period, period_start, value,"
    "         CASE WHEN value IS NULL THEN 'x' END, published, reason, NULL, NULL"
    "  FROM derived_observations),"
    " own AS MATERIALIZED (SELECT * FROM src WHERE authority = (SELECT new_la_code FROM subj)),"
    /* For each metric the period shown: the authority's own latest, else
     * the latest anyone has (before $2 when given). */
    " chosen AS ("
    "  SELECT m.id AS metric, coalesce(o.period, a.period) AS period FROM metrics m"
    "  LEFT JOIN LATERAL (SELECT s.period FROM own s WHERE s.metric = m.id"
    "   AND ($2::date IS NULL OR s.period_start < $2::date)"
    "   ORDER BY s.period_start DESC, s.published DESC LIMIT 1) o ON true"
    "  LEFT JOIN LATERAL (SELECT s.period FROM src s WHERE o.period IS NULL AND s.metric = m.id"
    "   AND ($2::date IS NULL OR s.period_start < $2::date)"
    "   ORDER BY s.period_start DESC, s.published DESC LIMIT 1) a ON true"
    "  WHERE coalesce(o.period, a.period) IS NOT NULL)"
    " SELECT 'a' AS t, NULL AS metric, NULL AS period, s.new_la_code AS code,"
    "  s.region_code, NULL::int AS nb, NULL::text AS value, NULL::text AS symbol,"
    "  NULL::text AS published, NULL::text AS reason, '' AS ord,"
    "  json_build_object('code', s.new_la_code, 'old_la_code', s.old_la_code, 'name', s.name,"
    "   'region_code', s.region_code, 'region_name', s.region_name,"
    "   'consent_to_name', s.consent_to_name, 'valid_to', s.valid_to,"
    "   'neighbours', coalesce((SELECT json_agg(json_build_object('rank', n.rank,"
    "     'code', n.neighbour, 'name', b.name, 'closeness', n.closeness) ORDER BY n.rank)"
    "     FROM statistical_neighbours n JOIN authorities b ON b.new_la_code = n.neighbour"
    "     WHERE n.authority = s.new_la_code), '[]'))::text AS info,"
    "  CASE WHEN $3 THEN json_build_object("
    "   'generated_at', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI \"UTC\"'),"
    "   'data_version', data_version(),"
    "   'sources', coalesce((SELECT json_object_agg(w.metric, w.srcs) FROM ("
    "     SELECT u.metric, json_agg(json_build_object('source', u.source, 'recorded', u.rec)"
    "      ORDER BY u.rec, u.source) AS srcs FROM ("
    "      SELECT d.metric, z.source, max(z.rec) AS rec"
    "      FROM (SELECT id AS metric, id AS input FROM metrics UNION ALL"
    "            SELECT * FROM (" TABLES_DERIVED_INPUTS ") v(metric, input)) d"
    "      JOIN (SELECT metric, source, to_char(max(recorded_at), 'YYYY-MM-DD') AS rec FROM src"
    "            WHERE published AND source IS NOT NULL GROUP BY metric, source) z"
    "       ON z.metric = d.input GROUP BY d.metric, z.source) u GROUP BY u.metric) w), '{}'),"
    "   'forecasts', coalesce((SELECT json_agg(json_build_object('metric', f.metric,"
    "     'stale', f.data_version < forecast_data_version(), 'doc', f.doc) ORDER BY m.sort_order)"
    "     FROM forecasts f JOIN metrics m ON m.id = f.metric"
    "     WHERE f.scope_code = s.new_la_code AND f.frequency = 'annual'), '[]'),"
    /* Council-submitted staffing is not published: shown only when the
     * authority agreed to be named beside its own submitted figures. */
    "   'staffing', json_build_object('consent', s.consent_to_name,"
    "    'hidden', (SELECT count(*) FROM current_observations f WHERE f.authority = s.new_la_code"
    "      AND f.metric = 'case_officers_fte' AND NOT f.published AND NOT s.consent_to_name),"
    "    'rows', coalesce((SELECT json_agg(json_build_object('period', c.period,"
    "      'caseload', c.value, 'officers', f.value, 'per_officer', c.value / f.value,"
    "      'published', c.published AND f.published, 'source', f.source,"
    "      'recorded', to_char(greatest(c.recorded_at, f.recorded_at), 'YYYY-MM-DD'))"
    "      ORDER BY c.period_start, c.period)"
    "     FROM current_observations c JOIN current_observations f ON f.authority = c.authority"
    "      AND f.period = c.period AND f.metric = 'case_officers_fte' AND f.value > 0"
    "     WHERE c.authority = s.new_la_code AND c.metric = 'ehcp_caseload'"
    "      AND c.value IS NOT NULL"
    "      AND ((c.published AND f.published) OR s.consent_to_name)), '[]'))"
    "  )::text END AS extra"
    " FROM subj s"
    " UNION ALL"
    " SELECT 'm', m.id, c.period, NULL, NULL, NULL, NULL, NULL, NULL, NULL,"
    "  lpad(m.sort_order::text, 6, '0'),"
    "  json_build_object('label', m.label, 'unit', m.unit, 'dp', m.dp,"
    "   'polarity', m.polarity, 'kind', m.kind, 'annual_period', m.annual_period,"
    "   'description', m.description)::text, NULL"
    " FROM metrics m LEFT JOIN chosen c ON c.metric = m.id WHERE EXISTS (SELECT 1 FROM subj)"
    " UNION ALL"
    " SELECT 'x', s.metric, s.period, a.new_la_code, a.region_code,"
    "  CASE WHEN a.new_la_code = j.new_la_code THEN 0 ELSE nb.rank END,"
    "  s.value::text, s.symbol, s.published::text, s.reason,"
    "  s.period_start::text || ' ' || s.period, a.consent_to_name::text, NULL"
    " FROM (SELECT * FROM src WHERE $3 UNION ALL"
    "       SELECT x.* FROM chosen c CROSS JOIN LATERAL (SELECT * FROM src"
    "        WHERE src.metric = c.metric AND src.period = c.period OFFSET 0) x WHERE NOT $3) s"
    " JOIN authorities a ON a.new_la_code = s.authority CROSS JOIN subj j"
    " LEFT JOIN statistical_neighbours nb ON nb.authority = j.new_la_code"
    "  AND nb.neighbour = a.new_la_code"
    " UNION ALL"
    " SELECT 's', s.metric, s.period, NULL, NULL, NULL, s.value::text, s.symbol,"
    "  s.published::text, s.reason, s.period_start::text || ' ' || s.period, NULL, NULL"
    " FROM own s"
    " ORDER BY 1, 11, 2";

struct profile_metric {
    const char *id, *period;
    json_t *info;
    json_t *series;
    json_t *history;    /* pages only */
    int dp, additive;
    enum polarity pol;
};

static json_t *profile_summary(const struct table_summary *s, int dp, int additive)
{
    int none = s->suppressed || s->n == 0;
    json_t *o = json_pack("{s:I, s:I, s:o, s:o, s:o}", "n", (json_int_t)s->n, "n_missing",
                          (json_int_t)s->n_missing, "mean",
                          none ? json_null() : jnum(s->mean, dp + 1), "median",
                          none ? json_null() : jnum(s->median, dp + 1), "symbol",
                          s->suppressed ? json_string("c")
                          : s->n == 0   ? json_string("x")
                                        : json_null());
    if (o && additive)
        json_object_set_new(o, "total", none ? json_null() : jnum(s->total, dp));
    return o;
}

/* The subject among every authority's figures for one metric and period. */
struct xsec {
    int hidden;                 /* the subject's figure is unpublished and may not be named */
    int rank_nb, rank_en, rank_rg;
    char band;
    struct table_cell cur;
    const char *reason;
    size_t n_en;
    struct table_summary england, region, neighbours;
};

/* Reads the 'x' rows [j0, j1) of metric (and period when not NULL) into
 * rows (room for j1 - j0 + 1), adding an empty row for the subject when it
 * has no figure, and ranks, bands and summarises them as table_compute
 * does for the API's tables.  Returns 0, or -1 when out of memory. */
static int xsec_compute(const PGresult *res, int j0, int j1, const char *metric,
                        const char *period, const char *subject, const char *subject_region,
                        const struct profile_metric *pm, const struct auth_caller *caller,
                        struct table_row *rows, struct xsec *out)
{
    size_t n = 0;
    long focal = -1;
    memset(out, 0, sizeof *out);
    for (int j = j0; j < j1; j++) {
        if (strcmp(PQgetvalue(res, j, 1), metric) != 0 ||
            (period && strcmp(PQgetvalue(res, j, 2), period) != 0))
            continue;
        struct table_row *row = &rows[n];
        memset(row, 0, sizeof *row);
        row->code = PQgetvalue(res, j, 3);
        row->region_code = PQgetvalue(res, j, 4);
        row->neighbour_rank = PQgetisnull(res, j, 5) ? -1 : atoi(PQgetvalue(res, j, 5));
        row->consent_to_name = PQgetvalue(res, j, 11)[0] == 't';
        read_cell(res, j, 6, &row->cur);
        if (strcmp(row->code, subject) == 0) {
            focal = (long)n;
            out->reason = cell(res, j, 9);
        }
        n++;
    }
    if (focal < 0) {
        /* No figure for the subject: the others are still summarised. */
        memset(&rows[n], 0, sizeof rows[n]);
        rows[n].code = subject;
        rows[n].region_code = subject_region;
        focal = (long)n++;
    }
    struct table tn = {.rows = rows, .n = n, .polarity = pm->pol, .dp = pm->dp,
                       .group = GROUP_NEIGHBOURS, .focal = focal, .caller = *caller,
                       .min_contributors = MIN_CONTRIBUTORS, .mask_key = "profile",
                       .table_id = metric};
    if (table_compute(&tn) != 0)
        return -1;
    const struct table_row *f = &rows[focal];
    out->hidden = f->masked;
    out->rank_nb = f->rank;
    out->rank_en = f->rank_england;
    out->band = f->band;
    out->cur = f->cur;
    out->england = tn.england;
    out->neighbours = tn.neighbours;
    out->n_en = tn.n_ranked_england;
    table_release(&tn);
    struct table tr = tn;
    tr.group = GROUP_REGION;
    tr.order = NULL;
    if (table_compute(&tr) != 0)
        return -1;
    out->rank_rg = rows[focal].rank;
    out->region = tr.region;
    table_release(&tr);
    return 0;
}

/* Growth in plans: each authority's plans as an index of its figure in the
 * base census (the subject's first from 2015 on), the subject's index,
 * the median index of its neighbours and England's total plans as an
 * index of England's total in the base year. */
struct growth {
    const char *base;           /* NULL: no base */
    const char **codes;         /* authorities with a base figure; borrowed */
    double *base_values;
    size_t n_base;
    double base_total;
    int base_total_ok;
    json_t *series;
};

static double growth_base_of(const struct growth *g, const char *code)
{
    for (size_t i = 0; i < g->n_base; i++)
        if (strcmp(g->codes[i], code) == 0)
            return g->base_values[i];
    return NAN;
}

/* rows[0..n) is the ehcp_caseload run of period (after xsec_compute: the
 * values are rounded as published).  Returns 0, or -1 when out of memory. */
static int growth_add(struct growth *g, const char *period, const struct table_row *rows,
                      size_t n, const char *subject, const struct auth_caller *caller)
{
    int rc = -1;
    double *vals = calloc(n + 1, sizeof *vals), *scratch = calloc(n + 1, sizeof *scratch);
    int *present = calloc(n + 1, sizeof *present), *unpub = calloc(n + 1, sizeof *unpub);
    if (!vals || !scratch || !present || !unpub)
        goto done;
    int is_base = strcmp(period, g->base) == 0;
    if (is_base) {
        g->codes = calloc(n + 1, sizeof *g->codes);
        g->base_values = calloc(n + 1, sizeof *g->base_values);
        if (!g->codes || !g->base_values)
            goto done;
    }
    double plans = NAN, index = NAN;
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        const struct table_row *row = &rows[i];
        int visible = row->cur.has_value &&
                      (row->cur.published || table_may_name(caller, row->code,
                                                            row->consent_to_name));
        if (is_base && row->cur.has_value) {
            g->codes[g->n_base] = row->code;
            g->base_values[g->n_base++] = row->cur.value;
        }
        if (strcmp(row->code, subject) == 0 && visible) {
            double b = growth_base_of(g, row->code);
            plans = row->cur.value;
            if (b > 0)
                index = 100.0 * plans / b;
        }
        vals[m] = row->cur.has_value ? row->cur.value : 0;
        present[m] = row->cur.has_value;
        unpub[m++] = row->cur.exists && !row->cur.published;
    }
    struct table_summary eng, nbs;
    table_summarise(vals, present, unpub, m, MIN_CONTRIBUTORS, caller->kind == CALLER_ADMIN,
                    scratch, &eng);
    if (is_base) {
        g->base_total = eng.total;
        g->base_total_ok = !eng.suppressed && eng.n > 0 && eng.total > 0;
    }
    m = 0;
    for (size_t i = 0; i < n; i++) {
        const struct table_row *row = &rows[i];
        double b = growth_base_of(g, row->code);
        if (row->neighbour_rank < 1 || !row->cur.has_value || !(b > 0))
            continue;
        vals[m] = 100.0 * row->cur.value / b;
        present[m] = 1;
        unpub[m++] = !row->cur.published;
    }
    table_summarise(vals, present, unpub, m, MIN_CONTRIBUTORS, caller->kind == CALLER_ADMIN,
                    scratch, &nbs);
    int eng_ok = g->base_total_ok && !eng.suppressed && eng.n > 0;
    int nb_ok = !nbs.suppressed && nbs.n > 0;
    json_t *o = json_pack("{s:s, s:o, s:o, s:o, s:I, s:o, s:o}", "period", period, "value",
                          isfinite(index) ? json_real(table_round(index, 1)) : json_null(),
                          "plans", isfinite(plans) ? jnum(plans, 0) : json_null(),
                          "nb_median", nb_ok ? json_real(table_round(nbs.median, 1))
                                             : json_null(),
                          "nb_n", (json_int_t)nbs.n, "england",
                          eng_ok ? json_real(table_round(100.0 * eng.total / g->base_total, 1))
                                 : json_null(),
                          "england_plans", eng_ok ? jnum(eng.total, 0) : json_null());
    if (!o || json_array_append_new(g->series, o) != 0)
        goto done;
    rc = 0;
done:
    free(vals);
    free(scratch);
    free(present);
    free(unpub);
    return rc;
}

static json_t *xsec_json(const struct xsec *x, const struct profile_metric *pm,
                         const char *period)
{
    char band[2] = {x->band, 0};
    int h = x->hidden;
    return json_pack("{s:s, s:o, s:o, s:b, s:o, s:I, s:o, s:o, s:o, s:o, s:o}", "period", period,
                     "value", h ? json_null() : cell_value(&x->cur, pm->dp), "symbol",
                     h ? json_string("c") : cell_symbol(&x->cur), "published",
                     x->cur.exists && x->cur.published, "rank_england",
                     h || !x->rank_en ? json_null() : json_integer(x->rank_en), "n_england",
                     (json_int_t)x->n_en, "band",
                     h || !x->band ? json_null() : json_string(band), "rank_neighbours",
                     h || !x->rank_nb ? json_null() : json_integer(x->rank_nb), "neighbours",
                     profile_summary(&x->neighbours, pm->dp, pm->additive), "region",
                     profile_summary(&x->region, pm->dp, pm->additive), "england",
                     profile_summary(&x->england, pm->dp, pm->additive));
}

/* Builds the profile document from PROFILE_SQL's rows; history adds the
 * pages' parts.  NULL with *status 404 (no such authority) or 500. */
static json_t *profile_build(const struct tq *q, const PGresult *res, int history, int *status)
{
    json_t *authority = NULL, *metrics_out = NULL, *doc = NULL, *extra = NULL;
    struct profile_metric *pm = NULL;
    struct table_row *rows = NULL;
    struct growth g;
    memset(&g, 0, sizeof g);
    size_t nm = 0;
    int nres = PQntuples(res);
    *status = 500;
    if (nres == 0 || strcmp(PQgetvalue(res, 0, 0), "a") != 0) {
        *status = 404;
        return NULL;
    }
    authority = json_loads(PQgetvalue(res, 0, 11), 0, NULL);
    if (history && !PQgetisnull(res, 0, 12))
        extra = json_loads(PQgetvalue(res, 0, 12), 0, NULL);
    const char *subject = PQgetvalue(res, 0, 3);
    const char *subject_region = PQgetvalue(res, 0, 4);
    int subject_consent = authority && json_is_true(json_object_get(authority,
                                                                     "consent_to_name"));
    pm = calloc((size_t)nres, sizeof *pm);
    rows = calloc((size_t)nres + 1, sizeof *rows);
    metrics_out = json_array();
    g.series = json_array();
    if (!authority || !pm || !rows || !metrics_out || !g.series || (history && !extra))
        goto done;
    int i = 1;
    for (; i < nres && PQgetvalue(res, i, 0)[0] == 'm'; i++) {
        struct profile_metric *p = &pm[nm];
        p->id = PQgetvalue(res, i, 1);
        p->period = cell(res, i, 2);
        p->info = json_loads(PQgetvalue(res, i, 11), 0, NULL);
        p->series = json_array();
        p->history = json_array();
        nm++;
        if (!p->info || !p->series || !p->history)
            goto done;
        json_t *info = p->info;
        p->dp = (int)json_integer_value(json_object_get(info, "dp"));
        const char *unit = json_string_value(json_object_get(info, "unit"));
        const char *kind = json_string_value(json_object_get(info, "kind"));
        if (table_polarity_parse(json_string_value(json_object_get(info, "polarity")),
                                 &p->pol) != 0)
            p->pol = POLARITY_NEUTRAL;
        p->additive = unit && kind && metric_additive(unit, kind);
    }
    /* Then the 's' (series) rows, then the 'x' (cross-section) rows: the
     * ORDER BY sorts by type letter. */
    int first_x = nres, end_x = nres;
    for (; i < nres; i++) {
        char type = PQgetvalue(res, i, 0)[0];
        if (type == 'x') {
            if (first_x == nres)
                first_x = i;
            end_x = i + 1;
            continue;
        }
        if (type != 's')
            continue;
        const char *mid = PQgetvalue(res, i, 1);
        for (size_t k = 0; k < nm; k++) {
            if (strcmp(pm[k].id, mid) != 0)
                continue;
            struct table_cell c;
            read_cell(res, i, 6, &c);
            int hide = c.exists && !c.published &&
                       !table_may_name(&q->caller, subject, subject_consent);
            json_t *pt = json_pack("{s:s, s:o, s:o, s:b}", "period", PQgetvalue(res, i, 2),
                                   "value", hide ? json_null() : cell_value(&c, pm[k].dp),
                                   "symbol", hide ? json_string("c") : cell_symbol(&c),
                                   "published", c.published);
            if (!pt || json_array_append_new(pm[k].series, pt) != 0)
                goto done;
            /* The growth index starts at the first census from 2015 on. */
            if (history && !g.base && strcmp(mid, "ehcp_caseload") == 0 && c.has_value &&
                !hide && strcmp(PQgetvalue(res, i, 2), "2015") >= 0)
                g.base = PQgetvalue(res, i, 2);
            break;
        }
    }

    if (history) {
        /* Every (metric, period) run of 'x' rows, in period order. */
        for (int j0 = first_x; j0 < end_x;) {
            const char *mid = PQgetvalue(res, j0, 1), *per = PQgetvalue(res, j0, 2);
            int j1 = j0 + 1;
            while (j1 < end_x && strcmp(PQgetvalue(res, j1, 1), mid) == 0 &&
                   strcmp(PQgetvalue(res, j1, 2), per) == 0)
                j1++;
            /* Charts are of annual figures: quarters (council submissions)
             * are a different frequency and stay out of the history. */
            for (size_t k = 0; k < nm && !strstr(per, " Q"); k++) {
                if (strcmp(pm[k].id, mid) != 0)
                    continue;
                struct xsec x;
                if (xsec_compute(res, j0, j1, mid, per, subject, subject_region, &pm[k],
                                 &q->caller, rows, &x) != 0)
                    goto done;
                json_t *o = xsec_json(&x, &pm[k], per);
                if (!o || json_array_append_new(pm[k].history, o) != 0)
                    goto done;
                if (g.base && strcmp(mid, "ehcp_caseload") == 0 &&
                    (g.codes || strcmp(per, g.base) == 0) &&
                    growth_add(&g, per, rows, (size_t)(j1 - j0), subject, &q->caller) != 0)
                    goto done;
                break;
            }
            j0 = j1;
        }
    }

    for (size_t k = 0; k < nm; k++) {
        json_t *info = pm[k].info;
        struct xsec x;
        if (!pm[k].period) {
            memset(&x, 0, sizeof x);
        } else if (xsec_compute(res, first_x, end_x, pm[k].id, pm[k].period, subject,
                                subject_region, &pm[k], &q->caller, rows, &x) != 0) {
            goto done;
        }
        int hidden = x.hidden;
        char band[2] = {x.band, 0};
        json_t *o = json_pack("{s:s, s:O, s:O, s:O, s:O, s:O, s:o}", "id", pm[k].id, "label",
                              json_object_get(info, "label"), "unit",
                              json_object_get(info, "unit"), "dp", json_object_get(info, "dp"),
                              "polarity", json_object_get(info, "polarity"), "kind",
                              json_object_get(info, "kind"), "period", jstr(pm[k].period));
        if (!o)
            goto done;
        json_array_append_new(metrics_out, o);
        json_object_set_new(o, "value", hidden ? json_null() : cell_value(&x.cur, pm[k].dp));
        json_object_set_new(o, "symbol", hidden ? json_string("c") : cell_symbol(&x.cur));
        json_object_set_new(o, "published", x.cur.exists ? json_boolean(x.cur.published)
                                                         : json_null());
        if (x.reason && !hidden)
            json_object_set_new(o, "reason", json_string(x.reason));
        json_object_set_new(o, "rank_england",
                            hidden || !x.rank_en ? json_null() : json_integer(x.rank_en));
        json_object_set_new(o, "n_england", json_integer((json_int_t)x.n_en));
        json_object_set_new(o, "band", hidden || !x.band ? json_null() : json_string(band));
        json_object_set_new(o, "rank_region",
                            hidden || !x.rank_rg ? json_null() : json_integer(x.rank_rg));
        json_object_set_new(o, "n_region", json_integer((json_int_t)x.region.n));
        json_object_set_new(o, "rank_neighbours",
                            hidden || !x.rank_nb ? json_null() : json_integer(x.rank_nb));
        json_object_set_new(o, "n_neighbours", json_integer((json_int_t)x.neighbours.n));
        json_object_set_new(o, "england", profile_summary(&x.england, pm[k].dp,
                                                          pm[k].additive));
        json_object_set_new(o, "region", profile_summary(&x.region, pm[k].dp, pm[k].additive));
        json_object_set_new(o, "neighbours", profile_summary(&x.neighbours, pm[k].dp,
                                                             pm[k].additive));
        json_object_set_new(o, "series", json_incref(pm[k].series));
        if (history) {
            json_object_set_new(o, "description",
                                json_incref(json_object_get(info, "description")));
            json_object_set_new(o, "history", json_incref(pm[k].history));
        }
    }
    char vis[40];
    doc = json_pack("{s:O, s:o, s:s, s:O, s:s}", "authority", authority, "period",
                    q->period[0] ? json_string(q->period) : json_null(), "visibility",
                    visibility_key(&q->caller, vis, sizeof vis), "metrics", metrics_out,
                    "attribution", OGL_ATTRIBUTION);
    if (doc && history) {
        json_object_set_new(doc, "growth", json_pack("{s:o, s:O}", "base", jstr(g.base),
                                                     "series", g.series));
        json_object_set_new(doc, "extra", json_incref(extra));
    }
done:
    for (size_t k = 0; k < nm; k++) {
        json_decref(pm[k].info);
        json_decref(pm[k].series);
        json_decref(pm[k].history);
    }
    free(pm);
    free(rows);
    free(g.codes);
    free(g.base_values);
    json_decref(g.series);
    json_decref(authority);
    json_decref(metrics_out);
    json_decref(extra);
    return doc;
}

static void profile_fetched(const struct db_reply *reply, void *arg)
{
    struct request *r = arg;
    struct tq *q = r->state;
    if (reply->error) {
        db_failed(r, reply);
        return;
    }
    int status = 500;
    q->res = reply->res;
    json_t *doc = profile_build(q, reply->res, q->page != NULL, &status);
    if (!doc) {
        if (status == 404)
            bad_param(r, 404, "code", "no such authority");
        else
            http_reply_oom(r);
        return;
    }
    if (!q->page) {
        reply_json_doc(r, q, doc);
        return;
    }
    size_t len = 0;
    char *body = q->page->profile(r, doc, &len);
    json_decref(doc);
    if (!body) {
        http_reply_oom(r);
        return;
    }
    store_and_reply(r, q, q->page->content_type, body, len);
}

/* ---------------------------------------------------------------- handlers */

static void serve_or_compute(struct request *r)
{
    struct tq *q = r->state;
    char vis[40];
    const char *v = visibility_key(&q->caller, vis, sizeof vis);
    switch (q->kind) {
    case TQ_TABLE:
        snprintf(q->key, sizeof q->key, "T|%s|%s|%s|%s|%s|%s|%s|%s", q->metric, q->period,
                 q->group_name, q->authority, q->csv ? "csv" : "json", q->base, v,
                 q->page ? q->page->name : "");
        break;
    case TQ_META:
        snprintf(q->key, sizeof q->key, "M|%s|%s", q->metric, v);
        break;
    case TQ_PROFILE:
        snprintf(q->key, sizeof q->key, "P|%s|%s|%s|%s", q->authority, q->period, v,
                 q->page ? q->page->name : "");
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
            rc = db_pool_query(r->app->pool, LATEST_SQL, 1, params, latest_fetched, r);
        } else {
            table_query(r);
        }
        break;
    case TQ_META: {
        const char *params[1] = {q->metric};
        rc = db_pool_query(r->app->pool, "SELECT id, label, unit, dp FROM metrics WHERE id = $1",
                           1, params, meta_fetched, r);
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
        const char *params[3] = {q->authority, q->period[0] ? start : NULL,
                                 q->page ? "true" : "false"};
        /* The pool prepares statements by their text and PostgreSQL keeps
         * one plan per statement: pages ($3 true) read every period, so
         * they get a text (and a plan) of their own.  Loop thread only. */
        static char page_sql[sizeof PROFILE_SQL + 32];
        if (!page_sql[0])
            snprintf(page_sql, sizeof page_sql, "/* pages */ %s", PROFILE_SQL);
        rc = db_pool_query(r->app->pool, q->page ? page_sql : PROFILE_SQL, 3, params,
                           profile_fetched, r);
        break;
    }
    }
    if (rc != 0)
        http_reply_oom(r);
}

static struct tq *tq_new(struct request *r, enum tq_kind kind)
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
        bad_param(r, 400, "metric", "metric must be a metric id such as ehcp_caseload");
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
        bad_param(r, 400, "period",
                  "period must be a year (2022), a financial year (2021-22) or a quarter "
                  "(2024-25 Q2)");
        return -1;
    }
    snprintf(q->period, sizeof q->period, "%s", period);
    return 0;
}

void route_table(struct request *r)
{
    struct tq *q = tq_new(r, TQ_TABLE);
    if (!q || take_metric(r, q) != 0 || take_period(r, q) != 0)
        return;
    const char *group = http_query(r, "group");
    const char *authority = http_query(r, "authority");
    const char *format = http_query(r, "format");
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
        bad_param(r, 400, "group", "group must be england, region or neighbours");
        return;
    }
    if (authority && *authority) {
        if (!code_is_authority(authority)) {
            bad_param(r, 400, "authority",
                      "authority must be an ONS code (E06000059) or a DfE number (838)");
            return;
        }
        snprintf(q->authority, sizeof q->authority, "%s", authority);
    } else if (q->group != GROUP_ENGLAND) {
        bad_param(r, 400, "authority", "group region or neighbours needs an authority");
        return;
    }
    if (format && strcmp(format, "csv") == 0) {
        q->csv = 1;
    } else if (format && strcmp(format, "json") != 0) {
        bad_param(r, 400, "format", "format must be json or csv");
        return;
    } else if (!format) {
        const char *accept = http_header(r, "Accept");
        q->csv = accept && strstr(accept, "text/csv") != NULL;
    }
    if (base && *base) {
        struct period pb;
        if (strlen(base) >= sizeof q->base || period_parse(base, &pb) != 0) {
            bad_param(r, 400, "base", "base must be a year (2015) or a period (2015-16)");
            return;
        }
        if (q->period[0] && period_base(&q->per, base, &pb) != 0) {
            bad_param(r, 400, "base",
                      "base must come before period and be of the same kind");
            return;
        }
        snprintf(q->base, sizeof q->base, "%s", base);
    }
    caller_resolve(r, serve_or_compute);
}

void route_table_meta(struct request *r)
{
    struct tq *q = tq_new(r, TQ_META);
    if (!q || take_metric(r, q) != 0)
        return;
    caller_resolve(r, serve_or_compute);
}

void route_profile(struct request *r)
{
    struct tq *q = tq_new(r, TQ_PROFILE);
    if (!q)
        return;
    const char *code = http_param(r, 0);
    if (!code || !code_is_authority(code)) {
        bad_param(r, 404, "code", "no such authority");
        return;
    }
    snprintf(q->authority, sizeof q->authority, "%s", code);
    if (take_period(r, q) != 0)
        return;
    caller_resolve(r, serve_or_compute);
}

/* ---------------------------------------------------------------- pages */

/* Web visitors are anonymous callers: the page shows what the API shows
 * anonymous callers, whatever the request carries. */
void tables_page_table(struct request *r, const struct tables_page *page, const char *metric,
                       const char *period, const char *authority)
{
    struct tq *q = tq_new(r, TQ_TABLE);
    if (!q)
        return;
    q->page = page;
    q->group = GROUP_ENGLAND;
    q->group_name = "england";
    q->caller.kind = CALLER_ANONYMOUS;
    if (!metric || !code_is_metric_id(metric)) {
        bad_param(r, 404, "metric", "no metric with this id; see /api/v1/metrics");
        return;
    }
    snprintf(q->metric, sizeof q->metric, "%s", metric);
    if (period && *period) {
        if (strlen(period) >= sizeof q->period || period_parse(period, &q->per) != 0) {
            bad_param(r, 400, "period",
                      "period must be a year (2022), a financial year (2021-22) or a quarter "
                      "(2024-25 Q2)");
            return;
        }
        snprintf(q->period, sizeof q->period, "%s", period);
    }
    if (authority && *authority) {
        if (!code_is_authority(authority)) {
            bad_param(r, 404, "authority", "no authority has this code");
            return;
        }
        snprintf(q->authority, sizeof q->authority, "%s", authority);
    }
    serve_or_compute(r);
}

void tables_page_profile(struct request *r, const struct tables_page *page, const char *code)
{
    struct tq *q = tq_new(r, TQ_PROFILE);
    if (!q)
        return;
    q->page = page;
    q->caller.kind = CALLER_ANONYMOUS;
    if (!code || !code_is_authority(code)) {
        bad_param(r, 404, "code", "no authority has this code");
        return;
    }
    snprintf(q->authority, sizeof q->authority, "%s", code);
    serve_or_compute(r);
}
