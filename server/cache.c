/* In-memory reply cache (see include/cache.h). */
#include "cache.h"

#include <event2/buffer.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CACHE_BUCKETS 1024

struct cache_entry {
    char *key;
    uint64_t hash;
    char etag[40];
    char *content_type;
    char *cache_control;
    char *body;
    size_t len;
    int refs;
    struct cache_entry *next;   /* bucket chain, while stored */
};

struct cache {
    struct cache_entry *buckets[CACHE_BUCKETS];
    size_t max_entries;
    uint64_t generation;
    struct cache_stats stats;
};

/* FNV-1a: keys are short and trusted to be well spread enough for a
 * bounded table; no library offers a plain string hash map in C. */
static uint64_t key_hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return h;
}

struct cache *cache_new(size_t max_entries)
{
    struct cache *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->max_entries = max_entries ? max_entries : 1;
    c->generation = 1;
    return c;
}

static void drop_all(struct cache *c)
{
    for (size_t b = 0; b < CACHE_BUCKETS; b++) {
        struct cache_entry *e = c->buckets[b];
        while (e) {
            struct cache_entry *next = e->next;
            e->next = NULL;
            cache_entry_unref(e);
            e = next;
        }
        c->buckets[b] = NULL;
    }
    c->stats.entries = 0;
}

void cache_free(struct cache *c)
{
    if (!c)
        return;
    drop_all(c);
    free(c);
}

uint64_t cache_generation(const struct cache *c)
{
    return c->generation;
}

void cache_invalidate(struct cache *c)
{
    drop_all(c);
    c->generation++;
    c->stats.invalidations++;
}

struct cache_entry *cache_lookup(struct cache *c, const char *key)
{
    uint64_t h = key_hash(key);
    for (struct cache_entry *e = c->buckets[h % CACHE_BUCKETS]; e; e = e->next) {
        if (e->hash == h && strcmp(e->key, key) == 0) {
            c->stats.hits++;
            return e;
        }
    }
    c->stats.misses++;
    return NULL;
}

struct cache_entry *cache_entry_new(const char *key, const char *content_type,
                                    const char *cache_control, char *body, size_t len)
{
    struct cache_entry *e = calloc(1, sizeof *e);
    if (!e)
        goto err;
    e->key = strdup(key);
    e->content_type = strdup(content_type);
    e->cache_control = strdup(cache_control);
    if (!e->key || !e->content_type || !e->cache_control)
        goto err;
    e->hash = key_hash(key);
    e->body = body;
    e->len = len;
    e->refs = 1;
    unsigned char md[SHA256_DIGEST_LENGTH];
    SHA256((const unsigned char *)body, len, md);
    /* 128 bits of the digest: a strong validator for this exact body. */
    int k = snprintf(e->etag, sizeof e->etag, "\"");
    for (int i = 0; i < 16; i++)
        k += snprintf(e->etag + k, sizeof e->etag - (size_t)k, "%02x", md[i]);
    snprintf(e->etag + k, sizeof e->etag - (size_t)k, "\"");
    return e;
err:
    if (e) {
        free(e->key);
        free(e->content_type);
        free(e->cache_control);
        free(e);
    }
    free(body);
    return NULL;
}

void cache_entry_unref(struct cache_entry *e)
{
    if (!e || --e->refs > 0)
        return;
    free(e->key);
    free(e->content_type);
    free(e->cache_control);
    free(e->body);
    free(e);
}

int cache_store(struct cache *c, struct cache_entry *e, uint64_t generation)
{
    if (generation != c->generation) {
        c->stats.stale_drops++;
        return 0;
    }
    struct cache_entry **pp = &c->buckets[e->hash % CACHE_BUCKETS];
    for (; *pp; pp = &(*pp)->next) {
        if ((*pp)->hash == e->hash && strcmp((*pp)->key, e->key) == 0) {
            struct cache_entry *old = *pp;
            *pp = old->next;
            old->next = NULL;
            cache_entry_unref(old);
            c->stats.entries--;
            break;
        }
    }
    if (c->stats.entries >= c->max_entries)
        drop_all(c);   /* the generation stays: nothing changed in the data */
    pp = &c->buckets[e->hash % CACHE_BUCKETS];
    e->next = *pp;
    *pp = e;
    e->refs++;
    c->stats.entries++;
    c->stats.stores++;
    return 1;
}

const char *cache_entry_etag(const struct cache_entry *e)
{
    return e->etag;
}

const char *cache_entry_content_type(const struct cache_entry *e)
{
    return e->content_type;
}

const char *cache_entry_cache_control(const struct cache_entry *e)
{
    return e->cache_control;
}

size_t cache_entry_length(const struct cache_entry *e)
{
    return e->len;
}

static void body_released(const void *data, size_t len, void *arg)
{
    (void)data;
    (void)len;
    cache_entry_unref(arg);
}

int cache_entry_add_to(struct cache_entry *e, struct evbuffer *out)
{
    if (e->len == 0)
        return 0;
    e->refs++;
    if (evbuffer_add_reference(out, e->body, e->len, body_released, e) != 0) {
        e->refs--;
        return -1;
    }
    return 0;
}

int cache_etag_matches(const char *inm, const char *etag)
{
    if (!inm || !etag)
        return 0;
    size_t elen = strlen(etag);
    const char *p = inm;
    while (*p) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        if (*p == '*')
            return 1;
        if (p[0] == 'W' && p[1] == '/')
            p += 2;
        const char *end = p;
        while (*end && *end != ',')
            end++;
        const char *last = end;
        while (last > p && (last[-1] == ' ' || last[-1] == '\t'))
            last--;
        if ((size_t)(last - p) == elen && memcmp(p, etag, elen) == 0)
            return 1;
        p = end;
    }
    return 0;
}

void cache_get_stats(const struct cache *c, struct cache_stats *out)
{
    *out = c->stats;
}
