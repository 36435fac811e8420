/*
 * Comparative tables and profiles, inside: the state of one table,
 * metadata or profile request and what the files of the concern share.
 * server/routes_tables.c validates; server/tables_query.c keeps the
 * request's state, the cache and the reads; server/tables_table.c computes
 * a table and its metadata; server/tables_output.c writes a table's JSON,
 * CSV and XLSX; server/tables_profile.c queries a profile, which
 * server/profile.c computes (include/profile.h).  The pure maths
 * is tables.h's.  Not for other modules, but for the collections
 * (server/routes_collections.c), which write their summaries as the tables
 * do (table_summary_json).
 */
#ifndef SENDBENCH_TABLES_QUERY_H
#define SENDBENCH_TABLES_QUERY_H

#include <jansson.h>
#include <libpq-fe.h>
#include <stddef.h>
#include <stdint.h>

#include "attribution.h"
#include "auth.h"
#include "cache.h"
#include "db.h"
#include "period.h"
#include "tables.h"

struct app;
struct db_reply;
struct xsec_run;
struct request;
struct sheet;
struct tables_page;

#define MIN_CONTRIBUTORS 3

/* The one derived metric that also reads the year-earlier period. */
#define GROWTH_METRIC "caseload_growth_pct"

/* The published figures a derived metric is computed from, as (metric,
 * input) rows: the database's one declaration (sql/150's derived_metrics,
 * through its view derived_inputs): pages cite their sources. */
#define TABLES_DERIVED_INPUTS "SELECT metric, input FROM derived_inputs"
/* A derived rate's numerator and denominator (rt.num, rt.den) for the
 * figure s, joined to its ratio's derived_metrics row as dmx: for
 * England's and the region's ratio of sums where nothing is published. */
#define TABLES_RATIO_INPUTS_SQL \
    " LEFT JOIN LATERAL (SELECT max(o.value) FILTER (WHERE o.metric = dmx.numerator) AS num," \
    "   coalesce(max(o.value) FILTER (WHERE o.metric = dmx.denominator)," \
    "    max(o.value) FILTER (WHERE o.metric = dmx.fallback_denominator)) AS den" \
    "  FROM current_observations o WHERE dmx.metric IS NOT NULL AND o.authority = s.authority" \
    "   AND o.period = s.period" \
    "   AND o.metric IN (dmx.numerator, dmx.denominator, dmx.fallback_denominator)) rt ON true" \
    " LEFT JOIN LATERAL (SELECT max(o.value) FILTER (WHERE o.metric = dmx.numerator) AS num," \
    "   coalesce(max(o.value) FILTER (WHERE o.metric = dmx.denominator)," \
    "    max(o.value) FILTER (WHERE o.metric = dmx.fallback_denominator)) AS den" \
    "  FROM figures_aggregated o WHERE dmx.metric IS NOT NULL AND o.authority = s.authority" \
    "   AND o.period = s.period" \
    "   AND o.metric IN (dmx.numerator, dmx.denominator, dmx.fallback_denominator)) rh ON true"

/* The inputs TABLES_RATIO_INPUTS_SQL joins, as one text column: "num den
 * held_num held_den" (the held ones as the aggregates hold them, sql/181;
 * "nan" where missing), NULL when neither pair is complete. */
#define TABLES_RATIO_INPUTS_TEXT \
    "  CASE WHEN (rt.num IS NOT NULL AND rt.den IS NOT NULL)" \
    "   OR (rh.num IS NOT NULL AND rh.den IS NOT NULL) THEN" \
    "   coalesce(rt.num::text, 'nan') || ' ' || coalesce(rt.den::text, 'nan') || ' ' ||" \
    "   coalesce(rh.num::text, 'nan') || ' ' || coalesce(rh.den::text, 'nan') END"

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
    int xlsx;                   /* the CSV's rows as a workbook (include/xlsx.h) */
    char base[PERIOD_MAX];      /* "" none */
    struct auth_caller caller;
    const struct tables_page *page;     /* a page drawn from this table or profile, or NULL */
    /* A variant of the page (tables_page_profile_with): part of the key,
     * and what its renderer reads (tables_page_arg), freed with q. */
    char variant[72];
    void *arg;
    void (*arg_free)(void *arg);
    char key[256];
    uint64_t generation;
    int latest;                 /* the period was "latest with data" */
    const PGresult *res;        /* a profile's rows, while they are being answered */
    PGresult *kept_res;         /* ... kept while its cross-sections are read (freed with q) */
    struct xsec_run *xruns;     /* an API profile's cross-sections, one per metric */
    size_t nxruns;
    uint64_t xsec_generation;   /* the cache's, when they were asked for */
    /* Single flight (cache.h): one computation per key at a time. */
    struct app *app;
    struct cache_flight *flight;    /* the computation this request leads, or NULL */
    struct cache_waiter waiter;     /* while it waits on another's */
    int solo;                   /* compute alone (the flight it waited on failed) */
};

