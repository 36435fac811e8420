/*
 * Forecasts for the server and the CLI: loads a metric's history from the
 * database as a panel (every authority, its region and statistical
 * neighbours), fits it with the forecasts/ library, reconciles England and
 * regions with the authorities, and turns each result into the JSON
 * document the API serves.
 *
 * Blocking libpq: used by the forecast worker thread and CLI commands only,
 * never on the event loop.
 */
#ifndef SENDBENCH_FORECAST_RUN_H
#define SENDBENCH_FORECAST_RUN_H

#include <jansson.h>
#include <libpq-fe.h>
#include <stddef.h>

#include "codes.h"
#include "forecast.h"

#define FR_MAX_HORIZON 5
#define FR_DEFAULT_HORIZON 3
#define FR_NEIGHBOURS 10
#define FR_MAX_REGIONS 16
/* Bump when the fitting or the documents change: stored forecasts made by
 * another engine are refitted at start-up. */
#define FR_ENGINE "2026-12-02.2"

/* A track record (an authority's own rolling-origin accuracy) is stated
 * only from at least this many origins; below it the document says "too
 * little history to judge" instead of a percentage. */
#define FR_TRACK_MIN_ORIGINS 5

struct fr_authority {
    char code[12];
    char old_code[4];
    char name[128];
    int region;          /* index into fr_panel.region_codes */
    int current;         /* 1 when it exists now (no valid_to) */
    /* Boundary changes: years before this authority existed apportioned
     * from its predecessors' figures (fc_backcast), and what was done, in
     * words; n_apportioned == 0 and boundary[0] == 0 when none. */
    int n_apportioned;
    int first_apportioned, last_apportioned;   /* years */
    double share;
    char predecessors[160];                    /* "Dorset (835), Poole (836)" */
    char boundary[400];
};

/* One metric's annual history: n_series authorities x n years. */
struct fr_panel {
    char metric[64];
    char label[200];
    char unit[8];
    char period_kind[20];   /* census_year, calendar_year or financial_year */
    enum fc_kind kind;
    int first_year;         /* time index 0 */
    int n;                  /* years */
    int n_series;
    double *y;              /* n_series * n, NAN = missing */
    int *region;            /* n_series */
    int *neighbours;        /* n_series * FR_NEIGHBOURS, -1 = none */
    struct fr_authority *auth;
    int n_regions;
    char region_codes[FR_MAX_REGIONS][12];
    char region_names[FR_MAX_REGIONS][64];
    /* 1 where y holds a real figure, 0 where a boundary change's share of
     * the predecessors was filled in (or nothing): never scored. */
    unsigned char *scored;  /* n_series * n */
    /* How England and the regions are made: additive metrics (counts,
     * money) as sums of the authorities' forecasts; rates and ratios as
     * the ratio of the summed numerator and denominator forecasts, the
     * numerator being rate x denominator (den_* below). */
    int additive;
    char den_metric[64];    /* "" when no denominator is known: equal weights */
    char rate_num[64];      /* a ratio's numerator (derived_metrics), "" otherwise */
    double rate_sign, rate_scale;   /* value = sign * num / den * scale */
    double *den_y;          /* n_series * n: the denominator's figures */
    double *den_fc;         /* n_series * FR_MAX_HORIZON: its forecasts */
    /* The DfE's published England (row n_regions) and regional figures on
     * this axis, NAN where none (computed from the published numerator and
     * denominator for rates): (n_regions + 1) * n. */
    double *area_y;
    int n_published;        /* published area figures found */
};

/* The library's view of a panel (borrows p). */
void fr_fc_panel(const struct fr_panel *p, struct fc_panel *out);

/* Loads metric's history.  Returns 0 (p filled; free with fr_panel_free),
 * 1 when the metric has no annual data (p empty), -1 with err on failure
 * (unknown metric, database error). */
int fr_panel_load(PGconn *conn, const char *metric, struct fr_panel *p, char *err,
                  size_t errlen) __attribute__((warn_unused_result));
void fr_panel_free(struct fr_panel *p);

/* The shortest training window of the rolling origins used to choose and
 * calibrate: five years for the long stock series (2010-), three for the
 * flows (2015-), as in bench/results/backtest.md. */
int fr_min_train(const struct fr_panel *p);

/* The label of the period `year` on this panel's axis ("2023", "2023-24"). */
void fr_period_label(const struct fr_panel *p, int year, char *out, size_t outlen);

/* Called for each document made by fr_fit; doc is a new reference the
 * callee must take (json_decref when done).  Return non-zero to stop. */
typedef int (*fr_emit_fn)(const char *scope, const char *scope_code, json_t *doc, void *arg);

/* Fits every current authority (or only the one whose code is `only`, when
 * not NULL: England/region codes select the aggregates) with the automatic
 * choice and calibrated intervals, then England and the regions reconciled
 * bottom-up; each document goes to emit.  Returns the number of documents,
 * or -1 with err. */
int fr_fit(const struct fr_panel *p, int horizon, long long data_version, const char *only,
           fr_emit_fn emit, void *arg, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/* Refits one metric and stores every document in `forecasts` in one
 * transaction.  Returns documents stored (0 when the metric has no data),
 * or -1 with err. */
int fr_refit_and_store(PGconn *conn, const char *metric, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/* Pieces of a document shared by the annual and the quarterly ones: a
 * track record with its n (no figure below FR_TRACK_MIN_ORIGINS origins),
 * the name of a model's scale, and why its intervals look as they do. */
json_t *fr_accuracy_json(const struct fc_accuracy *a);
const char *fr_scale_name(enum fc_scale s);
const char *fr_interval_shape(enum fc_scale s);

/* Councils' quarters (server/forecast_quarterly.c): every authority with at
 * least FR_QUARTERLY_MIN approved quarters of a metric gets a forecast of
 * its next FR_QUARTERLY_HORIZON quarters, fitted from its own approved
 * quarters only (seasonal naive and Holt-Winters among the candidates),
 * stored with frequency 'quarterly'.  Refits every metric with quarterly
 * figures; returns documents stored, or -1 with err. */
#define FR_QUARTERLY_MIN 8
#define FR_QUARTERLY_HORIZON 4
int fr_refit_quarterly(PGconn *conn, char *err, size_t errlen)
    __attribute__((warn_unused_result));
/* 'YYYY-YY Qn' as a quarter number (year * 4 + n - 1), -1 when not one. */
int fr_quarter_index(const char *period);
void fr_quarter_label(int index, char *out, size_t outlen);

/* Keeps the first `horizon` forecasts of a stored document (borrowed doc is
 * changed in place). */
void fr_doc_truncate(json_t *doc, int horizon);

/* The forecasts of doc as download rows: period,forecast,lo80,hi80,lo95,hi95,
 * rounded to dp places, the metric's catalogue dp ("3547", not
 * "3547.429592"; SHEET_DP_ANY: as they are), so the CSV and the workbook
 * hold the same numbers.  The JSON keeps full precision.  Caller frees
 * (sheet_free); NULL when out of memory. */
struct sheet;
struct sheet *fr_doc_sheet(const json_t *doc, int dp);

/* Writes the forecasts of doc as CSV: period,forecast,lo80,hi80,lo95,hi95,
 * rounded to dp places (the metric's catalogue dp).  Returns a malloc'd
 * string (caller frees) or NULL. */
char *fr_doc_csv(const json_t *doc, int dp);

#endif
