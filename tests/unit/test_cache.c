/* The reply cache: lookup, generations (a table computed across an
 * invalidation is not kept), bodies kept alive by replies after an
 * invalidation, ETag matching. */
#include "cache.h"

#include <event2/buffer.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"

static struct cache_entry *entry(const char *key, const char *text)
{
    char *body = strdup(text);
    return cache_entry_new(key, "application/json", "public, no-cache", body, strlen(text));
}

static void test_store_lookup_and_generation(void)
{
    struct cache *c = cache_new(16);
    CHECK(c != NULL);
    CHECK(cache_lookup(c, "a") == NULL);
    uint64_t g = cache_generation(c);
    struct cache_entry *e = entry("a", "{\"x\":1}");
    CHECK(cache_store(c, e, g) == 1);
    cache_entry_unref(e);
    struct cache_entry *hit = cache_lookup(c, "a");
    CHECK(hit != NULL);
    CHECK(hit && cache_entry_length(hit) == 7);
    CHECK_STR(cache_entry_content_type(hit), "application/json");
    /* replacing the same key keeps one entry */
    e = entry("a", "{\"x\":2}");
    CHECK(cache_store(c, e, g) == 1);
    cache_entry_unref(e);
    struct cache_stats st;
    cache_get_stats(c, &st);
    CHECK(st.entries == 1);
    /* a computation that began before an invalidation is not kept */
    uint64_t before = cache_generation(c);
    cache_invalidate(c);
    CHECK(cache_lookup(c, "a") == NULL);
    e = entry("b", "late");
    CHECK(cache_store(c, e, before) == 0);
    CHECK(cache_lookup(c, "b") == NULL);
    cache_entry_unref(e);
    cache_get_stats(c, &st);
    CHECK(st.stale_drops == 1 && st.invalidations == 1 && st.entries == 0);
    cache_free(c);
}

static void test_bounded(void)
{
    struct cache *c = cache_new(4);
    char key[16];
    for (int i = 0; i < 10; i++) {
        snprintf(key, sizeof key, "k%d", i);
        struct cache_entry *e = entry(key, "v");
        CHECK(cache_store(c, e, cache_generation(c)) == 1);
        cache_entry_unref(e);
        struct cache_stats st;
        cache_get_stats(c, &st);
        CHECK(st.entries <= 4);
    }
    CHECK(cache_lookup(c, "k9") != NULL);
    cache_free(c);
}

static void test_body_outlives_invalidation(void)
{
    struct cache *c = cache_new(4);
    struct cache_entry *e = entry("t", "hello table");
    CHECK(cache_store(c, e, cache_generation(c)) == 1);
    cache_entry_unref(e);
    struct evbuffer *out = evbuffer_new();
    CHECK(cache_entry_add_to(cache_lookup(c, "t"), out) == 0);
    cache_invalidate(c);    /* the reply still references the body */
    cache_free(c);
    char buf[32] = {0};
    CHECK(evbuffer_remove(out, buf, sizeof buf - 1) == 11);
    CHECK_STR(buf, "hello table");
    evbuffer_free(out);     /* releases the last reference (valgrind checks) */
}

static void test_etags(void)
{
    struct cache_entry *a = entry("a", "same"), *b = entry("b", "same"), *d = entry("d", "diff");
    CHECK_STR(cache_entry_etag(a), cache_entry_etag(b));
    CHECK(strcmp(cache_entry_etag(a), cache_entry_etag(d)) != 0);
    const char *tag = cache_entry_etag(a);
    CHECK(tag[0] == '"' && strlen(tag) == 34);
    char list[128], weak[64];
    snprintf(list, sizeof list, "\"x\", %s , \"y\"", tag);
    snprintf(weak, sizeof weak, "W/%s", tag);
    static const char *no[] = {"", "\"x\"", "\"x\", \"y\""};
    CHECK(cache_etag_matches(tag, tag));
    CHECK(cache_etag_matches(list, tag));
    CHECK(cache_etag_matches(weak, tag));
    CHECK(cache_etag_matches("*", tag));
    for (size_t i = 0; i < 3; i++)
        CHECK(!cache_etag_matches(no[i], tag));
    CHECK(!cache_etag_matches(NULL, tag));
    cache_entry_unref(a);
    cache_entry_unref(b);
    cache_entry_unref(d);
}

