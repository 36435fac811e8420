/* Authority profiles: every metric against neighbours, region and England,
 * and the time series (see include/tables_query.h). */
#include "codes.h"
#include "sheet.h"
#include "tables_query.h"

#include <csv.h>
#include <event2/buffer.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "db.h"
#include "http.h"
#include "log.h"
#include "metrics.h"
#include "profile.h"
#include "tables_page.h"
#include "tables_xsec.h"

/* ---------------------------------------------------------------- profile */

/*
 * One query: the authority ('a'), the metrics ('m') with the period each
 * is shown for, the authority's own series ('s'), with $3 (pages) the
 * cross-sections ('x': every authority's figure) of every period, ordered
 * by period so that each (metric, period) is one run of rows, and
 * England's and the region's published figures ('z').  An API profile's
 * cross-sections come from the store (tables_xsec.h), read once for every
 * profile that shows them.  With $3 the 'a' row also carries what only pages show
 * (sources, forecasts, submitted staffing).
 */
const char TABLES_PROFILE_SQL[] =
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
    /* For each metric the period shown (before $2 when given): the
     * subject's own latest figure that the caller may see (published, or
     * $4 the caller's authority, $5 admin, or consent), else the latest
     * public default period (sql/090).  A figure the caller may not see
     * never decides the period, so the choice says nothing about
     * unpublished figures (docs/disclosure.md). */
    " chosen AS ("
    "  SELECT m.id AS metric, coalesce(o.period, a.period) AS period FROM metrics m"
    "  LEFT JOIN LATERAL (SELECT s.period FROM own s CROSS JOIN subj j WHERE s.metric = m.id"
    "   AND ($2::date IS NULL OR s.period_start < $2::date)"
    "   AND (s.published OR $5 OR j.new_la_code = coalesce($4, '') OR j.consent_to_name)"
    "   ORDER BY s.period_start DESC, s.published DESC LIMIT 1) o ON true"
    "  LEFT JOIN LATERAL (SELECT d.period FROM default_periods d"
    "   WHERE o.period IS NULL AND d.metric = m.id"
    "   AND ($2::date IS NULL OR d.period_start < $2::date)"
    "   ORDER BY d.period_start DESC, d.published DESC LIMIT 1) a ON true"
    "  WHERE coalesce(o.period, a.period) IS NOT NULL)"
    " SELECT 'a' AS t, NULL AS metric, NULL AS period, s.new_la_code AS code,"
    "  s.region_code, NULL::int AS nb, NULL::text AS value, NULL::text AS symbol,"
    "  NULL::text AS published, NULL::text AS reason, '' AS ord,"
    "  json_build_object('code', s.new_la_code, 'old_la_code', s.old_la_code, 'name', s.name,"
    "   'region_code', s.region_code, 'region_name', s.region_name,"
    "   'consent_to_name', s.consent_to_name, 'valid_to', s.valid_to,"
    "   'valid_from', s.valid_from,"
    /* Boundary changes: the pages name predecessors and successors. */
    "   'predecessors', coalesce((SELECT json_agg(json_build_object('code', x.predecessor,"
    "     'name', p.name, 'effective', x.effective) ORDER BY x.predecessor)"
    "     FROM authority_successions x JOIN authorities p ON p.new_la_code = x.predecessor"
    "     WHERE x.successor = s.new_la_code), '[]'),"
    "   'successors', coalesce((SELECT json_agg(json_build_object('code', x.successor,"
    "     'name', p.name, 'effective', x.effective) ORDER BY x.successor)"
    "     FROM authority_successions x JOIN authorities p ON p.new_la_code = x.successor"
    "     WHERE x.predecessor = s.new_la_code), '[]'),"
    "   'neighbours', coalesce((SELECT json_agg(json_build_object('rank', n.rank,"
    "     'code', n.neighbour, 'name', b.name, 'closeness', n.closeness) ORDER BY n.rank)"
    "     FROM statistical_neighbours n JOIN authorities b ON b.new_la_code = n.neighbour"
    "     WHERE n.authority = s.new_la_code), '[]'))::text AS info,"
    "  CASE WHEN $3 THEN json_build_object("
    "   'generated_at', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI \"UTC\"'),"
    "   'data_version', data_version(),"
    "   'sources', coalesce((SELECT json_object_agg(w.metric, w.srcs) FROM ("
    "     SELECT u.metric, json_agg(json_build_object('source', u.source, 'recorded', u.rec,"
    "      'release', i.release, 'published', to_char(i.published, 'YYYY-MM-DD'))"
    "      ORDER BY i.published NULLS FIRST, u.rec, u.source) AS srcs FROM ("
    "      SELECT d.metric, z.source, max(z.rec) AS rec"
    "      FROM (SELECT id AS metric, id AS input FROM metrics UNION ALL"
    "            SELECT * FROM (" TABLES_DERIVED_INPUTS ") v(metric, input)) d"
    "      JOIN (SELECT metric, source, to_char(max(recorded_at), 'YYYY-MM-DD') AS rec FROM src"
    "            WHERE published AND source IS NOT NULL GROUP BY metric, source) z"
    "       ON z.metric = d.input GROUP BY d.metric, z.source) u"
    "      LEFT JOIN import_sources i ON i.source = u.source GROUP BY u.metric) w), '{}'),"
    /* Figures the import checks hold back (quarantined, not released):
     * the pages say which and why (Yorkshire and The Humber's 2022 new
     * plans carry the regional total). */
    "   'held_back', coalesce((SELECT json_agg(json_build_object('metric', q.metric,"
    "     'label', m.label, 'period', q.period, 'rule', q.rule, 'detail', q.detail)"
    "     ORDER BY m.sort_order, q.period) FROM import_quality q"
    "     JOIN metrics m ON m.id = q.metric"
    "     WHERE q.authority = s.new_la_code AND q.action = 'quarantine'"
    "      AND NOT EXISTS (SELECT 1 FROM import_quality_releases r WHERE r.quality_id = q.id)"
    "      AND NOT EXISTS (SELECT 1 FROM current_observations c WHERE c.authority = q.authority"
    "       AND c.metric = q.metric AND c.period = q.period)), '[]'),"
    "   'forecasts', coalesce((SELECT json_agg(json_build_object('metric', f.metric,"
    "     'stale', f.data_version < forecast_data_version(), 'doc', f.doc) ORDER BY m.sort_order)"
    "     FROM forecasts f JOIN metrics m ON m.id = f.metric"
    "     WHERE f.scope_code = s.new_la_code AND f.frequency = 'annual'), '[]'),"
    /* Council-submitted staffing is not published: shown only when the
     * authority agreed to be named beside its own submitted figures, or to
     * the authority itself ($4) and admins ($5). */
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
    "      AND ((c.published AND f.published) OR s.consent_to_name OR $5"
    "           OR s.new_la_code = coalesce($4, ''))), '[]'))"
    "  )::text END AS extra"
    " FROM subj s"
    " UNION ALL"
    " SELECT 'm', m.id, c.period, NULL, NULL, NULL, NULL, NULL, NULL, NULL,"
    "  lpad(m.sort_order::text, 6, '0'),"
    "  json_build_object('label', m.label, 'unit', m.unit, 'dp', m.dp,"
    "   'polarity', m.polarity, 'kind', m.kind, 'annual_period', m.annual_period,"
    "   'additive', m.additive, 'description', m.description, 'ratio_scale', (SELECT d.sign * d.scale"
    "    FROM derived_metrics d WHERE d.metric = m.id AND d.formula = 'ratio'),"
    /* Pages: the quarters that are public defaults (sql/090), whose
     * England and region aggregates anyone's quarterly chart draws. */
    "   'default_quarters', CASE WHEN $3 THEN (SELECT json_agg(d.period) FROM default_periods d"
    "    WHERE d.metric = m.id AND d.period LIKE '% Q_') END)::text, NULL"
    " FROM metrics m LEFT JOIN chosen c ON c.metric = m.id WHERE EXISTS (SELECT 1 FROM subj)"
    " UNION ALL"
    " SELECT 'x', s.metric, s.period, a.new_la_code, a.region_code, NULL::int,"
    /* A DfE footnote the import checks carry (sql/170) travels as the
     * reason: with a value, the figure is shown but not ranked. */
    "  s.value::text, s.symbol, figure_state(s.published, s.authority, s.metric, s.period),"
    "  coalesce(fn.note, s.reason), s.period_start::text || ' ' || s.period,"
    "  a.consent_to_name::text,"
    TABLES_RATIO_INPUTS_TEXT
    " FROM (SELECT * FROM src WHERE $3"
    /* held figures no longer in force (sql/181): in aggregates only */
    "  UNION ALL SELECT authority, metric, period, period_start, NULL, NULL, false, NULL, NULL,"
    "   NULL FROM figures_held_out WHERE $3) s"
    " JOIN authorities a ON a.new_la_code = s.authority"
    " LEFT JOIN figure_notes fn ON fn.authority = s.authority AND fn.metric = s.metric"
    "  AND fn.period = s.period"
    /* A derived rate's numerator and denominator, for England's and the
     * region's ratio of sums where nothing is published: on pages the
     * quarters (council submissions; the DfE publishes its years by area);
     * an API profile's from the store (TABLES_XSEC_SQL, every period). */
    " LEFT JOIN derived_metrics dmx ON dmx.metric = s.metric AND dmx.formula = 'ratio'"
    "  AND (NOT $3 OR s.period LIKE '% Q_')"
    TABLES_RATIO_INPUTS_SQL
    " UNION ALL"
    " SELECT 's', s.metric, s.period, NULL, NULL, NULL, s.value::text, s.symbol,"
    "  s.published::text, coalesce(fn.note, s.reason), s.period_start::text || ' ' || s.period,"
    "  NULL, NULL"
    " FROM own s LEFT JOIN figure_notes fn ON fn.authority = s.authority"
    "  AND fn.metric = s.metric AND fn.period = s.period"
    " UNION ALL"
    /* England's and the subject's region's figures as the DfE publishes
     * them (sql/091), for the periods shown ($3: all). */
    " SELECT 'z', f.metric, f.period, f.area, NULL, NULL, f.value::text, f.symbol, 'true',"
    "  NULL, f.period_start::text || ' ' || f.period, NULL, NULL"
    " FROM area_figures f CROSS JOIN subj j"
    " WHERE f.area IN ('E92000001', j.region_code)"
    "  AND ($3 OR (f.metric, f.period) IN (SELECT metric, period FROM chosen))"
    " ORDER BY 1, 11, 2";


