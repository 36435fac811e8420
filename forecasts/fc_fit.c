/*
 * fc_fit / fc_fit_panel: series preparation (gaps, scale), the pooled
 * growth model, combinations, minimum-length fallbacks, and intervals.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <gsl/gsl_cdf.h>
#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>

#include "fc_internal.h"

/* Pooled model tuning: recency weight of past growth (growth accelerates,
 * so recent years say more) and the damping of growth over the horizon. */
#define POOL_LAMBDA 0.7
#define POOL_PHI_DAMPED 0.6
/* Clip diffs at median +- POOL_CLIP robust sd (see growth_of). */
#define POOL_CLIP 2.5
/* Prior weights: neighbours, region, England (renormalised if missing). */
#define POOL_W_NB 0.5
#define POOL_W_REG 0.25
#define POOL_W_ENG 0.25
/* The own-noise variance is itself shrunk toward the panel's median with
 * this many pseudo-observations (3-7 diffs give a very noisy variance). */
#define POOL_S2_K0 4.0

struct prep {
    double z[FC_MAX_N];
    int n;        /* observed span length (first..last observed) */
    int lead;     /* missing at the start (dropped) */
    int trail;    /* missing at the end (horizon extended) */
    int gaps;     /* interior missing values interpolated */
    int nonpos;   /* any observed value <= 0 */
    int neg;      /* any observed value < 0 */
    int constant;
};

static int is_obs(double v)
{
    return isfinite(v);
}

/* Observed span, interior gaps linearly interpolated on scale sc. */
static int prep_series(const double *y, int n, enum fc_scale sc,
                       struct prep *p)
{
    int first = -1, last = -1, prev;

    p->n = p->lead = p->trail = p->gaps = p->nonpos = p->neg = p->constant = 0;
    for (int t = 0; t < n; t++)
        if (is_obs(y[t])) {
            if (first < 0)
                first = t;
            last = t;
            if (y[t] <= 0)
                p->nonpos = 1;
            if (y[t] < 0)
                p->neg = 1;
        }
    if (first < 0)
        return FC_ERR_NO_DATA;
    if ((sc == FC_SCALE_LOG && p->nonpos) || (sc == FC_SCALE_LOG1P && p->neg))
        return FC_ERR_ARG;
    p->lead = first;
    p->trail = n - 1 - last;
    p->n = last - first + 1;
    prev = first;
    p->constant = 1;
    for (int t = first; t <= last; t++) {
        if (!is_obs(y[t])) {
            p->gaps++;
            continue;
        }
        p->z[t - first] = fc_to_scale(sc, y[t]);
        if (y[t] != y[first])
            p->constant = 0;
        for (int g = prev + 1; g < t; g++) {
            double w = (double)(g - prev) / (t - prev);
            p->z[g - first] = (1 - w) * p->z[prev - first] + w * p->z[t - first];
        }
        prev = t;
    }
    return FC_OK;
}

/* ---- pooled growth ------------------------------------------------------ */

struct growth {
    double g;     /* recency-weighted mean growth per step */
    double vf;    /* sampling-variance factor: var(g) = vf * s2 */
    double s2;    /* variance of one step's growth (NAN if one diff) */
    int m;        /* number of diffs */
    int ok;
};

/* Median of v[0..n-1] (reorders v); NAN when n == 0.  GSL's quickselect:
 * the same value as sorting, in linear time (the medians of every panel at
 * every origin were a quarter of the forecast worker's CPU as qsort). */
static double median_of(double *v, int n)
{
    return n == 0 ? NAN : gsl_stats_median(v, 1, (size_t)n);
}

/* Growth per step, robust to a structural break: each diff is clipped to
 * median +- 2.5 robust sd of the series' diffs before the recency-weighted
 * mean (SEN2's first year, 2014, jumps 2 -> 111 when the 2014 reform began
 * issuing EHC plans; one such step must not set the growth for years). */
static void growth_of(const double *z, int n, struct growth *gr)
{
    double d[FC_MAX_N], srt[FC_MAX_N], med, mad, lo, hi;
    double sw = 0, sw2 = 0, swd = 0, mean = 0, ss = 0, w = 1;
    int m = n - 1;

    gr->ok = 0;
    gr->m = m;
    if (m < 1)
        return;
    for (int t = 1; t < n; t++)
        srt[t - 1] = d[t - 1] = z[t] - z[t - 1];
    med = median_of(srt, m);
    for (int k = 0; k < m; k++)
        srt[k] = fabs(d[k] - med);
    mad = 1.4826 * median_of(srt, m);
    if (m >= 3) {
        lo = med - POOL_CLIP * mad;
        hi = med + POOL_CLIP * mad;
        for (int k = 0; k < m; k++)
            d[k] = d[k] < lo ? lo : d[k] > hi ? hi : d[k];
    }
    for (int k = m - 1; k >= 0; k--) {
        sw += w;
        sw2 += w * w;
        swd += w * d[k];
        mean += d[k];
        w *= POOL_LAMBDA;
    }
    mean /= m;
    for (int k = 0; k < m; k++)
        ss += (d[k] - mean) * (d[k] - mean);
    gr->g = swd / sw;
    gr->s2 = m >= 2 ? ss / (m - 1) : NAN;
    gr->vf = sw2 / (sw * sw);
    gr->ok = isfinite(gr->g);
}


