/*
 * Scoring, rolling-origin calibration, the automatic choice and the panel
 * backtest.  Everything here respects time: a forecast made at origin o is
 * chosen and calibrated only from errors whose targets lie before o.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>

#include "fc_internal.h"

/* Calibration needs this many standardised errors for a horizon; with
 * fewer, the quantiles of the nearest shorter horizon are borrowed (the
 * errors are standardised by sd_h, so they transfer). */
#define CAL_MIN_ERRORS 20
/* Shortest training window used to collect calibration errors. */
#ifndef CAL_MIN_TRAIN
#define CAL_MIN_TRAIN 2
#endif
/* Calibration and choice use at most this many of the latest origins
 * (0 = all): older origins describe an older regime and cost CPU. */
#ifndef CAL_MAX_ORIGINS
#define CAL_MAX_ORIGINS 0
#endif
#ifndef CAL_T0_BACK
#define CAL_T0_BACK 1
#endif

/* The automatic choice (rule fixed in advance, docs/forecasting.md "The
 * selection rule"): at every origin, for every metric alike, the candidate
 * of the series' kind with the lowest rolling-origin MASE pooled over the
 * whole panel, on the errors whose targets were known at that origin.  One
 * model for every authority of a metric: a series of 3-15 points cannot
 * tell models apart by its own few splits (choosing per series lost on the
 * harness).  The candidates are the annual models fitted without numerical
 * optimisation (so that every authority and metric refits within the CPU
 * target): naive, drift, linear and log-linear trend and the three pooled
 * growth models, plus pooled mean reversion for proportions.  Money keeps
 * every model as a candidate (it has no backtest of its own yet).  Naive
 * and drift are always calibrated too: every record shows them beside the
 * chosen model.  The choice needs errors from at least CHOICE_MIN_ORIGINS
 * origins (one origin is one year's luck; 2, 3 and 4 compared on the tune
 * set, origins 2019-2022, by bench/tune.sh), else the kind's default
 * (pooled growth for counts, pooled mean reversion for proportions) is
 * served and says so; and a candidate other than the default must have
 * beaten it at every choice origin (CHOICE_BEAT_SHARE). */
#define CAND_ANNUAL ((1u << FC_NAIVE) | (1u << FC_DRIFT) | (1u << FC_LINEAR) \
                     | (1u << FC_LOGLINEAR) | (1u << FC_POOLED)               \
                     | (1u << FC_POOLED_DAMPED) | (1u << FC_POOLED_COMBO))
#ifndef CAND_COUNT
#define CAND_COUNT CAND_ANNUAL
#endif
#ifndef CAND_PROP
#define CAND_PROP (CAND_ANNUAL | (1u << FC_POOLED_AR))
#endif
#ifndef CAND_LEVEL
#define CAND_LEVEL 0xffffffffu
#endif
/* Interval calibration on a log or logit scale in the errors themselves
 * (cal_unit); 0: standardised by the model's sd everywhere (the rule
 * before, kept for bench/tune.sh). */
#ifndef CAL_ABS
#define CAL_ABS 1
#endif
/* Consistency before leaving the kind's default: another candidate is
 * chosen only if its panel MASE was below the default's at this share of
 * the choice origins (1: every one) as well as on their pooled mean; one
 * or two lucky years of a random walk no longer replace pooled growth.
 * 0 turns the test off (the rule before).  Chosen on the tune set. */
#ifndef CHOICE_BEAT_SHARE
#define CHOICE_BEAT_SHARE 1
#endif
#ifndef CHOICE_MIN_ORIGINS
#define CHOICE_MIN_ORIGINS 2
#endif
/* Quarterly series (no real history exists yet, so nothing was tuned on
 * them): seasonal naive and Holt-Winters compete with naive and drift, by
 * rolling-origin MASE with the seasonal scale.  No pooled model: a
 * council's quarters are unpublished, and the server fits each council's
 * quarters on their own (forecast_quarterly.c), so nothing of another
 * council's figures enters its forecast. */
#define CAND_SEASONAL ((1u << FC_SNAIVE) | (1u << FC_HW) | (1u << FC_NAIVE) \
                       | (1u << FC_DRIFT))
