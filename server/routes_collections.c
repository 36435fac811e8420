/*
 * The quarterly collection as a view of its own (issue 15):
 *   GET /api/v1/collections/{period}   JSON
 *   GET /collections/{period}          the page
 *
 * How many authorities contributed to a quarter (and which, for those that
 * consented to be named), and for each metric with figures the aggregates
 * the disclosure rules allow (docs/disclosure.md): England and each region,
 * totals for counts and money, means, contributors; the median only where
 * no figure is protected.  A signed-in council also gets its own figures
 * beside those aggregates and, where at least three are masked, its
 * anonymised peers.  Every number comes from table_compute (server/
 * tables.c) over the quarter's figures, as the tables do, so the rules are
 * applied in one place.
 */
#include <event2/buffer.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "app.h"
#include "auth.h"
#include "db.h"
#include "html.h"
#include "routes.h"
#include "tables.h"
#include "tables_query.h"
#include "web.h"

#define COLLECTION_MIN_CONTRIBUTORS 3

/* One row per (metric with figures in the period, authority in force or
 * with a figure), metrics in catalogue order; the first row also carries
 * England's current authority count, whether the quarter is a public
 * default (sql/090) and how many authorities contributed. */
static const char COLLECTION_SQL[] =
    "WITH obs AS ("
    "  SELECT authority, metric, value, symbol,"
    "   figure_state(published, authority, metric, period) AS published"
    "  FROM current_observations WHERE period = $1"
    "  UNION ALL"
    "  SELECT authority, metric, value, CASE WHEN value IS NULL THEN 'x' END,"
    "   figure_state(published, authority, metric, period)"
    "  FROM derived_observations WHERE period = $1"
    /* held figures no longer in force (sql/181): in aggregates only */
    "  UNION ALL"
    "  SELECT authority, metric, NULL, NULL, figure_state(false, authority, metric, period)"
    "  FROM figures_held_out WHERE period = $1),"
    " a AS (SELECT new_la_code, name, region_code, region_name, consent_to_name FROM authorities"
    "       WHERE valid_to IS NULL OR new_la_code IN (SELECT authority FROM obs))"
    " SELECT m.id, m.label, m.unit, m.dp, m.polarity, m.kind,"                          /* 0-5 */
    "  a.new_la_code, a.name, a.region_code, a.region_name, a.consent_to_name,"         /* 6-10 */
    "  o.value, o.symbol, o.published,"                                                 /* 11-13 */
    "  (SELECT count(*) FROM authorities WHERE valid_to IS NULL"
    "    AND code_is_ons_authority(new_la_code)),"                                     /* 14 */
    "  (SELECT quarter_is_default(count(DISTINCT authority)) FROM obs),"                /* 15 */
    "  (SELECT count(DISTINCT authority) FROM obs),"                                    /* 16 */
    "  (SELECT key FROM table_mask_key), m.additive"                                    /* 17-18 */
    " FROM metrics m CROSS JOIN a"
    " LEFT JOIN obs o ON o.metric = m.id AND o.authority = a.new_la_code"
    " WHERE m.id IN (SELECT metric FROM obs)"
    " ORDER BY m.sort_order, a.new_la_code";

struct coll_req {
    struct auth_caller caller;
    struct period per;
    char period[PERIOD_MAX];
    int page;
};

struct coll_metric {
    const char *id, *label, *unit, *kind;
    int dp, additive;
    struct table t;
    struct table_row *rows;
    long own;           /* the signed-in council's row, or -1 */
};

static json_t *summary_json(const struct table_summary *s, const struct coll_metric *m)
{
    return table_summary_json(s, m->dp, m->additive);
}

static const char *visibility(const struct auth_caller *c, char *buf, size_t len)
{
    if (c->kind == CALLER_ADMIN)
        return "admin";
    if (c->kind == CALLER_COUNCIL) {
        snprintf(buf, len, "council:%s", c->authority);
        return buf;
    }
    return "public";
}

/* ---------------------------------------------------------------- JSON */