/* Growth statistics of a whole panel at one origin, on one scale.  Built
 * once per origin and shared by every series' pooled fit. */
struct fc_pool {
    int n_series, n_use;
    enum fc_scale sc;
    double tau2;      /* between-authority variance of growth around prior */
    double s2_med;    /* typical one-step variance */
    double eng;       /* England: median growth */
    int n_growth;     /* series with a growth estimate */
    double *g, *v, *s2, *prior, *last;
    int *ok;
    /* mean reversion (FC_POOLED_AR): the panel's centre at the last point,
     * the pooled persistence of a series' gap to it, the residual variance
     * of that regression and the variance of the centre's yearly change */
    double centre, ar_phi, ar_s2, centre_s2;
    int ar_ok;
};

void fc_pool_free(struct fc_pool *pl)
{
    if (!pl)
        return;
    free(pl->g);
    free(pl->ok);
    free(pl);
}

/* Series j's gaps to the panel's centre at t - 1 and t (on the working
 * scale) into *x and *y; 0 when a figure or a centre is missing. */
static int centred_gaps(const struct fc_panel *pn, enum fc_scale sc, const double *centre,
                        int j, int t, double *x, double *y)
{
    double a = pn->y[(size_t)j * pn->n + t - 1], b = pn->y[(size_t)j * pn->n + t];
    if (!isfinite(a) || !isfinite(b) || !isfinite(centre[t - 1]) || !isfinite(centre[t]))
        return 0;
    *x = fc_to_scale(sc, a) - centre[t - 1];
    *y = fc_to_scale(sc, b) - centre[t];
    return 1;
}

/* Mean reversion across the panel (proportions).  A proportion such as
 * 20-week timeliness collapses and recovers: an authority far below the
 * others tends to come back, one far above tends to slip.  Each series'
 * gap to the panel's centre (the median of the series at each time point,
 * on the working scale) is regressed on its previous gap, pooled over
 * every authority and year (no intercept: the gap decays toward zero).
 * phi near 1 is a random walk (naive); the pooled estimate is clamped to
 * [AR_PHI_MIN, 1].  The centre itself moves as a random walk. */
#define AR_PHI_MIN 0.3
static void pool_ar(const struct fc_panel *pn, int n_use, enum fc_scale sc,
                    struct fc_pool *pl)
{
    double centre[FC_MAX_N], col[1024], sxy = 0, sxx = 0, sr = 0, sc2 = 0;
    int N = pn->n_series, nr = 0, nc = 0;

    pl->ar_ok = 0;
    if (n_use < 3 || n_use > FC_MAX_N)
        return;
    for (int t = 0; t < n_use; t++) {
        int k = 0;
        for (int j = 0; j < N && k < 1024; j++) {
            double v = pn->y[(size_t)j * pn->n + t];
            if (isfinite(v))
                col[k++] = fc_to_scale(sc, v);
        }
        centre[t] = k >= 5 ? median_of(col, k) : NAN;
    }
    for (int j = 0; j < N; j++)
        for (int t = 1; t < n_use; t++) {
            double x, y;
            if (!centred_gaps(pn, sc, centre, j, t, &x, &y))
                continue;
            sxy += x * y;
            sxx += x * x;
        }
    if (!(sxx > 0))
        return;
    pl->ar_phi = sxy / sxx;
    if (pl->ar_phi < AR_PHI_MIN)
        pl->ar_phi = AR_PHI_MIN;
    if (pl->ar_phi > 1)
        pl->ar_phi = 1;
    for (int j = 0; j < N; j++)
        for (int t = 1; t < n_use; t++) {
            double x, y;
            if (!centred_gaps(pn, sc, centre, j, t, &x, &y))
                continue;
            double e = y - pl->ar_phi * x;
            sr += e * e;
            nr++;
        }
    for (int t = 1; t < n_use; t++)
        if (isfinite(centre[t]) && isfinite(centre[t - 1])) {
            sc2 += (centre[t] - centre[t - 1]) * (centre[t] - centre[t - 1]);
            nc++;
        }
    if (nr < 10 || !isfinite(centre[n_use - 1]))
        return;
    pl->ar_s2 = sr / (nr - 1);
    pl->centre_s2 = nc ? sc2 / nc : 0;
    pl->centre = centre[n_use - 1];
    pl->ar_ok = 1;
}

