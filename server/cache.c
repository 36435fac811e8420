/* In-memory reply cache (see include/cache.h). */
#include "cache.h"

#include <event2/buffer.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CACHE_BUCKETS 1024
#define INDEX_BUCKETS 4096

/*
 * The dependency index: for each thing a reply can depend on (a kind of
 * input, an authority's own figures, a metric in a period or in any
 * period) a list of the stored entries that depend on it, so that a change
 * visits only the entries it drops.  Each stored entry holds one link per
 * list it is on; "everything" lists the entries that declared nothing (or
 * whose declaration failed), which every change drops.
 */
struct dep_node;
struct dep_link {
    struct dep_link *prev, *next;   /* the node's list (circular, through the node's head) */
    struct dep_node *node;          /* NULL: on no list */
    struct cache_entry *entry;
};

struct dep_node {
    char *key;                  /* "a:<authority>" ("p:" public view), "m:<metric>\x1f<period>"
                                 * ("" any), "f:<bit>" */
    uint64_t hash;
    struct dep_link head;       /* sentinel */
    size_t count;
    struct dep_node *next;      /* index bucket chain */
};

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
    int public_view;            /* a hidden change of authority leaves it */
    struct dep { char metric[64]; char period[24]; } *deps;   /* period "": any */
    size_t ndeps, cap;
    /* Index memberships while stored (links), or the one of "everything". */
    struct dep_link *links;
    size_t nlinks;
    struct dep_link all_link;
};

/* A remembered change: generation it made, and what it touched. */
struct logged_change {
    uint64_t gen;
    int full;
    unsigned flags;
    char authority[16];
    int hidden;                 /* cache_change.hidden */
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
    struct dep_node *index[INDEX_BUCKETS];
    struct dep_node everything;     /* entries that depend on every change (not in index) */
};

/* FNV-1a: keys are short and trusted to be well spread enough for a
 * bounded table; no library offers a plain string hash map in C. */
uint64_t cache_key_hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return h;
}

static void list_init(struct dep_node *n)
{
    n->head.prev = n->head.next = &n->head;
    n->count = 0;
}

struct cache *cache_new(size_t max_entries)
{
    struct cache *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->max_entries = max_entries ? max_entries : 1;
    c->generation = 1;
    list_init(&c->everything);
    return c;
}

/* ---- the dependency index ---- */

static struct dep_node *index_find(const struct cache *c, const char *key)
{
    uint64_t h = cache_key_hash(key);
    for (struct dep_node *n = c->index[h % INDEX_BUCKETS]; n; n = n->next)
        if (n->hash == h && strcmp(n->key, key) == 0)
            return n;
    return NULL;
}

static struct dep_node *index_get(struct cache *c, const char *key)
{
    struct dep_node *n = index_find(c, key);
    if (n)
        return n;
    n = calloc(1, sizeof *n);
    if (!n || !(n->key = strdup(key))) {
        free(n);
        return NULL;
    }
    n->hash = cache_key_hash(key);
    list_init(n);
    struct dep_node **b = &c->index[n->hash % INDEX_BUCKETS];
    n->next = *b;
    *b = n;
    c->stats.index_keys++;
    return n;
}

static void link_add(struct dep_node *n, struct dep_link *l, struct cache_entry *e)
{
    l->node = n;
    l->entry = e;
    l->prev = n->head.prev;
    l->next = &n->head;
    n->head.prev->next = l;
    n->head.prev = l;
    n->count++;
}

/* Takes l off its list; frees the list's node when it empties (never the
 * "everything" sentinel, which is not in the index). */
static void link_remove(struct cache *c, struct dep_link *l)
{
    struct dep_node *n = l->node;
    if (!n)
        return;
    l->prev->next = l->next;
    l->next->prev = l->prev;
    l->node = NULL;
    if (--n->count > 0 || n == &c->everything)
        return;
    struct dep_node **pp = &c->index[n->hash % INDEX_BUCKETS];
    while (*pp && *pp != n)
        pp = &(*pp)->next;
    if (*pp)
        *pp = n->next;
    c->stats.index_keys--;
    free(n->key);
    free(n);
}

