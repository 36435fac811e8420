/*
 * The cross-section store: every authority's figure for one metric in one
 * period (the rows a profile ranks its subject among), read once and
 * shared by every profile that shows that metric in that period.
 *
 * An uncached profile read each of its ~80 cross-sections from the
 * database (~12,800 rows, most of its time), though every profile shows
 * the same periods.  Now the profile's query returns the periods shown
 * ('m' rows) and its own rows only; the cross-sections it needs that the
 * store does not hold are read in one query (TABLES_XSEC_SQL) and kept.
 *
 * Coherence: an entry remembers the reply cache's generation when its query
 * was sent and depends on its (metric, period), judged by the reply cache's
 * change log (cache_entry_unchanged): a change of that metric (or of an
 * input of it, derived.h) in that period, a full invalidation, or a change
 * log that has moved on too far since, and the entry is read again.  The
 * rows are the same for every caller (the caller's view is applied when a
 * profile is computed from them, server/tables_profile.c).  Loop thread
 * only.
 */
#ifndef SENDBENCH_TABLES_XSEC_H
#define SENDBENCH_TABLES_XSEC_H

#include <libpq-fe.h>
#include <stddef.h>
#include <stdint.h>

struct cache;
struct xsec_store;

/* The rows of the cross-sections of ($1[i], $2[i]) pairs, in the columns
 * of TABLES_PROFILE_SQL's 'x' rows, ordered by metric, period, authority. */
extern const char TABLES_XSEC_SQL[];

/* max_entries bounds memory: adding to a full store empties it first. */
struct xsec_store *xsec_store_new(size_t max_entries) __attribute__((warn_unused_result));
void xsec_store_free(struct xsec_store *s);

/* One cross-section: the rows [j0, j1) of res, held (a reference) until
 * xsec_run_release, whatever the store drops meanwhile. */
struct batch;
struct xsec_run {
    const PGresult *res;
    int j0, j1;
    struct batch *batch;        /* NULL: none held */
};
void xsec_run_release(struct xsec_run *run);

/* The cross-section of (metric, period) when held and unchanged: fills run
 * and returns 1, else 0. */
int xsec_store_get(struct xsec_store *s, struct cache *c, const char *metric,
                   const char *period, struct xsec_run *run);

/* The cross-sections of the pairs (metrics[i], periods[i]) from res
 * (TABLES_XSEC_SQL's rows for them, copied) into runs[i], and kept unless
 * they changed since generation gen, when the query was sent (a pair with
 * no rows is kept as empty).  Returns 0, or -1 when out of memory. */
int xsec_store_put(struct xsec_store *s, struct cache *c, const PGresult *res,
                   const char *const *metrics, const char *const *periods, size_t n,
                   uint64_t gen, struct xsec_run *runs) __attribute__((warn_unused_result));

/* Entries held, and how often a lookup was answered / missed. */
void xsec_store_stats(const struct xsec_store *s, size_t *entries, uint64_t *hits,
                      uint64_t *misses);

#endif