static int default_of(const struct fc_panel *p)
{
    return p->period > 1 ? FC_SNAIVE
           : p->kind == FC_KIND_COUNT ? FC_POOLED
           : p->kind == FC_KIND_PROPORTION ? FC_POOLED_AR : FC_POOLED_COMBO;
}

static unsigned candidates_of(const struct fc_panel *p)
{
    unsigned c = p->kind == FC_KIND_COUNT ? CAND_COUNT
                 : p->kind == FC_KIND_PROPORTION ? CAND_PROP : CAND_LEVEL;
    if (p->period > 1)
        c = CAND_SEASONAL;
    else
        c &= ~((1u << FC_SNAIVE) | (1u << FC_HW));
    return c;
}

static const double cal_probs[4] = { 0.025, 0.10, 0.90, 0.975 };

double fc_mase_scale(const double *y, int n, int m)
{
    double s = 0;
    int k = 0;

    if (!y || m < 1)
        return 0;
    for (int t = m; t < n; t++)
        if (isfinite(y[t]) && isfinite(y[t - m])) {
            s += fabs(y[t] - y[t - m]);
            k++;
        }
    return k ? s / k : 0;
}

double fc_winkler(double lo, double hi, double y, double a)
{
    double w = hi - lo;

    if (y < lo)
        w += 2.0 / a * (lo - y);
    if (y > hi)
        w += 2.0 / a * (y - hi);
    return w;
}

double fc_smape1(double y, double f)
{
    double d = fabs(y) + fabs(f);
    return d > 0 ? 200.0 * fabs(y - f) / d : 0.0;
}

static double clamp0(double v, enum fc_kind kind)
{
    return (kind == FC_KIND_COUNT && v < 0) ? 0 : v;
}

/* The unit a calibration error is measured in.  On a log or logit scale
 * the error itself (a relative error, comparable between a large and a
 * small authority): the quantiles per horizon are those of the panel's
 * errors of earlier origins, whatever sd the model claims.  On the raw
 * scale errors of different authorities differ by their size, so there
 * they are standardised by the model's sd_h.  Chosen on the tune set
 * (origins 2019-2022) by the mean interval score, MSIS (bench/tune.sh). */
static double cal_unit(const struct fc_result *r, int j)
{
    if (CAL_ABS && r->scale != FC_SCALE_RAW)
        return 1.0;
    return r->sd_w[j];
}

void fc_apply_calibration(const struct fc_calibration *cal,
                          struct fc_result *out)
{
    enum fc_kind kind = FC_KIND_LEVEL;

    if (!cal || !out || out->model < 0 || out->model >= FC_MODEL_COUNT)
        return;
    if (out->scale == FC_SCALE_RAW) {
        /* a count's lower bound was clamped at 0 by the fit; keep that */
        for (int j = 0; j < out->h; j++)
            if (out->lo95[j] == 0 && out->mean[j] >= 0)
                kind = FC_KIND_COUNT;
    }
    for (int j = 0; j < out->h; j++) {
        const double *q;
        double m = out->mean_w[j], sd = cal_unit(out, j);
        if (cal->n[out->model][j] <= 0)
            continue;
        q = cal->q[out->model][j];
        out->lo95[j] = clamp0(fc_from_scale(out->scale, m + q[0] * sd), kind);
        out->lo80[j] = clamp0(fc_from_scale(out->scale, m + q[1] * sd), kind);
        out->hi80[j] = clamp0(fc_from_scale(out->scale, m + q[2] * sd), kind);
        out->hi95[j] = clamp0(fc_from_scale(out->scale, m + q[3] * sd), kind);
        /* the point forecast must lie inside its own interval */
        if (out->lo80[j] > out->mean[j])
            out->lo80[j] = out->mean[j];
        if (out->hi80[j] < out->mean[j])
            out->hi80[j] = out->mean[j];
        if (out->lo95[j] > out->lo80[j])
            out->lo95[j] = out->lo80[j];
        if (out->hi95[j] < out->hi80[j])
            out->hi95[j] = out->hi80[j];
        out->calibrated = 1;
    }
}

