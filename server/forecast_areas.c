/*
 * England and the regions, reconciled with their authorities.
 *
 * Additive metrics (counts, money): the point forecast of an area is the
 * sum of its authorities' forecasts, so every level adds up.
 *
 * Rates and ratios (20-week timeliness, the assessment rate...): the
 * area's rate is the ratio of the reconciled numerator and denominator
 * forecasts.  Each authority's numerator forecast is its rate forecast
 * times its denominator forecast (the denominator metric fitted by the same
 * engine), so the area's rate is the denominator-weighted mean of its
 * authorities' rate forecasts: sum(r_i d_i) / sum(d_i).  A ratio without a
 * known denominator is the authorities' unweighted mean (said so).
 *
 * Intervals: the authorities' calibrated half-widths d_i (weighted by
 * w_i = d_i / sum d for rates) combine as the spread of a sum of errors
 * with a common pairwise correlation rho:
 *     D = sqrt(rho * (sum d_i)^2 + (1 - rho) * sum d_i^2)
 * (rho = 1: the widths add; rho = 0: they add in quadrature), separately
 * below and above, so an area's interval is lopsided where its
 * authorities' are.  rho is the authorities' average pairwise correlation
 * of yearly change, estimated from the history.
 *
 * History: the DfE's own published England and regional figures where the
 * database has them, else the aggregate of the authorities' figures
 * (apportioned years left out, so nothing is counted twice).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "forecast_areas.h"

/* Average pairwise correlation of the members' standardised yearly
 * changes (log changes for counts): Var(sum z_i) = N + N (N - 1) rho, over
 * the members observed in every year (a member with gaps, such as an
 * authority made in 2019, is left out of the estimate).  Clamped to
 * [0, 1]; 1 when it cannot be estimated (the cautious choice: widths add). */
static double area_correlation(const struct fr_panel *p, const int *member)
{
    int n = p->n, nm = 0, nt = n - 1;
    double *z = calloc((size_t)p->n_series * (size_t)n, sizeof(double));
    double rho = 1.0;
    if (!z || nt < 3)
        goto done;
    for (int i = 0; i < p->n_series; i++) {
        if (!member[i])
            continue;
        const double *y = p->y + i * n;
        double *zi = z + (size_t)nm * n, mean = 0, var = 0;
        int complete = 1;
        for (int t = 1; t < n && complete; t++) {
            double a = y[t - 1], b = y[t];
            complete = isfinite(a) && isfinite(b) &&
                       (p->kind != FC_KIND_COUNT || (a > 0 && b > 0));
            if (complete) {
                zi[t] = p->kind == FC_KIND_COUNT ? log(b / a) : b - a;
                mean += zi[t];
            }
        }
        if (!complete)
            continue;
        mean /= nt;
        for (int t = 1; t < n; t++)
            var += (zi[t] - mean) * (zi[t] - mean);
        double sd = sqrt(var / (nt - 1));
        if (!(sd > 0))
            continue;   /* a constant series carries no correlation */
        for (int t = 1; t < n; t++)
            zi[t] = (zi[t] - mean) / sd;
        nm++;
    }
    if (nm < 2)
        goto done;
    double vsum = 0;
    for (int t = 1; t < n; t++) {
        double sum = 0;
        for (int k = 0; k < nm; k++)
            sum += z[(size_t)k * n + t];
        vsum += sum * sum;
    }
    vsum /= nt - 1;
    rho = (vsum - nm) / ((double)nm * (nm - 1));
    rho = rho < 0 ? 0 : rho > 1 ? 1 : rho;
done:
    free(z);
    return rho;
}


static double combine(double sum_d, double sum_d2, double rho)
{
    return sqrt(rho * sum_d * sum_d + (1 - rho) * sum_d2);
}

/* Weight of authority i's rate at time t (history, den_y) or horizon j
 * (den_fc): its denominator, 1 for equal weights, NAN when unknown. */
static double weight_hist(const struct fr_panel *p, int i, int t)
{
    if (p->additive || !p->den_metric[0])
        return 1;
    return p->den_y[i * p->n + t];
}

static double weight_fc(const struct fr_panel *p, int i, int j)
{
    if (p->additive || !p->den_metric[0])
        return 1;
    return p->den_fc[i * FR_MAX_HORIZON + j];
}

/* The aggregate of the authorities' figures at time t (members of area s,
 * ceased authorities included, apportioned years left out). */