/* Narrow changes drop only the entries that depend on them. */
static void test_narrow_changes(void)
{
    struct cache *c = cache_new(16);
    CHECK(c != NULL);
    uint64_t g = cache_generation(c);
    struct cache_entry *table = entry("table", "t");     /* caseload 2021 and 2020 */
    CHECK(cache_entry_depend_on(table, "ehcp_caseload", "2021") == 0);
    CHECK(cache_entry_depend_on(table, "ehcp_caseload", "2020") == 0);
    struct cache_entry *profile = entry("profile", "p");  /* E1's own, rate any period */
    CHECK(cache_entry_depend(profile, 0, "E1") == 0);
    CHECK(cache_entry_depend_on(profile, "pct_within_20_weeks", NULL) == 0);
    struct cache_entry *fc = entry("forecast", "f");
    CHECK(cache_entry_depend(fc, CACHE_DEP_ANY_DATA | CACHE_DEP_FORECASTS, NULL) == 0);
    struct cache_entry *meta = entry("meta", "m");
    CHECK(cache_entry_depend(meta, 0, NULL) == 0);
    struct cache_entry *plain = entry("plain", "x");    /* declares nothing */
    struct cache_entry *all[] = {table, profile, fc, meta, plain};
    for (size_t i = 0; i < 5; i++) {
        CHECK(cache_store(c, all[i], g) == 1);
        cache_entry_unref(all[i]);
    }
    /* a quarter of E2's caseload: only what reads any data, and "plain" */
    const char *m1[] = {"ehcp_caseload", "caseload_per_officer"};
    struct cache_change ch = {.flags = CACHE_DEP_ANY_DATA, .authority = "E2",
                              .period = "2024-25 Q1", .metrics = m1, .nmetrics = 2};
    cache_change(c, &ch);
    CHECK(cache_lookup(c, "table") != NULL);
    CHECK(cache_lookup(c, "profile") != NULL);
    CHECK(cache_lookup(c, "meta") != NULL);
    CHECK(cache_lookup(c, "forecast") == NULL);
    CHECK(cache_lookup(c, "plain") == NULL);
    /* the stored forecasts: nothing else here */
    struct cache_change fch = {.flags = CACHE_DEP_FORECASTS};
    cache_change(c, &fch);
    CHECK(cache_lookup(c, "table") != NULL);
    /* E2's 2020 caseload: the table that shows 2020 */
    ch.period = "2020";
    cache_change(c, &ch);
    CHECK(cache_lookup(c, "table") == NULL);
    CHECK(cache_lookup(c, "profile") != NULL);
    /* a 20-week figure of E2 in any period: the profile showing the latest */
    const char *m2[] = {"new_plans_issued", "pct_within_20_weeks"};
    struct cache_change ch2 = {.flags = CACHE_DEP_ANY_DATA, .authority = "E2",
                               .period = "2019", .metrics = m2, .nmetrics = 2};
    uint64_t mid = cache_generation(c);
    cache_change(c, &ch2);
    CHECK(cache_lookup(c, "profile") == NULL);
    CHECK(cache_lookup(c, "meta") != NULL);
    /* E1's own figures: its profile, whatever the metric */
    struct cache_entry *p2 = entry("profile", "p2");
    CHECK(cache_entry_depend(p2, 0, "E1") == 0);
    CHECK(cache_store(c, p2, cache_generation(c)) == 1);
    struct cache_change ch3 = {.authority = "E1", .period = "2022", .metrics = m2 + 0,
                               .nmetrics = 1};
    cache_change(c, &ch3);
    CHECK(cache_lookup(c, "profile") == NULL);
    /* computed across changes: kept only when none of them touched it */
    CHECK(cache_entry_unchanged(c, p2, mid, mid + 1) == 1);     /* ch2: not E1 */
    CHECK(cache_entry_unchanged(c, p2, mid, cache_generation(c)) == 0);  /* ch3 */
    CHECK(cache_store(c, p2, mid) == 0);
    cache_entry_unref(p2);
    struct cache_entry *t2 = entry("table", "t2");
    CHECK(cache_entry_depend_on(t2, "ehcp_caseload", "2021") == 0);
    CHECK(cache_store(c, t2, mid) == 1);                        /* ch2, ch3: other metric */
    cache_entry_unref(t2);
    struct cache_stats st;
    cache_get_stats(c, &st);
    CHECK(st.changes == 5);
    cache_free(c);
}