static void dep_key(char *buf, size_t len, const char *metric, const char *period)
{
    snprintf(buf, len, "m:%s\x1f%s", metric, period);
}

/* Puts a newly stored e on the lists of what it depends on; on "everything"
 * when it declared nothing or memory runs out (then every change drops it:
 * never wrongly kept). */
static void index_entry(struct cache *c, struct cache_entry *e)
{
    if (!e->declared || e->all)
        goto everything;
    size_t want = e->ndeps + (e->authority[0] ? 1 : 0);
    for (unsigned bit = 1; bit; bit <<= 1)
        if (e->flags & bit)
            want++;
    if (want == 0)
        return;     /* depends on nothing narrow: only full invalidations drop it */
    e->links = calloc(want, sizeof *e->links);
    if (!e->links)
        goto everything;
    char key[128];
    size_t k = 0;
    for (unsigned bit = 1; bit; bit <<= 1) {
        if (!(e->flags & bit))
            continue;
        snprintf(key, sizeof key, "f:%u", bit);
        struct dep_node *n = index_get(c, key);
        if (!n)
            goto undo;
        link_add(n, &e->links[k++], e);
    }
    if (e->authority[0]) {
        snprintf(key, sizeof key, "%c:%s", e->public_view ? 'p' : 'a', e->authority);
        struct dep_node *n = index_get(c, key);
        if (!n)
            goto undo;
        link_add(n, &e->links[k++], e);
    }
    for (size_t i = 0; i < e->ndeps; i++) {
        dep_key(key, sizeof key, e->deps[i].metric, e->deps[i].period);
        struct dep_node *n = index_get(c, key);
        if (!n)
            goto undo;
        link_add(n, &e->links[k++], e);
    }
    e->nlinks = k;
    return;
undo:
    for (size_t i = 0; i < k; i++)
        link_remove(c, &e->links[i]);
    free(e->links);
    e->links = NULL;
everything:
    link_add(&c->everything, &e->all_link, e);
}

static void unindex_entry(struct cache *c, struct cache_entry *e)
{
    for (size_t i = 0; i < e->nlinks; i++)
        link_remove(c, &e->links[i]);
    free(e->links);
    e->links = NULL;
    e->nlinks = 0;
    link_remove(c, &e->all_link);
}

/* Removes a stored e from its bucket and the index and drops the cache's
 * reference. */
static void drop_entry(struct cache *c, struct cache_entry *e)
{
    struct cache_entry **pp = &c->buckets[e->hash % CACHE_BUCKETS];
    while (*pp && *pp != e)
        pp = &(*pp)->next;
    if (*pp)
        *pp = e->next;
    e->next = NULL;
    unindex_entry(c, e);
    c->stats.entries--;
    cache_entry_unref(e);
}

/* Drops every entry on the list of key (and frees that list). */
static void drop_list(struct cache *c, struct dep_node *n)
{
    while (n && n->count > 0) {
        int last = n->count == 1 && n != &c->everything;
        drop_entry(c, n->head.next->entry);
        c->stats.change_drops++;
        if (last)
            break;      /* n was freed with its last link */
    }
}

static void drop_key(struct cache *c, const char *key)
{
    drop_list(c, index_find(c, key));
}

