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
 * only if the generation has not moved, so a table computed from data that
 * changed meanwhile is served once but never kept.  Loop-thread only.
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
};

/* max_entries bounds memory: storing into a full cache empties it first.
 * Caller frees with cache_free. */
struct cache *cache_new(size_t max_entries) __attribute__((warn_unused_result));
void cache_free(struct cache *c);

uint64_t cache_generation(const struct cache *c);

/* Drops every entry and advances the generation. */
void cache_invalidate(struct cache *c);

/* Borrowed (valid until the next cache_store or cache_invalidate); NULL on a
 * miss.  Counts a hit or a miss. */
struct cache_entry *cache_lookup(struct cache *c, const char *key);

/* A new entry holding body (stolen; malloc'd) with a strong ETag made from
 * a SHA-256 of the body.  The caller holds one reference (cache_entry_unref).
 * NULL when out of memory (body is then freed). */
struct cache_entry *cache_entry_new(const char *key, const char *content_type,
                                    const char *cache_control, char *body, size_t len)
    __attribute__((warn_unused_result));

/* Keeps e (taking its own reference) when generation is still current;
 * replaces an entry with the same key.  Returns 1 stored, 0 not. */
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

#endif