static double aggregate_hist(const struct fr_panel *p, int s, int t)
{
    double sum = 0, wsum = 0;
    int k = 0;
    for (int i = 0; i < p->n_series; i++) {
        if (s < p->n_regions && p->region[i] != s)
            continue;
        double v = p->y[i * p->n + t], w = weight_hist(p, i, t);
        if (!isfinite(v) || !p->scored[i * p->n + t] || !(w > 0))
            continue;
        sum += w * v;
        wsum += w;
        k++;
    }
    if (!k)
        return NAN;
    return p->additive ? sum : sum / wsum;
}

static const char *reconciliation_method(const struct fr_panel *p)
{
    if (p->additive)
        return "bottom-up";
    return p->den_metric[0] ? "ratio of reconciled numerator and denominator forecasts"
                            : "unweighted mean of the authorities' forecasts";
}

int fr_fit_areas(const struct fr_panel *p, const struct fc_result *res, const int *have,
                 int horizon, long long data_version, const char *only, fr_emit_fn emit,
                 void *arg, char *err, size_t errlen)
{
    int na = p->n_regions + 1, emitted = 0, rc = -1;
    int *member = calloc((size_t)p->n_series, sizeof(int));
    double *hist = malloc(sizeof(double) * (size_t)p->n);
    struct fc_result *r = calloc(1, sizeof *r);
    if (!member || !hist || !r) {
        snprintf(err, errlen, "out of memory");
        goto done;
    }
    for (int s = 0; s < na; s++) {
        const char *code = s < p->n_regions ? p->region_codes[s] : CODE_ENGLAND;
        const char *name = s < p->n_regions ? p->region_names[s] : "England";
        const char *scope = s < p->n_regions ? "region" : "england";
        if (only && strcmp(only, code) != 0)
            continue;
        int contributors = 0, published = 0;
        for (int i = 0; i < p->n_series; i++) {
            member[i] = have[i] && (s == p->n_regions || p->region[i] == s);
            contributors += member[i];
        }
        if (!contributors)
            continue;
        for (int t = 0; t < p->n; t++) {
            double pub = p->area_y ? p->area_y[s * p->n + t] : NAN;
            published += isfinite(pub);
            hist[t] = isfinite(pub) ? pub : aggregate_hist(p, s, t);
        }
        double rho = area_correlation(p, member);
        memset(r, 0, sizeof *r);
        r->name = "bottom-up";
        r->model = FC_MODEL_COUNT;
        r->scale = FC_SCALE_RAW;
        r->aicc = NAN;
        r->calibrated = 1;
        r->h = horizon;
        r->n_params = 1;
        r->param_name[0] = "rho";
        r->param[0] = rho;
        for (int t = 0; t < p->n; t++) {
            double f = 0, w = 0;
            int any = 0;
            for (int i = 0; i < p->n_series; i++) {
                double wi = weight_hist(p, i, t);
                if (member[i] && isfinite(res[i].fitted[t]) && wi > 0) {
                    f += wi * res[i].fitted[t];
                    w += wi;
                    any = 1;
                }
            }
            r->fitted[t] = any ? (p->additive ? f : f / w) : NAN;
        }
        int weighted_all = 1;
        for (int j = 0; j < horizon; j++) {
            double m = 0, W = 0, d[4] = {0}, d2[4] = {0};
            for (int i = 0; i < p->n_series; i++) {
                double wi = member[i] ? weight_fc(p, i, j) : NAN;
                if (!member[i])
                    continue;
                if (!(wi > 0)) {
                    weighted_all = 0;
                    continue;
                }
                W += wi;
            }
            for (int i = 0; i < p->n_series; i++) {
                double wi = member[i] ? weight_fc(p, i, j) : NAN;
                if (!member[i] || !(wi > 0))
                    continue;
                const struct fc_result *a = &res[i];
                double scale = p->additive ? 1 : wi / W;
                double w[4] = {a->mean[j] - a->lo80[j], a->hi80[j] - a->mean[j],
                               a->mean[j] - a->lo95[j], a->hi95[j] - a->mean[j]};
                m += scale * a->mean[j];
                for (int k = 0; k < 4; k++) {
                    d[k] += scale * w[k];
                    d2[k] += scale * w[k] * scale * w[k];
                }
            }
            r->mean[j] = m;
            r->lo80[j] = m - combine(d[0], d2[0], rho);
            r->hi80[j] = m + combine(d[1], d2[1], rho);
            r->lo95[j] = m - combine(d[2], d2[2], rho);
            r->hi95[j] = m + combine(d[3], d2[3], rho);
            if (p->kind == FC_KIND_COUNT || p->kind == FC_KIND_PROPORTION) {
                r->lo80[j] = r->lo80[j] < 0 ? 0 : r->lo80[j];
                r->lo95[j] = r->lo95[j] < 0 ? 0 : r->lo95[j];
            }
            if (p->kind == FC_KIND_PROPORTION) {
                r->hi80[j] = r->hi80[j] > 100 ? 100 : r->hi80[j];
                r->hi95[j] = r->hi95[j] > 100 ? 100 : r->hi95[j];
            }
        }
        /* the authorities' own records, pooled: the only track record an
         * area's forecast has here */
        struct fc_accuracy pool;
        int pool_series = 0;
        memset(&pool, 0, sizeof pool);
        for (int i = 0; i < p->n_series; i++) {
            const struct fc_accuracy *a = &res[i].acc_model;
            if (!member[i] || a->n <= 0 || a->n_origins < FR_TRACK_MIN_ORIGINS)
                continue;
            pool.smape += a->smape * a->n;
            pool.mase += a->mase * a->n;
            pool.cover80 += a->cover80 * a->n;
            pool.cover95 += a->cover95 * a->n;
            pool.n += a->n;
            pool.n_origins += a->n_origins;
            pool_series++;
        }
        /* "bottom-up of the forecasts of ...", "ratio of reconciled numerator
         * and denominator forecasts of the 153 authorities ...": the method
         * names the forecasts itself unless it is bottom-up */
        snprintf(r->reason, sizeof r->reason,
                 "%s%s the %d authorities in %s (each chosen and calibrated "
                 "on its own history and its peers'); intervals combine theirs with their "
                 "average correlation of yearly change, rho = %.2f",
                 reconciliation_method(p), p->additive ? " of the forecasts of" : " of",
                 contributors, name, rho);
        json_t *doc = fr_doc_new(p, scope, code, name, hist, r, horizon, data_version);
        json_t *acc = json_object_get(doc, "accuracy");
        char words[600];
        if (pool.n > 0) {
            snprintf(words, sizeof words,
                     "%s's forecast is built from its authorities' forecasts and has no track "
                     "record of its own here. Their own records, pooled (%d authorities, n = %d "
                     "forecasts one to three years ahead): off by %.1f%% on average, %.0f%% of "
                     "actual figures inside the 80%% interval, %.0f%% inside the 95%%.",
                     name, pool_series, pool.n, pool.smape / pool.n, pool.cover80 / pool.n,
                     pool.cover95 / pool.n);
            json_object_set_new(acc, "members", json_pack(
                "{s:f, s:f, s:f, s:f, s:i, s:i}", "mase", pool.mase / pool.n, "smape",
                pool.smape / pool.n, "coverage80", pool.cover80 / pool.n, "coverage95",
                pool.cover95 / pool.n, "n", pool.n, "series", pool_series));
        } else {
            snprintf(words, sizeof words,
                     "%s's forecast is built from its authorities' forecasts; too little "
                     "history to judge their track record.", name);
        }
        json_object_set_new(acc, "statement", json_string(words));
        json_object_set_new(json_object_get(doc, "intervals"), "shape", json_string(
            "Built from the authorities' intervals, combined below and above the forecast "
            "separately: where theirs are lopsided (models on a log or logit scale reach "
            "further above than below), so is this one."));
        json_t *rec = json_pack(
            "{s:s, s:i, s:o, s:s, s:s}", "method", reconciliation_method(p), "authorities",
            contributors, "rho", isfinite(rho) ? json_real(rho) : json_null(), "history",
            published ? "the DfE's published figures for the area (aggregates of the "
                        "authorities where a year has none)"
                      : "the aggregate of the authorities' published figures",
            "note",
            p->additive
                ? "England and regional forecasts are the sums of their authorities' "
                  "forecasts, so every level adds up. The intervals add the authorities' "
                  "interval half-widths as a sum of errors with a common pairwise correlation "
                  "rho, estimated from their yearly change."
                : "A rate does not add up: the area's rate is the ratio of the sum of its "
                  "authorities' numerator forecasts (rate forecast x denominator forecast) to "
                  "the sum of their denominator forecasts, i.e. the denominator-weighted mean "
                  "of their rate forecasts; the intervals combine theirs with the same weights "
                  "and the correlation rho of their yearly change.");
        if (!p->additive) {
            json_object_set_new(rec, "denominator",
                                p->den_metric[0] ? json_string(p->den_metric) : json_null());
            if (!weighted_all)
                json_object_set_new(rec, "missing_denominators",
                                    json_string("authorities without a denominator forecast "
                                                "are left out of the area's rate"));
        }
        json_object_set_new(doc, "reconciliation", rec);
        emitted++;
        if (emit(scope, code, doc, arg) != 0)
            break;
    }
    rc = emitted;
done:
    free(member);
    free(hist);
    free(r);
    return rc;
}
