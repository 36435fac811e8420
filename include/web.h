/*
 * Server-rendered pages (the web interface and the evidence pack): the page
 * shell with its inline stylesheet, HTML or JSON error replies, and the
 * pieces the pages share.
 *
 * The numbers drawn are the API's own: the authority page and the evidence
 * pack render the profile document and the metric page the table that
 * server/tables_query.c computes for anonymous callers (include/
 * tables_page.h), so values, ranks, bands, medians and masking cannot
 * differ between the HTML and the JSON.
 */
#ifndef SENDBENCH_WEB_H
#define SENDBENCH_WEB_H

#include <jansson.h>
#include <stddef.h>

#include "attribution.h"
#include "http.h"

struct evbuffer;

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

/* The page in b as a malloc'd string (for the tables cache) with its
 * length; b is freed.  NULL when bad is set or out of memory. */
char *web_page_take(struct evbuffer *b, int bad, size_t *len);

/* A tables_page error hook: a table or profile the page cannot show, as
 * web_reply_error with the page's error codes (unknown_metric,
 * unknown_authority, no_data, not_found, bad_parameter). */
void web_table_error(struct request *r, int status, const char *field, const char *message);

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

/* For a signed-in council looking at its own authority (the profile
 * document's "visibility" is "council:" + its code): the banner
 * "includes your unpublished figures - not for circulation" and, when
 * published_only_href is not NULL, a link to the same page with published
 * figures only.  Nothing for anyone else.  Returns 0 or -1. */
int web_own_banner(struct evbuffer *b, const json_t *doc, const char *published_only_href)
    __attribute__((warn_unused_result));

/* One source of published figures, {source, release, published}: "SOURCE
 * (DfE release RELEASE, published DATE)" - the publication date, never
 * the date sendbench imported it.  Returns 0 or -1. */
int web_source_text(struct evbuffer *b, const json_t *source) __attribute__((warn_unused_result));

/* The boundary changes of the profile's authority in words, with links:
 * "On 2023-04-01 Cumbria was replaced by Cumberland and Westmorland and
 * Furness; its figures are kept as history." / "Formed on 2023-04-01 from
 * Cumbria ...".  Nothing when it has neither.  Returns 0 or -1. */
int web_boundary_note(struct evbuffer *b, const json_t *doc) __attribute__((warn_unused_result));

/* England (or a region) beside an authority, from a profile summary
 * (england/region objects of the profile): the DfE's published value
 * wherever one exists: for a metric that is not additive (a rate, share,
 * ratio or unit cost: the profile's "additive", sql/192) *published = 1
 * ("England"), for a count or sum of money with totals set *published = 2
 * (labelled "DfE's published total"; charts pass totals 0, as a total is
 * not on one authority's scale).  For a derived rate where nothing is published, the
 * ratio of the contributors' summed numerators and denominators
 * (*published 3).  Otherwise the median of authorities (*published 0),
 * or where no median is released (submitted figures) the mean (-1).  NAN
 * when there is none. */
double web_england_value(const json_t *metric, const json_t *summary, int totals,
                         int *published);
/* How web_england_value's figure is labelled after the number: "" for a
 * published rate, " (DfE's published total)", " (median of authorities)",
 * " (mean of authorities)". */
const char *web_england_label(int published);

/* "Notes on these figures" (id figure-notes): every figure of the profile
 * document (pages: with history) carrying a DfE footnote (sql/170: shown,
 * not ranked) and every figure the import checks hold back, with why.
 * Nothing when there are none.  Returns 0 or -1. */
int web_figure_notes(struct evbuffer *b, const json_t *doc) __attribute__((warn_unused_result));

/* Whether a chart of this metric draws this period: annual charts never
 * draw a quarter (two frequencies never share an axis), and calendar 2014
 * is left out of calendar-year series (EHC plans began in September 2014,
 * so that year holds four months), as the forecasts leave it out. */
int web_chart_period(const json_t *metric, const char *period);

/* ---- pieces shared by the profile page and the evidence pack
 * (server/web_charts.c); doc is the profile document with history
 * (tables_page_profile). */

/* The metric object of doc with this id (borrowed), or NULL. */
json_t *web_metric(const json_t *doc, const char *id);
/* The sources of a metric's published figures (for a derived metric, of
 * its inputs): [{source, recorded}] (borrowed), or NULL. */
const json_t *web_sources(const json_t *doc, const char *metric);
/* The stored forecast document for this metric (borrowed), or NULL;
 * *stale says whether newer data exist than it was fitted on. */
json_t *web_forecast(const json_t *doc, const char *metric, int *stale);

/* A quartile band as colour AND text: "A (best quarter)" .. "D (worst
 * quarter)", "not banded" for neutral metrics or no rank. */
int web_band(struct evbuffer *b, const char *band) __attribute__((warn_unused_result));

/* A <figure> with the metric's line chart from its "history": the
 * authority, its statistical neighbours' median and the England median over
 * every period with data, and a caption with the source and date of the
 * figures. */
int web_metric_figure(struct evbuffer *b, const json_t *doc, const json_t *metric,
                      const char *chart_id) __attribute__((warn_unused_result));
/* The subject's submitted quarters of this metric that the caller may see
 * (the profile's series) as a line chart on a quarterly axis of its own
 * (figure data-axis="quarterly"); nothing when there is none.  Quarters
 * never share the annual charts' axis.  Returns 0 or -1. */
int web_quarter_figure(struct evbuffer *b, const json_t *doc, const json_t *metric,
                       const char *chart_id) __attribute__((warn_unused_result));

/* A <figure> with the forecast fan (history + 80%/95% intervals + point
 * forecast, at most 3 years) and the backtest accuracy in plain words. */
int web_forecast_figure(struct evbuffer *b, const json_t *doc, const char *metric,
                        const char *chart_id) __attribute__((warn_unused_result));
/* The same; with_record 0 leaves the track record out of the caption (the
 * evidence pack prints it once, in its own paragraph). */
int web_forecast_figure_record(struct evbuffer *b, const json_t *doc, const char *metric,
                               const char *chart_id, int with_record);

/* "In past years this method's forecasts were off by N% on average" from
 * the chosen model's sMAPE (or a sentence saying there is no track record). */
void web_accuracy_words(const json_t *fc_doc, char *buf, size_t len);

#endif
