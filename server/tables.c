/* Comparative tables: pure computation (see include/tables.h). */
#include "tables.h"

#include "disclosure.h"

#include <math.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int table_polarity_parse(const char *s, enum polarity *out)
{
    if (!s)
        return -1;
    if (strcmp(s, "higher_better") == 0)
        *out = POLARITY_HIGHER_BETTER;
    else if (strcmp(s, "lower_better") == 0)
        *out = POLARITY_LOWER_BETTER;
    else if (strcmp(s, "neutral") == 0)
        *out = POLARITY_NEUTRAL;
    else
        return -1;
    return 0;
}

/* ---- ranking, bands, changes, summaries ---- */

struct rank_item {
    double v;
    size_t i;
};

static int cmp_desc(const void *a, const void *b)
{
    const struct rank_item *x = a, *y = b;
    if (x->v != y->v)
        return x->v > y->v ? -1 : 1;
    return x->i < y->i ? -1 : x->i > y->i;
}

static int cmp_asc(const void *a, const void *b)
{
    return cmp_desc(b, a);
}

size_t table_rank(const double *values, const int *present, size_t n, enum polarity pol,
                  int *ranks)
{
    struct rank_item stack[256];
    struct rank_item *items = n <= 256 ? stack : malloc(n * sizeof *items);
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        ranks[i] = 0;
    if (!items)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (present[i])
            items[m++] = (struct rank_item){values[i], i};
    qsort(items, m, sizeof *items, pol == POLARITY_LOWER_BETTER ? cmp_asc : cmp_desc);
    for (size_t k = 0; k < m; k++) {
        /* Competition ranking: a tie takes the rank of its first member. */
        if (k > 0 && items[k].v == items[k - 1].v)
            ranks[items[k].i] = ranks[items[k - 1].i];
        else
            ranks[items[k].i] = (int)k + 1;
    }
    if (items != stack)
        free(items);
    return m;
}

char table_band(int rank, size_t n, enum polarity pol)
{
    if (pol == POLARITY_NEUTRAL || rank <= 0 || n == 0 || (size_t)rank > n)
        return 0;
    size_t q = 4 * (size_t)(rank - 1) / n;
    return (char)('A' + (q > 3 ? 3 : q));
}

double table_round(double v, int dp)
{
    double f = pow(10.0, dp);
    return round(v * f) / f;
}

int table_change(double cur, double prev, double *abs, double *pct)
{
    *abs = cur - prev;
    if (prev == 0) {
        *pct = 0;
        return 0;
    }
    *pct = (cur - prev) / fabs(prev) * 100.0;
    return 1;
}

enum improvement table_improvement(enum polarity pol, double change)
{
    if (pol == POLARITY_NEUTRAL)
        return IMPROVEMENT_NONE;
    if (change == 0)
        return IMPROVEMENT_UNCHANGED;
    int up = change > 0;
    return up == (pol == POLARITY_HIGHER_BETTER) ? IMPROVEMENT_IMPROVED : IMPROVEMENT_WORSENED;
}

