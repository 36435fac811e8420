/*
 * A comparative table and its metadata, computed (include/tables_query.h):
 *
 *   GET /api/v1/tables/{metric}?period=&group=&authority=&base=&format=
 *   GET /api/v1/tables/{metric}/meta?format=csv|xlsx
 *
 * ONE query fetches every authority's figures of the metric in the period,
 * the previous period, a year earlier and the base (PostgreSQL does the
 * joins); server/tables.c ranks, bands and masks them; server/tables_output.c
 * (or the page's renderer) writes the answer, kept by tables_query.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "routes.h"
#include "sheet.h"
#include "tables.h"
#include "tables_page.h"
#include "tables_query.h"

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
    "  FROM derived_observations WHERE metric = $1 AND period IN ($2, $3, $4, coalesce($5, $2))"
    /* Held figures no longer in force (sql/181): no figure to show, the
     * held version in the aggregates. */
    "  UNION ALL"
    "  SELECT authority, period, NULL, NULL, figure_state(false, authority, metric, period), NULL"
    "  FROM figures_held_out WHERE metric = $1 AND period IN ($2, $3, $4, coalesce($5, $2))),"
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
    /* The same as the aggregates hold them (sql/181). */
    " ndh AS MATERIALIZED (SELECT o.authority,"
    "  max(o.value) FILTER (WHERE o.metric = dm.numerator) AS num,"
    "  coalesce(max(o.value) FILTER (WHERE o.metric = dm.denominator),"
    "   max(o.value) FILTER (WHERE o.metric = dm.fallback_denominator)) AS den"
    "  FROM dm JOIN figures_aggregated o ON o.period = $2"
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
    "  c.value, c.symbol, c.published, coalesce(c.reason, hb.reason),"                  /* 16-19 */
    "  p.value, p.symbol, p.published, y.value, y.symbol, y.published,"                 /* 20-25 */
    "  b.value, b.symbol, b.published,"                                                 /* 26-28 */
    /* For pages only ($8): the periods with figures in force (a version
     * awaiting approval, rejected or quarantined lists nothing) and the
     * sources of the period's published figures (a derived metric's
     * inputs'). */
    "  CASE WHEN $8 THEN (SELECT json_agg(period ORDER BY ps DESC, period DESC) FROM ("
    "   SELECT period, min(period_start) AS ps FROM ("
    /* only periods with a figure: a year the DfE gives as x for every
     * authority (2019-2022 of plans after 20 weeks), or a rate's year whose
     * every row lacks an input, has nothing to show */
    "    SELECT period, period_start FROM current_observations WHERE metric = $1"
    "     AND value IS NOT NULL"
    "    UNION ALL SELECT period, period_start FROM derived_observations WHERE metric = $1"
    "     AND value IS NOT NULL AND (SELECT kind FROM m) = 'derived') s"
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
    "  nd.num, nd.den, (SELECT k FROM dm), m.additive,"                                 /* 39-42 */
    "  ndh.num, ndh.den,"                                                               /* 43-44 */
    /* Pages only: each authority's quarters of the metric, [period,
     * value, symbol, state] (the quarterly chart, its own axis), and the
     * quarters that are public defaults (sql/090). */
    "  CASE WHEN $8 THEN (SELECT json_agg(json_build_array(s.period, s.value::text, s.symbol,"
    "    figure_state(s.published, a.new_la_code, $1, s.period)) ORDER BY s.period) FROM ("
    "   SELECT period, value, symbol, published FROM current_observations"
    "   WHERE metric = $1 AND authority = a.new_la_code AND period LIKE '% Q_'"
    "   UNION ALL SELECT period, value, CASE WHEN value IS NULL THEN 'x' END, published"
    "   FROM derived_observations WHERE metric = $1 AND authority = a.new_la_code"
    "    AND period LIKE '% Q_'"
    "   UNION ALL SELECT period, NULL, NULL, false FROM figures_held_out"
    "   WHERE metric = $1 AND authority = a.new_la_code AND period LIKE '% Q_') s)::text END,"
    "  CASE WHEN $8 THEN (SELECT json_agg(d.period) FROM default_periods d"
    "   WHERE d.metric = $1 AND d.period LIKE '% Q_')::text END"                        /* 45-46 */
    " FROM m"
    " LEFT JOIN authorities a ON true"
    " LEFT JOIN obs c ON c.authority = a.new_la_code AND c.period = $2"
    " LEFT JOIN obs p ON p.authority = a.new_la_code AND p.period = $3"
    " LEFT JOIN obs y ON y.authority = a.new_la_code AND y.period = $4"
    " LEFT JOIN obs b ON b.authority = a.new_la_code AND b.period = $5"
    " LEFT JOIN statistical_neighbours nb ON nb.authority = (SELECT new_la_code FROM focal)"
    "  AND nb.neighbour = a.new_la_code"
    " LEFT JOIN nd ON nd.authority = a.new_la_code"
    " LEFT JOIN ndh ON ndh.authority = a.new_la_code"
    /* No figure because the import checks hold the DfE's back (sql/020):
     * said as the profile and the authority page say it, not as absent. */
    " LEFT JOIN LATERAL (SELECT 'held back by the import checks (' || q.rule || '): '"
    "   || q.detail AS reason FROM import_quality q"
    "  JOIN observations qo ON qo.authority = q.authority AND qo.metric = q.metric"
    "   AND qo.period = q.period AND qo.version = q.version AND qo.published"
    "  WHERE c.authority IS NULL AND q.authority = a.new_la_code AND q.metric = $1"
    "   AND q.period = $2 AND q.action = 'quarantine'"
    "   AND NOT EXISTS (SELECT 1 FROM import_quality_releases qr WHERE qr.quality_id = q.id)"
    "  ORDER BY q.id DESC LIMIT 1) hb ON true"
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


