#include "ratelimit.h"
#include "unit.h"

static void test_burst_then_refuse(void)
{
    struct ratelimit *rl = ratelimit_new(60, 100);
    int ok = 0, retry = 0;
    for (int i = 0; i < 60; i++)
        ok += ratelimit_take(rl, "10.0.0.1", 100.0, &retry);
    CHECK(ok == 60);
    CHECK(ratelimit_take(rl, "10.0.0.1", 100.0, &retry) == 0);
    CHECK(retry == 1);   /* one token per second */
    ratelimit_free(rl);
}

static void test_refill_over_time(void)
{
    struct ratelimit *rl = ratelimit_new(60, 100);
    int retry = 0;
    for (int i = 0; i < 60; i++)
        CHECK(ratelimit_take(rl, "a", 0.0, &retry) == 1);
    CHECK(ratelimit_take(rl, "a", 0.5, &retry) == 0);
    CHECK(ratelimit_take(rl, "a", 1.6, &retry) == 1);
    CHECK(ratelimit_take(rl, "a", 1.6, &retry) == 0);
    /* a long pause refills to the burst, not beyond */
    int ok = 0;
    for (int i = 0; i < 100; i++)
        ok += ratelimit_take(rl, "a", 1000.0, &retry);
    CHECK(ok == 60);
    ratelimit_free(rl);
}

static void test_keys_are_independent(void)
{
    struct ratelimit *rl = ratelimit_new(2, 100);
    int retry = 0;
    CHECK(ratelimit_take(rl, "x", 0, &retry) && ratelimit_take(rl, "x", 0, &retry));
    CHECK(!ratelimit_take(rl, "x", 0, &retry));
    CHECK(retry == 30);  /* 2 per minute: 30 s for the next */
    CHECK(ratelimit_take(rl, "y", 0, &retry));
    ratelimit_free(rl);
}

static void test_many_keys_evict_idle_not_busy(void)
{
    struct ratelimit *rl = ratelimit_new(5, 16);
    int retry = 0;
    for (int i = 0; i < 5; i++)
        ratelimit_take(rl, "busy", 0, &retry);
    CHECK(!ratelimit_take(rl, "busy", 0, &retry));
    char key[32];
    for (int i = 0; i < 5000; i++) {
        snprintf(key, sizeof key, "k%d", i);
        ratelimit_take(rl, key, 0, &retry);
    }
    /* Thousands of other keys must not reset an exhausted bucket. */
    CHECK(!ratelimit_take(rl, "busy", 0, &retry));
    ratelimit_free(rl);
}

static void test_long_keys_truncated_safely(void)
{
    struct ratelimit *rl = ratelimit_new(1, 4);
    char key[300];
    memset(key, 'z', sizeof key - 1);
    key[sizeof key - 1] = '\0';
    int retry = 0;
    CHECK(ratelimit_take(rl, key, 0, &retry) == 1);
    CHECK(ratelimit_take(rl, key, 0, &retry) == 0);
    ratelimit_free(rl);
}

int main(void)
{
    RUN(test_burst_then_refuse);
    RUN(test_refill_over_time);
    RUN(test_keys_are_independent);
    RUN(test_many_keys_evict_idle_not_busy);
    RUN(test_long_keys_truncated_safely);
    return UNIT_DONE();
}