static void acc_add(struct fc_accuracy *a, const struct fc_result *r, int j,
                    double yt, double scale)
{
    a->mase += fabs(yt - r->mean[j]) / scale;
    a->smape += fc_smape1(yt, r->mean[j]);
    a->cover80 += (yt >= r->lo80[j] && yt <= r->hi80[j]);
    a->cover95 += (yt >= r->lo95[j] && yt <= r->hi95[j]);
    a->winkler += fc_winkler(r->lo95[j], r->hi95[j], yt, 0.05);
    a->msis += fc_winkler(r->lo95[j], r->hi95[j], yt, 0.05) / scale;
    a->n++;
}

static void acc_finish(struct fc_accuracy *a);

void fc_calibration_free(struct fc_calibration *cal)
{
    if (!cal)
        return;
    free(cal->series_acc);
    cal->series_acc = NULL;
    cal->series_cap = 0;
    cal->n_series = 0;
}

int fc_calibrate(const struct fc_panel *p, int n_use, int min_train, int h,
                 struct fc_calibration *cal)
{
    if (!p)
        return FC_ERR_ARG;
    return fc_calibrate_models(p, n_use, min_train, h,
                               candidates_of(p) | (1u << FC_NAIVE)
                                   | (1u << FC_DRIFT), cal);
}

