#include "ratelimit.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define KEY_MAX 48

struct bucket {
    char key[KEY_MAX];      /* "" = free slot */
    double tokens;
    double last;            /* when tokens was computed */
};

struct ratelimit {
    double rate;            /* tokens per second */
    double burst;
    int nslots;             /* power of two */
    struct bucket *slots;
};

/* FNV-1a: the keys are short and not chosen to collide (an address or a
 * token hash prefix), and a collision only shares a bucket's probe chain. */
static uint32_t key_hash(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 16777619u;
    }
    return h;
}

struct ratelimit *ratelimit_new(int per_minute, int slots)
{
    struct ratelimit *rl = calloc(1, sizeof *rl);
    if (!rl)
        return NULL;
    int n = 16;
    while (n < slots * 2)
        n *= 2;
    rl->slots = calloc((size_t)n, sizeof *rl->slots);
    if (!rl->slots) {
        free(rl);
        return NULL;
    }
    rl->nslots = n;
    rl->rate = per_minute / 60.0;
    rl->burst = per_minute;
    return rl;
}

void ratelimit_free(struct ratelimit *rl)
{
    if (!rl)
        return;
    free(rl->slots);
    free(rl);
}

static double refill(const struct ratelimit *rl, const struct bucket *b, double now)
{
    double t = b->tokens + (now - b->last) * rl->rate;
    return t > rl->burst ? rl->burst : t;
}

/* Linear probing; when the probe window is full, the bucket that has
 * refilled most (the idlest key) is reused: forgetting a full bucket loses
 * nothing. */
#define PROBE 16

int ratelimit_take(struct ratelimit *rl, const char *key, double now, int *retry_after)
{
    char k[KEY_MAX];
    size_t len = strlen(key);
    if (len >= KEY_MAX)
        len = KEY_MAX - 1;
    memcpy(k, key, len);
    k[len] = '\0';

    uint32_t mask = (uint32_t)rl->nslots - 1, h = key_hash(k);
    struct bucket *b = NULL, *victim = NULL;
    double victim_tokens = -1;
    for (int i = 0; i < PROBE; i++) {
        struct bucket *s = &rl->slots[(h + (uint32_t)i) & mask];
        if (strcmp(s->key, k) == 0 && s->key[0]) {
            b = s;
            break;
        }
        if (!s->key[0]) {
            if (!victim || victim_tokens < rl->burst + 1) {
                victim = s;
                victim_tokens = rl->burst + 1;   /* a free slot beats any */
            }
            continue;
        }
        double t = refill(rl, s, now);
        if (t > victim_tokens) {
            victim = s;
            victim_tokens = t;
        }
    }
    if (!b) {
        b = victim;
        memcpy(b->key, k, len + 1);
        b->tokens = rl->burst;
        b->last = now;
    }
    b->tokens = refill(rl, b, now);
    b->last = now;
    if (b->tokens >= 1.0) {
        b->tokens -= 1.0;
        return 1;
    }
    *retry_after = (int)ceil((1.0 - b->tokens) / rl->rate);
    if (*retry_after < 1)
        *retry_after = 1;
    return 0;
}