/* Robust empirical Bayes: growth is winsorised at England +- 4 robust sd
 * (one authority's 30-fold jump from a tiny base must not drag its
 * neighbours), tau^2 from the median absolute deviation around the
 * prior, less the median sampling variance. */
int fc_pool_build(const struct fc_panel *pn, int n_use, enum fc_scale sc,
                  struct fc_pool **out)
{
    struct fc_pool *pl = NULL;
    struct growth *gr = NULL;
    double *tmp = NULL, *rsum = NULL, mad, vmed, lo, hi;
    int *rcnt = NULL, N, k, rc = FC_ERR_NOMEM, n_two = 0;

    *out = NULL;
    if (!pn || !pn->y || n_use < 1 || n_use > pn->n || pn->n_series < 1)
        return FC_ERR_ARG;
    N = pn->n_series;
    pl = calloc(1, sizeof *pl);
    gr = calloc((size_t)N, sizeof *gr);
    tmp = calloc((size_t)N, sizeof *tmp);
    rsum = calloc((size_t)N + 1, sizeof *rsum);
    rcnt = calloc((size_t)N + 1, sizeof *rcnt);
    if (!pl || !gr || !tmp || !rsum || !rcnt)
        goto done;
    pl->g = calloc((size_t)N * 5, sizeof *pl->g);
    pl->ok = calloc((size_t)N, sizeof *pl->ok);
    if (!pl->g || !pl->ok)
        goto done;
    pl->v = pl->g + N;
    pl->s2 = pl->g + 2 * N;
    pl->prior = pl->g + 3 * N;
    pl->last = pl->g + 4 * N;
    pl->n_series = N;
    pl->n_use = n_use;
    pl->sc = sc;
    for (int j = 0; j < N; j++) {
        struct prep pj;
        if (prep_series(pn->y + (size_t)j * pn->n, n_use, sc, &pj) != FC_OK)
            continue;
        growth_of(pj.z, pj.n, &gr[j]);
        pl->last[j] = pj.z[pj.n - 1];
    }
    k = 0;
    for (int j = 0; j < N; j++)
        if (gr[j].ok)
            tmp[k++] = gr[j].g;
    pl->n_growth = k;
    pl->eng = k ? median_of(tmp, k) : 0.0;
    for (int j = 0, kk = 0; j < N; j++)
        if (gr[j].ok)
            tmp[kk++] = fabs(gr[j].g - pl->eng);
    mad = k ? 1.4826 * median_of(tmp, k) : 0.0;
    lo = pl->eng - 4 * mad;
    hi = pl->eng + 4 * mad;
    for (int j = 0; j < N; j++)
        if (gr[j].ok) {
            pl->ok[j] = 1;
            pl->g[j] = gr[j].g < lo ? lo : gr[j].g > hi ? hi : gr[j].g;
        }
    /* typical one-step variance: from series with >= 2 diffs, else from
     * the spread of single diffs across authorities (an upper bound) */
    for (int j = 0; j < N; j++)
        if (pl->ok[j] && gr[j].m >= 2 && isfinite(gr[j].s2))
            tmp[n_two++] = gr[j].s2;
    if (n_two >= 10) {
        pl->s2_med = median_of(tmp, n_two);
    } else {
        pl->s2_med = mad * mad;
    }
    if (!(pl->s2_med > 0))
        pl->s2_med = 1e-12;
    for (int j = 0; j < N; j++) {
        if (!pl->ok[j])
            continue;
        pl->s2[j] = (gr[j].m >= 2 && isfinite(gr[j].s2))
            ? ((gr[j].m - 1) * gr[j].s2 + POOL_S2_K0 * pl->s2_med)
                  / (gr[j].m - 1 + POOL_S2_K0)
            : pl->s2_med;
        pl->v[j] = gr[j].vf * pl->s2[j];
    }
    /* region sums (self excluded below) */
    if (pn->region)
        for (int j = 0; j < N; j++) {
            int r = pn->region[j];
            if (pl->ok[j] && r >= 0 && r < N) {
                rsum[r] += pl->g[j];
                rcnt[r]++;
            }
        }
    for (int j = 0; j < N; j++) {
        double snb = 0, pr = 0, wsum = 0;
        int knb = 0, r = pn->region ? pn->region[j] : -1;
        if (pn->neighbours)
            for (int q = 0; q < pn->n_neighbours; q++) {
                int nb = pn->neighbours[(size_t)j * pn->n_neighbours + q];
                if (nb >= 0 && nb < N && nb != j && pl->ok[nb]) {
                    snb += pl->g[nb];
                    knb++;
                }
            }
        if (knb) {
            pr += POOL_W_NB * snb / knb;
            wsum += POOL_W_NB;
        }
        if (r >= 0 && r < N) {
            double s = rsum[r] - (pl->ok[j] ? pl->g[j] : 0);
            int c = rcnt[r] - (pl->ok[j] ? 1 : 0);
            if (c > 0) {
                pr += POOL_W_REG * s / c;
                wsum += POOL_W_REG;
            }
        }
        pr += POOL_W_ENG * pl->eng;
        wsum += POOL_W_ENG;
        pl->prior[j] = pr / wsum;
    }
    k = 0;
    for (int j = 0; j < N; j++)
        if (pl->ok[j])
            tmp[k++] = fabs(pl->g[j] - pl->prior[j]);
    mad = k ? 1.4826 * median_of(tmp, k) : 0.0;
    k = 0;
    for (int j = 0; j < N; j++)
        if (pl->ok[j])
            tmp[k++] = pl->v[j];
    vmed = k ? median_of(tmp, k) : 0.0;
    pl->tau2 = mad * mad - vmed;
    if (!(pl->tau2 > 1e-3 * pl->s2_med))
        pl->tau2 = 1e-3 * pl->s2_med;
    if (pn->kind == FC_KIND_PROPORTION)
        pool_ar(pn, n_use, sc, pl);
    *out = pl;
    pl = NULL;
    rc = FC_OK;
done:
    fc_pool_free(pl);
    free(rcnt);
    free(rsum);
    free(tmp);
    free(gr);
    return rc;
}