const char *table_improvement_name(enum improvement imp)
{
    switch (imp) {
    case IMPROVEMENT_IMPROVED: return "improved";
    case IMPROVEMENT_WORSENED: return "worsened";
    case IMPROVEMENT_UNCHANGED: return "unchanged";
    default: return NULL;
    }
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

void table_summarise(const double *values, const int *present, const int *protected_,
                     size_t n, size_t min_contributors, int show_all, double *scratch,
                     struct table_summary *out)
{
    memset(out, 0, sizeof *out);
    double sum = 0;
    for (size_t i = 0; i < n; i++) {
        if (!present[i]) {
            out->n_missing++;
            continue;
        }
        if (protected_ && protected_[i])
            out->n_protected++;
        scratch[out->n++] = values[i];
    }
    if (out->n > 0) {
        qsort(scratch, out->n, sizeof *scratch, cmp_double);
        /* Summed in sorted order, so the mean and total do not depend on
         * the order the rows came in (floating-point addition is not
         * associative: 5.95 or 5.9499..., rounded 6.0 or 5.9). */
        for (size_t i = 0; i < out->n; i++)
            sum += scratch[i];
        size_t h = out->n / 2;
        out->median = out->n % 2 ? scratch[h] : (scratch[h - 1] + scratch[h]) / 2;
        out->mean = sum / (double)out->n;
        out->total = sum;
    }
    out->suppressed = !show_all &&
                      !disclosure_aggregate_releasable(out->n_protected, min_contributors);
    out->median_withheld = !show_all && !disclosure_order_statistic_releasable(out->n_protected);
    if (out->suppressed)
        out->mean = out->median = out->total = 0;
    if (out->median_withheld)
        out->median = 0;
}

/* ---- callers and masking ---- */

int table_may_name(const struct auth_caller *c, const char *code, int consent_to_name)
{
    if (consent_to_name || c->kind == CALLER_ADMIN)
        return 1;
    return c->kind == CALLER_COUNCIL && code && strcmp(c->authority, code) == 0;
}

void table_mask_label(size_t index, char *buf, size_t len)
{
    /* Spreadsheet-style letters: A..Z, AA..AZ, BA... */
    char letters[8];
    size_t k = sizeof letters - 1;
    letters[k] = '\0';
    size_t v = index + 1;
    while (v > 0 && k > 0) {
        v--;
        letters[--k] = (char)('A' + v % 26);
        v /= 26;
    }
    snprintf(buf, len, "Neighbour %s", letters + k);
}

struct mask_item {
    unsigned char mac[32];
    size_t i;
};

static int cmp_mac(const void *a, const void *b)
{
    return memcmp(((const struct mask_item *)a)->mac, ((const struct mask_item *)b)->mac, 32);
}

int table_mask_assign(const char *const *codes, size_t n, const char *key,
                      const char *table_id, size_t *letter)
{
    int rc = -1;
    struct mask_item *items = calloc(n ? n : 1, sizeof *items);
    if (!items)
        goto done;
    for (size_t i = 0; i < n; i++) {
        char msg[512];
        int len = snprintf(msg, sizeof msg, "%s\n%s", table_id, codes[i]);
        unsigned int maclen = 0;
        if (len < 0 || (size_t)len >= sizeof msg ||
            !HMAC(EVP_sha256(), key, (int)strlen(key), (const unsigned char *)msg, (size_t)len,
                  items[i].mac, &maclen) ||
            maclen != 32)
            goto done;
        items[i].i = i;
    }
    qsort(items, n, sizeof *items, cmp_mac);
    for (size_t k = 0; k < n; k++)
        letter[items[k].i] = k;
    rc = 0;
done:
    free(items);
    return rc;
}

/* ---- a whole table ---- */

static const char *row_label(const struct table_row *r)
{
    return r->masked ? r->mask_label : (r->name ? r->name : "");
}

static const struct table *sort_table;   /* qsort has no context argument */

static int cmp_display(const void *a, const void *b)
{
    const struct table_row *x = &sort_table->rows[*(const size_t *)a];
    const struct table_row *y = &sort_table->rows[*(const size_t *)b];
    if ((x->rank == 0) != (y->rank == 0))
        return x->rank == 0 ? 1 : -1;
    if (x->rank != y->rank)
        return x->rank < y->rank ? -1 : 1;
    /* Named rows before masked ones, so that where a masked row sits among
     * ties says nothing about its name. */
    if (x->masked != y->masked)
        return x->masked - y->masked;
    return strcmp(row_label(x), row_label(y));
}

static void round_cell(struct table_cell *c, int dp)
{
    if (c->has_value)
        c->value = table_round(c->value, dp);
    if (c->held_has_value)
        c->held_value = table_round(c->held_value, dp);
}

/* Protected from the public: unpublished and not consented.  What an
 * aggregate's disclosure rules count (the same for every caller, so that a
 * council's own answers cannot be differenced against the public's). */
static int cell_protected(const struct table_cell *c, const struct table_row *r)
{
    return c->exists && disclosure_protected(c->published, r->consent_to_name);
}

/* Whether a figure enters the aggregates (and masked rows) this caller is
 * given: every figure for an administrator; for anyone else a protected
 * figure only once released in a batch of its region (sql/180,
 * docs/disclosure.md rule 11), so that an aggregate never moves by one
 * authority's figure between two readings.  The same for every caller but
 * an administrator, as the threshold is (rule 4). */
int table_cell_aggregated(const struct auth_caller *caller, const struct table_cell *c,
                          int consent_to_name)
{
    return caller->kind == CALLER_ADMIN || !c->exists ||
           !disclosure_protected(c->published, consent_to_name) || c->released;
}

const struct table_cell *table_cell_for_aggregates(const struct auth_caller *caller,
                                                   const struct table_cell *c,
                                                   int consent_to_name, struct table_cell *held)
{
    if (caller->kind == CALLER_ADMIN || c->published || !c->released ||
        !disclosure_protected(c->published, consent_to_name))
        return c;
    memset(held, 0, sizeof *held);
    held->exists = held->released = 1;
    held->has_value = held->held_has_value = c->held_has_value;
    held->value = held->held_value = c->held_value;
    held->symbol = c->held_has_value ? NULL : "x";
    held->held_batch = c->held_batch;
    return held;
}

static int cell_aggregated(const struct table *t, const struct table_row *r,
                           const struct table_cell *c)
{
    return table_cell_aggregated(&t->caller, c, r->consent_to_name);
}

/* Row r's figure as this caller's aggregates count it (rule 12). */
static const struct table_cell *agg_cell(const struct table *t, const struct table_row *r,
                                         struct table_cell *held)
{
    return table_cell_for_aggregates(&t->caller, &r->cur, r->consent_to_name, held);
}

/* Row r's rate inputs as this caller's ratio of sums counts them: an
 * admin's in force, anyone else's as the aggregates hold them. */
static int ratio_inputs(const struct table *t, const struct table_row *r, double *num,
                        double *den)
{
    int admin = t->caller.kind == CALLER_ADMIN;
    if (admin ? !r->has_ratio : !r->has_held_ratio)
        return 0;
    *num = admin ? r->num : r->held_num;
    *den = admin ? r->den : r->held_den;
    return 1;
}

/* Unpublished and the caller may not name the authority. */
static int cell_hidden(const struct table *t, const struct table_row *r,
                       const struct table_cell *c)
{
    return c->exists && !c->published && !table_may_name(&t->caller, r->code, r->consent_to_name);
}

static int row_hidden(const struct table *t, const struct table_row *r)
{
    const struct table_cell *cells[] = {&r->cur, &r->prev, &r->year, &r->base};
    for (size_t k = 0; k < 4; k++)
        if (cell_hidden(t, r, cells[k]))
            return 1;
    return 0;
}

static void withhold_cell(struct table_cell *c)
{
    memset(c, 0, sizeof *c);
}

/* The sum of v[0..n) in ascending order (reorders v). */
static double sorted_sum(double *v, size_t n)
{
    double sum = 0;
    qsort(v, n, sizeof *v, cmp_double);
    for (size_t i = 0; i < n; i++)
        sum += v[i];
    return sum;
}

/* Summarises the rows `in` selects; *partial receives how many protected
 * rows have a record but no value (a rate with an input missing: its
 * inputs' totals less the rate's would give that input away). */
static void summarise_where(struct table *t,
                            int (*in)(const struct table *, size_t, const char *),
                            const char *region, int public_only, double *vals, int *present,
                            int *prot, double *scratch, struct table_summary *out,
                            size_t *partial)
{
    size_t m = 0;
    *partial = 0;
    for (size_t i = 0; i < t->n; i++) {
        if (!in(t, i, region))
            continue;
        const struct table_row *r = &t->rows[i];
        struct table_cell held;
        const struct table_cell *c = agg_cell(t, r, &held);
        if (!cell_aggregated(t, r, c) || (public_only && cell_protected(c, r))) {
            /* waiting for its batch (or, public_only, protected): counted
             * as an authority with no figure */
            vals[m] = 0;
            present[m] = prot[m] = 0;
            m++;
            continue;
        }
        vals[m] = c->has_value ? c->value : 0;
        present[m] = c->has_value && !r->note;
        prot[m] = cell_protected(c, r);
        if (!c->has_value && prot[m])
            (*partial)++;
        m++;
    }
    table_summarise(vals, present, prot, m, t->min_contributors,
                    t->caller.kind == CALLER_ADMIN, scratch, out);
    if (*partial && t->caller.kind != CALLER_ADMIN) {
        out->suppressed = 1;
        out->mean = out->median = out->total = 0;
    }
    if (t->ratio_scale != 0 && !out->suppressed && out->n > 0) {
        /* The ratio of sums, over the same contributors as the mean (vals
         * and scratch are free now); summed in sorted order, as the mean
         * is, so that row order never changes a bit of it. */
        size_t k = 0;
        int all = 1;
        for (size_t i = 0; i < t->n; i++) {
            const struct table_row *r = &t->rows[i];
            struct table_cell held;
            const struct table_cell *c = agg_cell(t, r, &held);
            if (!in(t, i, region) || !c->has_value || r->note || !cell_aggregated(t, r, c) ||
                (public_only && cell_protected(c, r)))
                continue;
            if (!ratio_inputs(t, r, &vals[k], &scratch[k])) {
                all = 0;
                break;
            }
            k++;
        }
        double num = sorted_sum(vals, k), den = sorted_sum(scratch, k);
        if (all && k == out->n && den != 0) {
            out->has_ratio = 1;
            out->ratio = t->ratio_scale * num / den;
        }
    }
}

static int in_england(const struct table *t, size_t i, const char *region)
{
    (void)t;
    (void)i;
    (void)region;
    return 1;
}

static int in_region(const struct table *t, size_t i, const char *region)
{
    return region && t->rows[i].region_code && strcmp(t->rows[i].region_code, region) == 0;
}

/* The statistical neighbours, the focal authority itself not included. */
static int in_neighbours(const struct table *t, size_t i, const char *region)
{
    (void)region;
    return t->rows[i].neighbour_rank >= 1;
}

/* Whether every release batch among the neighbours' protected figures
 * (as this caller's aggregates hold them) brought at least
 * min_contributors of them.  batches and seen: room for t->n. */
static int neighbour_batches_whole(const struct table *t, long long *batches, int *seen)
{
    size_t nb = 0;
    for (size_t i = 0; i < t->n; i++) {
        const struct table_row *r = &t->rows[i];
        struct table_cell held;
        const struct table_cell *c = agg_cell(t, r, &held);
        if (!in_neighbours(t, i, NULL) || !c->has_value || !cell_protected(c, r) ||
            !cell_aggregated(t, r, c))
            continue;
        size_t k = 0;
        while (k < nb && batches[k] != c->held_batch)
            k++;
        if (k == nb) {
            batches[nb] = c->held_batch;
            seen[nb++] = 0;
        }
        seen[k]++;
    }
    for (size_t k = 0; k < nb; k++)
        if ((size_t)seen[k] < t->min_contributors)
            return 0;
    return 1;
}

static int in_group_rows(const struct table *t, size_t i)
{
    switch (t->group) {
    case GROUP_ENGLAND: return 1;
    case GROUP_REGION: return t->focal >= 0 && in_region(t, i, t->rows[t->focal].region_code);
    case GROUP_NEIGHBOURS: return t->rows[i].neighbour_rank >= 0;
    }
    return 0;
}

/* Complementary suppression over England's regions: which region
 * aggregates may be released, and whether England's may.  regions[] gets
 * the distinct region codes (room for t->n), sup[] their verdicts. */
static int regions_complement(const struct table *t, const char **regions, size_t *counts,
                              int *sup, size_t *nregions)
{
    size_t nr = 0;
    for (size_t i = 0; i < t->n; i++) {
        const struct table_row *r = &t->rows[i];
        const char *rc = r->region_code ? r->region_code : "";
        size_t k = 0;
        while (k < nr && strcmp(regions[k], rc) != 0)
            k++;
        if (k == nr) {
            regions[nr] = rc;
            counts[nr++] = 0;
        }
        struct table_cell held;
        const struct table_cell *c = agg_cell(t, r, &held);
        if (c->has_value && cell_protected(c, r) && cell_aggregated(t, r, c))
            counts[k]++;
    }
    *nregions = nr;
    return disclosure_complement(counts, nr, t->min_contributors, sup);
}

/* England's or a region's value: published first, else the released sum. */
static void summary_value(struct table_summary *s, const struct table_cell *area, int additive,
                          int dp)
{
    s->value_source = SUMMARY_VALUE_NONE;
    s->has_value = 0;
    s->value_symbol = NULL;
    if (area && area->exists) {
        s->value_source = SUMMARY_VALUE_PUBLISHED;
        s->has_value = area->has_value;
        s->value = area->has_value ? table_round(area->value, dp) : 0;
        s->value_symbol = area->has_value ? NULL : area->symbol;
    } else if (additive && !s->suppressed && s->n > 0) {
        s->value_source = SUMMARY_VALUE_SUM;
        s->has_value = 1;
        s->value = table_round(s->total, dp);
    } else if (s->has_ratio && !s->suppressed && s->n > 0) {
        s->value_source = SUMMARY_VALUE_RATIO;
        s->has_value = 1;
        s->value = table_round(s->ratio, dp);
    }
}

static int cmp_region(const void *a, const void *b)
{
    return strcmp(((const struct table_region *)a)->code, ((const struct table_region *)b)->code);
}

static void sort_regions(struct table_region *g, size_t n)
{
    qsort(g, n, sizeof *g, cmp_region);
}

int table_compute(struct table *t)
{
    int rc = -1;
    size_t n = t->n;
    size_t cap = n ? n : 1;
    double *vals = calloc(cap, sizeof *vals);
    long long *batches = calloc(cap, sizeof *batches);
    double *scratch = calloc(cap, sizeof *scratch);
    int *present = calloc(cap, sizeof *present);
    int *prot = calloc(cap, sizeof *prot);
    int *ranks = calloc(cap, sizeof *ranks);
    const char **codes = calloc(cap, sizeof *codes);
    size_t *masked_idx = calloc(cap, sizeof *masked_idx);
    size_t *letters = calloc(cap, sizeof *letters);
    const char **regions = calloc(cap, sizeof *regions);
    size_t *region_counts = calloc(cap, sizeof *region_counts);
    int *region_sup = calloc(cap, sizeof *region_sup);
    t->order = calloc(cap, sizeof *t->order);
    if (!vals || !batches || !scratch || !present || !prot || !ranks || !codes || !masked_idx ||
        !letters || !regions || !region_counts || !region_sup || !t->order)
        goto done;
    if (t->focal >= (long)n)
        t->focal = -1;
    int admin = t->caller.kind == CALLER_ADMIN;

    for (size_t i = 0; i < n; i++) {
        struct table_row *r = &t->rows[i];
        round_cell(&r->cur, t->dp);
        round_cell(&r->prev, t->dp);
        round_cell(&r->year, t->dp);
        round_cell(&r->base, t->dp);
        r->in_group = in_group_rows(t, i);
    }

    /* Aggregates first, over the figures as recorded. */
    size_t nregions = 0, partial = 0;
    int england_sup = regions_complement(t, regions, region_counts, region_sup, &nregions);
    summarise_where(t, in_england, NULL, 0, vals, present, prot, scratch, &t->england,
                    &partial);
    if (england_sup && !admin) {
        t->england.suppressed = 1;
        t->england.mean = t->england.median = t->england.total = 0;
    }
    t->has_region = t->has_neighbours = t->focal >= 0;
    if (t->focal >= 0) {
        const struct table_row *f = &t->rows[t->focal];
        summarise_where(t, in_region, f->region_code, 0, vals, present, prot, scratch, &t->region,
                        &partial);
        for (size_t k = 0; k < nregions && !admin; k++)
            if (region_sup[k] && f->region_code && strcmp(regions[k], f->region_code) == 0) {
                t->region.suppressed = 1;
                t->region.mean = t->region.median = t->region.total = 0;
            }
        /* Neighbour groups overlap: two of them can differ by one
         * authority.  Their aggregates of protected figures go only to the
         * focal authority (its own neighbours) and admins; anyone else's
         * neighbours' summary is over public figures only, protected ones
         * counted as missing: neither its value nor its count, nor a `c`,
         * says that a protected figure is there (counts or suppressions
         * over overlapping groups would tell who contributed by
         * elimination, rule 2). */
        int own = t->caller.kind == CALLER_COUNCIL && f->code &&
                  strcmp(t->caller.authority, f->code) == 0;
        summarise_where(t, in_neighbours, NULL, !admin && !own, vals, present, prot, scratch,
                        &t->neighbours, &partial);
        /* Batches are per region and neighbours cross regions: for the
         * focal authority too, each batch in its neighbours' aggregate
         * must have brought at least three of them (rule 6), else the
         * aggregate moved by fewer than three when the batch came. */
        if (!admin && t->neighbours.n_protected > 0 &&
            (!own || !neighbour_batches_whole(t, batches, present)))
        {
            t->neighbours.suppressed = 1;
            t->neighbours.mean = t->neighbours.median = t->neighbours.total = 0;
        }
    }

    summary_value(&t->england, &t->england_area, t->additive, t->dp);
    if (t->focal >= 0) {
        summary_value(&t->region, &t->region_area, t->additive, t->dp);
        summary_value(&t->neighbours, NULL, t->additive, t->dp);
    }

    if (t->want_regions) {
        t->regions = calloc(nregions ? nregions : 1, sizeof *t->regions);
        if (!t->regions)
            goto done;
        for (size_t k = 0; k < nregions; k++) {
            struct table_region *g = &t->regions[t->n_regions++];
            g->code = regions[k];
            g->name = regions[k];
            for (size_t i = 0; i < n; i++)
                if (t->rows[i].region_code && strcmp(t->rows[i].region_code, regions[k]) == 0 &&
                    t->rows[i].region_name) {
                    g->name = t->rows[i].region_name;
                    break;
                }
            summarise_where(t, in_region, regions[k], 0, vals, present, prot, scratch, &g->s,
                            &partial);
            if (region_sup[k] && !admin) {
                g->s.suppressed = 1;
                g->s.mean = g->s.median = g->s.total = 0;
            }
            summary_value(&g->s, NULL, t->additive, t->dp);
        }
        sort_regions(t->regions, t->n_regions);
    }

    /* Then what this caller may see of each figure. */
    size_t n_masked = 0, n_hidden_values = 0;
    for (size_t i = 0; i < n; i++) {
        const struct table_row *r = &t->rows[i];
        if (r->in_group && row_hidden(t, r) && cell_hidden(t, r, &r->cur) && r->cur.has_value &&
            cell_aggregated(t, r, &r->cur))
            n_hidden_values++;
    }
    int masks = t->caller.kind == CALLER_COUNCIL && t->group == GROUP_ENGLAND &&
                disclosure_masks_allowed(n_hidden_values, DISCLOSURE_MIN_MASKED);
    for (size_t i = 0; i < n; i++) {
        struct table_row *r = &t->rows[i];
        r->masked = r->withheld = 0;
        if (!row_hidden(t, r))
            continue;
        /* A peer's figure waiting for its batch is withheld, not masked:
         * a masked value that appeared with one approval would be that
         * authority's (rule 11). */
        if (masks && r->in_group && cell_aggregated(t, r, &r->cur)) {
            /* as the aggregates hold it: a masked value that moved with
             * one revision would be that authority's change (rule 12) */
            struct table_cell held;
            const struct table_cell *c = agg_cell(t, r, &held);
            if (c != &r->cur)
                r->cur = *c;
            /* and so are its other periods: a previous quarter revised
             * or withdrawn since its release shows as released, and one
             * still waiting for its batch not at all */
            struct table_cell *other[] = {&r->prev, &r->year, &r->base};
            for (size_t k = 0; k < 3; k++) {
                if (!cell_aggregated(t, r, other[k])) {
                    withhold_cell(other[k]);
                    continue;
                }
                c = table_cell_for_aggregates(&t->caller, other[k], r->consent_to_name, &held);
                if (c != other[k])
                    *other[k] = *c;
            }
            r->masked = 1;
            codes[n_masked] = r->code ? r->code : "";
            masked_idx[n_masked++] = i;
            continue;
        }
        struct table_cell *cells[] = {&r->cur, &r->prev, &r->year, &r->base};
        for (size_t k = 0; k < 4; k++)
            if (cell_hidden(t, r, cells[k]))
                withhold_cell(cells[k]);
        r->withheld = 1;
    }

    /* Bands are over every authority; ranks within the group; both count
     * only the figures this caller sees. */
    for (size_t i = 0; i < n; i++) {
        vals[i] = t->rows[i].cur.value;
        present[i] = t->rows[i].cur.has_value && !t->rows[i].note;
    }
    t->n_ranked_england = table_rank(vals, present, n, t->polarity, ranks);
    for (size_t i = 0; i < n; i++) {
        t->rows[i].rank_england = ranks[i];
        t->rows[i].band = table_band(ranks[i], t->n_ranked_england, t->polarity);
        present[i] = present[i] && t->rows[i].in_group;
    }
    size_t n_ranked_group = table_rank(vals, present, n, t->polarity, ranks);
    t->n_ranked_group = n_ranked_group;

    t->n_in_group = 0;
    for (size_t i = 0; i < n; i++) {
        struct table_row *r = &t->rows[i];
        r->rank = ranks[i];
        r->improvement = IMPROVEMENT_NONE;
        r->has_change_prev = r->has_change_prev_pct = 0;
        r->has_change_year = r->has_change_year_pct = 0;
        r->has_growth = r->has_growth_pct = 0;
        if (r->cur.has_value && r->prev.has_value) {
            r->has_change_prev = 1;
            r->has_change_prev_pct = table_change(r->cur.value, r->prev.value, &r->change_prev,
                                                  &r->change_prev_pct);
            r->improvement = table_improvement(t->polarity, r->change_prev);
        }
        if (r->cur.has_value && r->year.has_value) {
            r->has_change_year = 1;
            r->has_change_year_pct = table_change(r->cur.value, r->year.value, &r->change_year,
                                                  &r->change_year_pct);
        }
        if (r->cur.has_value && r->base.has_value) {
            r->has_growth = 1;
            r->has_growth_pct = table_change(r->cur.value, r->base.value, &r->growth,
                                             &r->growth_pct);
        }
        if (r->in_group)
            t->order[t->n_in_group++] = i;
    }
    if (n_masked > 0) {
        if (table_mask_assign(codes, n_masked, t->mask_key ? t->mask_key : "",
                              t->table_id ? t->table_id : "", letters) != 0)
            goto done;
        for (size_t k = 0; k < n_masked; k++) {
            struct table_row *r = &t->rows[masked_idx[k]];
            table_mask_label(letters[k], r->mask_label, sizeof r->mask_label);
        }
    }

    sort_table = t;
    qsort(t->order, t->n_in_group, sizeof *t->order, cmp_display);
    sort_table = NULL;
    /* Display order stays by value; a rank or band among fewer than
     * TABLE_MIN_RANKED figures is not given ("1 of 1" says nothing). */
    for (size_t i = 0; i < n; i++) {
        if (t->n_ranked_england < TABLE_MIN_RANKED)
            t->rows[i].rank_england = t->rows[i].band = 0;
        if (n_ranked_group < TABLE_MIN_RANKED)
            t->rows[i].rank = 0;
    }
    rc = 0;
done:
    free(vals);
    free(batches);
    free(scratch);
    free(present);
    free(prot);
    free(ranks);
    free(codes);
    free(masked_idx);
    free(letters);
    free(regions);
    free(region_counts);
    free(region_sup);
    if (rc != 0) {
        free(t->order);
        t->order = NULL;
        free(t->regions);
        t->regions = NULL;
        t->n_regions = 0;
    }
    return rc;
}

void table_release(struct table *t)
{
    free(t->order);
    t->order = NULL;
    free(t->regions);
    t->regions = NULL;
    t->n_regions = 0;
}

const char *table_summary_symbol(const struct table_summary *s)
{
    return s->suppressed ? "c" : s->n == 0 ? "x" : NULL;
}

int table_summary_shows_mean(const struct table_summary *s)
{
    return !s->suppressed && s->n > 0;
}

int table_summary_shows_median(const struct table_summary *s)
{
    return table_summary_shows_mean(s) && !s->median_withheld;
}

const char *table_summary_value_source_name(const struct table_summary *s)
{
    switch (s->value_source) {
    case SUMMARY_VALUE_PUBLISHED: return "published";
    case SUMMARY_VALUE_SUM: return "sum of authorities";
    case SUMMARY_VALUE_RATIO: return "ratio of sums of authorities";
    case SUMMARY_VALUE_NONE: break;
    }
    return NULL;
}

const char *table_cell_symbol(const struct table_cell *c)
{
    if (c->has_value)
        return NULL;
    return c->exists && c->symbol ? c->symbol : "x";
}
