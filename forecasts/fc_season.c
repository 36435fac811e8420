/*
 * Seasonal models for quarterly series (period m > 1): seasonal naive and
 * additive Holt-Winters, ETS(A,A,A).  Council submissions are quarterly;
 * once a series has two full years (eight quarters) both are candidates of
 * the automatic choice beside the non-seasonal models.
 */
#include <math.h>
#include <string.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_multimin.h>

#include "fc_internal.h"

/* Seasonal naive (as forecast::snaive): the same quarter a year earlier;
 * sd = s sqrt(k), k the whole seasons ahead, s^2 the mean squared seasonal
 * difference. */
int fc_core_snaive(const double *z, int n, int m, int h, struct fc_core *c)
{
    double ss = 0;
    int k = 0;

    if (m < 2 || n < m + 1)
        return FC_ERR_ARG;
    for (int t = 0; t < n; t++)
        c->fitted[t] = t >= m ? z[t - m] : z[t];
    for (int t = m; t < n; t++) {
        ss += (z[t] - z[t - m]) * (z[t] - z[t - m]);
        k++;
    }
    c->sigma = sqrt(ss / k);
    for (int j = 0; j < h; j++) {
        int seasons = j / m + 1;
        c->mean[j] = z[n - m + (j % m)];
        c->sd[j] = c->sigma * sqrt((double)seasons);
    }
    c->df = 0;
    c->aicc = NAN;
    c->n_params = 0;
    return FC_OK;
}

#define HW_LO 1e-4
#define HW_HI 0.9999
#define HW_MAX_M 12

struct hw_data {
    const double *z;
    int n, m;
    double l0, b0, s0[HW_MAX_M];
};

struct hw_par {
    double alpha, beta, gamma;
};

static double logistic(double u)
{
    return 1.0 / (1.0 + exp(-u));
}

/* alpha in (0, 1); beta in (0, alpha); gamma in (0, 1 - alpha) */
static void hw_unpack(const gsl_vector *u, struct hw_par *p)
{
    p->alpha = HW_LO + (HW_HI - HW_LO) * logistic(gsl_vector_get(u, 0));
    p->beta = HW_LO + (p->alpha - HW_LO) * logistic(gsl_vector_get(u, 1));
    p->gamma = HW_LO + (1 - p->alpha - HW_LO) * logistic(gsl_vector_get(u, 2));
}

/* One pass; returns SSE, fills fitted (may be NULL) and the final states. */
static double hw_run(const struct hw_data *d, const struct hw_par *p,
                     double *fitted, double *l_end, double *b_end, double *s_end)
{
    double l = d->l0, b = d->b0, s[HW_MAX_M], sse = 0;

    memcpy(s, d->s0, sizeof s);
    for (int t = 0; t < d->n; t++) {
        int q = t % d->m;
        double yhat = l + b + s[q], e = d->z[t] - yhat;
        if (fitted)
            fitted[t] = yhat;
        sse += e * e;
        l = l + b + p->alpha * e;
        b = b + p->beta * e;
        s[q] = s[q] + p->gamma * e;
    }
    if (l_end) {
        *l_end = l;
        *b_end = b;
        memcpy(s_end, s, sizeof s);
    }
    return sse;
}

static double hw_sse(const gsl_vector *u, void *arg)
{
    struct hw_par p;
    hw_unpack(u, &p);
    double v = hw_run(arg, &p, NULL, NULL, NULL, NULL);
    return isfinite(v) ? v : 1e300;
}

/* Additive Holt-Winters.  Initial states from the first two seasons
 * (level: first season's mean; trend: the change of the seasonal means
 * per step; seasons: the first season's deviations from its trend line,
 * centred), smoothing parameters by Nelder-Mead on the one-step SSE,
 * restarted once.  Variance (Hyndman et al., class 1):
 * sigma^2 [1 + sum_{j=1}^{h-1} (alpha + beta j + gamma [j mod m = 0])^2]. */
