/*
 * An authority's profile as computed, before any rendering: every metric
 * against its statistical neighbours, its region and England, with the
 * authority's own series and (pages) every period's cross-section and the
 * growth in plans.
 *
 * server/profile.c fills it from the profile query's rows (include/
 * tables_query.h); the renderers read its fields: the API's JSON
 * (server/profile_json.c), the download (server/tables_profile_sheet.c)
 * and, through the JSON document for now, the pages and the evidence pack.
 * A field mistyped in a renderer is a compile error, not a NULL at run
 * time.
 *
 * Strings and cells are borrowed from the query's rows (PGresult) and the
 * documents the query's rows carry, which the profile keeps: a profile
 * lives no longer than the rows it was computed from.  Loop thread only.
 */
#ifndef SENDBENCH_PROFILE_H
#define SENDBENCH_PROFILE_H

#include <jansson.h>
#include <libpq-fe.h>
#include <stddef.h>

#include "auth.h"
#include "tables.h"

struct xsec_run;

/* A predecessor or successor (boundary changes, sql: authority_successions). */
struct profile_place {
    const char *code, *name, *effective;    /* effective: YYYY-MM-DD */
};

struct profile_neighbour {
    int rank;                   /* 1 nearest .. 10 */
    const char *code, *name, *closeness;    /* closeness may be NULL */
};

struct profile_authority {
    const char *code, *old_la_code, *name, *region_code, *region_name;
    const char *valid_from, *valid_to;      /* YYYY-MM-DD, NULL open */
    int consent_to_name;
    struct profile_place *predecessors, *successors;
    size_t n_predecessors, n_successors;
    struct profile_neighbour *neighbours;
    size_t n_neighbours;
};

/* One period of the authority's own series: its figures the caller may
 * see (an unpublished one it may not is left out, as if never submitted). */
struct profile_point {
    const char *period;
    struct table_cell cell;
    const char *note;           /* a DfE footnote on a value (sql/170), or NULL */
};

/* The authority among every authority's figures of one metric and period. */
struct profile_xsec {
    const char *period;         /* NULL: the metric has no period to show */
    /* the authority's figure is unpublished and the caller may not see it:
     * it reads as no figure ("x"), unranked, without note or reason */
    int hidden;
    struct table_cell cur;
    /* with a value, a DfE footnote (shown, not ranked); without, why it is
     * missing; NULL none */
    const char *reason;
    int rank_england, rank_region, rank_neighbours;     /* 0: not ranked */
    char band;                  /* 'A'..'D', 0 none */
    size_t n_england;           /* figures ranked in England */
    size_t n_neighbours;        /* ranked among the neighbours: they and the authority */
    /* shown but not ranked, being (nearly) the only figure of its period
     * the caller sees (TABLE_MIN_RANKED): renderers say so, never "1 of 1" */
    int rank_alone;
    struct table_summary england, region, neighbours;
    struct table_cell england_area;     /* England's published figure (exists 0: none) */
};

struct profile_metric {
    const char *id, *label, *unit, *polarity_name, *kind, *annual_period, *description;
    int dp;
    int additive;               /* a total means something (sql/192) */
    enum polarity polarity;
    double ratio_scale;         /* a derived rate's sign x scale (sql/150), else 0 */
    struct profile_xsec shown;  /* in the period the profile shows */
    struct profile_point *series;
    size_t n_series;
    /* pages only: the annual cross-sections, oldest first, and the
     * quarters drawn (the caller sees the authority's figure, or the
     * quarter is a public default, sql/090) */
    struct profile_xsec *history, *quarters;
    size_t n_history, n_quarters;
    const json_t *default_quarters;     /* pages: ["2024-25 Q1", ...] or NULL; borrowed */
};

/* Growth in plans (pages): the authority's plans as an index of its figure
 * in the base census, its neighbours' median index and England's. */
struct profile_growth_point {
    const char *period;
    int has_index, has_plans, has_nb_median, has_england;
    double index;               /* rounded to 1 place */
    double plans;
    double nb_median;           /* rounded to 1 place */
    size_t nb_n;
    double england, england_plans;  /* index rounded to 1 place; England's plans */
};

struct profile {
    struct profile_authority authority;
    const char *period;         /* as at (before this period), NULL latest */
    char visibility[40];        /* tq_visibility_key */
    struct profile_metric *metrics;
    size_t n_metrics;
    int history;                /* computed for a page: history, quarters, growth, extra */
    const char *growth_base;    /* NULL: no base census */
    struct profile_growth_point *growth;
    size_t n_growth;
    /* pages: sources, held_back, forecasts and staffing, as the query
     * builds them (still a document; borrowed from the profile) */
    json_t *extra;
    /* owned: the query's documents the strings above point into */
    json_t *doc_authority, **doc_metrics;
};

/* Computes the profile of the query's rows (res; history: a page's, whose
 * rows hold every cross-section, else runs[k] is the cross-section of the
 * k-th metric's period, tables_xsec.h) for caller, as at period ("" latest).
 * Returns 0; -1 with *status 404 (no such authority) or 500 (out of
 * memory or a malformed row).  Free with profile_clear, also on
 * failure. */
int profile_compute(struct profile *p, const PGresult *res, int history,
                    const struct xsec_run *runs, const struct auth_caller *caller,
                    const char *period, int *status) __attribute__((warn_unused_result));
/* Not profile_release: libkrb5 (which libpq loads for GSSAPI over TCP)
 * exports a function of that name and calls it through the PLT, so a
 * definition in the executable interposed it and serve crashed in its
 * first TCP connection (test_sqlstates.test_cut_connection_is_503_and_remade). */
void profile_clear(struct profile *p);

/* The figures as every renderer shows them (the JSON's numbers): rounded
 * to dp places as published, NAN when not shown.  A cross-section's own
 * figure is not shown when hidden or a symbol; a summary's mean, median
 * and value follow tables.h's table_summary_shows_* and has_value. */
double profile_value(const struct profile_xsec *x, int dp);
double profile_summary_mean(const struct table_summary *s, int dp);
double profile_summary_median(const struct table_summary *s, int dp);
double profile_summary_value(const struct table_summary *s, int dp);

/* The metric id of the profile, or NULL. */
const struct profile_metric *profile_metric(const struct profile *p, const char *id);

/* ---- server/profile_json.c ---- */
/* The API's document (GET /api/v1/authorities/{code}/profile, the pages'
 * with history); caller owns it, NULL when out of memory. */
json_t *profile_to_json(const struct profile *p);

#endif
