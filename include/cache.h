/*
 * In-memory cache of computed replies (comparative tables and profiles),
 * keyed by a string that names everything the reply depends on.
 *
 * An entry is an immutable, reference-counted body with its ETag, content
 * type and Cache-Control.  Replies reference the body (evbuffer_add_reference)
 * instead of copying it, so an entry dropped by an invalidation stays alive
 * until every reply that uses it has been written.
 *
 * Coherence: every invalidation advances a generation.  A computation
 * records the generation before it asks the database and stores its result
 * only if nothing it depends on changed since, so a table computed from data
 * that changed meanwhile is served once but never kept.  Loop-thread only.
 *
 * Dependencies: an entry may declare what it was computed from (kinds of
 * input as CACHE_DEP_* flags, one authority, (metric, period) pairs).  A
 * narrow change (cache_change: an authority, a period, some metrics) drops
 * only the entries that depend on it; cache_invalidate drops everything.
 * The last CACHE_CHANGE_LOG changes are remembered so that a result whose
 * computation overlapped them can still be judged; older than that, or
 * across a full invalidation, it is never kept.  An entry that declares
 * nothing is dropped by every change, as before.
 *
 * A change of figures only their authority and admins may see (hidden)
 * leaves the entries that declared they were computed for a caller who may
 * not see them (cache_entry_depend_public_view), as far as the authority is
 * concerned.
 *
 * The dependency index: each stored entry is on one list per thing it
 * declared (each CACHE_DEP_* kind, its authority, each (metric, period) or
 * (metric, any period)), so a change visits the lists it names and drops
 * exactly their entries, never scanning the cache (a change naming
 * metrics in every period, which nothing sends today, still judges each
 * entry).  cache_metrics_render exposes the counters on /metrics.
 */
#ifndef SENDBENCH_CACHE_H
#define SENDBENCH_CACHE_H

#include <stddef.h>
#include <stdint.h>

struct evbuffer;
struct cache;
struct cache_entry;

struct cache_stats {
    size_t entries;
    uint64_t hits, misses, stores, stale_drops, invalidations;
    uint64_t changes, change_drops;     /* narrow changes, entries they dropped */
    size_t index_keys;          /* dependencies with a list in the index */
};

#define CACHE_DEP_ANY_DATA  1u  /* any change to the figures (e.g. the data version) */
#define CACHE_DEP_FORECASTS 2u  /* the stored forecasts */
#define CACHE_DEP_ANNUAL_DATA 4u    /* figures of an annual period (what forecasts read) */
#define CACHE_CHANGE_LOG 256
#define CACHE_CHANGE_METRICS 16

/* A narrow change: what one write touched.  Borrowed strings. */
struct cache_change {
    unsigned flags;             /* CACHE_DEP_* kinds it touches */
    const char *authority;      /* NULL: none in particular */
    const char *period;         /* NULL: every period */
    const char *const *metrics; /* the metrics whose figures changed (with the */
    size_t nmetrics;            /* derived metrics computed from them) */
    int hidden;                 /* the figures are ones only their authority and
                                 * admins may see (unpublished, no consent) */
};

/* max_entries bounds memory: storing into a full cache empties it first.
 * Caller frees with cache_free. */
struct cache *cache_new(size_t max_entries) __attribute__((warn_unused_result));
void cache_free(struct cache *c);

uint64_t cache_generation(const struct cache *c);

/* FNV-1a of a key (the cache's, and other short keys'). */
uint64_t cache_key_hash(const char *s);

/* Drops every entry and advances the generation. */
void cache_invalidate(struct cache *c);

/* Drops the entries that depend on ch and advances the generation.  A
 * change with more than CACHE_CHANGE_METRICS metrics is a full
 * invalidation. */
void cache_change(struct cache *c, const struct cache_change *ch);

/* 1 when no change that e depends on happened after generation `from` up to
 * and including `to` (as far as the change log can tell: otherwise 0). */
int cache_entry_unchanged(const struct cache *c, const struct cache_entry *e, uint64_t from,
                          uint64_t to);

/* Borrowed (valid until the next cache_store or cache_invalidate); NULL on a
 * miss.  Counts a hit or a miss. */
struct cache_entry *cache_lookup(struct cache *c, const char *key);

/* A new entry holding body (stolen; malloc'd) with a strong ETag made from
 * a SHA-256 of the body.  The caller holds one reference (cache_entry_unref).
 * NULL when out of memory (body is then freed). */
struct cache_entry *cache_entry_new(const char *key, const char *content_type,
                                    const char *cache_control, char *body, size_t len)
    __attribute__((warn_unused_result));