/* The pooled forecast of series idx: growth shrunk toward the prior by the
 * noise of its own growth estimate. */
static int core_pooled(const struct fc_pool *pl, int idx,
                       const struct prep *own, int h, double phi,
                       struct fc_core *c, char *reason)
{
    double gi = 0, vi = INFINITY, s2i = pl->s2_med, wi = 0, gstar, postv;

    if (pl->n_growth < 1 || (pl->n_series > 1 && pl->n_growth < 5)) {
        fc_reason_add(reason, "pooled: too few series with two or more "
                      "points to estimate growth");
        return FC_ERR_NO_DATA;
    }

    if (idx >= 0 && idx < pl->n_series && pl->ok[idx]) {
        gi = pl->g[idx];
        vi = pl->v[idx];
        s2i = pl->s2[idx];
        wi = pl->tau2 / (pl->tau2 + vi);
    }
    gstar = wi * gi + (1 - wi) * pl->prior[idx];
    postv = wi > 0 ? 1.0 / (1.0 / pl->tau2 + 1.0 / vi) : pl->tau2;
    fc_reason_add(reason, "own growth %.4g weighted %.2f, prior %.4g "
                  "(neighbours/region/England) weighted %.2f", gi, wi,
                  pl->prior[idx], 1 - wi);
    c->fitted[0] = own->z[0];
    for (int t = 1; t < own->n; t++)
        c->fitted[t] = own->z[t - 1] + gstar;
    {
        double phisum = 0, phik = 1;
        for (int j = 0; j < h; j++) {
            phik *= phi;
            phisum += phik;
            c->mean[j] = own->z[own->n - 1] + phisum * gstar;
            c->sd[j] = sqrt(s2i * (j + 1) + phisum * phisum * postv);
        }
    }
    c->sigma = sqrt(s2i);
    c->df = 0;
    c->aicc = NAN;
    c->n_params = 4;
    c->param_name[0] = "growth";
    c->param[0] = gstar;
    c->param_name[1] = "own_growth";
    c->param[1] = gi;
    c->param_name[2] = "prior_growth";
    c->param[2] = pl->prior[idx];
    c->param_name[3] = "own_weight";
    c->param[3] = wi;
    return FC_OK;
}

/* The mean-reverting forecast: the centre held at its last value, the
 * series' gap to it shrinking by phi a step. */
static int core_pooled_ar(const struct fc_pool *pl, const struct prep *own,
                          int h, struct fc_core *c, char *reason)
{
    double gap, phik = 1, vs = 0;

    if (!pl->ar_ok) {
        fc_reason_add(reason, "pooled_ar: too few series or years to estimate "
                      "the panel's mean reversion");
        return FC_ERR_NO_DATA;
    }
    gap = own->z[own->n - 1] - pl->centre;
    fc_reason_add(reason, "gap to the panel's median %.3g (working scale) "
                  "shrinks by phi = %.2f a year, estimated over the panel",
                  gap, pl->ar_phi);
    c->fitted[0] = own->z[0];
    for (int t = 1; t < own->n; t++)
        c->fitted[t] = own->z[t - 1];
    for (int j = 0; j < h; j++) {
        phik *= pl->ar_phi;
        vs = vs * pl->ar_phi * pl->ar_phi + pl->ar_s2;
        c->mean[j] = pl->centre + phik * gap;
        c->sd[j] = sqrt(vs + (j + 1) * pl->centre_s2);
    }
    c->sigma = sqrt(pl->ar_s2);
    c->df = 0;
    c->aicc = NAN;
    c->n_params = 2;
    c->param_name[0] = "phi";
    c->param[0] = pl->ar_phi;
    c->param_name[1] = "centre";
    c->param[1] = pl->centre;
    return FC_OK;
}