/* The change log is bounded: a computation older than it, or across a full
 * invalidation, is never kept. */
static void test_change_log_bound(void)
{
    struct cache *c = cache_new(16);
    CHECK(c != NULL);
    uint64_t g = cache_generation(c);
    const char *m[] = {"other"};
    struct cache_change ch = {.authority = "E9", .period = "2020", .metrics = m, .nmetrics = 1};
    for (int i = 0; i < CACHE_CHANGE_LOG - 1; i++)
        cache_change(c, &ch);
    struct cache_entry *e = entry("t", "t");
    CHECK(cache_entry_depend_on(e, "ehcp_caseload", "2021") == 0);
    CHECK(cache_entry_unchanged(c, e, g, cache_generation(c)) == 1);
    cache_change(c, &ch);
    CHECK(cache_entry_unchanged(c, e, g, cache_generation(c)) == 0);   /* forgotten */
    uint64_t g2 = cache_generation(c);
    cache_invalidate(c);
    CHECK(cache_store(c, e, g2) == 0);
    /* too many metrics to remember: a full invalidation */
    const char *many[CACHE_CHANGE_METRICS + 1];
    for (size_t i = 0; i <= CACHE_CHANGE_METRICS; i++)
        many[i] = "m";
    struct cache_change big = {.metrics = many, .nmetrics = CACHE_CHANGE_METRICS + 1};
    CHECK(cache_store(c, e, cache_generation(c)) == 1);
    cache_change(c, &big);
    CHECK(cache_lookup(c, "t") == NULL);
    struct cache_stats st;
    cache_get_stats(c, &st);
    CHECK(st.invalidations == 2);
    cache_entry_unref(e);
    cache_free(c);
}

/* Single flight: waiters on the pending entry learn the leader's outcome,
 * in the order they came. */
struct heard {
    int n;
    enum cache_flight_outcome outcome[4];
    struct cache_entry *entry[4];
    void *arg[4];
};

static void heard_cb(void *arg, enum cache_flight_outcome outcome, struct cache_entry *e)
{
    struct heard *h = *(struct heard **)arg;
    if (h->n < 4) {
        h->outcome[h->n] = outcome;
        h->entry[h->n] = e;
        h->arg[h->n] = arg;
        h->n++;
    }
}

