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

int main(void)
{
    RUN(test_store_lookup_and_generation);
    RUN(test_bounded);
    RUN(test_body_outlives_invalidation);
    RUN(test_etags);
    return UNIT_DONE();
}