/* ---- dispatch with fallbacks ------------------------------------------ */

struct ctx {
    struct fc_memo *memo;           /* may be NULL */
    const struct fc_pool *pool;     /* growth of the panel on scale sc */
    int idx, n_use;
    const struct fc_options *opt;
    enum fc_scale sc;
    const struct prep *pr;
    int period;                     /* 1 yearly, 4 quarterly */
};

static int run_model(const struct ctx *x, enum fc_model m, int H,
                     struct fc_core *c, enum fc_model *used, char *reason);

static int fallback(const struct ctx *x, enum fc_model m, int need, int H,
                    struct fc_core *c, enum fc_model *used, char *reason)
{
    enum fc_model to = x->pr->n >= 3 ? FC_DRIFT : FC_NAIVE;

    fc_reason_add(reason, "%s needs at least %d points, have %d: %s instead",
                  fc_model_name(m), need, x->pr->n, fc_model_name(to));
    return run_model(x, to, H, c, used, reason);
}

static int combine(const struct ctx *x, const enum fc_model *parts, int k,
                   int H, struct fc_core *c, char *reason)
{
    struct fc_core part;
    enum fc_model used[4];
    int n = x->pr->n;

    memset(c, 0, sizeof *c);
    for (int i = 0; i < k; i++) {
        int rc = run_model(x, parts[i], H, &part, &used[i], reason);
        if (rc != FC_OK)
            return rc;
        for (int t = 0; t < n; t++)
            c->fitted[t] += part.fitted[t] / k;
        /* sd: mean of the parts' sds (errors of the parts are highly
         * correlated; calibration corrects the rest) */
        for (int j = 0; j < H; j++) {
            c->mean[j] += part.mean[j] / k;
            c->sd[j] += part.sd[j] / k;
        }
        c->sigma += part.sigma / k;
    }
    c->df = 0;
    c->aicc = NAN;
    c->n_params = 0;
    return FC_OK;
}

void fc_memo_reset(struct fc_memo *mm)
{
    if (mm)
        memset(mm->valid, 0, sizeof mm->valid);
}

static int run_model_raw(const struct ctx *x, enum fc_model m, int H,
                         struct fc_core *c, enum fc_model *used, char *reason);

/* run_model_raw through the memo: a part of a combination fitted before,
 * on the same scale and horizon, is copied with its reasons. */
static int run_model(const struct ctx *x, enum fc_model m, int H,
                     struct fc_core *c, enum fc_model *used, char *reason)
{
    struct fc_memo *mm = x->memo;
    int sc = x->sc, rc;
    size_t len0;

    if (!mm || m < 0 || m >= FC_MODEL_COUNT || sc < 0 || sc >= FC_N_SCALES)
        return run_model_raw(x, m, H, c, used, reason);
    if (mm->valid[m][sc] && mm->H[m][sc] == H) {
        *c = mm->core[m][sc];
        *used = mm->used[m][sc];
        if (mm->reason[m][sc][0])
            fc_reason_add(reason, "%s", mm->reason[m][sc]);
        return mm->rc[m][sc];
    }
    len0 = strlen(reason);
    rc = run_model_raw(x, m, H, c, used, reason);
    if (rc == FC_ERR_NOMEM)
        return rc;
    mm->core[m][sc] = *c;
    mm->used[m][sc] = *used;
    mm->rc[m][sc] = rc;
    mm->H[m][sc] = H;
    /* the reasons this call added, without the "; " joint */
    {
        const char *add = reason + len0;
        while (*add == ';' || *add == ' ')
            add++;
        snprintf(mm->reason[m][sc], FC_REASON_LEN, "%s", add);
    }
    mm->valid[m][sc] = 1;
    return rc;
}

static int run_model_raw(const struct ctx *x, enum fc_model m, int H,
                         struct fc_core *c, enum fc_model *used, char *reason)
{
    const double *z = x->pr->z;
    int n = x->pr->n, rc;

