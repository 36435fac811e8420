/*
 * The inputs of the derived metrics, as the database declares them (the
 * table derived_metrics of sql/150, read through its view derived_inputs):
 * the one declaration, which the server loads instead of keeping a copy.
 * A change notice names the figures that changed; derived_expand adds the
 * derived metrics computed from them, so that the cache drops those too.
 * Pure: no I/O (server/changes.c loads it).
 */
#ifndef SENDBENCH_DERIVED_H
#define SENDBENCH_DERIVED_H

#include <stddef.h>

#define DERIVED_ID_MAX 64

struct derived_pair {
    char metric[DERIVED_ID_MAX];    /* the derived metric */
    char input[DERIVED_ID_MAX];     /* one figure it is computed from */
};

struct derived_inputs {
    struct derived_pair *pairs;     /* owned */
    size_t n, cap;
};

/* Adds one (metric, input) pair.  Returns 0, or -1 when out of memory or
 * an id is longer than DERIVED_ID_MAX - 1. */
int derived_inputs_add(struct derived_inputs *d, const char *metric, const char *input)
    __attribute__((warn_unused_result));

/* Frees the pairs; d is empty afterwards. */
void derived_inputs_clear(struct derived_inputs *d);

/* out[0..*n) receives the metrics of given and each derived metric computed
 * from any of them, every one once, in that order (borrowed strings).
 * Returns 0, or -1 when they are more than cap (out then holds the first
 * cap). */
int derived_expand(const struct derived_inputs *d, const char *const *given, size_t ngiven,
                   const char **out, size_t cap, size_t *n) __attribute__((warn_unused_result));

#endif
