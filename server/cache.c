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
    /* Dependencies; declared == 0 means "everything". */
    int declared;
    int all;                    /* a declaration failed: everything */
    unsigned flags;
    char authority[16];
    struct dep { char metric[64]; char period[24]; } *deps;   /* period "": any */
    size_t ndeps, cap;
};

/* A remembered change: generation it made, and what it touched. */
struct logged_change {
    uint64_t gen;
    int full;
    unsigned flags;
    char authority[16];
    char period[24];            /* "": every period */
    char metrics[CACHE_CHANGE_METRICS][64];
    size_t nmetrics;
};

#define FLIGHT_BUCKETS 256

struct cache_flight {
    char *key;
    uint64_t generation;        /* cache generation when it started */
    struct cache_entry *entry;  /* the result (a reference), once computed */
    int unavailable;            /* the database was unavailable */
    struct cache_waiter *waiters, **tail;
    struct cache_flight *next;  /* hash chain */
};

struct cache {
    struct cache_flight *flights[FLIGHT_BUCKETS];
    struct cache_entry *buckets[CACHE_BUCKETS];
    size_t max_entries;
    uint64_t generation;
    struct cache_stats stats;
    struct logged_change log[CACHE_CHANGE_LOG];     /* indexed by gen % CACHE_CHANGE_LOG */
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
    /* Flights outlive their requests only at shutdown, with no waiter left
     * to answer. */
    for (size_t b = 0; b < FLIGHT_BUCKETS; b++)
        while (c->flights[b]) {
            struct cache_flight *f = c->flights[b];
            c->flights[b] = f->next;
            cache_entry_unref(f->entry);
            free(f->key);
            free(f);
        }
    free(c);
}

/* ---- single flight ---- */

struct cache_flight *cache_flight_find(struct cache *c, const char *key)
{
    for (struct cache_flight *f = c->flights[key_hash(key) % FLIGHT_BUCKETS]; f; f = f->next)
        if (strcmp(f->key, key) == 0)
            return f;
    return NULL;
}

struct cache_flight *cache_flight_start(struct cache *c, const char *key, uint64_t generation)
{
    struct cache_flight *f = calloc(1, sizeof *f);
    if (!f || !(f->key = strdup(key))) {
        free(f);
        return NULL;
    }
    f->generation = generation;
    f->tail = &f->waiters;
    size_t b = key_hash(key) % FLIGHT_BUCKETS;
    f->next = c->flights[b];
    c->flights[b] = f;
    return f;
}

void cache_flight_wait(struct cache *c, struct cache_flight *f, struct cache_waiter *w, void *arg)
{
    w->next = NULL;
    w->join_gen = c->generation;
    w->arg = arg;
    *f->tail = w;
    f->tail = &w->next;
}

void cache_flight_result(struct cache_flight *f, struct cache_entry *e)
{
    if (f->entry || !e)
        return;
    e->refs++;
    f->entry = e;
}

void cache_flight_unavailable(struct cache_flight *f)
{
    f->unavailable = 1;
}

int cache_flight_has_result(const struct cache_flight *f)
{
    return f->entry != NULL;
}

void cache_flight_land(struct cache *c, struct cache_flight *f, cache_flight_cb cb)
{
    struct cache_flight **pp = &c->flights[key_hash(f->key) % FLIGHT_BUCKETS];
    while (*pp && *pp != f)
        pp = &(*pp)->next;
    if (*pp)
        *pp = f->next;
    for (struct cache_waiter *w = f->waiters; w;) {
        struct cache_waiter *next = w->next;   /* w may be freed by cb */
        enum cache_flight_outcome o;
        if (f->entry)
            o = cache_entry_unchanged(c, f->entry, f->generation, w->join_gen)
                    ? CACHE_FLIGHT_SHARED : CACHE_FLIGHT_CHANGED;
        else
            o = f->unavailable ? CACHE_FLIGHT_UNAVAILABLE : CACHE_FLIGHT_FAILED;
        cb(w->arg, o, o == CACHE_FLIGHT_SHARED ? f->entry : NULL);
        w = next;
    }
    cache_entry_unref(f->entry);
    free(f->key);
    free(f);
}

uint64_t cache_generation(const struct cache *c)
{
    return c->generation;
}

static struct logged_change *log_next(struct cache *c)
{
    c->generation++;
    struct logged_change *l = &c->log[c->generation % CACHE_CHANGE_LOG];
    memset(l, 0, sizeof *l);
    l->gen = c->generation;
    return l;
}