struct table_meta {
    const char *id, *label, *unit, *kind, *annual_period, *mask_key, *focal;
    int dp;
    enum polarity polarity;
    int additive;               /* metrics.additive (sql/192) */
    char prev[PERIOD_MAX], year[PERIOD_MAX], base[PERIOD_MAX];
    int has_base;
};

/* ---- server/routes_tables.c: the handlers ---- */
/* Takes the caller the dispatcher resolved, then next(r). */
void tq_caller_resolve(struct request *r, void (*next)(struct request *r));

/* ---- server/tables_query.c: the request's state, cache and reads ---- */
/* A request's state (r->state, freed with the request); NULL after
 * answering 500 when out of memory. */
struct tq *tq_new(struct request *r, enum tq_kind kind);
/* An anonymous caller's read may go to the replica (--db-read); the
 * others' stay on the primary.  0, or -1 when it could not be queued. */
int tq_read(struct request *r, const char *sql, int nparams, const char *const *params,
            db_cb cb);
/* Answers from the cache, waits on a computation of the same key, or
 * computes (exactly one reply, now or later). */
void tq_serve_or_compute(struct request *r);
const char *tq_visibility_key(const struct auth_caller *c, char *buf, size_t len);
json_t *tq_jnum(double v, int dp);
json_t *tq_jstr(const char *s);
enum period_basis tq_annual_basis(const char *annual_period);
const char *tq_cell(const PGresult *res, int row, int col);
/* Sends a read for r (an anonymous caller's may go to the replica, db_read.h);
 * 0, or -1 when out of memory. */
int tq_read(struct request *r, const char *sql, int nparams, const char *const *params,
            db_cb cb) __attribute__((warn_unused_result));
void tq_db_failed(struct request *r, const struct db_reply *reply);
void tq_bad_param(struct request *r, int status, const char *field, const char *message);
void tq_store_and_reply(struct request *r, struct tq *q, const char *content_type,
                            char *body, size_t len);
void tq_reply_json_doc(struct request *r, struct tq *q, json_t *doc);
void tq_read_cell(const PGresult *res, int row, int col_value, struct table_cell *c);
/* The same from the three texts (NULL: SQL NULL); symbol borrowed from sym. */
void tq_cell_from_text(const char *v, const char *sym, const char *pub, struct table_cell *c);

/* ---- server/tables_table.c: a table's and its metadata's computation ---- */
/* Starts q's table (the latest period first when none was given) or its
 * metadata; 0, or -1 when the query could not be queued (the caller
 * answers 500). */
int tables_table_compute(struct request *r);
int tables_meta_compute(struct request *r);

/* ---- server/tables_output.c: a table as JSON (the API's document), and its
 * downloads: the DfE tidy CSV and the same rows as XLSX ---- */
json_t *table_json(const struct tq *q, const struct table *t, const struct table_meta *tm,
                          const char *const *reasons, const char *region_name);
json_t *table_cell_json(const struct table_cell *c, int dp);
json_t *table_symbol_json(const struct table_cell *c);
/* The table's download rows (numbers rounded to the catalogue's places,
 * symbols as text); caller frees (sheet_free), NULL when out of memory. */
struct sheet *table_sheet(const struct tq *q, const struct table *t, const struct table_meta *tm,
                          const char *region_name);
/* What each column of a table's download holds (DfE metadata layout), as
 * the sheet "columns"; caller frees, NULL when out of memory. */
struct sheet *table_meta_sheet(const char *id, const char *label, const char *unit, int dp);
/* Answers (and keeps) the download of sheets[0..n): CSV of the first, or
 * (q->xlsx) all of them as a workbook with its About sheet (title, extra
 * "name", "value" pairs, NULL-terminated).  The sheets stay the caller's. */
void table_reply_download(struct request *r, struct tq *q, const struct sheet *const *sheets,
                          size_t n, const char *title, const char *const *extra);
/* Content-Disposition of an XLSX download: METRIC SUFFIX.xlsx. */
void table_download_name(struct request *r, const char *metric, const char *suffix);
/* An England, region or neighbours summary: n, n_missing, mean, median,
 * symbol, and (additive metrics only) total; NULL when out of memory. */
json_t *table_summary_json(const struct table_summary *s, int dp, int additive);
/* Sets "value", "value_source" (and "value_symbol") of an England, region
 * or neighbours summary on o. */
void table_summary_value_json(json_t *o, const struct table_summary *s, int dp);

/* ---- server/tables_profile_sheet.c ---- */
/* A profile's download rows: one per metric with a figure (its latest
 * period as the profile shows it, ranks, band, England's, the region's and
 * the neighbours' values); caller frees, NULL when out of memory. */
struct profile;
struct sheet *profile_sheet(const struct profile *p);

/* ---- server/tables_profile.c: the profile query and its callback ---- */
extern const char TABLES_PROFILE_SQL[];
/* The profile query's text for an API answer or (page 1) a page. */
const char *tables_profile_sql(int page);
void tables_profile_fetched(const struct db_reply *reply, void *arg);

#endif