    memset(c, 0, sizeof *c);
    *used = m;
    switch (m) {
    case FC_NAIVE:
        return fc_core_naive(z, n, H, c);
    case FC_DRIFT:
        if (n < 3) {
            fc_reason_add(reason, "drift needs 3 points, have %d: naive", n);
            *used = FC_NAIVE;
            return fc_core_naive(z, n, H, c);
        }
        return fc_core_drift(z, n, H, c);
    case FC_LINEAR:
    case FC_LOGLINEAR:
        if (n < 4)
            return fallback(x, m, 4, H, c, used, reason);
        return fc_core_linear(z, n, H, c);
    case FC_SES:
        if (n < FC_MIN_SES)
            return fallback(x, m, FC_MIN_SES, H, c, used, reason);
        rc = fc_core_ets(z, n, H, 0, x->opt, c);
        break;
    case FC_HOLT:
        if (n < FC_MIN_HOLT && !(x->opt && x->opt->fixed_ets))
            return fallback(x, m, FC_MIN_HOLT, H, c, used, reason);
        rc = fc_core_ets(z, n, H, 1, x->opt, c);
        break;
    case FC_DAMPED:
        if (n < FC_MIN_DAMPED && !(x->opt && x->opt->fixed_ets))
            return fallback(x, m, FC_MIN_DAMPED, H, c, used, reason);
        rc = fc_core_ets(z, n, H, 2, x->opt, c);
        break;
    case FC_THETA:
        if (n < FC_MIN_SES)
            return fallback(x, m, FC_MIN_SES, H, c, used, reason);
        rc = fc_core_theta(z, n, H, x->opt, c);
        break;
    case FC_COMBO: {
        static const enum fc_model parts[3] = { FC_DRIFT, FC_THETA, FC_DAMPED };
        rc = combine(x, parts, 3, H, c, reason);
        break;
    }
    case FC_POOLED_COMBO: {
        static const enum fc_model parts[3] = { FC_POOLED, FC_POOLED_DAMPED,
                                                FC_NAIVE };
        rc = combine(x, parts, 3, H, c, reason);
        break;
    }
    case FC_POOLED:
        if (!x->pool)
            return FC_ERR_ARG;
        rc = core_pooled(x->pool, x->idx, x->pr, H, 1.0, c, reason);
        break;
    case FC_POOLED_DAMPED:
        if (!x->pool)
            return FC_ERR_ARG;
        rc = core_pooled(x->pool, x->idx, x->pr, H, POOL_PHI_DAMPED, c, reason);
        break;
    case FC_POOLED_AR:
        if (!x->pool)
            return FC_ERR_ARG;
        rc = core_pooled_ar(x->pool, x->pr, H, c, reason);
        break;
    case FC_SNAIVE:
    case FC_HW: {
        int need = m == FC_SNAIVE ? x->period + 1 : 2 * x->period;
        if (x->period < 2) {
            fc_reason_add(reason, "%s is for seasonal (quarterly) series: naive",
                          fc_model_name(m));
            *used = FC_NAIVE;
            return fc_core_naive(z, n, H, c);
        }
        if (n < need) {
            fc_reason_add(reason, "%s needs at least %d quarters, have %d: naive",
                          fc_model_name(m), need, n);
            *used = FC_NAIVE;
            return fc_core_naive(z, n, H, c);
        }
        rc = m == FC_SNAIVE ? fc_core_snaive(z, n, x->period, H, c)
                            : fc_core_hw(z, n, x->period, H, c);
        break;
    }
    default:
        return FC_ERR_ARG;
    }
    if (rc != FC_OK && rc != FC_ERR_NOMEM) {
        fc_reason_add(reason, "%s failed (%s): naive instead",
                      fc_model_name(m), fc_status_str(rc));
        *used = FC_NAIVE;
        memset(c, 0, sizeof *c);
        return fc_core_naive(z, n, H, c);
    }
    return rc;
}

static enum fc_scale choose_scale(enum fc_model m, enum fc_kind kind,
                                  enum fc_scale want, int nonpos, char *reason)
{
    if (want == FC_SCALE_AUTO) {
        if (kind == FC_KIND_PROPORTION)
            return FC_SCALE_LOGIT;
        if (m == FC_LOGLINEAR || m == FC_POOLED || m == FC_POOLED_DAMPED
            || m == FC_POOLED_COMBO || m == FC_POOLED_AR)
            want = FC_SCALE_LOG;
        else
            return FC_SCALE_RAW;
    }
    if (want == FC_SCALE_LOG && nonpos == 1 && kind == FC_KIND_COUNT) {
        fc_reason_add(reason, "count has zeros: log(1 + y)");
        return FC_SCALE_LOG1P;
    }
    if (want == FC_SCALE_LOG && (nonpos || kind == FC_KIND_LEVEL)) {
        fc_reason_add(reason, "series has values <= 0 or may cross zero: "
                      "not logged");
        return FC_SCALE_RAW;
    }
    return want;
}