int fc_calibrate_models(const struct fc_panel *p, int n_use, int min_train,
                        int h, unsigned models, struct fc_calibration *cal)
{
    double *buf = NULL;
    struct { double z; int i, k; } *zr = NULL;
    size_t nz = 0;
    int *cnt = NULL;
    size_t cap;
    int N, rc = FC_ERR_NOMEM, t0;
    struct fc_result *r = NULL;
    struct fc_memo *memo = NULL;
    struct fc_pool *pools[FC_N_SCALES] = { NULL };
    double om[FC_MODEL_COUNT];
    int on[FC_MODEL_COUNT];

    if (!p || !cal || !p->y || h < 1 || h > FC_MAX_H || n_use < 1
        || n_use > p->n || p->n_series < 1 || min_train < 1)
        return FC_ERR_ARG;
    {
        /* Keep (and grow) the per-series table across calls. */
        struct fc_accuracy (*acc)[FC_MODEL_COUNT] = cal->series_acc;
        int capacity = acc ? cal->series_cap : 0;
        if (capacity < p->n_series) {
            acc = realloc(acc, sizeof *acc * (size_t)p->n_series);
            if (!acc)
                return FC_ERR_NOMEM;
            capacity = p->n_series;
        }
        memset(cal, 0, sizeof *cal);
        memset(acc, 0, sizeof *acc * (size_t)p->n_series);
        cal->series_acc = acc;
        cal->series_cap = capacity;
    }
    N = p->n_series;
    cal->n_series = N;
    cal->n_use = n_use;
    cal->min_train = min_train;
    t0 = min_train - CAL_T0_BACK < CAL_MIN_TRAIN ? CAL_MIN_TRAIN : min_train - CAL_T0_BACK;
    cap = (size_t)N * (size_t)(n_use > 0 ? n_use : 1);
    buf = malloc(sizeof *buf * cap * FC_MODEL_COUNT * (size_t)h);
    zr = malloc(sizeof *zr * cap * FC_MODEL_COUNT * (size_t)h);
    cnt = calloc((size_t)FC_MODEL_COUNT * (size_t)h, sizeof *cnt);
    r = malloc(sizeof *r);
    memo = malloc(sizeof *memo);
    if (!buf || !zr || !cnt || !r || !memo)
        goto done;
    if (CAL_MAX_ORIGINS > 0 && n_use - CAL_MAX_ORIGINS > t0)
        t0 = n_use - CAL_MAX_ORIGINS;
    for (int o = t0; o < n_use; o++) {
        if (o >= min_train)
            cal->choice_origins++;
        rc = fc_pools_build(p, o, pools);
        if (rc != FC_OK)
            goto done;
        rc = FC_ERR_NOMEM;
        memset(om, 0, sizeof om);
        memset(on, 0, sizeof on);
        for (int i = 0; i < N; i++) {
            const double *y = p->y + (size_t)i * p->n;
            double scale = fc_mase_scale(y, o, p->period > 0 ? p->period : 1);
            fc_memo_reset(memo);
            for (int m = 0; m < FC_MODEL_COUNT; m++) {
                int before = cal->series_acc[i][m].n;
                if ((m == FC_POOLED_AR && p->kind != FC_KIND_PROPORTION)
                    || ((m == FC_SNAIVE || m == FC_HW) && p->period < 2)
                    || !(models & (1u << m)))
                    continue;
                if (fc_fit_panel_pools((enum fc_model)m, p, i, o, NULL, h,
                                       pools, memo, r) != FC_OK)
                    continue;
                for (int j = 0; j < h && o + j < n_use; j++) {
                    double yt = y[o + j], zt;
                    if (!isfinite(yt)
                        || (p->scored && !p->scored[(size_t)i * p->n + o + j]))
                        continue;
                    zt = (fc_to_scale(r->scale, yt) - r->mean_w[j]) / cal_unit(r, j);
                    /* keyed by the model actually used: a fallback's
                     * errors calibrate the fallback, as applied later */
                    if (isfinite(zt) && r->sd_w[j] > 2e-9 * (1 + fabs(r->mean_w[j]))
                        && (int)r->model == m) {
                        size_t k = (size_t)m * h + j;
                        buf[k * cap + (size_t)cnt[k]++] = zt;
                        if (o >= min_train) {
                            zr[nz].z = zt;
                            zr[nz].i = i;
                            zr[nz].k = (int)k;
                            nz++;
                        }
                    }
                    /* model choice only from the windows the user asked for */
                    if (o >= min_train && scale > 0) {
                        cal->mase[m] += fabs(yt - r->mean[j]) / scale;
                        cal->mase_n[m]++;
                        om[m] += fabs(yt - r->mean[j]) / scale;
                        on[m]++;
                        acc_add(&cal->series_acc[i][m], r, j, yt, scale);
                    }
                }
                if (cal->series_acc[i][m].n > before)
                    cal->series_acc[i][m].n_origins++;
            }
        }
        fc_pools_free(pools);
        {
            int d = default_of(p);
            for (int m = 0; m < FC_MODEL_COUNT; m++)
                if (on[m] > 0 && on[d] > 0) {
                    cal->vs_default[m]++;
                    cal->beat_default[m] += om[m] / on[m] < om[d] / on[d];
                }
        }
    }
    for (int m = 0; m < FC_MODEL_COUNT; m++) {
        if (cal->mase_n[m])
            cal->mase[m] /= cal->mase_n[m];
        for (int i = 0; i < N; i++)
            acc_finish(&cal->series_acc[i][m]);
        for (int j = 0; j < h; j++) {
            size_t k = (size_t)m * h + j;
            double *v = buf + k * cap;
            if (cnt[k] >= CAL_MIN_ERRORS) {
                gsl_sort(v, 1, (size_t)cnt[k]);
                for (int q = 0; q < 4; q++)
                    cal->q[m][j][q] = gsl_stats_quantile_from_sorted_data(
                        v, 1, (size_t)cnt[k], cal_probs[q]);
                cal->n[m][j] = cnt[k];
            } else if (j > 0 && cal->n[m][j - 1] > 0) {
                memcpy(cal->q[m][j], cal->q[m][j - 1], sizeof cal->q[m][j]);
                cal->n[m][j] = cal->n[m][j - 1];
            }
        }
    }
    /* The coverage each series' record states is that of the intervals as
     * served (calibrated), not of the model's nominal ones: its own
     * standardised errors against the panel's quantiles. */
    {
        int *c = calloc((size_t)N * FC_MODEL_COUNT * 3, sizeof *c);
        if (!c) {
            rc = FC_ERR_NOMEM;
            goto done;
        }
        for (size_t e = 0; e < nz; e++) {
            int m = zr[e].k / h, j = zr[e].k % h;
            const double *q = cal->q[m][j];
            int *ci = c + ((size_t)zr[e].i * FC_MODEL_COUNT + m) * 3;
            if (cal->n[m][j] <= 0)
                continue;
            ci[0]++;
            ci[1] += zr[e].z >= q[1] && zr[e].z <= q[2];
            ci[2] += zr[e].z >= q[0] && zr[e].z <= q[3];
        }
        for (int i = 0; i < N; i++)
            for (int m = 0; m < FC_MODEL_COUNT; m++) {
                const int *ci = c + ((size_t)i * FC_MODEL_COUNT + m) * 3;
                if (ci[0] > 0 && cal->series_acc[i][m].n > 0) {
                    cal->series_acc[i][m].cover80 = 100.0 * ci[1] / ci[0];
                    cal->series_acc[i][m].cover95 = 100.0 * ci[2] / ci[0];
                }
            }
        free(c);
    }
    rc = FC_OK;
done:
    fc_pools_free(pools);
    free(memo);
    free(r);
    free(cnt);
    free(buf);
    free(zr);
    return rc;
}

