/*
 * Pages drawn from the comparative tables (the web interface and the
 * evidence pack), computed by the same code path as the JSON API
 * (server/tables_query.c): the same query, the same server/tables.c
 * ranking, bands, summaries and masking, the same cache.
 *
 * A page asks for a table or a profile as its caller (anonymous, or the
 * bearer token's council or admin: what the API would show them; the
 * portal's sessions plug in the same way) and supplies a renderer;
 * the rendered body is kept in the tables cache under the page's key, so a
 * page is computed once per data version and dropped with the tables on
 * any change (LISTEN/NOTIFY), whichever process made it.
 */
#ifndef SENDBENCH_TABLES_PAGE_H
#define SENDBENCH_TABLES_PAGE_H

#include <jansson.h>
#include <stddef.h>

#include "http.h"
#include "tables.h"

/* What a table renderer sees; everything borrowed, valid during the call. */
struct tables_view {
    const struct table *t;      /* computed: t->order lists the rows in display order */
    const char *const *reasons; /* per row index: why a derived figure is missing, or NULL */
    const char *id, *label, *unit, *kind, *description, *polarity_name;
    int dp;
    int additive;               /* metrics.additive (sql/192) */
    enum polarity polarity;
    const char *period;
    const char *focal;          /* the focal authority's ONS code, or NULL */
    const char *region_name;    /* of the focal authority, or NULL */
    const json_t *periods;      /* every period with figures, newest first (strings) */
    const json_t *sources;      /* [{source, recorded}] of the period's published figures */
    /* the metric's quarters the caller may see drawn, on their own axis:
     * {"own", "region", "quarters": [{"period", "value", "england",
     * "region", "regions"}]} (tables_table.c quarters_json) */
    const json_t *quarters;
};

/* Returns the page body (malloc'd; the cache takes it) and its length, or
 * NULL when out of memory. */
typedef char *(*tables_table_render)(struct request *r, const struct tables_view *v,
                                     size_t *len);
/* p is the profile with history (include/profile.h) and doc its JSON
 * document (profile_to_json: see tables_page_profile), for the parts of
 * the pages that do not read p yet; both borrowed. */
struct profile;
typedef char *(*tables_profile_render)(struct request *r, const struct profile *p,
                                       const json_t *doc, size_t *len);
/* A request the page cannot answer: field names the bad part ("metric",
 * "period", "authority", "code"); status is 400 or 404.  Must reply. */
typedef void (*tables_error_fn)(struct request *r, int status, const char *field,
                                const char *message);

struct tables_page {
    const char *name;           /* part of the cache key: "metric", "authority"... */
    const char *content_type;
    tables_table_render table;
    tables_profile_render profile;
    tables_error_fn error;
};

/* The table of metric for period (NULL: the latest with figures) over
 * England with authority (NULL: none) as the focal row, rendered by
 * page->table.  Replies (from the cache when it can). */
void tables_page_table(struct request *r, const struct tables_page *page, const char *metric,
                       const char *period, const char *authority);

/*
 * The profile of authority code as GET /api/v1/authorities/{code}/profile
 * serves it, plus for each metric a "history": one entry per annual period with
 * figures, {period, value, symbol, rank_england, n_england, band,
 * neighbours {n, median, mean}, england {n, median, mean, total}}, each
 * computed by table_compute over that period's figures; "growth": plans as
 * an index of the authority's first census from 2015 on, against the
 * median index of its neighbours and England's total; and "extra":
 * sources of each metric's published figures, stored forecast documents,
 * submitted staffing where the authority consented to be named,
 * generated_at and data_version.  Rendered by page->profile.  With
 * published_only the profile is computed as for an anonymous caller (a
 * signed-in council printing its pack for circulation).
 */
void tables_page_profile(struct request *r, const struct tables_page *page, const char *code,
                         int published_only);

/* The same for a variant of the page the caller has already been
 * authorised for (the evidence pack with a council's saved scenario):
 * variant (at most 71 characters) is part of the cache key beside the
 * caller's visibility, so the variant is kept and served only to callers
 * who see what this one sees; arg is the renderer's (tables_page_arg),
 * owned from here on and freed with arg_free when the request ends (also
 * when this fails). */
void tables_page_profile_with(struct request *r, const struct tables_page *page, const char *code,
                              const char *variant, void *arg, void (*arg_free)(void *arg));

/* In a renderer: the arg of tables_page_profile_with, or NULL. */
void *tables_page_arg(const struct request *r);

#endif
