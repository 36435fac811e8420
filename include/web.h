/*
 * Server-rendered pages (the web interface and the evidence pack): the page
 * shell with its inline stylesheet, HTML or JSON error replies, and one
 * async database query per page whose answer PostgreSQL builds as JSON.
 *
 * The numbers drawn come from the same tables and views the JSON API reads
 * (current_observations, metrics, authorities, statistical_neighbours, the
 * stored forecast documents), with the same rules: published figures only,
 * competition ranking that respects polarity, quartile bands A-D.
 */
#ifndef SENDBENCH_WEB_H
#define SENDBENCH_WEB_H

#include <jansson.h>
#include <stddef.h>

#include "http.h"

struct evbuffer;

/*
 * SQL common table expressions the pages share (after WITH, followed by
 * a comma):
 *   obs   published current figures with a value (authority, metric, period,
 *         period_start, value float8, source, recorded_at), plus the derived
 *         percentages computed from their published parts.
 *   rnk   every figure ranked within its metric and period over England:
 *         rank (competition ranking by polarity on the published rounding),
 *         n (authorities ranked) and band 'A'..'D' (NULL for neutral).
 */
#define WEB_OBS_CTE \
    "cur AS MATERIALIZED (SELECT authority, metric, period, period_start, value::float8 AS value," \
    "   source, recorded_at FROM current_observations WHERE published AND value IS NOT NULL)," \
    " obs AS MATERIALIZED (SELECT * FROM cur UNION ALL" \
    "  SELECT n.authority, d.id, n.period, n.period_start, 100.0 * n.value / q.value," \
    "   'Derived from ' || n.source, greatest(n.recorded_at, q.recorded_at)" \
    "  FROM (VALUES ('pct_within_20_weeks', 'new_plans_within_20_weeks', 'new_plans_issued')," \
    "               ('pct_within_20_weeks_ex', 'new_plans_within_20_weeks_ex', 'new_plans_issued_ex')," \
    "               ('request_to_assessment_rate', 'requests_decided_to_assess', 'requests_received'))" \
    "        d(id, num, den)" \
    "  JOIN cur n ON n.metric = d.num" \
    "  JOIN cur q ON q.metric = d.den AND q.authority = n.authority AND q.period = n.period" \
    "   AND q.value > 0)," \
    " rnk AS (SELECT o.*, rank() OVER w AS rank, count(*) OVER (PARTITION BY o.metric, o.period) AS n," \
    "   CASE WHEN m.polarity = 'neutral' THEN NULL ELSE chr(65 + floor(4.0 * ((rank() OVER w) - 1)" \
    "     / count(*) OVER (PARTITION BY o.metric, o.period))::int) END AS band" \
    "  FROM obs o JOIN metrics m ON m.id = o.metric" \
    "  WINDOW w AS (PARTITION BY o.metric, o.period ORDER BY CASE WHEN m.polarity = 'lower_better'" \
    "   THEN round(o.value::numeric, m.dp) ELSE -round(o.value::numeric, m.dp) END))"

/* Called with the query's JSON document (borrowed; valid during the call).
 * Must end the request with one reply. */
typedef void (*web_doc_fn)(struct request *r, json_t *doc);

/* Runs sql (one row, one column of JSON) on the pool and calls fn; a NULL
 * document answers 404 with not_found; database errors answer 503/500. */
void web_query_doc(struct request *r, const char *sql, int nparams, const char *const *params,
                   web_doc_fn fn, const char *not_found);

/* Opens a page: doctype, lang="en", title, inline stylesheet, skip link,
 * header with the search form, and <main id="main">.  Returns 0 or -1. */
int web_page_begin(struct evbuffer *b, const char *title, const char *q)
    __attribute__((warn_unused_result));
/* Closes main, adds the licence footer and closes the page. */
int web_page_end(struct evbuffer *b) __attribute__((warn_unused_result));

/* 200 text/html with the buffer (freed here).  NULL answers 500. */
void web_reply_page(struct request *r, struct evbuffer *b);

/* An error: an HTML page when the client asks for text/html (a browser),
 * otherwise the API's JSON error; field and rule name the bad parameter
 * (both may be NULL). */
void web_reply_error(struct request *r, int status, const char *code, const char *message,
                     const char *field, const char *rule);

/* Appends printf-style text (no escaping: only for markup and numbers). */
int web_put(struct evbuffer *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3), warn_unused_result));

/* JSON accessors: borrowed string or NULL; number or NAN. */
const char *web_str(const json_t *o, const char *key);
double web_num(const json_t *o, const char *key);

/* The Open Government Licence attribution the DfE figures must carry. */
#define WEB_OGL_LINE \
    "Contains public sector information licensed under the Open Government Licence v3.0 " \
    "(Department for Education)"


/* One authority's page data, $1 = ONS code or DfE number: the authority,
 * its neighbours, every metric with its latest rank/band and its series
 * against the neighbours' and England's medians, growth in plans since
 * 2015, the stored forecast documents and submitted staffing figures (only
 * when the authority consented to be named).  NULL when unknown.
 * Defined in server/routes_web.c; the evidence pack reads the same. */
extern const char WEB_AUTHORITY_SQL[];

/* ---- pieces shared by the profile page and the evidence pack
 * (server/web_charts.c); doc is WEB_AUTHORITY_SQL's document. */

/* The metric object of doc with this id (borrowed), or NULL. */
json_t *web_metric(const json_t *doc, const char *id);
/* The stored forecast document for this metric (borrowed), or NULL;
 * *stale says whether newer data exist than it was fitted on. */
json_t *web_forecast(const json_t *doc, const char *metric, int *stale);

/* A quartile band as colour AND text: "A (best quarter)" .. "D (worst
 * quarter)", "not banded" for neutral metrics or no rank. */
int web_band(struct evbuffer *b, const char *band) __attribute__((warn_unused_result));

/* A <figure> with the metric's line chart: the authority, its statistical
 * neighbours' median and the England median over every period with data,
 * and a caption with the source and date of the figures. */
int web_metric_figure(struct evbuffer *b, const json_t *doc, const json_t *metric,
                      const char *chart_id) __attribute__((warn_unused_result));

/* A <figure> with the forecast fan (history + 80%/95% intervals + point
 * forecast, at most 3 years) and the backtest accuracy in plain words. */
int web_forecast_figure(struct evbuffer *b, const json_t *doc, const char *metric,
                        const char *chart_id) __attribute__((warn_unused_result));

/* "In past years this method's forecasts were off by N% on average" from
 * the chosen model's sMAPE (or a sentence saying there is no track record). */
void web_accuracy_words(const json_t *fc_doc, char *buf, size_t len);

#endif