/* Accuracy of one fitted result against the actuals that follow n_use. */
static void score(const struct fc_result *r, const double *y, int n_use,
                  int n_all, double scale, const unsigned char *scored,
                  struct fc_accuracy *acc)
{
    for (int j = 0; j < r->h && n_use + j < n_all; j++) {
        double yt = y[n_use + j];
        if (!isfinite(yt) || !(scale > 0) || (scored && !scored[n_use + j]))
            continue;
        acc_add(acc, r, j, yt, scale);
    }
}

static void acc_finish(struct fc_accuracy *a)
{
    if (a->n == 0) {
        a->mase = a->smape = a->cover80 = a->cover95 = a->winkler = a->msis = NAN;
        return;
    }
    a->mase /= a->n;
    a->smape /= a->n;
    a->cover80 = 100.0 * a->cover80 / a->n;
    a->cover95 = 100.0 * a->cover95 / a->n;
    a->winkler /= a->n;
    a->msis /= a->n;
}

static int is_ets(int m)
{
    return m == FC_SES || m == FC_HOLT || m == FC_DAMPED;
}


/* One model's record over every series of the calibration. */
static void panel_record(const struct fc_calibration *cal, int m,
                         struct fc_accuracy *a, int *n_series)
{
    memset(a, 0, sizeof *a);
    *n_series = 0;
    for (int i = 0; i < cal->n_series; i++) {
        const struct fc_accuracy *s = &cal->series_acc[i][m];
        if (s->n <= 0)
            continue;
        a->mase += s->mase * s->n;
        a->smape += s->smape * s->n;
        a->cover80 += s->cover80 * s->n;
        a->cover95 += s->cover95 * s->n;
        a->winkler += s->winkler * s->n;
        a->msis += s->msis * s->n;
        a->n += s->n;
        a->n_origins += s->n_origins;
        (*n_series)++;
    }
    if (a->n > 0) {
        a->mase /= a->n;
        a->smape /= a->n;
        a->cover80 /= a->n;
        a->cover95 /= a->n;
        a->winkler /= a->n;
        a->msis /= a->n;
    }
}

static int auto_pools(const struct fc_panel *p, int idx, int n_use,
                      const struct fc_calibration *cal, int h,
                      struct fc_pool *const *pools, struct fc_memo *memo,
                      struct fc_result *out)
{
    int best = -1, held = -1, rc;
    double best_score = INFINITY, sc[FC_MODEL_COUNT];
    char why[FC_REASON_LEN];