static json_t *collection_json(const struct coll_req *q, struct coll_metric *ms, size_t nm,
                               const PGresult *res)
{
    long authorities = atol(PQgetvalue(res, 0, 14));
    json_t *named = json_array(), *metrics = json_array(), *own = NULL;
    char vis[40];
    if (!named || !metrics)
        goto oom;
    /* The contributors named are those that consented (or the caller
     * itself, or all for an admin): one list over every metric. */
    for (size_t k = 0; k < nm; k++) {
        const struct coll_metric *m = &ms[k];
        for (size_t i = 0; i < m->t.n; i++) {
            const struct table_row *r = &m->rows[i];
            if (!r->cur.exists || r->withheld || r->masked ||
                (r->cur.published && !table_may_name(&q->caller, r->code, r->consent_to_name)))
                continue;
            size_t j;
            json_t *e;
            int seen = 0;
            json_array_foreach(named, j, e) {
                seen |= strcmp(json_string_value(json_object_get(e, "code")), r->code) == 0;
            }
            if (!seen)
                json_array_append_new(named, json_pack("{s:s, s:s}", "code", r->code, "name",
                                                       r->name));
        }
    }
    for (size_t k = 0; k < nm; k++) {
        struct coll_metric *m = &ms[k];
        json_t *regions = json_array();
        for (size_t g = 0; regions && g < m->t.n_regions; g++) {
            const struct table_region *tr = &m->t.regions[g];
            json_t *o = summary_json(&tr->s, m);
            if (o) {
                json_object_set_new(o, "code", json_string(tr->code));
                json_object_set_new(o, "name", json_string(tr->name));
                json_array_append_new(regions, o);
            }
        }
        json_t *mo = json_pack("{s:s, s:s, s:s, s:i, s:s, s:I, s:o, s:o}", "id", m->id, "label",
                               m->label, "unit", m->unit, "dp", m->dp, "kind", m->kind,
                               "contributors", (json_int_t)m->t.england.n, "england",
                               summary_json(&m->t.england, m), "regions",
                               regions ? regions : json_null());
        if (!mo)
            goto oom;
        if (m->own >= 0) {
            const struct table_cell *c = &m->rows[m->own].cur;
            json_object_set_new(mo, "own", c->has_value ? tq_jnum(c->value, m->dp) : json_null());
        }
        /* A council's anonymised peers: the masked figures of the
         * England table (only when at least three are masked). */
        json_t *peers = json_array();
        for (size_t i = 0; peers && i < m->t.n; i++) {
            const struct table_row *r = &m->rows[i];
            if (r->masked && r->cur.has_value)
                json_array_append_new(peers, json_pack("{s:s, s:o}", "label", r->mask_label,
                                                       "value",
                                                       tq_jnum(r->cur.value, m->dp)));
        }
        if (peers && json_array_size(peers))
            json_object_set_new(mo, "peers", peers);
        else
            json_decref(peers);
        json_array_append_new(metrics, mo);
    }
    if (q->caller.kind == CALLER_COUNCIL)
        own = json_pack("{s:s, s:s}", "authority", q->caller.authority, "banner",
                        "includes your unpublished figures \xe2\x80\x94 not for circulation");
    json_t *doc = json_pack(
        "{s:s, s:I, s:I, s:b, s:s, s:o, s:s, s:o, s:s}", "period", q->period, "authorities",
        (json_int_t)authorities, "contributors", (json_int_t)atol(PQgetvalue(res, 0, 16)),
        "default", PQgetvalue(res, 0, 15)[0] == 't', "default_rule",
        "a quarter is shown by default once at least half of England's authorities "
        "contributed (docs/disclosure.md)",
        "named_contributors", named, "visibility", visibility(&q->caller, vis, sizeof vis),
        "metrics", metrics, "disclosure",
        "figures of authorities that have not agreed to be named are shown only in "
        "aggregate: England and regions with at least 3 such contributors, with "
        "complementary suppression; no median of them (docs/disclosure.md)");
    if (doc && own)
        json_object_set_new(doc, "own", own);
    else
        json_decref(own);
    return doc;
oom:
    json_decref(named);
    json_decref(metrics);
    return NULL;
}

/* ---------------------------------------------------------------- page */

static int put_summary_cells(struct evbuffer *b, const struct table_summary *s,
                             const struct coll_metric *m)
{
    char buf[64];
    int none = s->suppressed || s->n == 0;
    const char *sym = s->suppressed ? "c" : "x";
    int bad = web_put(b, "<td class=\"num\">%zu</td>", s->n) != 0;
    if (m->additive) {
        html_quantity(none ? NAN : s->total, m->dp, m->unit, buf, sizeof buf);
        bad = bad || web_put(b, "<td class=\"num\">") != 0 ||
              html_escape(b, none ? sym : buf) != 0 || web_put(b, "</td>") != 0;
    } else {
        bad = bad || web_put(b, "<td class=\"num\">z</td>") != 0;
    }
    html_quantity(none ? NAN : s->mean, m->dp, m->unit, buf, sizeof buf);
    bad = bad || web_put(b, "<td class=\"num\">") != 0 || html_escape(b, none ? sym : buf) != 0 ||
          web_put(b, "</td>") != 0;
    return bad;
}