/* Whether a query of one metric found it; else answered: the database's
 * failure, or 404 when there is no such metric. */
static int metric_found(struct request *r, const struct db_reply *reply)
{
    if (reply->error) {
        tq_db_failed(r, reply);
        return 0;
    }
    if (PQntuples(reply->res) == 0) {
        tq_bad_param(r, 404, "metric", "no such metric (see /api/v1/metrics)");
        return 0;
    }
    return 1;
}

/* A summary as the pages read it: table_summary_json and its value. */
static json_t *quarter_summary_json(const struct table_summary *s, const struct table_meta *tm)
{
    json_t *o = table_summary_json(s, tm->dp, tm->additive);
    if (o)
        table_summary_value_json(o, s, tm->dp);
    return o;
}

/* The metric page's quarters (columns 45-46): for each quarter that is a
 * public default (sql/090), or that the caller has its own figure in (a
 * council) or any (an admin), England's and every region's aggregates by
 * table_compute under the same disclosure rules as the collection (a
 * table of every authority's figure of that quarter), and the caller's
 * own figure.  rows[0..n) give each authority's code, name, region and
 * consent, rows[i] read from result row i (table_fetched skips a row only
 * when there are no authorities at all); chart_region is the region drawn beside England (NULL none).
 * {"own": name or null, "region": name or null, "quarters": [{"period",
 * "value", "england", "region", "regions": [...]}]}; NULL when out of
 * memory. */
static json_t *quarters_json(const struct tq *q, const struct table_meta *tm,
                             const PGresult *res, const struct table_row *rows, size_t n,
                             const char *chart_region)
{
    json_t *per_row = NULL, *defaults = NULL, *out = NULL, *list = json_array();
    struct table_row *qr = calloc(n ? n : 1, sizeof *qr);
    const char **periods = calloc(1, sizeof *periods);
    size_t np = 0;
    const char *own_name = NULL, *region_name = NULL;
    int admin = q->caller.kind == CALLER_ADMIN;
    if (!list || !qr || !periods || !(per_row = json_array()))
        goto done;
    defaults = json_loads(tq_cell(res, 0, 46) ? tq_cell(res, 0, 46) : "[]", 0, NULL);
    if (!json_is_array(defaults))
        goto done;
    /* every row's quarters, parsed once; the quarters in order */
    for (size_t i = 0; i < n; i++) {
        const char *txt = tq_cell(res, (int)i, 45);
        json_t *a = json_loads(txt ? txt : "[]", 0, NULL);
        if (!a || json_array_append_new(per_row, a) != 0)
            goto done;
        if (q->caller.kind == CALLER_COUNCIL && strcmp(rows[i].code, q->caller.authority) == 0)
            own_name = rows[i].name;
        if (chart_region && rows[i].region_code && strcmp(rows[i].region_code, chart_region) == 0)
            region_name = rows[i].region_name;
        size_t k;
        json_t *e;
        json_array_foreach(a, k, e) {
            const char *p = json_string_value(json_array_get(e, 0));
            size_t j = 0;
            while (p && j < np && strcmp(periods[j], p) != 0)
                j++;
            if (!p || j < np)
                continue;
            const char **grown = realloc(periods, (np + 1) * sizeof *periods);
            if (!grown)
                goto done;
            periods = grown;
            periods[np++] = p;
        }
    }
    for (size_t j = 0; j < np; j++) {
        int show = admin;
        size_t k;
        json_t *e;
        json_array_foreach(defaults, k, e)
            show |= json_is_string(e) && strcmp(json_string_value(e), periods[j]) == 0;
        int own_has = 0;
        double own_value = 0;
        for (size_t i = 0; i < n; i++) {
            struct table_row *r = &qr[i];
            memset(r, 0, sizeof *r);
            r->code = rows[i].code;
            r->name = rows[i].name;
            r->region_code = rows[i].region_code;
            r->region_name = rows[i].region_name;
            r->consent_to_name = rows[i].consent_to_name;
            r->neighbour_rank = -1;
            json_array_foreach(json_array_get(per_row, i), k, e) {
                if (strcmp(json_string_value(json_array_get(e, 0)), periods[j]) != 0)
                    continue;
                tq_cell_from_text(json_string_value(json_array_get(e, 1)),
                                  json_string_value(json_array_get(e, 2)),
                                  json_string_value(json_array_get(e, 3)), &r->cur);
            }
            if (own_name && r->name == own_name && r->cur.has_value) {
                own_has = show = 1;
                own_value = r->cur.value;
            }
        }
        if (!show)
            continue;
        char table_id[200];
        snprintf(table_id, sizeof table_id, "%s|%s|quarters|", tm->id, periods[j]);
        struct table t = {.rows = qr, .n = n, .polarity = tm->polarity, .dp = tm->dp,
                          .group = GROUP_ENGLAND, .focal = -1, .caller = q->caller,
                          .min_contributors = MIN_CONTRIBUTORS, .mask_key = tm->mask_key,
                          .table_id = table_id, .want_regions = 1, .additive = tm->additive};
        if (table_compute(&t) != 0)
            goto done;
        json_t *regions = json_array(), *region = json_null();
        json_t *o = json_pack("{s:s, s:o, s:o}", "period", periods[j], "value",
                              own_has ? tq_jnum(own_value, tm->dp) : json_null(), "england",
                              quarter_summary_json(&t.england, tm));
        for (size_t g = 0; regions && g < t.n_regions; g++) {
            json_t *s = quarter_summary_json(&t.regions[g].s, tm);
            if (s) {
                json_object_set_new(s, "code", json_string(t.regions[g].code));
                json_object_set_new(s, "name", json_string(t.regions[g].name));
            }
            if (chart_region && strcmp(t.regions[g].code, chart_region) == 0) {
                json_decref(region);
                region = json_incref(s);
            }
            if (!s || json_array_append_new(regions, s) != 0)
                json_decref(regions), regions = NULL;
        }
        table_release(&t);
        if (!o || !regions || json_object_set_new(o, "regions", regions) != 0 ||
            json_object_set_new(o, "region", region) != 0 || json_array_append_new(list, o) != 0) {
            json_decref(o);
            goto done;
        }
    }
    out = json_pack("{s:o, s:o, s:O}", "own", tq_jstr(own_name), "region",
                    tq_jstr(region_name), "quarters", list);
done:
    json_decref(list);
    json_decref(per_row);
    json_decref(defaults);
    free(qr);
    free(periods);
    return out;
}