/* Answers from the profile's rows (q->res) and, for an API profile, the
 * cross-sections in q->xruns. */
static void profile_answer(struct request *r)
{
    struct tq *q = r->state;
    int status = 500;
    struct profile p;
    if (profile_compute(&p, q->res, q->page != NULL, q->xruns, &q->caller, q->period,
                        &status) != 0) {
        profile_clear(&p);
        if (status == 404)
            tq_bad_param(r, 404, "code", "no such authority");
        else
            http_reply_oom(r);
        return;
    }
    if (!q->page && (q->csv || q->xlsx)) {
        struct sheet *rows = profile_sheet(&p);
        const char *name = p.authority.name;
        char title[200];
        snprintf(title, sizeof title, "Profile: %s%s%s", name ? name : q->authority,
                 q->period[0] ? ", as at " : "", q->period);
        const char *extra[] = {"authority", q->authority, "as_at",
                               q->period[0] ? q->period : "latest", NULL};
        const struct sheet *sheets[] = {rows};
        if (rows && !sheet_failed(rows))
            table_reply_download(r, q, sheets, 1, title, extra);
        else
            http_reply_oom(r);
        sheet_free(rows);
        profile_clear(&p);
        return;
    }
    json_t *doc = profile_to_json(&p);
    if (!doc) {
        profile_clear(&p);
        http_reply_oom(r);
        return;
    }
    if (!q->page) {
        profile_clear(&p);
        tq_reply_json_doc(r, q, doc);
        return;
    }
    size_t len = 0;
    char *body = q->page->profile(r, &p, doc, &len);
    json_decref(doc);
    profile_clear(&p);
    if (!body) {
        http_reply_oom(r);
        return;
    }
    tq_store_and_reply(r, q, q->page->content_type, body, len);
}