/* Declares what e depends on, before it is stored: flags (CACHE_DEP_*),
 * an authority (its own figures: a profile), and (metric, period) pairs
 * (period NULL: any period of the metric).  Once anything is declared, e is
 * dropped only by the changes it depends on.  Returns 0, or -1 when out of
 * memory (e then depends on everything). */
int cache_entry_depend(struct cache_entry *e, unsigned flags, const char *authority)
    __attribute__((warn_unused_result));
int cache_entry_depend_on(struct cache_entry *e, const char *metric, const char *period)
    __attribute__((warn_unused_result));
/* Declares that e was computed for a caller who may not see its
 * authority's hidden figures (unpublished, no consent): a hidden change of
 * that authority (cache_change.hidden) leaves e, though one that is not
 * hidden drops it as before.  Its (metric, period) dependencies still apply
 * to every change (aggregates count hidden figures). */
void cache_entry_depend_public_view(struct cache_entry *e);

/* Keeps e (taking its own reference) when nothing e depends on changed
 * since generation; replaces an entry with the same key.  Returns 1 stored,
 * 0 not. */
int cache_store(struct cache *c, struct cache_entry *e, uint64_t generation);

void cache_entry_unref(struct cache_entry *e);

/* Borrowed strings of an entry. */
const char *cache_entry_etag(const struct cache_entry *e);       /* "\"…\"" */
const char *cache_entry_content_type(const struct cache_entry *e);
const char *cache_entry_cache_control(const struct cache_entry *e);
size_t cache_entry_length(const struct cache_entry *e);

/* Appends a reference to the body to out (no copy).  Returns 0, or -1. */
int cache_entry_add_to(struct cache_entry *e, struct evbuffer *out)
    __attribute__((warn_unused_result));

/* 1 when an If-None-Match header value (a list, weak tags, or *) matches
 * etag. */
int cache_etag_matches(const char *if_none_match, const char *etag);

void cache_get_stats(const struct cache *c, struct cache_stats *out);

/* Appends the counters in the Prometheus text format
 * (sendbench_reply_cache_*). */
void cache_metrics_render(const struct cache *c, struct evbuffer *out);

/*
 * Single flight: one computation per key at a time.  A request that misses
 * the cache while another computes the same key waits on that computation
 * (the flight) instead of asking the database again, as PgBouncer keeps
 * waiting clients on the pool they wait for.  Waiters are kept on the
 * flight in storage they own (no allocation, so waiting cannot fail).
 */
struct cache_flight;
struct cache_waiter {
    struct cache_waiter *next;      /* the flight's */
    uint64_t join_gen;              /* cache generation when it joined */
    void *arg;
};

/* The flight computing key, or NULL. */
struct cache_flight *cache_flight_find(struct cache *c, const char *key);
/* Starts a flight for key, which the caller leads; generation: when its
 * computation started.  NULL when out of memory: then compute alone. */
struct cache_flight *cache_flight_start(struct cache *c, const char *key, uint64_t generation);
/* Adds w to f's waiters (w stays valid until the flight lands). */
void cache_flight_wait(struct cache *c, struct cache_flight *f, struct cache_waiter *w,
                       void *arg);
/* The leader's result (a reference is taken), or that the database was
 * unavailable. */
void cache_flight_result(struct cache_flight *f, struct cache_entry *e);
void cache_flight_unavailable(struct cache_flight *f);
/* Whether f has its result. */
int cache_flight_has_result(const struct cache_flight *f);

/* How a waiter learns the flight's end (flight_land's callback):
 * CACHE_FLIGHT_SHARED    e is the leader's result (borrowed for the call)
 * CACHE_FLIGHT_CHANGED   something the result depends on changed after
 *                        the flight started and before the waiter came:
 *                        compute afresh
 * CACHE_FLIGHT_FAILED    the leader has no result: compute alone
 * CACHE_FLIGHT_UNAVAILABLE  ... because the database was unavailable */
enum cache_flight_outcome { CACHE_FLIGHT_SHARED, CACHE_FLIGHT_CHANGED, CACHE_FLIGHT_FAILED,
                            CACHE_FLIGHT_UNAVAILABLE };
typedef void (*cache_flight_cb)(void *arg, enum cache_flight_outcome outcome,
                                struct cache_entry *e);
/* The leader has been answered: removes f, tells every waiter (in the order
 * they came) and frees f. */
void cache_flight_land(struct cache *c, struct cache_flight *f, cache_flight_cb cb);

#endif
