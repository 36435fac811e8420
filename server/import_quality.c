/*
 * Import checks: see include/import_quality.h and docs/import.md.
 */
#include "codes.h"
#include "import_quality.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dbsync.h"
#include "period.h"

/* Every threshold of the checks, in one place (docs/import.md repeats it). */
const struct import_quality_threshold import_quality_thresholds[] = {
    {"area_sum_slack", 5,
     "exceeds_area_total: the authorities may add up to this many more than the published total"},
    {"area_sum_slack_share", 0.01,
     "... or to this share of the total more, whichever is larger"},
    {"year_on_year_ratio", 3,
     "year_on_year: a figure more than this many times the previous year's, or under 1/this"},
    {"year_on_year_min", 100,
     "year_on_year: only when the larger of the two years is at least this (small counts move)"},
    {NULL, 0, NULL},
};

static double threshold(const char *name)
{
    for (const struct import_quality_threshold *t = import_quality_thresholds; t->name; t++)
        if (strcmp(t->name, name) == 0)
            return t->value;
    abort();    /* a name not in the table is a bug here */
}

/* contradiction: the parts of a whole, all of one row (same authority and
 * period).  A part that is a symbol is left out of the sum. */
static const struct {
    const char *whole;
    const char *parts[8];
} wholes[] = {
    {"new_plans_timeliness_den", {"new_plans_within_20_weeks", NULL}},
    {"new_plans_issued_ex", {"new_plans_within_20_weeks_ex", NULL}},
    {"new_plans_timeliness_den",
     {"new_plans_within_20_weeks", "new_plans_over_20_weeks", "new_plans_over_1_year", NULL}},
    {"requests_received", {"requests_decided_to_assess", "requests_refused", NULL}},
    {"ehcp_caseload",
     {"plans_mainstream", "plans_special_state", "plans_special_independent", "plans_ap_pru",
      "plans_post16", "plans_elsewhere", NULL}},
    {"plans_mainstream", {"plans_mainstream_rp_unit", NULL}},
    {"new_plans_issued",
     {"new_plans_mainstream", "new_plans_special_state", "new_plans_special_independent",
      "new_plans_ap_pru", "new_plans_post16", "new_plans_elsewhere", NULL}},
    {"new_plans_mainstream", {"new_plans_mainstream_rp_unit", NULL}},
};

static struct staged_obs *find(struct staged_obs *v, size_t n, const char *metric,
                               const char *period, const char *code)
{
    struct staged_obs key;
    memset(&key, 0, sizeof key);
    key.metric = metric;
    import_copy_str(key.period, sizeof key.period, period);
    import_copy_str(key.authority, sizeof key.authority, code);
    return n ? bsearch(&key, v, n, sizeof *v, import_staged_cmp) : NULL;
}

static bool number(const struct staged_obs *o, double *v)
{
    if (!o || o->cell.kind != IMPORT_CELL_VALUE)
        return false;
    *v = strtod(o->cell.text, NULL);
    return true;
}

static bool is_count(const struct registry *reg, const char *metric)
{
    const char *u = registry_metric_unit(reg, metric);
    return u && strcmp(u, "count") == 0;
}

static const char *name_of(struct registry *reg, const char *code)
{
    const struct reg_authority *a = registry_by_code(reg, code);
    return a ? a->name : code;
}

static const char *region_name_of(struct registry *reg, const char *region)
{
    for (size_t i = 0; i < reg->nauth; i++)
        if (strcmp(reg->auth[i].region_code, region) == 0)
            return reg->auth[i].region_name;
    return region;
}