int fc_core_hw(const double *z, int n, int m, int h, struct fc_core *c)
{
    struct hw_data d;
    struct hw_par p;
    gsl_multimin_fminimizer *mz = NULL;
    gsl_vector *x = NULL, *step = NULL;
    gsl_multimin_function f;
    double m1 = 0, m2 = 0, mean_s = 0, l, b, s[HW_MAX_M], sse;
    int rc = FC_ERR_NUMERIC;

    if (m < 2 || m > HW_MAX_M || n < 2 * m)
        return FC_ERR_ARG;
    memset(&d, 0, sizeof d);
    d.z = z;
    d.n = n;
    d.m = m;
    for (int t = 0; t < m; t++) {
        m1 += z[t] / m;
        m2 += z[m + t] / m;
    }
    d.b0 = (m2 - m1) / m;
    for (int t = 0; t < m; t++) {
        d.s0[t] = z[t] - (m1 + (t - (m - 1) / 2.0) * d.b0);
        mean_s += d.s0[t] / m;
    }
    for (int t = 0; t < m; t++)
        d.s0[t] -= mean_s;
    /* the level before the first point */
    d.l0 = m1 - (m + 1) / 2.0 * d.b0;
    f.n = 3;
    f.f = hw_sse;
    f.params = &d;
    x = gsl_vector_alloc(3);
    step = gsl_vector_alloc(3);
    mz = gsl_multimin_fminimizer_alloc(gsl_multimin_fminimizer_nmsimplex2, 3);
    if (!x || !step || !mz) {
        rc = FC_ERR_NOMEM;
        goto done;
    }
    gsl_vector_set(x, 0, 0.0);     /* alpha ~ 0.5 */
    gsl_vector_set(x, 1, -2.0);    /* beta small */
    gsl_vector_set(x, 2, -2.0);    /* gamma small */
    for (int round = 0; round < 2; round++) {
        int status, iter = 0;
        gsl_vector_set_all(step, 1.0);
        if (gsl_multimin_fminimizer_set(mz, &f, x, step) != GSL_SUCCESS)
            goto done;
        do {
            status = gsl_multimin_fminimizer_iterate(mz);
            if (status)
                break;
            status = gsl_multimin_test_size(gsl_multimin_fminimizer_size(mz), 1e-6);
        } while (status == GSL_CONTINUE && ++iter < 2000);
        gsl_vector_memcpy(x, gsl_multimin_fminimizer_x(mz));
    }
    hw_unpack(x, &p);
    sse = hw_run(&d, &p, c->fitted, &l, &b, s);
    if (!isfinite(sse))
        goto done;
    {
        int dof = n - 3 > 1 ? n - 3 : 1;
        double s2 = sse / dof, acc = 0;
        c->sigma = sqrt(s2);
        for (int j = 0; j < h; j++) {
            /* the season of step j + 1 after the last point */
            int q = (n + j) % m;
            if (j > 0) {
                double cj = p.alpha + p.beta * j + (j % m == 0 ? p.gamma : 0);
                acc += cj * cj;
            }
            c->mean[j] = l + (j + 1) * b + s[q];
            c->sd[j] = sqrt(s2 * (1 + acc));
        }
        {
            int k = 3 + 2 + m - 1;   /* parameters and free initial states */
            double ll = n * log(sse / n > 1e-300 ? sse / n : 1e-300);
            c->aicc = n - k - 1 > 0 ? ll + 2.0 * k + 2.0 * k * (k + 1) / (n - k - 1) : NAN;
        }
    }
    c->df = 0;
    c->n_params = 3;
    c->param_name[0] = "alpha";
    c->param[0] = p.alpha;
    c->param_name[1] = "beta";
    c->param[1] = p.beta;
    c->param_name[2] = "gamma";
    c->param[2] = p.gamma;
    rc = FC_OK;
done:
    if (mz)
        gsl_multimin_fminimizer_free(mz);
    if (x)
        gsl_vector_free(x);
    if (step)
        gsl_vector_free(step);
    return rc;
}