static int finalise(struct fc_result *out, const struct fc_core *c,
                    const struct prep *pr, enum fc_kind kind, int n_in,
                    const double *y, int h)
{
    double z80, z95;
    enum fc_scale sc = out->scale;

    if (c->df > 0) {
        z80 = gsl_cdf_tdist_Pinv(0.90, c->df);
        z95 = gsl_cdf_tdist_Pinv(0.975, c->df);
    } else {
        z80 = gsl_cdf_ugaussian_Pinv(0.90);
        z95 = gsl_cdf_ugaussian_Pinv(0.975);
    }
    out->n = n_in;
    for (int t = 0; t < n_in; t++) {
        int k = t - pr->lead;
        out->fitted[t] = (k >= 0 && k < pr->n && is_obs(y[t]))
            ? fc_from_scale(sc, c->fitted[k]) : NAN;
    }
    out->h = h;
    for (int j = 0; j < h; j++) {
        int k = pr->trail + j;
        double mw = c->mean[k], sd = c->sd[k];
        double floor_sd = 1e-9 * (1.0 + fabs(mw));
        if (!(sd >= floor_sd))
            sd = floor_sd;
        out->mean_w[j] = mw;
        out->sd_w[j] = sd;
        out->mean[j] = fc_from_scale(sc, mw);
        out->lo80[j] = fc_from_scale(sc, mw - z80 * sd);
        out->hi80[j] = fc_from_scale(sc, mw + z80 * sd);
        out->lo95[j] = fc_from_scale(sc, mw - z95 * sd);
        out->hi95[j] = fc_from_scale(sc, mw + z95 * sd);
        if (!isfinite(out->mean[j]) || !isfinite(out->lo95[j])
            || !isfinite(out->hi95[j]) || !isfinite(out->lo80[j])
            || !isfinite(out->hi80[j]))
            return FC_ERR_NUMERIC;
    }
    if (kind == FC_KIND_COUNT)
        for (int j = 0; j < h; j++) {
            out->mean[j] = out->mean[j] < 0 ? 0 : out->mean[j];
            out->lo80[j] = out->lo80[j] < 0 ? 0 : out->lo80[j];
            out->lo95[j] = out->lo95[j] < 0 ? 0 : out->lo95[j];
            out->hi80[j] = out->hi80[j] < 0 ? 0 : out->hi80[j];
            out->hi95[j] = out->hi95[j] < 0 ? 0 : out->hi95[j];
        }
    out->sigma = c->sigma;
    out->aicc = c->aicc;
    out->n_params = c->n_params;
    for (int i = 0; i < c->n_params; i++) {
        out->param_name[i] = c->param_name[i];
        out->param[i] = c->param[i];
    }
    return FC_OK;
}

static int fit_common(enum fc_model model, const struct fc_panel *panel,
                      int idx, const double *y, int n, enum fc_kind kind,
                      int period, const struct fc_options *opt, int h,
                      struct fc_pool *const *pools, struct fc_memo *memo,
                      struct fc_result *out)
{
    struct prep pr;
    struct fc_core core;
    struct ctx x;
    struct fc_pool *own_pool = NULL;
    enum fc_model used;
    enum fc_scale sc;
    int rc, H, nonpos = 0, any = 0;