static void test_single_flight(void)
{
    struct cache *c = cache_new(16);
    struct heard h = {0};
    struct heard *hp[3] = {&h, &h, &h};
    struct cache_waiter w[3];
    CHECK(c != NULL);

    /* A result shared with every waiter. */
    CHECK(cache_flight_find(c, "k") == NULL);
    struct cache_flight *f = cache_flight_start(c, "k", cache_generation(c));
    CHECK(f != NULL && cache_flight_find(c, "k") == f && cache_flight_find(c, "j") == NULL);
    cache_flight_wait(c, f, &w[0], &hp[0]);
    cache_flight_wait(c, f, &w[1], &hp[1]);
    struct cache_entry *e = entry("k", "body");
    CHECK(!cache_flight_has_result(f));
    cache_flight_result(f, e);
    CHECK(cache_flight_has_result(f));
    cache_entry_unref(e);   /* the flight keeps its own reference */
    cache_flight_land(c, f, heard_cb);
    CHECK(h.n == 2 && h.outcome[0] == CACHE_FLIGHT_SHARED && h.outcome[1] == CACHE_FLIGHT_SHARED);
    CHECK(h.entry[0] != NULL && h.entry[0] == h.entry[1]);
    CHECK(h.arg[0] == &hp[0] && h.arg[1] == &hp[1]);
    CHECK(cache_flight_find(c, "k") == NULL);

    /* A waiter that came after a change the result depends on computes
     * afresh; one that came before shares. */
    memset(&h, 0, sizeof h);
    f = cache_flight_start(c, "k", cache_generation(c));
    cache_flight_wait(c, f, &w[0], &hp[0]);
    cache_invalidate(c);
    cache_flight_wait(c, f, &w[1], &hp[1]);
    e = entry("k", "body");
    cache_flight_result(f, e);
    cache_entry_unref(e);
    cache_flight_land(c, f, heard_cb);
    CHECK(h.n == 2 && h.outcome[0] == CACHE_FLIGHT_SHARED && h.outcome[1] == CACHE_FLIGHT_CHANGED);
    CHECK(h.entry[0] != NULL && h.entry[1] == NULL);

    /* The leader failed: alone, or 503 when the database was unavailable. */
    memset(&h, 0, sizeof h);
    f = cache_flight_start(c, "k", cache_generation(c));
    cache_flight_wait(c, f, &w[2], &hp[2]);
    cache_flight_land(c, f, heard_cb);
    CHECK(h.n == 1 && h.outcome[0] == CACHE_FLIGHT_FAILED);
    memset(&h, 0, sizeof h);
    f = cache_flight_start(c, "k", cache_generation(c));
    cache_flight_wait(c, f, &w[2], &hp[2]);
    cache_flight_unavailable(f);
    cache_flight_land(c, f, heard_cb);
    CHECK(h.n == 1 && h.outcome[0] == CACHE_FLIGHT_UNAVAILABLE);

    /* A flight left at shutdown is freed with the cache. */
    CHECK(cache_flight_start(c, "left", cache_generation(c)) != NULL);
    cache_free(c);
}

static unsigned rnd(unsigned *seed, unsigned n)
{
    *seed = *seed * 1103515245u + 12345u;
    return (*seed >> 16) % n;
}

/* The dependency index drops exactly what the change log's judgement
 * (change_hits, through cache_entry_unchanged) says a change touches:
 * random entries and random changes, every entry checked each time. */
static void test_index_agrees_with_the_log(void)
{
    static const char *const metrics[] = {"ehcp_caseload", "new_plans_issued",
                                          "pct_within_20_weeks", "requests_received"};
    static const char *const periods[] = {"2020", "2021", "2024-25 Q1", "2024-25 Q2"};
    static const char *const auths[] = {"E1", "E2", "E3"};
    unsigned seed = 12345;
#define RND(n) rnd(&seed, n)
    for (int round = 0; round < 40; round++) {
        struct cache *c = cache_new(1000);
        struct cache_entry *es[60];
        char key[16];
        for (int i = 0; i < 60; i++) {
            snprintf(key, sizeof key, "k%d", i);
            es[i] = entry(key, "v");
            int kind = (int)RND(6);
            if (kind == 0)
                continue;   /* declares nothing */
            unsigned flags = RND(8);
            CHECK(cache_entry_depend(es[i], flags, kind == 1 ? auths[RND(3)] : NULL) == 0);
            if (RND(2))
                cache_entry_depend_public_view(es[i]);
            for (unsigned d = RND(4); d > 0; d--)
                CHECK(cache_entry_depend_on(es[i], metrics[RND(4)],
                                            RND(3) == 0 ? NULL : periods[RND(4)]) == 0);
        }
        for (int i = 0; i < 60; i++)
            CHECK(cache_store(c, es[i], cache_generation(c)) == 1);
        for (int step = 0; step < 6; step++) {
            const char *ms[2];
            ms[0] = metrics[RND(4)];
            ms[1] = metrics[RND(4)];
            struct cache_change ch = {.metrics = ms};
            ch.flags = RND(8);
            ch.authority = RND(2) ? auths[RND(3)] : NULL;
            ch.period = periods[RND(4)];
            ch.nmetrics = RND(3);
            ch.hidden = (int)RND(2);
            int before[60];
            for (int i = 0; i < 60; i++) {
                snprintf(key, sizeof key, "k%d", i);
                before[i] = cache_lookup(c, key) != NULL;
            }
            uint64_t g = cache_generation(c);
            cache_change(c, &ch);
            for (int i = 0; i < 60; i++) {
                snprintf(key, sizeof key, "k%d", i);
                int kept = cache_lookup(c, key) != NULL;
                int want = before[i] && cache_entry_unchanged(c, es[i], g, g + 1);
                CHECK(kept == want);
            }
        }
        for (int i = 0; i < 60; i++)
            cache_entry_unref(es[i]);
        cache_free(c);
    }
#undef RND
}