    if (!p || !out || idx < 0 || idx >= p->n_series)
        return FC_ERR_ARG;
    why[0] = '\0';
    for (int m = 0; m < FC_MODEL_COUNT; m++) {
        sc[m] = NAN;
        if (!cal || cal->mase_n[m] == 0 || idx >= cal->n_series)
            continue;
        sc[m] = cal->mase[m];
        /* naive and drift are scored for the record, chosen only when
         * they are candidates */
        if (!(candidates_of(p) & (1u << m))
            || cal->choice_origins < CHOICE_MIN_ORIGINS)
            continue;
        if (CHOICE_BEAT_SHARE > 0 && m != default_of(p)
            && !(cal->beat_default[m] > 0
                 && cal->beat_default[m] >= CHOICE_BEAT_SHARE * cal->vs_default[m])) {
            if (held < 0 || sc[m] < sc[held])
                held = m;
            continue;
        }
        if (sc[m] < best_score) {
            best_score = sc[m];
            best = m;
        }
    }
    if (best < 0) {
        best = default_of(p);
        if (cal && cal->choice_origins > 0)
            fc_reason_add(why, "backtest of %d origin%s only (too few to "
                          "choose): default %s", cal->choice_origins,
                          cal->choice_origins == 1 ? "" : "s",
                          fc_model_name(best));
        else
            fc_reason_add(why, "no backtest available: default %s",
                          fc_model_name(best));
    } else if (cal->n_series == 1) {
        fc_reason_add(why, "chosen by rolling-origin MASE on this series' own "
                      "earlier splits: %s %.3f vs naive %.3f, drift %.3f",
                      fc_model_name(best), sc[best], sc[FC_NAIVE], sc[FC_DRIFT]);
    } else {
        fc_reason_add(why, "chosen for every authority of the metric by "
                      "rolling-origin MASE over %d authorities' earlier "
                      "splits: %s %.3f vs naive %.3f, drift %.3f",
                      cal->n_series, fc_model_name(best), sc[best],
                      sc[FC_NAIVE], sc[FC_DRIFT]);
    }
    if (held >= 0 && best >= 0 && sc[held] < sc[best])
        fc_reason_add(why, "%s's MASE was lower (%.3f) but it beat the default "
                      "%s at %d of %d origins only: not chosen",
                      fc_model_name(held), sc[held], fc_model_name(default_of(p)),
                      cal->beat_default[held], cal->vs_default[held]);
    /* within the ETS family, AICc decides */
    if (is_ets(best)) {
        double best_aicc = INFINITY;
        int pick = best;
        for (int m = FC_SES; m <= FC_DAMPED; m++) {
            rc = fc_fit_panel_pools((enum fc_model)m, p, idx, n_use, NULL, h,
                                    pools, memo, out);
            if (rc == FC_OK && (int)out->model == m && isfinite(out->aicc)
                && out->aicc < best_aicc) {
                best_aicc = out->aicc;
                pick = m;
            }
        }
        if (pick != best)
            fc_reason_add(why, "within ETS, AICc prefers %s", fc_model_name(pick));
        best = pick;
    }
    rc = fc_fit_panel_pools((enum fc_model)best, p, idx, n_use, NULL, h, pools,
                            memo, out);
    if (rc != FC_OK)
        return rc;
    {
        char tail[FC_REASON_LEN];
        memcpy(tail, out->reason, sizeof tail);
        memcpy(out->reason, why, sizeof why);
        if (tail[0])
            fc_reason_add(out->reason, "%s", tail);
    }
    out->requested = FC_AUTO;
    fc_apply_calibration(cal, out);
    if (out->calibrated)
        fc_reason_add(out->reason, "intervals calibrated on rolling-origin "
                      "errors pooled over the panel");
    else
        fc_reason_add(out->reason, "intervals not calibrated (too few "
                      "backtest errors): nominal normal intervals");
    if (cal && idx < cal->n_series) {
        out->acc_model = cal->series_acc[idx][out->model];
        out->acc_naive = cal->series_acc[idx][FC_NAIVE];
        out->acc_drift = cal->series_acc[idx][FC_DRIFT];
        out->has_accuracy = 1;
        panel_record(cal, out->model, &out->acc_panel, &out->panel_series);
    }
    return FC_OK;
}

int fc_auto(const struct fc_panel *p, int idx, int n_use,
            const struct fc_calibration *cal, int h, struct fc_result *out)
{
    return auto_pools(p, idx, n_use, cal, h, NULL, NULL, out);
}

int fc_auto_each(const struct fc_panel *p, int n_use, const struct fc_calibration *cal,
                 int h, const unsigned char *want, struct fc_result *out, int *ok)
{
    struct fc_pool *pools[FC_N_SCALES] = { NULL };
    struct fc_memo *memo;
    int rc;

    if (!p || !out || !ok || n_use < 1 || n_use > p->n || p->n_series < 1)
        return FC_ERR_ARG;
    memo = malloc(sizeof *memo);
    if (!memo)
        return FC_ERR_NOMEM;
    /* the pools fc_auto would build for every series, built once */
    rc = fc_pools_build(p, n_use, pools);
    if (rc != FC_OK) {
        free(memo);
        return rc;
    }
    for (int i = 0; i < p->n_series; i++)
        ok[i] = 0;
    for (int i = 0; i < p->n_series; i++) {
        if (want && !want[i])
            continue;
        fc_memo_reset(memo);
        rc = auto_pools(p, i, n_use, cal, h, pools, memo, &out[i]);
        ok[i] = rc == FC_OK;
        if (rc == FC_ERR_NOMEM)
            break;   /* not a series without a forecast: say so */
    }
    fc_pools_free(pools);
    free(memo);
    return rc == FC_ERR_NOMEM ? FC_ERR_NOMEM : FC_OK;
}