/* Flags run->obs[i] (once per rule; a figure not stored cannot be). */
static int flag(struct import_run *run, size_t i, const char *rule, bool quarantine,
                const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static int flag(struct import_run *run, size_t i, const char *rule, bool quarantine,
                const char *fmt, ...)
{
    struct staged_obs *o = &run->obs[i];
    if (!o->same)
        return 0;
    for (size_t k = 0; k < run->nflags; k++)
        if (run->flags[k].obs == i && strcmp(run->flags[k].rule, rule) == 0)
            return 0;
    if (run->nflags == run->capflags) {
        size_t cap = run->capflags ? run->capflags * 2 : 64;
        struct import_flag *g = realloc(run->flags, cap * sizeof *g);
        if (!g)
            return import_fail(run, 0, "out of memory");
        run->flags = g;
        run->capflags = cap;
    }
    struct import_flag *f = &run->flags[run->nflags++];
    memset(f, 0, sizeof *f);
    f->obs = i;
    f->rule = rule;
    f->quarantine = quarantine;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(f->detail, sizeof f->detail, fmt, ap);
    va_end(ap);
    o->quality |= quarantine ? IMPORT_Q_QUARANTINE : IMPORT_Q_QUERY;
    return 0;
}

static bool quarantined(const struct staged_obs *o)
{
    return o->quality & IMPORT_Q_QUARANTINE;
}

/* One region's authorities in a (metric, period) group. */
struct region_sum {
    const char *region;
    size_t n, positive;
    double sum;
};

/* The regions of run->obs[lo..hi) with their counts and sums, leaving out
 * quarantined figures when skip_quarantined.  Returns how many (at most
 * cap; authorities with no region are left out). */
static size_t region_sums(const struct import_run *run, size_t lo, size_t hi,
                          const double *val, const bool *num, bool skip_quarantined,
                          struct region_sum *rs, size_t cap, struct region_sum *all)
{
    size_t nr = 0;
    memset(all, 0, sizeof *all);
    for (size_t i = lo; i < hi; i++) {
        const struct staged_obs *o = &run->obs[i];
        if (!num[i] || (skip_quarantined && quarantined(o)))
            continue;
        all->n++;
        all->positive += val[i] > 0;
        all->sum += val[i];
        if (!o->region[0])
            continue;
        size_t k = 0;
        while (k < nr && strcmp(rs[k].region, o->region) != 0)
            k++;
        if (k == nr) {
            if (nr == cap)
                continue;
            rs[nr++] = (struct region_sum){o->region, 0, 0, 0};
        }
        rs[k].n++;
        rs[k].positive += val[i] > 0;
        rs[k].sum += val[i];
    }
    return nr;
}

static struct region_sum *region_of(struct region_sum *rs, size_t nr, const char *region)
{
    for (size_t k = 0; k < nr; k++)
        if (strcmp(rs[k].region, region) == 0)
            return &rs[k];
    return NULL;
}

/* equals_area_total and exceeds_area_total over one (metric, period):
 * run->obs[lo..hi); val/num: each figure's number. */
static int check_area_totals(struct import_run *run, struct registry *reg, size_t lo, size_t hi,
                             const double *val, const bool *num)
{
    const char *metric = run->obs[lo].metric, *period = run->obs[lo].period;
    double england = 0;
    bool has_england = number(find(run->area, run->narea, metric, period, CODE_ENGLAND), &england);
    struct region_sum rs[32], all;
    size_t nr = region_sums(run, lo, hi, val, num, false, rs, 32, &all);
    /* equals_area_total */
    for (size_t i = lo; i < hi; i++) {
        struct staged_obs *o = &run->obs[i];
        double v = val[i], total;
        if (!num[i] || v <= 0)
            continue;
        struct region_sum *r = o->region[0] ? region_of(rs, nr, o->region) : NULL;
        if (r && r->n > 1 && r->positive > 1 &&
            number(find(run->area, run->narea, metric, period, o->region), &total) &&
            v == total) {
            if (flag(run, i, "equals_area_total", true,
                     "%s (%s) %s %s = %s: equal to the published %s total (%s) while %zu other "
                     "authorities there have figures",
                     name_of(reg, o->authority), o->authority, metric, period, o->cell.text,
                     region_name_of(reg, o->region), o->region, r->positive - 1) != 0)
                return -1;
        } else if (has_england && v == england && all.positive > 1) {
            if (flag(run, i, "equals_area_total", true,
                     "%s (%s) %s %s = %s: equal to the published England total while %zu other "
                     "authorities have figures",
                     name_of(reg, o->authority), o->authority, metric, period, o->cell.text,
                     all.positive - 1) != 0)
                return -1;
        }
    }
    /* exceeds_area_total: each region, then England, over the figures not
     * quarantined already. */
    double slack = threshold("area_sum_slack"), share = threshold("area_sum_slack_share");
    nr = region_sums(run, lo, hi, val, num, true, rs, 32, &all);
    for (size_t k = 0; k <= nr; k++) {
        const char *area = k < nr ? rs[k].region : NULL;
        const struct region_sum *r = k < nr ? &rs[k] : &all;
        double total;
        if (area ? !number(find(run->area, run->narea, metric, period, area), &total)
                 : !has_england)
            continue;
        if (!area)
            total = england;
        double allowed = total + (slack > total * share ? slack : total * share);
        if (r->n < 2 || r->sum <= allowed)
            continue;
        for (size_t i = lo; i < hi; i++) {
            struct staged_obs *o = &run->obs[i];
            if ((area && strcmp(o->region, area) != 0) || quarantined(o) || !num[i])
                continue;
            if (flag(run, i, "exceeds_area_total", true,
                     "%s (%s) %s %s = %s: the %zu authorities of %s add up to %.0f, the "
                     "published total is %.0f",
                     name_of(reg, o->authority), o->authority, metric, period, o->cell.text, r->n,
                     area ? region_name_of(reg, area) : "England", r->sum, total) != 0)
                return -1;
        }
    }
    return 0;
}

/* contradiction: a part greater than its whole in one row. */
static int check_contradictions(struct import_run *run, struct registry *reg)
{
    for (size_t w = 0; w < sizeof wholes / sizeof wholes[0]; w++) {
        for (size_t i = 0; i < run->nobs; i++) {
            struct staged_obs *o = &run->obs[i];
            double whole;
            if (strcmp(o->metric, wholes[w].whole) != 0 || !number(o, &whole))
                continue;
            double sum = 0;
            size_t n = 0;
            char parts[200] = "";
            for (int p = 0; wholes[w].parts[p]; p++) {
                double v;
                struct staged_obs *q =
                    find(run->obs, run->nobs, wholes[w].parts[p], o->period, o->authority);
                if (!number(q, &v))
                    continue;
                sum += v;
                n++;
                size_t len = strlen(parts);
                snprintf(parts + len, sizeof parts - len, "%s%s %s", len ? " + " : "",
                         wholes[w].parts[p], q->cell.text);
            }
            if (n == 0 || sum <= whole)
                continue;
            char detail[300];
            snprintf(detail, sizeof detail, "%s (%s) %s: %s = %.0f, more than %s %s",
                     name_of(reg, o->authority), o->authority, o->period, parts, sum, o->metric,
                     o->cell.text);
            if (flag(run, i, "contradiction", true, "%s", detail) != 0)
                return -1;
            for (int p = 0; wholes[w].parts[p]; p++) {
                struct staged_obs *q =
                    find(run->obs, run->nobs, wholes[w].parts[p], o->period, o->authority);
                if (q && flag(run, (size_t)(q - run->obs), "contradiction", true, "%s", detail) != 0)
                    return -1;
            }
        }
    }
    return 0;
}

/* all_exceptions: a row whose new plans excluding exceptions are 0 while
 * plans were issued.  The DfE's footnote to 2024: "Dorset and City of
 * London have classed all new plans as having permitted exceptions to the
 * 20 week statutory timeframe".  The 0 is a classification, not a count:
 * the row's figures excluding exceptions are queried (kept in force) with
 * the note, which the tables, pages and pack show, leaving the figures out
 * of ranks, bands and summaries (sql/170). */
static int check_all_exceptions(struct import_run *run, struct registry *reg)
{
    for (size_t i = 0; i < run->nobs; i++) {
        const struct staged_obs *o = &run->obs[i];
        double ex, all;
        if (strcmp(o->metric, "new_plans_issued_ex") != 0 || !number(o, &ex) || ex != 0)
            continue;
        const struct staged_obs *d =
            find(run->obs, run->nobs, "new_plans_timeliness_den", o->period, o->authority);
        if (!number(d, &all) || !(all > 0))
            continue;
        char detail[600];
        snprintf(detail, sizeof detail,
                 "%.60s (%s) %s: all %.20s new plans were classed as having permitted "
                 "exceptions to the 20-week time limit, so 0 excluding exceptions is not a "
                 "count of plans", name_of(reg, o->authority), o->authority, o->period,
                 d->cell.text);
        if (flag(run, i, "all_exceptions", false, "%s", detail) != 0)
            return -1;
        struct staged_obs *w =
            find(run->obs, run->nobs, "new_plans_within_20_weeks_ex", o->period, o->authority);
        if (w && flag(run, (size_t)(w - run->obs), "all_exceptions", false, "%s", detail) != 0)
            return -1;
    }
    return 0;
}

/* The shares (%) of a row are made from its counts: a quarantined count
 * quarantines the row's shares under the same rule. */
static int quarantine_shares(struct import_run *run, struct registry *reg)
{
    size_t nflags = run->nflags;
    for (size_t k = 0; k < nflags; k++) {
        if (!run->flags[k].quarantine)
            continue;
        const struct staged_obs *bad = &run->obs[run->flags[k].obs];
        for (size_t i = 0; i < run->nobs; i++) {
            const struct staged_obs *o = &run->obs[i];
            if (o->line != bad->line || strcmp(o->authority, bad->authority) != 0)
                continue;
            const char *u = registry_metric_unit(reg, o->metric);
            if (!u || strcmp(u, "%") != 0)
                continue;
            char rule_detail[300];
            snprintf(rule_detail, sizeof rule_detail, "%s %s: a share of the same row as %s (%.200s)",
                     o->metric, o->period, bad->metric, run->flags[k].detail);
            if (flag(run, i, run->flags[k].rule, true, "%s", rule_detail) != 0)
                return -1;
        }
    }
    return 0;
}

/* The annual period a year before (step -1) or after (+1) p ("2022" ->
 * "2021", "2021-22" -> "2020-21"), or "" when p is not an annual period. */
static void year_step(const char *p, int step, char out[16])
{
    struct period pp;
    out[0] = '\0';
    if (period_parse(p, &pp) != 0 || pp.kind == PERIOD_QUARTER)
        return;
    struct period q = step < 0 ? period_year_earlier(&pp) : period_next(&pp);
    if (period_year_ok(q.year))
        period_format(&q, out, 16);
}

/* year_on_year: against the previous year in the file, else in force. */
static int check_year_on_year(PGconn *conn, struct import_run *run, struct registry *reg)
{
    double ratio = threshold("year_on_year_ratio"), min = threshold("year_on_year_min");
    struct import_buf pa = {0}, pm = {0}, pp = {0};
    int rc = -1;
    bool ok = import_buf_put(&pa, "{", 1) == 0 && import_buf_put(&pm, "{", 1) == 0 &&
              import_buf_put(&pp, "{", 1) == 0;
    double *prev = calloc(run->nobs ? run->nobs : 1, sizeof *prev);
    signed char *have = calloc(run->nobs ? run->nobs : 1, 1);   /* 1 in file, 2 from the db */
    if (!prev || !have)
        ok = false;
    size_t asked = 0;
    for (size_t i = 0; ok && i < run->nobs; i++) {
        struct staged_obs *o = &run->obs[i];
        double v;
        char before[16];
        if (!is_count(reg, o->metric) || quarantined(o) || !o->same || !number(o, &v))
            continue;
        year_step(o->period, -1, before);
        if (!before[0])
            continue;
        struct staged_obs *q = find(run->obs, run->nobs, o->metric, before, o->authority);
        if (q) {
            if (!quarantined(q) && number(q, &prev[i]))
                have[i] = 1;
            continue;
        }
        ok = import_array_put(&pa, o->authority) == 0 && import_array_put(&pm, o->metric) == 0 &&
             import_array_put(&pp, before) == 0;
        asked++;
    }
    ok = ok && import_buf_put(&pa, "}", 1) == 0 && import_buf_put(&pm, "}", 1) == 0 &&
         import_buf_put(&pp, "}", 1) == 0;
    if (!ok) {
        import_fail(run, 0, "out of memory");
        goto done;
    }
    if (asked > 0) {
        char err[512];
        const char *p[3] = {pa.data, pm.data, pp.data};
        /* The figures in force for the (metric, period) pairs asked about,
         * through the (metric, period) index (current_observations with a
         * row-wise IN would read every observation). */
        PGresult *r = dbsync_exec(conn,
                                  "SELECT DISTINCT ON (o.authority, o.metric, o.period)"
                                  " o.authority, o.metric, o.period, o.value::text"
                                  " FROM observations o"
                                  " WHERE (o.metric, o.period) IN"
                                  "  (SELECT DISTINCT * FROM unnest($2::text[], $3::text[]))"
                                  "  AND o.authority = ANY ($1::text[])"
                                  "  AND NOT EXISTS (SELECT 1 FROM quarantined_observations q"
                                  "   WHERE q.authority = o.authority AND q.metric = o.metric"
                                  "    AND q.period = o.period AND q.version = o.version)"
                                  " ORDER BY o.authority, o.metric, o.period, o.version DESC",
                                  3, p, err, sizeof err);
        if (!r) {
            import_fail(run, 0, "%s", err);
            goto done;
        }
        for (int k = 0; k < PQntuples(r); k++) {
            char after[16];
            year_step(PQgetvalue(r, k, 2), 1, after);
            struct staged_obs *o =
                find(run->obs, run->nobs, PQgetvalue(r, k, 1), after, PQgetvalue(r, k, 0));
            if (!o || have[o - run->obs] || PQgetisnull(r, k, 3))
                continue;
            prev[o - run->obs] = strtod(PQgetvalue(r, k, 3), NULL);
            have[o - run->obs] = 2;
        }
        PQclear(r);
    }
    for (size_t i = 0; i < run->nobs; i++) {
        struct staged_obs *o = &run->obs[i];
        double v;
        if (!have[i] || quarantined(o) || !o->same || !number(o, &v))
            continue;
        double a = prev[i], hi = v > a ? v : a;
        if (hi < min || (v <= ratio * a && v * ratio >= a))
            continue;
        char before[16];
        year_step(o->period, -1, before);
        if (flag(run, i, "year_on_year", false, "%s (%s) %s %s = %s, %s was %.0f%s",
                 name_of(reg, o->authority), o->authority, o->metric, o->period, o->cell.text,
                 before, a, have[i] == 2 ? " (in force)" : "") != 0)
            goto done;
    }
    rc = 0;
done:
    free(prev);
    free(have);
    import_buf_free(&pa);
    import_buf_free(&pm);
    import_buf_free(&pp);
    return rc;
}

/* Records the flags; those an earlier import of the same figure recorded
 * stay as they were (and are reported as such). */
static int record(PGconn *conn, struct import_run *run)
{
    struct import_buf b[8] = {{0}};
    int rc = -1;
    bool ok = true;
    for (int k = 0; k < 8; k++)
        ok = ok && import_buf_put(&b[k], "{", 1) == 0;
    for (size_t i = 0; ok && i < run->nflags; i++) {
        const struct import_flag *f = &run->flags[i];
        const struct staged_obs *o = &run->obs[f->obs];
        char version[16], line[16];
        snprintf(version, sizeof version, "%d", o->cur_version);
        snprintf(line, sizeof line, "%u", o->line);
        ok = import_array_put(&b[0], o->authority) == 0 && import_array_put(&b[1], o->metric) == 0 &&
             import_array_put(&b[2], o->period) == 0 && import_array_put(&b[3], version) == 0 &&
             import_array_put(&b[4], f->rule) == 0 &&
             import_array_put(&b[5], f->quarantine ? "quarantine" : "query") == 0 &&
             import_array_put(&b[6], f->detail) == 0 && import_array_put(&b[7], line) == 0;
    }
    for (int k = 0; ok && k < 8; k++)
        ok = import_buf_put(&b[k], "}", 1) == 0;
    if (!ok) {
        import_fail(run, 0, "out of memory");
        goto done;
    }
    char err[512];
    const char *p[10] = {b[0].data, b[1].data, b[2].data, b[3].data, b[4].data,
                         b[5].data, b[6].data, b[7].data, run->file_name, run->source};
    PGresult *r = dbsync_exec(
        conn,
        "INSERT INTO import_quality (authority, metric, period, version, rule, action, detail,"
        " line, file_name, source)"
        " SELECT a, m, p, v, r, ac, d, l, $9, $10 FROM unnest($1::text[], $2::text[], $3::text[],"
        "  $4::int[], $5::text[], $6::text[], $7::text[], $8::int[]) AS u(a, m, p, v, r, ac, d, l)"
        " ON CONFLICT (authority, metric, period, version, rule) DO NOTHING"
        " RETURNING authority, metric, period, rule",
        10, p, err, sizeof err);
    if (!r) {
        import_fail(run, 0, "import checks: %s", err);
        goto done;
    }
    for (size_t i = 0; i < run->nflags; i++)
        run->flags[i].recorded_before = true;
    for (int k = 0; k < PQntuples(r); k++)
        for (size_t i = 0; i < run->nflags; i++) {
            const struct staged_obs *o = &run->obs[run->flags[i].obs];
            if (strcmp(o->authority, PQgetvalue(r, k, 0)) == 0 &&
                strcmp(o->metric, PQgetvalue(r, k, 1)) == 0 &&
                strcmp(o->period, PQgetvalue(r, k, 2)) == 0 &&
                strcmp(run->flags[i].rule, PQgetvalue(r, k, 3)) == 0)
                run->flags[i].recorded_before = false;
        }
    PQclear(r);
    rc = 0;
done:
    for (int k = 0; k < 8; k++)
        import_buf_free(&b[k]);
    return rc;
}

int import_quality_check(PGconn *conn, struct import_run *run, const struct registry *creg)
{
    struct registry *reg = (struct registry *)creg;    /* lookups only */
    double *val = malloc((run->nobs ? run->nobs : 1) * sizeof *val);
    bool *num = malloc(run->nobs ? run->nobs : 1);
    if (!val || !num) {
        free(val);
        free(num);
        return import_fail(run, 0, "out of memory");
    }
    for (size_t i = 0; i < run->nobs; i++)
        num[i] = number(&run->obs[i], &val[i]);
    int rc = 0;
    for (size_t lo = 0; rc == 0 && lo < run->nobs;) {
        size_t hi = lo + 1;
        while (hi < run->nobs && run->obs[hi].metric == run->obs[lo].metric &&
               strcmp(run->obs[hi].period, run->obs[lo].period) == 0)
            hi++;
        if (is_count(reg, run->obs[lo].metric))
            rc = check_area_totals(run, reg, lo, hi, val, num);
        lo = hi;
    }
    free(val);
    free(num);
    if (rc != 0)
        return -1;
    if (check_contradictions(run, reg) != 0 || quarantine_shares(run, reg) != 0 ||
        check_all_exceptions(run, reg) != 0 || check_year_on_year(conn, run, reg) != 0)
        return -1;
    run->quarantined = run->queried = 0;
    for (size_t i = 0; i < run->nflags; i++) {
        if (run->flags[i].quarantine)
            run->quarantined++;
        else
            run->queried++;
    }
    if (run->nflags > 0 && record(conn, run) != 0)
        return -1;
    import_phase(run, PH_CHECK);
    return 0;
}

void import_quality_report(const struct import_run *run)
{
    if (run->nflags == 0) {
        printf("  import checks: nothing quarantined or queried\n");
        return;
    }
    size_t before = 0;
    for (size_t i = 0; i < run->nflags; i++)
        before += run->flags[i].recorded_before;
    printf("  import checks: %zu quarantined (not in force), %zu queried (kept)%s\n",
           run->quarantined, run->queried,
           before == run->nflags ? ", all recorded by an earlier import" : "");
    for (size_t i = 0; i < run->nflags; i++) {
        const struct import_flag *f = &run->flags[i];
        /* One row's note can flag several of its figures with one detail
         * (all_exceptions): the line names the figure when the detail
         * does not, or the lines read as the same line twice. */
        const char *metric = run->obs[f->obs].metric;
        int named = strstr(f->detail, metric) != NULL;
        printf("    %s:%u: %s (%s): %s%s%s\n", run->path, run->obs[f->obs].line,
               f->quarantine ? "quarantined"
               : strcmp(f->rule, "all_exceptions") == 0 ? "noted" : "queried",
               f->rule, named ? "" : metric, named ? "" : ": ", f->detail);
    }
}

void import_quality_free(struct import_run *run)
{
    free(run->flags);
    run->flags = NULL;
    run->nflags = run->capflags = 0;
}