/* The cross-sections an API profile lacked, read (TABLES_XSEC_SQL): kept in
 * the store, and the profile answered. */
static void profile_xsec_fetched(const struct db_reply *reply, void *arg)
{
    struct request *r = arg;
    struct tq *q = r->state;
    if (reply->error) {
        tq_db_failed(r, reply);
        return;
    }
    const PGresult *res = q->kept_res;
    const char **metrics = calloc(q->nxruns + 1, sizeof *metrics);
    const char **periods = calloc(q->nxruns + 1, sizeof *periods);
    struct xsec_run *runs = calloc(q->nxruns + 1, sizeof *runs);
    size_t n = 0;
    for (size_t k = 0; metrics && periods && runs && k < q->nxruns; k++)
        if (!q->xruns[k].res && !PQgetisnull(res, (int)k + 1, 2)) {
            metrics[n] = PQgetvalue(res, (int)k + 1, 1);
            periods[n++] = PQgetvalue(res, (int)k + 1, 2);
        }
    int rc = !metrics || !periods || !runs ? -1
           : xsec_store_put(r->app->xsec, r->app->tables_cache, reply->res, metrics, periods, n,
                            q->xsec_generation, runs);
    for (size_t k = 0, i = 0; rc == 0 && k < q->nxruns; k++)
        if (!q->xruns[k].res && !PQgetisnull(res, (int)k + 1, 2))
            q->xruns[k] = runs[i++];
    free(metrics);
    free(periods);
    free(runs);
    if (rc != 0) {
        http_reply_oom(r);
        return;
    }
    q->res = res;
    profile_answer(r);
}