void cache_invalidate(struct cache *c)
{
    drop_all(c);
    log_next(c)->full = 1;
    c->stats.invalidations++;
}

static int change_hits(const struct cache_entry *e, const struct logged_change *l)
{
    if (l->full || !e->declared || e->all)
        return 1;
    if (l->flags & e->flags)
        return 1;
    if (l->authority[0] && e->authority[0] && strcmp(l->authority, e->authority) == 0)
        return 1;
    for (size_t i = 0; i < e->ndeps; i++) {
        const struct dep *d = &e->deps[i];
        if (d->period[0] && l->period[0] && strcmp(d->period, l->period) != 0)
            continue;
        for (size_t m = 0; m < l->nmetrics; m++)
            if (strcmp(d->metric, l->metrics[m]) == 0)
                return 1;
    }
    return 0;
}

static int fits(const char *s, size_t size)
{
    return !s || strlen(s) < size;
}

void cache_change(struct cache *c, const struct cache_change *ch)
{
    int ok = ch->nmetrics <= CACHE_CHANGE_METRICS && fits(ch->authority, 16) &&
             fits(ch->period, 24);
    for (size_t m = 0; ok && m < ch->nmetrics; m++)
        ok = fits(ch->metrics[m], 64);
    if (!ok) {
        cache_invalidate(c);
        return;
    }
    struct logged_change *l = log_next(c);
    l->flags = ch->flags;
    snprintf(l->authority, sizeof l->authority, "%s", ch->authority ? ch->authority : "");
    snprintf(l->period, sizeof l->period, "%s", ch->period ? ch->period : "");
    for (size_t m = 0; m < ch->nmetrics; m++)
        snprintf(l->metrics[m], sizeof l->metrics[m], "%s", ch->metrics[m]);
    l->nmetrics = ch->nmetrics;
    c->stats.changes++;
    for (size_t b = 0; b < CACHE_BUCKETS; b++) {
        struct cache_entry **pp = &c->buckets[b];
        while (*pp) {
            struct cache_entry *e = *pp;
            if (change_hits(e, l)) {
                *pp = e->next;
                e->next = NULL;
                cache_entry_unref(e);
                c->stats.entries--;
                c->stats.change_drops++;
            } else {
                pp = &e->next;
            }
        }
    }
}

int cache_entry_unchanged(const struct cache *c, const struct cache_entry *e, uint64_t from,
                          uint64_t to)
{
    if (to > c->generation)
        to = c->generation;
    if (to <= from)
        return 1;
    if (to - from >= CACHE_CHANGE_LOG)
        return 0;   /* forgotten: assume the worst */
    for (uint64_t g = from + 1; g <= to; g++) {
        const struct logged_change *l = &c->log[g % CACHE_CHANGE_LOG];
        if (l->gen != g || change_hits(e, l))
            return 0;
    }
    return 1;
}

int cache_entry_depend(struct cache_entry *e, unsigned flags, const char *authority)
{
    e->declared = 1;
    e->flags |= flags;
    if (authority && *authority) {
        if (strlen(authority) >= sizeof e->authority || (e->authority[0] &&
                                                         strcmp(e->authority, authority) != 0)) {
            e->all = 1;
            return -1;
        }
        snprintf(e->authority, sizeof e->authority, "%s", authority);
    }
    return 0;
}

int cache_entry_depend_on(struct cache_entry *e, const char *metric, const char *period)
{
    e->declared = 1;
    if (!period)
        period = "";
    if (strlen(metric) >= sizeof e->deps[0].metric || strlen(period) >= sizeof e->deps[0].period)
        goto all;
    for (size_t i = 0; i < e->ndeps; i++)
        if (strcmp(e->deps[i].metric, metric) == 0 &&
            (!e->deps[i].period[0] || strcmp(e->deps[i].period, period) == 0))
            return 0;   /* already covered */
    if (e->ndeps == e->cap) {
        size_t cap = e->cap ? e->cap * 2 : 8;
        struct dep *d = realloc(e->deps, cap * sizeof *d);
        if (!d)
            goto all;
        e->deps = d;
        e->cap = cap;
    }
    snprintf(e->deps[e->ndeps].metric, sizeof e->deps[0].metric, "%s", metric);
    snprintf(e->deps[e->ndeps].period, sizeof e->deps[0].period, "%s", period);
    e->ndeps++;
    return 0;
all:
    e->all = 1;
    return -1;
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
    free(e->deps);
    free(e);
}

int cache_store(struct cache *c, struct cache_entry *e, uint64_t generation)
{
    if (!cache_entry_unchanged(c, e, generation, c->generation)) {
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