int fc_backtest_panel(const struct fc_panel *p, const enum fc_model *models,
                      int n_models, int min_train, int h, int calibrate,
                      struct fc_backtest *out)
{
    if (!p)
        return FC_ERR_ARG;
    return fc_backtest_range(p, models, n_models, min_train, min_train,
                             p->n - 1, p->n, h, calibrate, out);
}

int fc_backtest_range(const struct fc_panel *p, const enum fc_model *models,
                      int n_models, int min_train, int o_first, int o_last,
                      int t_end, int h, int calibrate, struct fc_backtest *out)
{
    struct fc_calibration *cal = NULL;
    struct fc_result *r = NULL;
    struct fc_memo *memo = NULL;
    struct fc_pool *pools[FC_N_SCALES] = { NULL };
    int rc = FC_ERR_NOMEM;

    if (!p || !out || !models || n_models < 1 || h < 1 || h > FC_MAX_H
        || min_train < 1 || o_first < 1 || o_last >= p->n || t_end > p->n)
        return FC_ERR_ARG;
    for (int k = 0; k < n_models; k++) {
        if (models[k] < 0 || models[k] > FC_AUTO)
            return FC_ERR_ARG;
        memset(&out[k], 0, sizeof out[k]);
        out[k].model = models[k];
        if (models[k] == FC_AUTO)
            calibrate = 1;
    }
    r = malloc(sizeof *r);
    memo = malloc(sizeof *memo);
    if (calibrate)
        cal = calloc(1, sizeof *cal);
    if (!r || !memo || (calibrate && !cal))
        goto done;
    for (int o = o_first; o <= o_last; o++) {
        if (cal) {
            rc = fc_calibrate_models(p, o, min_train, h, 0xffffffffu, cal);
            if (rc != FC_OK)
                goto done;
        }
        rc = fc_pools_build(p, o, pools);
        if (rc != FC_OK)
            goto done;
        for (int i = 0; i < p->n_series; i++) {
            const double *y = p->y + (size_t)i * p->n;
            double scale = fc_mase_scale(y, o, p->period > 0 ? p->period : 1);
            const unsigned char *sc_row = p->scored ? p->scored + (size_t)i * p->n
                                                    : NULL;
            fc_memo_reset(memo);
            for (int k = 0; k < n_models; k++) {
                enum fc_model model = models[k];
                if (model == FC_AUTO)
                    rc = auto_pools(p, i, o, cal, h, pools, memo, r);
                else
                    rc = fc_fit_panel_pools(model, p, i, o, NULL, h, pools,
                                            memo, r);
                if (rc == FC_ERR_NO_DATA)
                    continue;
                if (rc != FC_OK)
                    goto done;
                if (model != FC_AUTO && r->model != model)
                    out[k].n_fallback++;
                if (model == FC_AUTO && r->model >= 0 && r->model < FC_MODEL_COUNT)
                    out[k].chosen[r->model]++;
                if (cal && model != FC_AUTO)
                    fc_apply_calibration(cal, r);
                score(r, y, o, t_end, scale, sc_row, &out[k].all);
                for (int j = 0; j < h && o + j < t_end; j++) {
                    double yt = y[o + j];
                    if (isfinite(yt) && scale > 0 && !(sc_row && !sc_row[o + j]))
                        acc_add(&out[k].by_h[j], r, j, yt, scale);
                }
            }
        }
        fc_pools_free(pools);
    }
    for (int k = 0; k < n_models; k++) {
        acc_finish(&out[k].all);
        for (int j = 0; j < h; j++)
            acc_finish(&out[k].by_h[j]);
    }
    rc = FC_OK;
done:
    fc_pools_free(pools);
    free(memo);
    fc_calibration_free(cal);
    free(cal);
    free(r);
    return rc;
}
