/* The cross-section store (see include/tables_xsec.h). */
#include "tables_xsec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache.h"
#include "tables_query.h"

/* The profile's 'x' rows (TABLES_PROFILE_SQL) for given (metric, period)
 * pairs: the figures in force and the derived ones (src), each with its
 * state (figure_state, sql/180: published, released into aggregates or
 * waiting), its authority's region and consent, its DfE footnote or reason, and a
 * derived rate's numerator and denominator (England's and the region's
 * ratio of sums where nothing is published).  Column 5 (the neighbour
 * rank) is the subject's, which tables_profile.c fills in. */
const char TABLES_XSEC_SQL[] =
    "WITH pairs AS (SELECT * FROM unnest($1::text[], $2::text[]) p(metric, period)),"
    " src AS NOT MATERIALIZED ("
    "  SELECT authority, metric, period, period_start, value, symbol, published,"
    "         NULL::text AS reason FROM current_observations"
    "  UNION ALL"
    "  SELECT authority, metric, period, period_start, value,"
    "         CASE WHEN value IS NULL THEN 'x' END, published, reason"
    "  FROM derived_observations"
    /* held figures no longer in force (sql/181): in aggregates only */
    "  UNION ALL"
    "  SELECT authority, metric, period, period_start, NULL, NULL, false, NULL"
    "  FROM figures_held_out)"
    " SELECT 'x', s.metric, s.period, a.new_la_code, a.region_code, NULL::int,"
    "  s.value::text, s.symbol, figure_state(s.published, s.authority, s.metric, s.period),"
    "  coalesce(fn.note, s.reason), s.period_start::text || ' ' || s.period,"
    "  a.consent_to_name::text,"
    TABLES_RATIO_INPUTS_TEXT
    " FROM pairs c CROSS JOIN LATERAL (SELECT * FROM src"
    "  WHERE src.metric = c.metric AND src.period = c.period OFFSET 0) s"
    " JOIN authorities a ON a.new_la_code = s.authority"
    " LEFT JOIN figure_notes fn ON fn.authority = s.authority AND fn.metric = s.metric"
    "  AND fn.period = s.period"
    " LEFT JOIN derived_metrics dmx ON dmx.metric = s.metric AND dmx.formula = 'ratio'"
    TABLES_RATIO_INPUTS_SQL
    " ORDER BY 2, 3, 4";

#define XSEC_BUCKETS 1024

/* One query's rows, shared by the entries made from it. */
struct batch {
    PGresult *res;
    size_t refs;
};

struct entry {
    char *key;                  /* metric \x1f period */
    uint64_t hash;
    struct batch *batch;
    int j0, j1;
    uint64_t gen;               /* the cache generation it is known good at */
    struct cache_entry *marker; /* its dependency, for the cache's change log */
    struct entry *next;
};

struct xsec_store {
    struct entry *buckets[XSEC_BUCKETS];
    size_t n, max;
    uint64_t hits, misses;
};

static char *make_key(const char *metric, const char *period)
{
    size_t lm = strlen(metric), lp = strlen(period);
    char *k = malloc(lm + lp + 2);
    if (k) {
        memcpy(k, metric, lm);
        k[lm] = '\x1f';
        memcpy(k + lm + 1, period, lp + 1);
    }
    return k;
}

static void batch_unref(struct batch *b)
{
    if (b && --b->refs == 0) {
        PQclear(b->res);
        free(b);
    }
}

void xsec_run_release(struct xsec_run *run)
{
    batch_unref(run->batch);
    memset(run, 0, sizeof *run);
}

static void run_hold(struct xsec_run *run, struct batch *b, int j0, int j1)
{
    run->res = b->res;
    run->j0 = j0;
    run->j1 = j1;
    run->batch = b;
    b->refs++;
}

static void entry_free(struct entry *e)
{
    batch_unref(e->batch);
    if (e->marker)
        cache_entry_unref(e->marker);
    free(e->key);
    free(e);
}

static void store_clear(struct xsec_store *s)
{
    for (size_t b = 0; b < XSEC_BUCKETS; b++) {
        struct entry *e = s->buckets[b];
        while (e) {
            struct entry *next = e->next;
            entry_free(e);
            e = next;
        }
        s->buckets[b] = NULL;
    }
    s->n = 0;
}

struct xsec_store *xsec_store_new(size_t max_entries)
{
    struct xsec_store *s = calloc(1, sizeof *s);
    if (s)
        s->max = max_entries ? max_entries : 1;
    return s;
}