static void drop_all(struct cache *c)
{
    for (size_t b = 0; b < CACHE_BUCKETS; b++) {
        struct cache_entry *e = c->buckets[b];
        while (e) {
            struct cache_entry *next = e->next;
            e->next = NULL;
            /* The index goes as a whole below. */
            free(e->links);
            e->links = NULL;
            e->nlinks = 0;
            e->all_link.node = NULL;
            cache_entry_unref(e);
            e = next;
        }
        c->buckets[b] = NULL;
    }
    for (size_t b = 0; b < INDEX_BUCKETS; b++)
        while (c->index[b]) {
            struct dep_node *n = c->index[b];
            c->index[b] = n->next;
            free(n->key);
            free(n);
        }
    list_init(&c->everything);
    c->stats.index_keys = 0;
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
    for (struct cache_flight *f = c->flights[cache_key_hash(key) % FLIGHT_BUCKETS]; f; f = f->next)
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
    size_t b = cache_key_hash(key) % FLIGHT_BUCKETS;
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
    struct cache_flight **pp = &c->flights[cache_key_hash(f->key) % FLIGHT_BUCKETS];
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
    if (l->authority[0] && e->authority[0] && strcmp(l->authority, e->authority) == 0 &&
        !(l->hidden && e->public_view))
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
    l->hidden = ch->hidden && l->authority[0];
    for (size_t m = 0; m < ch->nmetrics; m++)
        snprintf(l->metrics[m], sizeof l->metrics[m], "%s", ch->metrics[m]);
    l->nmetrics = ch->nmetrics;
    c->stats.changes++;
    if (l->nmetrics > 0 && !l->period[0]) {
        /* Every period of some metrics: no list names them all (rare:
         * nothing sends it today); judge each entry. */
        for (size_t b = 0; b < CACHE_BUCKETS; b++) {
            struct cache_entry *e = c->buckets[b];
            while (e) {
                struct cache_entry *next = e->next;
                if (change_hits(e, l)) {
                    drop_entry(c, e);
                    c->stats.change_drops++;
                }
                e = next;
            }
        }
        return;
    }
    /* The same entries change_hits would name, found from the index. */
    char key[128];
    drop_list(c, &c->everything);
    for (unsigned bit = 1; bit; bit <<= 1)
        if (l->flags & bit) {
            snprintf(key, sizeof key, "f:%u", bit);
            drop_key(c, key);
        }
    if (l->authority[0]) {
        snprintf(key, sizeof key, "a:%s", l->authority);
        drop_key(c, key);
        if (!l->hidden) {
            snprintf(key, sizeof key, "p:%s", l->authority);
            drop_key(c, key);
        }
    }
    for (size_t m = 0; m < l->nmetrics; m++) {
        dep_key(key, sizeof key, l->metrics[m], l->period);
        drop_key(c, key);
        dep_key(key, sizeof key, l->metrics[m], "");
        drop_key(c, key);
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

void cache_entry_depend_public_view(struct cache_entry *e)
{
    e->public_view = 1;
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
    uint64_t h = cache_key_hash(key);
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
    e->hash = cache_key_hash(key);
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
    free(e->links);
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
            drop_entry(c, *pp);
            break;
        }
    }
    if (c->stats.entries >= c->max_entries)
        drop_all(c);   /* the generation stays: nothing changed in the data */
    pp = &c->buckets[e->hash % CACHE_BUCKETS];
    e->next = *pp;
    *pp = e;
    e->refs++;
    index_entry(c, e);
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

void cache_metrics_render(const struct cache *c, struct evbuffer *out)
{
    const struct cache_stats *s = &c->stats;
    evbuffer_add_printf(out,
        "# HELP sendbench_reply_cache_entries Replies held by the reply cache.\n"
        "# TYPE sendbench_reply_cache_entries gauge\n"
        "sendbench_reply_cache_entries %zu\n"
        "# HELP sendbench_reply_cache_index_keys Dependencies the cache's index has lists for.\n"
        "# TYPE sendbench_reply_cache_index_keys gauge\n"
        "sendbench_reply_cache_index_keys %zu\n"
        "# HELP sendbench_reply_cache_events_total What the reply cache did, by event.\n"
        "# TYPE sendbench_reply_cache_events_total counter\n"
        "sendbench_reply_cache_events_total{event=\"hit\"} %llu\n"
        "sendbench_reply_cache_events_total{event=\"miss\"} %llu\n"
        "sendbench_reply_cache_events_total{event=\"store\"} %llu\n"
        "sendbench_reply_cache_events_total{event=\"stale_drop\"} %llu\n"
        "sendbench_reply_cache_events_total{event=\"invalidation\"} %llu\n"
        "sendbench_reply_cache_events_total{event=\"change\"} %llu\n"
        "sendbench_reply_cache_events_total{event=\"change_drop\"} %llu\n",
        s->entries, s->index_keys, (unsigned long long)s->hits, (unsigned long long)s->misses,
        (unsigned long long)s->stores, (unsigned long long)s->stale_drops,
        (unsigned long long)s->invalidations, (unsigned long long)s->changes,
        (unsigned long long)s->change_drops);
}