/* A text[] literal of the strings (ids and periods: no quote or backslash,
 * escaped anyway).  Caller frees; NULL when out of memory. */
static char *text_array(const char *const *v, size_t n)
{
    size_t len = 3;
    for (size_t i = 0; i < n; i++)
        len += 2 * strlen(v[i]) + 3;
    char *out = malloc(len), *p = out;
    if (!out)
        return NULL;
    *p++ = '{';
    for (size_t i = 0; i < n; i++) {
        if (i)
            *p++ = ',';
        *p++ = '"';
        for (const char *c = v[i]; *c; c++) {
            if (*c == '"' || *c == '\\')
                *p++ = '\\';
            *p++ = *c;
        }
        *p++ = '"';
    }
    *p++ = '}';
    *p = '\0';
    return out;
}

void tables_profile_fetched(const struct db_reply *reply, void *arg)
{
    struct request *r = arg;
    struct tq *q = r->state;
    if (reply->error) {
        tq_db_failed(r, reply);
        return;
    }
    q->res = reply->res;
    int nres = PQntuples(reply->res);
    if (q->page || nres == 0 || strcmp(PQgetvalue(reply->res, 0, 0), "a") != 0) {
        profile_answer(r);
        return;
    }
    /* An API profile: each metric's cross-section in the period shown,
     * from the store, and those it lacks in one more query. */
    size_t nm = 0;
    while ((int)nm + 1 < nres && PQgetvalue(reply->res, (int)nm + 1, 0)[0] == 'm')
        nm++;
    q->xruns = calloc(nm + 1, sizeof *q->xruns);
    const char **metrics = calloc(nm + 1, sizeof *metrics);
    const char **periods = calloc(nm + 1, sizeof *periods);
    if (!q->xruns || !metrics || !periods) {
        free(metrics);
        free(periods);
        http_reply_oom(r);
        return;
    }
    q->nxruns = nm;
    size_t missing = 0;
    for (size_t k = 0; k < nm; k++) {
        int i = (int)k + 1;
        if (PQgetisnull(reply->res, i, 2))
            continue;
        if (!xsec_store_get(r->app->xsec, r->app->tables_cache, PQgetvalue(reply->res, i, 1),
                            PQgetvalue(reply->res, i, 2), &q->xruns[k])) {
            metrics[missing] = PQgetvalue(reply->res, i, 1);
            periods[missing++] = PQgetvalue(reply->res, i, 2);
        }
    }
    if (missing == 0) {
        free(metrics);
        free(periods);
        profile_answer(r);
        return;
    }
    char *ma = text_array(metrics, missing), *pa = text_array(periods, missing);
    free(metrics);
    free(periods);
    /* The rows are the callback's only: kept while the cross-sections are read. */
    q->kept_res = PQcopyResult(reply->res, PG_COPYRES_ATTRS | PG_COPYRES_TUPLES);
    q->res = NULL;
    q->xsec_generation = cache_generation(r->app->tables_cache);
    const char *params[2] = {ma, pa};
    int rc = !ma || !pa || !q->kept_res ? -1
           : tq_read(r, TABLES_XSEC_SQL, 2, params, profile_xsec_fetched);
    free(ma);
    free(pa);
    if (rc != 0)
        http_reply_oom(r);
}

/* The pool prepares statements by their text and PostgreSQL keeps one plan
 * per statement: pages ($3 true) read every period, so they get a text (and
 * a plan) of their own.  Loop thread only. */
const char *tables_profile_sql(int page)
{
    static char page_sql[sizeof TABLES_PROFILE_SQL + 32];
    if (!page)
        return TABLES_PROFILE_SQL;
    if (!page_sql[0])
        snprintf(page_sql, sizeof page_sql, "/* pages */ %s", TABLES_PROFILE_SQL);
    return page_sql;
}