static char *collection_page(const struct coll_req *q, struct coll_metric *ms, size_t nm,
                             const PGresult *res, size_t *len)
{
    struct evbuffer *b = evbuffer_new();
    char title[80];
    snprintf(title, sizeof title, "Quarterly collection %s", q->period);
    int bad = !b || web_page_begin(b, title, NULL) != 0;
    long authorities = atol(PQgetvalue(res, 0, 14));
    long contributors = atol(PQgetvalue(res, 0, 16));
    if (!bad && q->caller.kind == CALLER_COUNCIL)
        bad = web_put(b, "<p class=\"note\" id=\"own-banner\"><strong>This page includes your "
                         "unpublished figures &mdash; not for circulation.</strong></p>") != 0;
    bad = bad || web_put(b, "<h1>") != 0 || html_escape(b, title) != 0 ||
          web_put(b, "</h1><p id=\"contributors\">%ld of England's %ld authorities contributed "
                     "figures for %s.", contributors, authorities, q->period) != 0;
    bad = bad ||
          web_put(b, " %s</p>", PQgetvalue(res, 0, 15)[0] == 't'
                                    ? "That is at least half, so this quarter is shown by default."
                                    : "Fewer than half: public pages keep showing the DfE's "
                                      "latest published figures by default.") != 0;
    bad = bad || web_put(b, "<p class=\"note\">Councils' quarterly figures are unpublished. "
                            "Those of authorities that have not agreed to be named are shown "
                            "only in aggregate, for England and its regions, where at least "
                            "three such authorities contribute; no median is given of them. "
                            "<strong>c</strong>: not released (too few contributors, or a "
                            "region's total would let another be worked out); "
                            "<strong>x</strong>: no figures; <strong>z</strong>: not "
                            "applicable (a rate has no total).</p>") != 0;
    size_t shown = 0;
    for (size_t k = 0; k < nm && !bad; k++) {
        struct coll_metric *m = &ms[k];
        /* A measure nobody gave a figure for (a rate whose inputs are
         * missing everywhere) is left out, unless it is the caller's own. */
        if (m->t.england.n == 0 && (m->own < 0 || !m->rows[m->own].cur.has_value))
            continue;
        shown++;
        bad = web_put(b, "<table data-metric=\"") != 0 || html_escape(b, m->id) != 0 ||
              web_put(b, "\"><caption>") != 0 || html_escape(b, m->label) != 0 ||
              web_put(b, ", %s</caption><thead><tr><th scope=\"col\">Area</th>"
                         "<th scope=\"col\" class=\"num\">Contributors</th>"
                         "<th scope=\"col\" class=\"num\">Total</th>"
                         "<th scope=\"col\" class=\"num\">Mean of authorities</th></tr></thead>"
                         "<tbody><tr><th scope=\"row\">England</th>", q->period) != 0 ||
              put_summary_cells(b, &m->t.england, m) != 0 || web_put(b, "</tr>") != 0;
        for (size_t g = 0; g < m->t.n_regions && !bad; g++) {
            bad = web_put(b, "<tr><th scope=\"row\">") != 0 ||
                  html_escape(b, m->t.regions[g].name) != 0 || web_put(b, "</th>") != 0 ||
                  put_summary_cells(b, &m->t.regions[g].s, m) != 0 || web_put(b, "</tr>") != 0;
        }
        if (!bad && m->own >= 0) {
            char buf[64];
            const struct table_cell *c = &m->rows[m->own].cur;
            html_quantity(c->has_value ? c->value : NAN, m->dp, m->unit, buf, sizeof buf);
            bad = web_put(b, "<tr class=\"focus\"><th scope=\"row\">Your figure</th>"
                             "<td></td><td class=\"num\">") != 0 ||
                  html_escape(b, c->has_value ? buf : "not submitted") != 0 ||
                  web_put(b, "</td><td></td></tr>") != 0;
        }
        bad = bad || web_put(b, "</tbody></table>") != 0;
    }
    if (!bad && shown == 0)
        bad = web_put(b, "<p>No figures have been submitted for this quarter yet.</p>") != 0;
    bad = bad || web_page_end(b) != 0;
    return web_page_take(b, bad, len);
}

/* ---------------------------------------------------------------- query */

