/* The inputs of the derived metrics (see include/derived.h). */
#include "derived.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int derived_inputs_add(struct derived_inputs *d, const char *metric, const char *input)
{
    if (strlen(metric) >= DERIVED_ID_MAX || strlen(input) >= DERIVED_ID_MAX)
        return -1;
    if (d->n == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 16;
        struct derived_pair *p = realloc(d->pairs, cap * sizeof *p);
        if (!p)
            return -1;
        d->pairs = p;
        d->cap = cap;
    }
    snprintf(d->pairs[d->n].metric, DERIVED_ID_MAX, "%s", metric);
    snprintf(d->pairs[d->n].input, DERIVED_ID_MAX, "%s", input);
    d->n++;
    return 0;
}

void derived_inputs_clear(struct derived_inputs *d)
{
    free(d->pairs);
    d->pairs = NULL;
    d->n = d->cap = 0;
}

static int add_once(const char *m, const char **out, size_t cap, size_t *n)
{
    for (size_t k = 0; k < *n; k++)
        if (strcmp(out[k], m) == 0)
            return 0;
    if (*n == cap)
        return -1;
    out[(*n)++] = m;
    return 0;
}

int derived_expand(const struct derived_inputs *d, const char *const *given, size_t ngiven,
                   const char **out, size_t cap, size_t *n)
{
    *n = 0;
    for (size_t i = 0; i < ngiven; i++)
        if (add_once(given[i], out, cap, n) != 0)
            return -1;
    for (size_t i = 0; i < ngiven; i++)
        for (size_t p = 0; p < d->n; p++)
            if (strcmp(d->pairs[p].input, given[i]) == 0 &&
                add_once(d->pairs[p].metric, out, cap, n) != 0)
                return -1;
    return 0;
}
