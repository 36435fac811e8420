/*
 * Token-bucket rate limits keyed by a short string (a client address, a
 * token's hash prefix).  Pure: the caller passes the time.  Loop-thread only.
 */
#ifndef SENDBENCH_RATELIMIT_H
#define SENDBENCH_RATELIMIT_H

struct ratelimit;

/* per_minute requests per key, with bursts up to per_minute; tracks at most
 * `slots` keys at a time (idle keys are forgotten first).  Caller frees
 * with ratelimit_free.  NULL when out of memory. */
struct ratelimit *ratelimit_new(int per_minute, int slots) __attribute__((warn_unused_result));
void ratelimit_free(struct ratelimit *rl);

/* Takes one request for key at time now (seconds).  Returns 1 when allowed;
 * 0 when over the limit, with *retry_after the whole seconds until one more
 * request is allowed. */
int ratelimit_take(struct ratelimit *rl, const char *key, double now, int *retry_after);

#endif