static void collection_fetched(const struct db_reply *reply, void *arg)
{
    struct request *r = arg;
    struct coll_req *q = r->state;
    struct coll_metric *ms = NULL;
    size_t nm = 0;
    if (reply->error) {
        http_reply_db_error(r, reply);
        return;
    }
    const PGresult *res = reply->res;
    int nres = PQntuples(res);
    ms = calloc((size_t)(nres ? nres : 1), sizeof *ms);
    if (!ms)
        goto oom;
    /* Runs of rows per metric. */
    for (int j0 = 0; j0 < nres;) {
        int j1 = j0 + 1;
        while (j1 < nres && strcmp(PQgetvalue(res, j1, 0), PQgetvalue(res, j0, 0)) == 0)
            j1++;
        struct coll_metric *m = &ms[nm++];
        m->id = PQgetvalue(res, j0, 0);
        m->label = PQgetvalue(res, j0, 1);
        m->unit = PQgetvalue(res, j0, 2);
        m->dp = atoi(PQgetvalue(res, j0, 3));
        m->kind = PQgetvalue(res, j0, 5);
        m->additive = PQgetvalue(res, j0, 18)[0] == 't';
        m->own = -1;
        m->rows = calloc((size_t)(j1 - j0), sizeof *m->rows);
        if (!m->rows)
            goto oom;
        enum polarity pol;
        if (table_polarity_parse(PQgetvalue(res, j0, 4), &pol) != 0)
            pol = POLARITY_NEUTRAL;
        for (int j = j0; j < j1; j++) {
            struct table_row *row = &m->rows[j - j0];
            row->code = PQgetvalue(res, j, 6);
            row->name = PQgetvalue(res, j, 7);
            row->region_code = PQgetvalue(res, j, 8);
            row->region_name = PQgetvalue(res, j, 9);
            row->consent_to_name = PQgetvalue(res, j, 10)[0] == 't';
            row->neighbour_rank = -1;
            tq_read_cell(res, j, 11, &row->cur);
            if (q->caller.kind == CALLER_COUNCIL && strcmp(row->code, q->caller.authority) == 0)
                m->own = j - j0;
        }
        char table_id[160];
        snprintf(table_id, sizeof table_id, "%s|%s|collection|", m->id, q->period);
        m->t = (struct table){.rows = m->rows, .n = (size_t)(j1 - j0), .polarity = pol,
                              .dp = m->dp, .group = GROUP_ENGLAND, .focal = -1,
                              .caller = q->caller,
                              .min_contributors = COLLECTION_MIN_CONTRIBUTORS,
                              .mask_key = PQgetvalue(res, j0, 17), .table_id = table_id,
                              .want_regions = 1};
        if (table_compute(&m->t) != 0)
            goto oom;
        j0 = j1;
    }
    if (nres == 0) {
        /* Nothing submitted for the quarter: 404, for the page too. */
        http_reply_error(r, 404, "no_data", "no figures have been submitted for this quarter",
                         json_pack("[{s:s, s:s}]", "field", "period", "rule", "has figures"));
        goto done;
    }
    if (q->page) {
        size_t len = 0;
        char *body = collection_page(q, ms, nm, res, &len);
        if (!body)
            goto oom;
        http_add_header(r, "Cache-Control",
                        q->caller.kind == CALLER_ANONYMOUS ? "public, no-cache" : "private, no-store");
        http_reply_text(r, 200, "text/html; charset=utf-8", body, len);
        free(body);
    } else {
        json_t *doc = collection_json(q, ms, nm, res);
        if (!doc)
            goto oom;
        http_add_header(r, "Cache-Control",
                        q->caller.kind == CALLER_ANONYMOUS ? "public, no-cache" : "private, no-store");
        http_reply_json(r, 200, doc);
    }
    goto done;
oom:
    http_reply_oom(r);
done:
    for (size_t k = 0; k < nm; k++) {
        table_release(&ms[k].t);
        free(ms[k].rows);
    }
    free(ms);
}

static void collection_query(struct request *r)
{
    struct coll_req *q = r->state;
    const char *params[1] = {q->period};
    if (db_pool_query(r->app->pool, COLLECTION_SQL, 1, params, collection_fetched, r) != 0)
        http_reply_oom(r);
}

static void collection_route(struct request *r, int page)
{
    const char *p = http_param(r, 0);
    struct coll_req *q = calloc(1, sizeof *q);
    if (!q) {
        http_reply_oom(r);
        return;
    }
    r->state = q;
    r->state_free = free;
    q->page = page;
    if (!p || strlen(p) >= sizeof q->period || period_parse(p, &q->per) != 0 ||
        q->per.kind != PERIOD_QUARTER) {
        const char *msg = "period must be a financial-year quarter such as 2026-27 Q2";
        if (page)
            web_reply_error(r, 400, "bad_parameter", msg, "period", "quarter");
        else
            http_reply_error(r, 400, "bad_parameter", msg,
                             json_pack("[{s:s, s:s, s:s}]", "field", "period", "rule", "quarter",
                                       "message", msg));
        return;
    }
    period_format(&q->per, q->period, sizeof q->period);
    q->caller = r->caller;  /* resolved by the dispatcher (ROUTE_TOKEN_OPTIONAL) */
    collection_query(r);
}

void route_collection(struct request *r)
{
    collection_route(r, 0);
}

void route_web_collection(struct request *r)
{
    collection_route(r, 1);
}