static void table_fetched(const struct db_reply *reply, void *arg)
{
    struct request *r = arg;
    struct tq *q = r->state;
    struct table_row *rows = NULL;
    const char **reasons = NULL;
    struct table t;
    memset(&t, 0, sizeof t);
    if (!metric_found(r, reply))
        return;
    const PGresult *res = reply->res;
    int nres = PQntuples(res);
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
        row->has_held_ratio = !PQgetisnull(res, i, 43) && !PQgetisnull(res, i, 44);
        if (row->has_held_ratio) {
            row->held_num = strtod(PQgetvalue(res, i, 43), NULL);
            row->held_den = strtod(PQgetvalue(res, i, 44), NULL);
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
        /* the region drawn beside England: the signed-in council's, else
         * the highlighted authority's */
        const char *chart_region = NULL;
        for (size_t i = 0; i < n; i++)
            if ((q->caller.kind == CALLER_COUNCIL &&
                 strcmp(rows[i].code, q->caller.authority) == 0) ||
                (!chart_region && (long)i == focal))
                chart_region = rows[i].region_code;
        json_t *quarters = quarters_json(q, &tm, res, rows, n, chart_region);
        struct tables_view v = {.t = &t, .reasons = reasons, .id = tm.id, .label = tm.label,
                                .unit = tm.unit, .kind = tm.kind,
                                .description = PQgetvalue(res, 0, 31),
                                .polarity_name = PQgetvalue(res, 0, 4), .dp = tm.dp,
                                .additive = tm.additive,
                                .polarity = tm.polarity, .period = q->period,
                                .focal = tm.focal, .region_name = region_name,
                                .periods = periods, .sources = sources,
                                .quarters = quarters};
        size_t len = 0;
        char *body = periods && sources && quarters ? q->page->table(r, &v, &len) : NULL;
        json_decref(periods);
        json_decref(sources);
        json_decref(quarters);
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
    if (!metric_found(r, reply))
        return;
    const char *p = tq_cell(reply->res, 0, 1);
    if (!p || period_parse(p, &q->per) != 0) {
        tq_bad_param(r, 404, "period", "no figures recorded for this metric yet");
        return;
    }
    snprintf(q->period, sizeof q->period, "%s", p);
    q->latest = 1;
    table_query(r);
}

int tables_table_compute(struct request *r)
{
    struct tq *q = r->state;
    if (!q->period[0]) {
        const char *params[1] = {q->metric};
        return tq_read(r, LATEST_SQL, 1, params, latest_fetched);
    }
    table_query(r);
    return 0;
}

/* ---------------------------------------------------------------- meta */

static void meta_fetched(const struct db_reply *reply, void *arg)
{
    struct request *r = arg;
    struct tq *q = r->state;
    if (!metric_found(r, reply))
        return;
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

int tables_meta_compute(struct request *r)
{
    struct tq *q = r->state;
    const char *params[1] = {q->metric};
    return tq_read(r, "SELECT id, label, unit, dp FROM metrics WHERE id = $1", 1, params,
                   meta_fetched);
}
