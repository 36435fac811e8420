/* An authority's profile computed from the profile query's rows into
 * struct profile (include/profile.h): ranks, bands and summaries of every
 * cross-section shown, the authority's own series and, for pages, the
 * history, the quarters drawn and the growth in plans.  No rendering. */
#include "profile.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codes.h"
#include "tables_query.h"
#include "tables_xsec.h"

/* Room for element n of *v (elements of size sz): grows by doubling when n
 * is 0 or a power of two, so the capacity is never stored.  Returns 0, or
 * -1 when out of memory (*v unchanged). */
static int grow(void *v, size_t n, size_t sz)
{
    void **pv = v;
    if (n != 0 && (n & (n - 1)) != 0)
        return 0;
    void *p = realloc(*pv, (n ? 2 * n : 1) * sz);
    if (!p)
        return -1;
    *pv = p;
    return 0;
}

/* ------------------------------------------- the query's documents, read */

static const char *doc_str(const json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

static int places_read(const json_t *list, struct profile_place **out, size_t *n)
{
    *n = json_array_size(list);
    *out = calloc(*n + 1, sizeof **out);
    for (size_t i = 0; *out && i < *n; i++) {
        const json_t *o = json_array_get(list, i);
        (*out)[i] = (struct profile_place){doc_str(o, "code"), doc_str(o, "name"),
                                           doc_str(o, "effective")};
    }
    return *out ? 0 : -1;
}

/* The 'a' row's document (TABLES_PROFILE_SQL: code, names, region,
 * boundary changes, neighbours) into a; strings borrowed from doc. */
static int authority_read(struct profile_authority *a, const json_t *doc)
{
    a->code = doc_str(doc, "code");
    a->old_la_code = doc_str(doc, "old_la_code");
    a->name = doc_str(doc, "name");
    a->region_code = doc_str(doc, "region_code");
    a->region_name = doc_str(doc, "region_name");
    a->valid_from = doc_str(doc, "valid_from");
    a->valid_to = doc_str(doc, "valid_to");
    a->consent_to_name = json_is_true(json_object_get(doc, "consent_to_name"));
    if (places_read(json_object_get(doc, "predecessors"), &a->predecessors,
                    &a->n_predecessors) != 0 ||
        places_read(json_object_get(doc, "successors"), &a->successors, &a->n_successors) != 0)
        return -1;
    const json_t *list = json_object_get(doc, "neighbours");
    a->n_neighbours = json_array_size(list);
    a->neighbours = calloc(a->n_neighbours + 1, sizeof *a->neighbours);
    for (size_t i = 0; a->neighbours && i < a->n_neighbours; i++) {
        const json_t *o = json_array_get(list, i);
        a->neighbours[i] = (struct profile_neighbour){
            (int)json_integer_value(json_object_get(o, "rank")), doc_str(o, "code"),
            doc_str(o, "name"), doc_str(o, "closeness")};
    }
    return a->neighbours ? 0 : -1;
}

/* An 'm' row's document (the metric's catalogue entry) into m. */
static void metric_read(struct profile_metric *m, const json_t *info)
{
    m->label = doc_str(info, "label");
    m->unit = doc_str(info, "unit");
    m->dp = (int)json_integer_value(json_object_get(info, "dp"));
    m->polarity_name = doc_str(info, "polarity");
    if (table_polarity_parse(m->polarity_name, &m->polarity) != 0)
        m->polarity = POLARITY_NEUTRAL;
    m->kind = doc_str(info, "kind");
    m->annual_period = doc_str(info, "annual_period");
    m->additive = json_is_true(json_object_get(info, "additive"));
    m->description = doc_str(info, "description");
    m->ratio_scale = json_number_value(json_object_get(info, "ratio_scale"));
    m->default_quarters = json_object_get(info, "default_quarters");
}

/* The 'z' rows (England's and the subject region's published figures),
 * sorted by metric, period and area for lookup. */
struct area_index {
    const PGresult *res;
    int *rows;
    size_t n;
};

static const PGresult *area_sort_res;   /* qsort's context; loop thread only */

static int area_key_cmp(const char *metric, const char *period, const char *area,
                        const PGresult *res, int row)
{
    int c = strcmp(metric, PQgetvalue(res, row, 1));
    if (c == 0)
        c = strcmp(period, PQgetvalue(res, row, 2));
    return c ? c : strcmp(area, PQgetvalue(res, row, 3));
}

static int area_row_cmp(const void *a, const void *b)
{
    int rb = *(const int *)b;
    int ra = *(const int *)a;
    return area_key_cmp(PQgetvalue(area_sort_res, ra, 1), PQgetvalue(area_sort_res, ra, 2),
                        PQgetvalue(area_sort_res, ra, 3), area_sort_res, rb);
}

/* Indexes the 'z' rows among [z0, nres).  Returns 0, or -1 when out of memory. */
static int area_index_build(struct area_index *ai, const PGresult *res, int z0, int nres)
{
    memset(ai, 0, sizeof *ai);
    ai->res = res;
    ai->rows = calloc((size_t)(nres - z0) + 1, sizeof *ai->rows);
    if (!ai->rows)
        return -1;
    for (int i = z0; i < nres; i++)
        if (PQgetvalue(res, i, 0)[0] == 'z')
            ai->rows[ai->n++] = i;
    area_sort_res = res;
    qsort(ai->rows, ai->n, sizeof *ai->rows, area_row_cmp);
    return 0;
}

/* The published figure of area for metric and period into c (exists = 0:
 * none published). */
static void area_cell(const struct area_index *ai, const char *area, const char *metric,
                      const char *period, struct table_cell *c)
{
    memset(c, 0, sizeof *c);
    size_t lo = 0, hi = ai->n;
    while (area && period && lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int cmp = area_key_cmp(metric, period, area, ai->res, ai->rows[mid]);
        if (cmp == 0) {
            tq_read_cell(ai->res, ai->rows[mid], 6, c);
            return;
        }
        if (cmp < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
}

/* The subject's statistical neighbours, for the neighbour rank of each row
 * of a cross-section: 0 the subject itself, -1 not a neighbour. */
struct nbmap {
    const char *subject;
    const struct profile_authority *a;
};

static int nbmap_rank(const struct nbmap *nb, const char *code)
{
    if (strcmp(code, nb->subject) == 0)
        return 0;
    for (size_t i = 0; i < nb->a->n_neighbours; i++) {
        const char *c = nb->a->neighbours[i].code;
        if (c && strcmp(c, code) == 0)
            return nb->a->neighbours[i].rank;
    }
    return -1;
}

/* Reads the 'x' rows [j0, j1) of metric (and period when not NULL) into
 * rows, adding an empty row for the subject when it has no figure; the
 * subject's index into *focal and its reason into *reason.  Returns the
 * number of rows. */
static size_t xsec_fill(const PGresult *res, int j0, int j1, const char *metric,
                        const char *period, const struct nbmap *nb, const char *subject_region,
                        struct table_row *rows, long *focal, const char **reason)
{
    const char *subject = nb->subject;
    size_t n = 0;
    *focal = -1;
    for (int j = j0; j < j1; j++) {
        if (strcmp(PQgetvalue(res, j, 1), metric) != 0 ||
            (period && strcmp(PQgetvalue(res, j, 2), period) != 0))
            continue;
        struct table_row *row = &rows[n];
        memset(row, 0, sizeof *row);
        row->code = PQgetvalue(res, j, 3);
        row->region_code = PQgetvalue(res, j, 4);
        row->neighbour_rank = nbmap_rank(nb, row->code);
        row->consent_to_name = PQgetvalue(res, j, 11)[0] == 't';
        tq_read_cell(res, j, 6, &row->cur);
        row->note = row->cur.has_value ? tq_cell(res, j, 9) : NULL;
        /* "num den held_num held_den" (TABLES_RATIO_INPUTS_TEXT) */
        const char *nd = tq_cell(res, j, 12);
        if (nd) {
            char *end = NULL;
            row->num = strtod(nd, &end);
            row->den = strtod(end, &end);
            row->held_num = strtod(end, &end);
            row->held_den = strtod(end, NULL);
            row->has_ratio = isfinite(row->num) && isfinite(row->den);
            row->has_held_ratio = isfinite(row->held_num) && isfinite(row->held_den);
        }
        if (strcmp(row->code, subject) == 0) {
            *focal = (long)n;
            *reason = tq_cell(res, j, 9);
        }
        n++;
    }
    if (*focal < 0) {
        /* No figure for the subject: the others are still summarised. */
        memset(&rows[n], 0, sizeof rows[n]);
        rows[n].code = subject;
        rows[n].region_code = subject_region;
        *focal = (long)n++;
    }
    return n;
}

/* Reads the 'x' rows [j0, j1) of metric (and period when not NULL) into
 * rows (room for j1 - j0 + 1), and ranks, bands and summarises them as
 * table_compute does for the API's tables, once as the neighbours' table
 * and once as the region's, each from the rows as read (table_compute
 * withholds what the caller may not see, and the region's aggregates are
 * over the figures as recorded).  Returns 0, or -1 when out of memory. */
static int xsec_compute(const PGresult *res, int j0, int j1, const struct area_index *ai,
                        const char *metric, const char *period, const struct nbmap *nb,
                        const char *subject_region, const struct profile_metric *pm,
                        const struct auth_caller *caller, struct table_row *rows,
                        struct profile_xsec *out)
{
    long focal = -1;
    memset(out, 0, sizeof *out);
    out->period = period;
    size_t n = xsec_fill(res, j0, j1, metric, period, nb, subject_region, rows, &focal,
                         &out->reason);
    struct table tn = {.rows = rows, .n = n, .polarity = pm->polarity, .dp = pm->dp,
                       .group = GROUP_NEIGHBOURS, .focal = focal, .caller = *caller,
                       .min_contributors = MIN_CONTRIBUTORS, .mask_key = "profile",
                       .table_id = metric, .additive = pm->additive,
                       .ratio_scale = pm->ratio_scale};
    area_cell(ai, CODE_ENGLAND, metric, period, &tn.england_area);
    area_cell(ai, subject_region, metric, period, &tn.region_area);
    if (table_compute(&tn) != 0)
        return -1;
    const struct table_row *f = &rows[focal];
    out->hidden = f->withheld || f->masked;
    out->rank_neighbours = f->rank;
    out->rank_england = f->rank_england;
    out->band = f->band;
    out->cur = f->cur;
    out->england = tn.england;
    out->england_area = tn.england_area;
    out->neighbours = tn.neighbours;
    out->n_england = tn.n_ranked_england;
    out->n_neighbours = tn.n_ranked_group;
    table_release(&tn);
    struct table tr = tn;
    tr.group = GROUP_REGION;
    tr.order = NULL;
    tr.n = xsec_fill(res, j0, j1, metric, period, nb, subject_region, rows, &tr.focal,
                     &out->reason);
    if (table_compute(&tr) != 0)
        return -1;
    out->rank_region = rows[focal].rank;
    out->rank_alone = !out->hidden && out->cur.has_value && out->n_england < TABLE_MIN_RANKED;
    out->region = tr.region;
    table_release(&tr);
    return 0;
}

/* Growth in plans: each authority's plans as an index of its figure in the
 * base census (the subject's first from 2015 on), the subject's index,
 * the median index of its neighbours and England's total plans as an
 * index of England's total in the base year. */
struct growth {
    const char *base;           /* NULL: no base */
    const char **codes;         /* authorities with a base figure; borrowed */
    double *base_values;
    size_t n_base;
    double base_total;
    int base_total_ok;
};

static double growth_base_of(const struct growth *g, const char *code)
{
    for (size_t i = 0; i < g->n_base; i++)
        if (strcmp(g->codes[i], code) == 0)
            return g->base_values[i];
    return NAN;
}

/* rows[0..n) is the ehcp_caseload run of period (after xsec_compute: the
 * values are rounded as published).  Returns 0, or -1 when out of memory. */
static int growth_add(struct growth *g, struct profile *p, const char *period,
                      const struct table_row *rows, size_t n, const char *subject,
                      const struct auth_caller *caller, const struct table_cell *eng_area)
{
    int rc = -1;
    double *vals = calloc(n + 1, sizeof *vals), *scratch = calloc(n + 1, sizeof *scratch);
    int *present = calloc(n + 1, sizeof *present), *unpub = calloc(n + 1, sizeof *unpub);
    if (!vals || !scratch || !present || !unpub)
        goto done;
    int is_base = strcmp(period, g->base) == 0;
    if (is_base) {
        g->codes = calloc(n + 1, sizeof *g->codes);
        g->base_values = calloc(n + 1, sizeof *g->base_values);
        if (!g->codes || !g->base_values)
            goto done;
    }
    double plans = NAN, index = NAN;
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        const struct table_row *row = &rows[i];
        int visible = row->cur.has_value &&
                      (row->cur.published || table_may_name(caller, row->code,
                                                            row->consent_to_name));
        if (is_base && row->cur.has_value) {
            g->codes[g->n_base] = row->code;
            g->base_values[g->n_base++] = row->cur.value;
        }
        if (strcmp(row->code, subject) == 0 && visible) {
            double b = growth_base_of(g, row->code);
            plans = row->cur.value;
            if (b > 0)
                index = 100.0 * plans / b;
        }
        struct table_cell held;
        const struct table_cell *ag = table_cell_for_aggregates(caller, &row->cur,
                                                                row->consent_to_name, &held);
        vals[m] = ag->has_value ? ag->value : 0;
        present[m] = ag->has_value && table_cell_aggregated(caller, ag, row->consent_to_name);
        unpub[m] = ag->exists && !ag->published;
        m++;
    }
    struct table_summary eng, nbs;
    table_summarise(vals, present, unpub, m, MIN_CONTRIBUTORS, caller->kind == CALLER_ADMIN,
                    scratch, &eng);
    /* England's plans as the DfE publishes them where it does (a sum of
     * authorities falls short by their suppressed cells). */
    if (eng_area->exists && eng_area->has_value) {
        eng.total = eng_area->value;
        eng.suppressed = 0;
        eng.n = eng.n ? eng.n : 1;
    }
    if (is_base) {
        g->base_total = eng.total;
        g->base_total_ok = !eng.suppressed && eng.n > 0 && eng.total > 0;
    }
    m = 0;
    for (size_t i = 0; i < n; i++) {
        const struct table_row *row = &rows[i];
        double b = growth_base_of(g, row->code);
        struct table_cell held;
        const struct table_cell *ag = table_cell_for_aggregates(caller, &row->cur,
                                                                row->consent_to_name, &held);
        if (row->neighbour_rank < 1 || !ag->has_value || !(b > 0) ||
            !table_cell_aggregated(caller, ag, row->consent_to_name))
            continue;
        vals[m] = 100.0 * ag->value / b;
        present[m] = 1;
        unpub[m++] = !ag->published;
    }
    table_summarise(vals, present, unpub, m, MIN_CONTRIBUTORS, caller->kind == CALLER_ADMIN,
                    scratch, &nbs);
    int eng_ok = g->base_total_ok && !eng.suppressed && eng.n > 0;
    int nb_ok = !nbs.suppressed && nbs.n > 0;
    if (grow(&p->growth, p->n_growth, sizeof *p->growth) != 0)
        goto done;
    struct profile_growth_point *pt = &p->growth[p->n_growth++];
    memset(pt, 0, sizeof *pt);
    pt->period = period;
    pt->has_index = isfinite(index);
    pt->index = pt->has_index ? table_round(index, 1) : 0;
    pt->has_plans = isfinite(plans);
    pt->plans = pt->has_plans ? plans : 0;
    pt->has_nb_median = nb_ok;
    pt->nb_median = nb_ok ? table_round(nbs.median, 1) : 0;
    pt->nb_n = nbs.n;
    pt->has_england = eng_ok;
    pt->england = eng_ok ? table_round(100.0 * eng.total / g->base_total, 1) : 0;
    pt->england_plans = eng_ok ? eng.total : 0;
    rc = 0;
done:
    free(vals);
    free(scratch);
    free(present);
    free(unpub);
    return rc;
}
/* Appends x to *v (n_v elements).  Returns 0, or -1 when out of memory. */
static int xsec_append(struct profile_xsec **v, size_t *n, const struct profile_xsec *x)
{
    if (grow(v, *n, sizeof **v) != 0)
        return -1;
    (*v)[(*n)++] = *x;
    return 0;
}

/* Whether period is one of the metric's public default quarters (sql/090). */
static int is_default_quarter(const struct profile_metric *m, const char *period)
{
    size_t d;
    const json_t *dq;
    json_array_foreach(m->default_quarters, d, dq)
        if (json_is_string(dq) && strcmp(json_string_value(dq), period) == 0)
            return 1;
    return 0;
}

int profile_compute(struct profile *p, const PGresult *res, int history,
                    const struct xsec_run *runs, const struct auth_caller *caller,
                    const char *period, int *status)
{
    int rc = -1;
    struct table_row *rows = NULL;
    struct growth g;
    memset(&g, 0, sizeof g);
    struct area_index ai;
    memset(&ai, 0, sizeof ai);
    memset(p, 0, sizeof *p);
    int nres = PQntuples(res);
    *status = 500;
    if (nres == 0 || strcmp(PQgetvalue(res, 0, 0), "a") != 0) {
        *status = 404;
        return -1;
    }
    p->history = history;
    p->period = period && period[0] ? period : NULL;
    char vis[sizeof p->visibility];
    snprintf(p->visibility, sizeof p->visibility, "%s",
             tq_visibility_key(caller, vis, sizeof vis));
    p->doc_authority = json_loads(PQgetvalue(res, 0, 11), 0, NULL);
    if (history && !PQgetisnull(res, 0, 12))
        p->extra = json_loads(PQgetvalue(res, 0, 12), 0, NULL);
    const char *subject = PQgetvalue(res, 0, 3);
    const char *subject_region = PQgetvalue(res, 0, 4);
    if (!p->doc_authority || (history && !p->extra) ||
        authority_read(&p->authority, p->doc_authority) != 0)
        return -1;
    struct nbmap nb = {subject, &p->authority};
    /* Room for the longest cross-section: the query's rows, or the store's. */
    size_t nrows = (size_t)nres;
    for (int i = 1; !history && i < nres && PQgetvalue(res, i, 0)[0] == 'm'; i++)
        if (runs[i - 1].res && (size_t)(runs[i - 1].j1 - runs[i - 1].j0) > nrows)
            nrows = (size_t)(runs[i - 1].j1 - runs[i - 1].j0);
    p->metrics = calloc((size_t)nres, sizeof *p->metrics);
    p->doc_metrics = calloc((size_t)nres, sizeof *p->doc_metrics);
    rows = calloc(nrows + 1, sizeof *rows);
    if (!p->metrics || !p->doc_metrics || !rows)
        goto done;
    int i = 1;
    for (; i < nres && PQgetvalue(res, i, 0)[0] == 'm'; i++) {
        struct profile_metric *m = &p->metrics[p->n_metrics];
        m->id = PQgetvalue(res, i, 1);
        m->shown.period = tq_cell(res, i, 2);
        json_t *info = json_loads(PQgetvalue(res, i, 11), 0, NULL);
        if (!info)
            goto done;
        p->doc_metrics[p->n_metrics++] = info;
        metric_read(m, info);
    }
    size_t nm = p->n_metrics;
    struct profile_metric *pm = p->metrics;
    /* Then the 's' (series) rows, then the 'x' (cross-section) rows: the
     * ORDER BY sorts by type letter. */
    int first_x = nres, end_x = nres, first_s = i;
    for (; i < nres; i++) {
        char type = PQgetvalue(res, i, 0)[0];
        if (type == 'x') {
            if (first_x == nres)
                first_x = i;
            end_x = i + 1;
            continue;
        }
        if (type != 's')
            continue;
        const char *mid = PQgetvalue(res, i, 1);
        for (size_t k = 0; k < nm; k++) {
            if (strcmp(pm[k].id, mid) != 0)
                continue;
            struct table_cell c;
            tq_read_cell(res, i, 6, &c);
            if (c.exists && !c.published &&
                !table_may_name(caller, subject, p->authority.consent_to_name))
                break;  /* left out, as if never submitted (docs/disclosure.md) */
            if (grow(&pm[k].series, pm[k].n_series, sizeof *pm[k].series) != 0)
                goto done;
            struct profile_point *pt = &pm[k].series[pm[k].n_series++];
            pt->period = PQgetvalue(res, i, 2);
            pt->cell = c;
            pt->note = c.has_value ? tq_cell(res, i, 9) : NULL;
            /* The growth index starts at the first census from 2015 on. */
            if (history && !g.base && strcmp(mid, "ehcp_caseload") == 0 && c.has_value &&
                strcmp(PQgetvalue(res, i, 2), "2015") >= 0)
                g.base = PQgetvalue(res, i, 2);
            break;
        }
    }

    if (area_index_build(&ai, res, first_s, nres) != 0)
        goto done;
    if (history) {
        /* Every (metric, period) run of 'x' rows, in period order. */
        for (int j0 = first_x; j0 < end_x;) {
            const char *mid = PQgetvalue(res, j0, 1), *per = PQgetvalue(res, j0, 2);
            int j1 = j0 + 1;
            while (j1 < end_x && strcmp(PQgetvalue(res, j1, 1), mid) == 0 &&
                   strcmp(PQgetvalue(res, j1, 2), per) == 0)
                j1++;
            /* Charts of annual figures: quarters (council submissions) are
             * a different frequency and stay out of the history; they go to
             * the quarterly series (its own chart, its own axis) when the
             * caller sees the subject's figure of the quarter or the
             * quarter is a public default (sql/090): a quarter a few
             * councils sent is never drawn for the public. */
            int quarter = strstr(per, " Q") != NULL;
            for (size_t k = 0; k < nm; k++) {
                if (strcmp(pm[k].id, mid) != 0)
                    continue;
                struct profile_xsec x;
                if (xsec_compute(res, j0, j1, &ai, mid, per, &nb, subject_region, &pm[k],
                                 caller, rows, &x) != 0)
                    goto done;
                if (quarter) {
                    if ((is_default_quarter(&pm[k], per) || (!x.hidden && x.cur.has_value)) &&
                        xsec_append(&pm[k].quarters, &pm[k].n_quarters, &x) != 0)
                        goto done;
                    break;
                }
                if (xsec_append(&pm[k].history, &pm[k].n_history, &x) != 0)
                    goto done;
                if (g.base && strcmp(mid, "ehcp_caseload") == 0 &&
                    (g.codes || strcmp(per, g.base) == 0) &&
                    growth_add(&g, p, per, rows, (size_t)(j1 - j0), subject, caller,
                               &x.england_area) != 0)
                    goto done;
                break;
            }
            j0 = j1;
        }
    }
    p->growth_base = g.base;

    for (size_t k = 0; k < nm; k++) {
        const PGresult *xr = history ? res : runs[k].res;
        int x0 = history ? first_x : runs[k].j0, x1 = history ? end_x : runs[k].j1;
        const char *shown = pm[k].shown.period;
        if (shown && !xr)
            goto done;  /* cannot happen: every period shown has its run */
        if (shown && xsec_compute(xr, x0, x1, &ai, pm[k].id, shown, &nb, subject_region,
                                  &pm[k], caller, rows, &pm[k].shown) != 0)
            goto done;
    }
    rc = 0;
    *status = 200;
done:
    free(rows);
    free(ai.rows);
    free(g.codes);
    free(g.base_values);
    return rc;
}

void profile_clear(struct profile *p)
{
    for (size_t k = 0; p->metrics && k < p->n_metrics; k++) {
        free(p->metrics[k].series);
        free(p->metrics[k].history);
        free(p->metrics[k].quarters);
        json_decref(p->doc_metrics[k]);
    }
    free(p->metrics);
    free(p->doc_metrics);
    free(p->growth);
    free(p->authority.predecessors);
    free(p->authority.successors);
    free(p->authority.neighbours);
    json_decref(p->doc_authority);
    json_decref(p->extra);
    memset(p, 0, sizeof *p);
}

double profile_value(const struct profile_xsec *x, int dp)
{
    return !x->hidden && x->cur.has_value ? table_round(x->cur.value, dp) : NAN;
}

double profile_summary_mean(const struct table_summary *s, int dp)
{
    return table_summary_shows_mean(s) ? table_round(s->mean, dp) : NAN;
}

double profile_summary_median(const struct table_summary *s, int dp)
{
    return table_summary_shows_median(s) ? table_round(s->median, dp) : NAN;
}

double profile_summary_value(const struct table_summary *s, int dp)
{
    return s->has_value ? table_round(s->value, dp) : NAN;
}

const struct profile_metric *profile_metric(const struct profile *p, const char *id)
{
    for (size_t k = 0; k < p->n_metrics; k++)
        if (strcmp(p->metrics[k].id, id) == 0)
            return &p->metrics[k];
    return NULL;
}