/* A change visits only its lists: of 2,000 profiles and tables, a quarter
 * of one authority drops that authority's profile and the tables of that
 * quarter, and leaves every other authority's entries (counted). */
static void test_index_is_narrow(void)
{
    struct cache *c = cache_new(10000);
    char key[64], auth[16];
    for (int a = 0; a < 1000; a++) {
        snprintf(auth, sizeof auth, "E%06d", a);
        snprintf(key, sizeof key, "profile:%s", auth);
        struct cache_entry *p = entry(key, "p");
        CHECK(cache_entry_depend(p, 0, auth) == 0);
        CHECK(cache_entry_depend_on(p, "ehcp_caseload", "2024") == 0);
        CHECK(cache_store(c, p, cache_generation(c)) == 1);
        cache_entry_unref(p);
        /* The authority's neighbour table of a quarter, or of 2024. */
        snprintf(key, sizeof key, "table:%s", auth);
        struct cache_entry *t = entry(key, "t");
        CHECK(cache_entry_depend_on(t, "ehcp_caseload", a < 10 ? "2024-25 Q1" : "2024") == 0);
        CHECK(cache_store(c, t, cache_generation(c)) == 1);
        cache_entry_unref(t);
    }
    struct cache_stats st;
    cache_get_stats(c, &st);
    CHECK(st.entries == 2000);
    CHECK(st.index_keys == 1000 + 2);   /* each authority, two (metric, period) */
    const char *m[] = {"ehcp_caseload", "caseload_per_officer", "caseload_growth_pct"};
    struct cache_change ch = {.flags = CACHE_DEP_ANY_DATA, .authority = "E000500",
                              .period = "2024-25 Q1", .metrics = m, .nmetrics = 3};
    cache_change(c, &ch);
    cache_get_stats(c, &st);
    CHECK(st.change_drops == 11);       /* E000500's profile, the ten quarter tables */
    CHECK(st.entries == 1989);
    CHECK(st.index_keys == 1000);       /* emptied lists are freed */
    CHECK(cache_lookup(c, "profile:E000500") == NULL);
    CHECK(cache_lookup(c, "profile:E000501") != NULL);
    CHECK(cache_lookup(c, "table:E000005") == NULL);
    CHECK(cache_lookup(c, "table:E000500") != NULL);    /* its 2024 table stays */
    /* Replacing an entry leaves it on its new lists only. */
    struct cache_entry *p = entry("profile:E000501", "p2");
    CHECK(cache_entry_depend(p, 0, "E000501") == 0);
    CHECK(cache_store(c, p, cache_generation(c)) == 1);
    cache_entry_unref(p);
    struct cache_change y = {.authority = "E999999", .period = "2024", .metrics = m,
                             .nmetrics = 1};
    cache_change(c, &y);    /* caseload 2024: every 2024 entry but the replaced profile */
    CHECK(cache_lookup(c, "profile:E000501") != NULL);
    CHECK(cache_lookup(c, "profile:E000502") == NULL);
    cache_get_stats(c, &st);
    CHECK(st.entries == 1);
    CHECK(st.index_keys == 1);
    /* A full invalidation empties the index too. */
    cache_invalidate(c);
    cache_get_stats(c, &st);
    CHECK(st.entries == 0 && st.index_keys == 0);
    /* And the cache still indexes afterwards. */
    p = entry("profile:E1", "p");
    CHECK(cache_entry_depend(p, 0, "E1") == 0);
    CHECK(cache_store(c, p, cache_generation(c)) == 1);
    cache_entry_unref(p);
    struct cache_change e1 = {.authority = "E1", .period = "2020", .metrics = m, .nmetrics = 1};
    cache_change(c, &e1);
    CHECK(cache_lookup(c, "profile:E1") == NULL);
    cache_free(c);
}