    if (!y || !out || n < 1 || n > FC_MAX_N || h < 1 || h > FC_MAX_H
        || model < 0 || model >= FC_MODEL_COUNT)
        return FC_ERR_ARG;
    memset(out, 0, sizeof *out);
    out->requested = model;
    for (int t = 0; t < n; t++)
        if (is_obs(y[t])) {
            any = 1;
            if (y[t] < 0)
                nonpos = 2;
            else if (y[t] == 0 && nonpos == 0)
                nonpos = 1;
        }
    if (!any) {
        fc_reason_add(out->reason, "no observed values");
        return FC_ERR_NO_DATA;
    }
    sc = choose_scale(model, kind, opt ? opt->scale : FC_SCALE_AUTO, nonpos,
                      out->reason);
    if (model == FC_LOGLINEAR && sc != FC_SCALE_LOG && kind != FC_KIND_PROPORTION) {
        fc_reason_add(out->reason, "log-linear impossible: linear trend instead");
        model = FC_LINEAR;
    }
    rc = prep_series(y, n, sc, &pr);
    if (rc != FC_OK)
        return rc;
    if (pr.lead)
        fc_reason_add(out->reason, "%d leading missing values dropped", pr.lead);
    if (pr.gaps)
        fc_reason_add(out->reason, "%d missing values interpolated", pr.gaps);
    if (pr.trail)
        fc_reason_add(out->reason, "last %d values missing: forecasting from "
                      "the last observed", pr.trail);
    if (pr.constant && pr.n > 1)
        fc_reason_add(out->reason, "series is constant");
    H = h + pr.trail;
    if (H > FC_MAX_H) {
        fc_reason_add(out->reason, "too many trailing missing values");
        return FC_ERR_ARG;
    }
    if (pr.n < 3 && model != FC_NAIVE && model != FC_POOLED
        && model != FC_POOLED_DAMPED)
        fc_reason_add(out->reason, "only %d observed point%s", pr.n,
                      pr.n == 1 ? "" : "s");
    x.pool = NULL;
    x.memo = (opt && opt->fixed_ets) ? NULL : memo;
    x.idx = idx;
    x.n_use = n;
    x.opt = opt;
    x.sc = sc;
    x.pr = &pr;
    x.period = period > 1 ? period : 1;
    if (model == FC_POOLED_AR && kind != FC_KIND_PROPORTION) {
        fc_reason_add(out->reason, "pooled_ar is for proportions: naive instead");
        model = FC_NAIVE;
    }
    if (model == FC_POOLED || model == FC_POOLED_DAMPED
        || model == FC_POOLED_COMBO || model == FC_POOLED_AR) {
        rc = FC_OK;
        if (pools && pools[sc] && pools[sc]->n_use == n)
            x.pool = pools[sc];
        else if (panel)
            rc = fc_pool_build(panel, n, sc, &own_pool);
        else {
            /* a panel of one: the prior is the series' own growth */
            struct fc_panel self;
            memset(&self, 0, sizeof self);
            self.y = y;
            self.n_series = 1;
            self.n = n;
            x.idx = 0;
            fc_reason_add(out->reason, "no panel to pool with: own growth only");
            rc = fc_pool_build(&self, n, sc, &own_pool);
        }
        if (rc != FC_OK)
            return rc;
        if (!x.pool)
            x.pool = own_pool;
    }
    rc = run_model(&x, model, H, &core, &used, out->reason);
    fc_pool_free(own_pool);
    if (rc != FC_OK)
        return rc;
    out->model = used;
    out->name = fc_model_name(used);
    out->scale = sc;
    rc = finalise(out, &core, &pr, kind, n, y, h);
    if (rc != FC_OK && used != FC_NAIVE) {
        /* e.g. exp overflow on a huge log-scale trend: say so, use naive */
        fc_reason_add(out->reason, "%s gave non-finite forecasts: naive on "
                      "the raw scale", fc_model_name(used));
        out->scale = sc = (kind == FC_KIND_PROPORTION) ? FC_SCALE_LOGIT
                                                        : FC_SCALE_RAW;
        rc = prep_series(y, n, sc, &pr);
        if (rc != FC_OK)
            return rc;
        rc = fc_core_naive(pr.z, pr.n, H, &core);
        if (rc != FC_OK)
            return rc;
        out->model = FC_NAIVE;
        out->name = fc_model_name(FC_NAIVE);
        rc = finalise(out, &core, &pr, kind, n, y, h);
    }
    return rc;
}

int fc_fit(enum fc_model model, const struct fc_series *s,
           const struct fc_options *opt, int h, struct fc_result *out)
{
    if (!s)
        return FC_ERR_ARG;
    return fit_common(model, NULL, 0, s->y, s->n, s->kind, s->period, opt, h, NULL, NULL,
                      out);
}

int fc_fit_panel_pools(enum fc_model model, const struct fc_panel *p,
                       int idx, int n_use, const struct fc_options *opt,
                       int h, struct fc_pool *const *pools,
                       struct fc_memo *memo, struct fc_result *out)
{
    if (!p || !p->y || idx < 0 || idx >= p->n_series || n_use < 1
        || n_use > p->n)
        return FC_ERR_ARG;
    return fit_common(model, p, idx, p->y + (size_t)idx * p->n, n_use,
                      p->kind, p->period, opt, h, pools, memo, out);
}

int fc_fit_panel(enum fc_model model, const struct fc_panel *p, int idx,
                 int n_use, const struct fc_options *opt, int h,
                 struct fc_result *out)
{
    return fc_fit_panel_pools(model, p, idx, n_use, opt, h, NULL, NULL, out);
}

/* Pools a panel needs at one origin: the scales its pooled models use. */
int fc_pools_build(const struct fc_panel *p, int n_use,
                   struct fc_pool *pools[FC_N_SCALES])
{
    int rc = FC_OK;

    for (int k = 0; k < FC_N_SCALES; k++)
        pools[k] = NULL;
    if (p->kind == FC_KIND_PROPORTION)
        rc = fc_pool_build(p, n_use, FC_SCALE_LOGIT, &pools[FC_SCALE_LOGIT]);
    else {
        rc = fc_pool_build(p, n_use, FC_SCALE_RAW, &pools[FC_SCALE_RAW]);
        if (rc == FC_OK && p->kind == FC_KIND_COUNT)
            rc = fc_pool_build(p, n_use, FC_SCALE_LOG, &pools[FC_SCALE_LOG]);
        if (rc == FC_OK && p->kind == FC_KIND_COUNT)
            rc = fc_pool_build(p, n_use, FC_SCALE_LOG1P, &pools[FC_SCALE_LOG1P]);
    }
    if (rc != FC_OK)
        fc_pools_free(pools);
    return rc;
}

void fc_pools_free(struct fc_pool *pools[FC_N_SCALES])
{
    for (int k = 0; k < FC_N_SCALES; k++) {
        fc_pool_free(pools[k]);
        pools[k] = NULL;
    }
}
