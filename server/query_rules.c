#include "query_rules.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* The thresholds, in one place (docs/submissions.md prints this table). */
const struct query_rule query_rules[] = {
    {"change_on_previous_quarter", 25, 15,
     "a count, sum of money or FTE moving more than 25% (a percentage more than 15 points) on "
     "the previous quarter"},
    {"change_on_year_earlier", 25, 15,
     "the same change on the same quarter a year earlier"},
    {"about_ten_times", 9, 0,
     "a figure 9 or more times (or at most a ninth of) the previous quarter's or the last "
     "published figure: a typed extra zero"},
    {"missing_now", 0, 0, "a figure sent last quarter and missing now (withdraw it to mean it)"},
    {"dsg_balance_sign_change", 0, 0,
     "the DSG cumulative balance changing sign on the previous quarter (surplus to deficit or "
     "back)"},
    {"caseload_per_officer", 250, 0, "more than 250 EHC plans per SEND case officer (FTE)"},
};
const int query_rules_n = (int)(sizeof query_rules / sizeof query_rules[0]);

static const struct query_rule *rule(const char *id)
{
    for (int i = 0; i < query_rules_n; i++)
        if (strcmp(query_rules[i].id, id) == 0)
            return &query_rules[i];
    return NULL;
}

static int number(const json_t *o, const char *key, double *out)
{
    const json_t *v = o ? json_object_get(o, key) : NULL;
    if (!json_is_number(v))
        return 0;
    *out = json_number_value(v);
    return isfinite(*out);
}

static int add(json_t *queries, const char *metric, const char *rule_id, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int add(json_t *queries, const char *metric, const char *rule_id, const char *fmt, ...)
{
    char msg[400], field[96];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(field, sizeof field, "figures.%s", metric);
    json_t *q = json_pack("{s:s, s:s, s:s, s:s}", "field", field, "metric", metric, "rule",
                          rule_id, "message", msg);
    return q && json_array_append_new(queries, q) == 0 ? 1 : -1;
}

/* A change on a reference figure beyond the rule's threshold. */
static int change_query(json_t *queries, const struct query_rule *r, const char *metric,
                        enum submit_unit unit, double v, double ref, const char *against)
{
    if (unit == UNIT_PERCENT) {
        double pts = v - ref;
        if (fabs(pts) > r->percent_points)
            return add(queries, metric, r->id,
                       "%s moved %+.1f percentage points on %s (%g to %g); more than %g points "
                       "is queried: correct it or explain it",
                       metric, pts, against, ref, v, r->percent_points);
        return 0;
    }
    if (ref == 0)
        return 0;
    double pct = 100.0 * (v - ref) / fabs(ref);
    if (fabs(pct) > r->count_pct)
        return add(queries, metric, r->id,
                   "%s moved %+.0f%% on %s (%g to %g); more than %g%% is queried: correct it or "
                   "explain it",
                   metric, pct, against, ref, v, r->count_pct);
    return 0;
}

static int listed(const json_t *arr, const char *metric)
{
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v)
        if (json_is_string(v) && strcmp(json_string_value(v), metric) == 0)
            return 1;
    return 0;
}

int query_rules_check(const struct submit_catalogue *cat, const json_t *figures,
                      const json_t *withdrawn, const struct query_context *ctx, json_t *queries)
{
    int n = 0, rc;
    const struct query_rule *ten = rule("about_ten_times");
    for (size_t i = 0; i < cat->n; i++) {
        const struct submit_metric *m = &cat->metrics[i];
        if (!m->submittable || m->derived)
            continue;
        double v = 0, prev = 0, year = 0, pub = 0;
        int has_v = number(figures, m->id, &v);
        int has_prev = number(ctx->prev, m->id, &prev);
        if (!has_v) {
            if (has_prev && !listed(withdrawn, m->id)) {
                rc = add(queries, m->id, "missing_now",
                         "%s was sent last quarter (%g) and is missing now: send it, withdraw "
                         "it, or explain why there is no figure", m->id, prev);
                if (rc < 0)
                    return -1;
                n += rc;
            }
            continue;
        }
        /* A typed extra zero first: it explains any large change too, so
         * the change rules are not repeated for the same figure. */
        int tenfold = 0;
        const char *refs[2] = {"the previous quarter", "the last published figure"};
        double refv[2];
        int has_ref[2] = {has_prev, number(ctx->published, m->id, &pub)};
        refv[0] = prev;
        refv[1] = has_ref[1] ? pub : 0;
        for (int k = 0; k < 2 && !tenfold && m->unit != UNIT_PERCENT; k++) {
            if (!has_ref[k] || refv[k] == 0 || v == 0)
                continue;
            double ratio = fabs(v / refv[k]);
            if (ratio >= ten->count_pct || ratio <= 1.0 / ten->count_pct) {
                rc = add(queries, m->id, ten->id,
                         "%s is %.1f times %s (%g against %g): is a digit missing or extra?",
                         m->id, ratio, refs[k], v, refv[k]);
                if (rc < 0)
                    return -1;
                n += rc;
                tenfold = 1;
            }
        }
        if (tenfold)
            continue;
        if (has_prev) {
            rc = change_query(queries, rule("change_on_previous_quarter"), m->id, m->unit, v, prev,
                              "the previous quarter");
            if (rc < 0)
                return -1;
            n += rc;
            if (strcmp(m->id, "dsg_cumulative_balance_gbp") == 0 && (v < 0) != (prev < 0) &&
                v != 0 && prev != 0) {
                rc = add(queries, m->id, "dsg_balance_sign_change",
                         "the DSG cumulative balance went from %s (%g) to %s (%g) in one quarter",
                         prev < 0 ? "a deficit" : "a surplus", prev,
                         v < 0 ? "a deficit" : "a surplus", v);
                if (rc < 0)
                    return -1;
                n += rc;
            }
        }
        if (number(ctx->year_ago, m->id, &year)) {
            rc = change_query(queries, rule("change_on_year_earlier"), m->id, m->unit, v, year,
                              "the same quarter a year earlier");
            if (rc < 0)
                return -1;
            n += rc;
        }
    }
    double plans = 0, fte = 0;
    const struct query_rule *cpo = rule("caseload_per_officer");
    if (number(figures, "ehcp_caseload", &plans) && number(figures, "case_officers_fte", &fte) &&
        fte > 0 && plans / fte > cpo->count_pct) {
        rc = add(queries, "case_officers_fte", cpo->id,
                 "%.0f EHC plans per case officer (%g plans, %g FTE): more than %g is queried",
                 plans / fte, plans, fte, cpo->count_pct);
        if (rc < 0)
            return -1;
        n += rc;
    }
    return n;
}