/* A hidden change (figures only their authority and admins may see) of E1
 * leaves E1's profile as the public sees it, and drops E1's own and the
 * admins' view, and every reply that read the quarter's cross-section; a
 * change that is not hidden drops the public view too. */
static void test_hidden_changes(void)
{
    struct cache *c = cache_new(16);
    CHECK(c != NULL);
    const char *const keys[] = {"public", "council:E1", "admin", "public:E2", "quarter"};
    struct cache_entry *es[5];
    for (size_t i = 0; i < 5; i++) {
        es[i] = entry(keys[i], keys[i]);
        CHECK(cache_entry_depend(es[i], 0, i == 3 ? "E2" : i == 4 ? NULL : "E1") == 0);
        CHECK(cache_entry_depend_on(es[i], "ehcp_caseload", i == 4 ? "2024-25 Q1" : "2025") == 0);
    }
    cache_entry_depend_public_view(es[0]);
    cache_entry_depend_public_view(es[3]);
    for (size_t i = 0; i < 5; i++)
        CHECK(cache_store(c, es[i], cache_generation(c)) == 1);
    const char *m[] = {"ehcp_caseload"};
    uint64_t g = cache_generation(c);
    struct cache_change h = {.flags = CACHE_DEP_ANY_DATA, .authority = "E1",
                             .period = "2024-25 Q1", .metrics = m, .nmetrics = 1, .hidden = 1};
    cache_change(c, &h);
    CHECK(cache_lookup(c, "public") != NULL);
    CHECK(cache_lookup(c, "council:E1") == NULL);
    CHECK(cache_lookup(c, "admin") == NULL);
    CHECK(cache_lookup(c, "public:E2") != NULL);
    CHECK(cache_lookup(c, "quarter") == NULL);
    /* the log judges as the index: a public view computed across it is kept */
    CHECK(cache_entry_unchanged(c, es[0], g, g + 1) == 1);
    CHECK(cache_entry_unchanged(c, es[1], g, g + 1) == 0);
    /* the same change not hidden (the council consented): the public view goes */
    h.hidden = 0;
    cache_change(c, &h);
    CHECK(cache_lookup(c, "public") == NULL);
    CHECK(cache_lookup(c, "public:E2") != NULL);
    CHECK(cache_entry_unchanged(c, es[0], g + 1, g + 2) == 0);
    for (size_t i = 0; i < 5; i++)
        cache_entry_unref(es[i]);
    cache_free(c);
}

int main(void)
{
    RUN(test_store_lookup_and_generation);
    RUN(test_bounded);
    RUN(test_body_outlives_invalidation);
    RUN(test_etags);
    RUN(test_narrow_changes);
    RUN(test_change_log_bound);
    RUN(test_single_flight);
    RUN(test_index_agrees_with_the_log);
    RUN(test_index_is_narrow);
    RUN(test_hidden_changes);
    return UNIT_DONE();
}