void xsec_store_free(struct xsec_store *s)
{
    if (!s)
        return;
    store_clear(s);
    free(s);
}

static struct entry **find(struct xsec_store *s, const char *key, uint64_t h)
{
    struct entry **pp = &s->buckets[h % XSEC_BUCKETS];
    while (*pp && ((*pp)->hash != h || strcmp((*pp)->key, key) != 0))
        pp = &(*pp)->next;
    return pp;
}

int xsec_store_get(struct xsec_store *s, struct cache *c, const char *metric,
                   const char *period, struct xsec_run *run)
{
    char *key = make_key(metric, period);
    if (!key)
        return 0;
    struct entry **pp = find(s, key, cache_key_hash(key));
    free(key);
    struct entry *e = *pp;
    uint64_t now = cache_generation(c);
    if (e && !cache_entry_unchanged(c, e->marker, e->gen, now)) {
        /* Its figures changed (or the change log forgot): read again. */
        *pp = e->next;
        entry_free(e);
        s->n--;
        e = NULL;
    }
    if (!e) {
        s->misses++;
        return 0;
    }
    e->gen = now;   /* good up to now: judged against later changes only */
    run_hold(run, e->batch, e->j0, e->j1);
    s->hits++;
    return 1;
}

int xsec_store_put(struct xsec_store *s, struct cache *c, const PGresult *res,
                   const char *const *metrics, const char *const *periods, size_t n,
                   uint64_t gen, struct xsec_run *runs)
{
    if (s->n + n > s->max)
        store_clear(s);
    struct batch *b = calloc(1, sizeof *b);
    if (!b)
        return -1;
    b->res = PQcopyResult(res, PG_COPYRES_ATTRS | PG_COPYRES_TUPLES);
    if (!b->res) {
        free(b);
        return -1;
    }
    b->refs = 1;    /* ours, until the runs and entries hold theirs */
    int nres = PQntuples(b->res);
    /* The runs of rows of one pair each (the query orders by metric, period). */
    int *starts = calloc((size_t)nres + 1, sizeof *starts), nruns = 0;
    if (!starts) {
        batch_unref(b);
        return -1;
    }
    for (int j = 0; j < nres; j++)
        if (j == 0 || strcmp(PQgetvalue(b->res, j, 1), PQgetvalue(b->res, j - 1, 1)) != 0 ||
            strcmp(PQgetvalue(b->res, j, 2), PQgetvalue(b->res, j - 1, 2)) != 0)
            starts[nruns++] = j;
    starts[nruns] = nres;
    for (size_t i = 0; i < n; i++) {
        int j0 = 0, j1 = 0;
        for (int k = 0; k < nruns; k++)
            if (strcmp(PQgetvalue(b->res, starts[k], 1), metrics[i]) == 0 &&
                strcmp(PQgetvalue(b->res, starts[k], 2), periods[i]) == 0) {
                j0 = starts[k];
                j1 = starts[k + 1];
                break;
            }
        run_hold(&runs[i], b, j0, j1);
        struct entry *e = calloc(1, sizeof *e);
        char *body = strdup("");
        if (!e || !body || !(e->key = make_key(metrics[i], periods[i]))) {
            free(body);
            free(e);
            continue;   /* served, not kept */
        }
        e->hash = cache_key_hash(e->key);
        e->marker = cache_entry_new(e->key, "", "", body, 0);
        if (!e->marker || cache_entry_depend_on(e->marker, metrics[i], periods[i]) != 0 ||
            !cache_entry_unchanged(c, e->marker, gen, cache_generation(c))) {
            /* Out of memory, or changed since the query was sent: served
             * to this profile (which is then not kept), not kept here. */
            entry_free(e);
            continue;
        }
        e->batch = b;
        b->refs++;
        e->j0 = j0;
        e->j1 = j1;
        e->gen = cache_generation(c);
        struct entry **pp = find(s, e->key, e->hash);
        if (*pp) {
            struct entry *old = *pp;
            e->next = old->next;
            entry_free(old);
            s->n--;
        }
        *pp = e;
        s->n++;
    }
    free(starts);
    batch_unref(b);
    return 0;
}

void xsec_store_stats(const struct xsec_store *s, size_t *entries, uint64_t *hits,
                      uint64_t *misses)
{
    *entries = s->n;
    *hits = s->hits;
    *misses = s->misses;
}
