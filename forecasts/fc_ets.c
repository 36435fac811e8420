/*
 * Exponential smoothing in state-space form (Hyndman et al.): SES
 * ETS(A,N,N), Holt ETS(A,A,N) and damped ETS(A,Ad,N), plus Theta (SES
 * with drift).  Parameters minimise the one-step SSE with GSL's
 * Nelder-Mead simplex.  The simplex is unconstrained, so alpha, beta and
 * phi go through logistic maps onto R's usual bounds (alpha, beta in
 * [1e-4, 0.9999], beta <= alpha, phi in [0.8, 0.98]); the initial states
 * are optimised too, on a scale set by the data.  We restart once from the
 * optimum because a simplex that collapsed early is the common failure.
 */
#include <math.h>
#include <string.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_fit.h>
#include <gsl/gsl_multimin.h>

#include "fc_internal.h"

#define A_LO 1e-4
#define A_HI 0.9999
#define PHI_LO 0.8
#define PHI_HI 0.98
#define STALL_ITERS 40

struct ets_data {
    const double *z;
    int n;
    int trend;          /* 0 none, 1 additive, 2 damped */
    double l_init, b_init, scale;
};

struct ets_par {
    double alpha, beta, phi, l0, b0;
};

static double logistic(double u)
{
    return 1.0 / (1.0 + exp(-u));
}

static double logit(double p)
{
    return log(p / (1.0 - p));
}

static void ets_unpack(const struct ets_data *d, const gsl_vector *u,
                       struct ets_par *p)
{
    size_t k = 0;

    p->alpha = A_LO + (A_HI - A_LO) * logistic(gsl_vector_get(u, k++));
    p->beta = 0.0;
    p->phi = 1.0;
    if (d->trend >= 1)
        p->beta = A_LO + (p->alpha - A_LO) * logistic(gsl_vector_get(u, k++));
    if (d->trend == 2)
        p->phi = PHI_LO + (PHI_HI - PHI_LO) * logistic(gsl_vector_get(u, k++));
    p->l0 = d->l_init + d->scale * gsl_vector_get(u, k++);
    p->b0 = 0.0;
    if (d->trend >= 1)
        p->b0 = d->b_init + d->scale * gsl_vector_get(u, k++);
}

/* One pass of the recursions; fills fitted (may be NULL), returns SSE and
 * the final states. */
static double ets_run(const double *z, int n, int trend,
                      const struct ets_par *p, double *fitted,
                      double *l_end, double *b_end)
{
    double l = p->l0, b = trend ? p->b0 : 0.0, phi = trend ? p->phi : 1.0;
    double sse = 0.0;

    for (int t = 0; t < n; t++) {
        double yhat = l + phi * b;
        double e = z[t] - yhat;

        if (fitted)
            fitted[t] = yhat;
        sse += e * e;
        l = yhat + p->alpha * e;
        b = phi * b + p->beta * e;
    }
    *l_end = l;
    *b_end = b;
    return sse;
}

static double ets_objective(const gsl_vector *u, void *arg)
{
    const struct ets_data *d = arg;
    struct ets_par p;
    double l, b, sse;

    ets_unpack(d, u, &p);
    sse = ets_run(d->z, d->n, d->trend, &p, NULL, &l, &b);
    return isfinite(sse) ? sse : GSL_POSINF;
}

static int ets_minimise(struct ets_data *d, struct ets_par *best)
{
    const gsl_multimin_fminimizer_type *T = gsl_multimin_fminimizer_nmsimplex2;
    gsl_multimin_fminimizer *s = NULL;
    gsl_vector *x = NULL, *step = NULL;
    gsl_multimin_function f;
    size_t np = (size_t)(d->trend == 0 ? 2 : d->trend == 1 ? 4 : 5);
    int rc = FC_ERR_NOMEM;
    size_t k = 0;

    x = gsl_vector_alloc(np);
    step = gsl_vector_alloc(np);
    s = gsl_multimin_fminimizer_alloc(T, np);
    if (!x || !step || !s)
        goto done;
    gsl_vector_set(x, k++, logit((0.5 - A_LO) / (A_HI - A_LO)));
    if (d->trend >= 1)
        gsl_vector_set(x, k++, logit(0.1));
    if (d->trend == 2)
        gsl_vector_set(x, k++, logit((0.95 - PHI_LO) / (PHI_HI - PHI_LO)));
    gsl_vector_set(x, k++, 0.0);
    if (d->trend >= 1)
        gsl_vector_set(x, k++, 0.0);
    f.n = np;
    f.f = ets_objective;
    f.params = d;
    for (int pass = 0; pass < 2; pass++) {
        int status = GSL_CONTINUE;

        gsl_vector_set_all(step, 0.7);
        if (gsl_multimin_fminimizer_set(s, &f, x, step) != GSL_SUCCESS) {
            rc = FC_ERR_NUMERIC;
            goto done;
        }
        double best_f = GSL_POSINF;
        int since = 0;
        for (int it = 0; it < 400 && status == GSL_CONTINUE; it++) {
            double fmin;
            if (gsl_multimin_fminimizer_iterate(s) != GSL_SUCCESS)
                break;   /* no further progress possible: keep the best */
            status = gsl_multimin_test_size(gsl_multimin_fminimizer_size(s),
                                            1e-4);
            /* A parameter pushed against its bound sits where the logistic
             * map is flat: the simplex keeps moving along that direction
             * without shrinking, and the size test never fires.  Stop once
             * the best SSE has not improved by a relative 1e-10 in
             * STALL_ITERS iterations (the optimum is then numerically
             * reached whatever the simplex's size). */
            fmin = gsl_multimin_fminimizer_minimum(s);
            if (fmin < best_f - 1e-10 * (fabs(best_f) + 1e-300) || !isfinite(best_f)) {
                best_f = fmin;
                since = 0;
            } else if (++since >= STALL_ITERS) {
                break;
            }
        }
        gsl_vector_memcpy(x, gsl_multimin_fminimizer_x(s));
    }
    if (!isfinite(gsl_multimin_fminimizer_minimum(s))) {
        rc = FC_ERR_NUMERIC;
        goto done;
    }
    ets_unpack(d, x, best);
    rc = FC_OK;
done:
    if (s)
        gsl_multimin_fminimizer_free(s);
    if (step)
        gsl_vector_free(step);
    if (x)
        gsl_vector_free(x);
    return rc;
}

/* Forecast variance factor v_h (sd_h^2 = sigma^2 v_h), Hyndman et al.
 * 2008, class 1. */
static double ets_var_factor(int trend, const struct ets_par *p, int h)
{
    double a = p->alpha, b = p->beta, phi = p->phi, hh = h;

    if (trend == 0)
        return 1.0 + a * a * (hh - 1.0);
    if (trend == 1)
        return 1.0 + (hh - 1.0) * (a * a + a * b * hh
                                   + b * b * hh * (2.0 * hh - 1.0) / 6.0);
    {
        double ph = pow(phi, hh), om = 1.0 - phi;
        return 1.0 + a * a * (hh - 1.0)
            + b * phi * hh * (2.0 * a * om + b * phi) / (om * om)
            - b * phi * (1.0 - ph)
                  * (2.0 * a * (1.0 - phi * phi) + b * phi * (1.0 + 2.0 * phi - ph))
                  / (om * om * (1.0 - phi * phi));
    }
}

int fc_core_ets(const double *z, int n, int h, int trend,
                const struct fc_options *fixed, struct fc_core *c)
{
    struct ets_data d;
    struct ets_par p;
    double sse, l, b, sigma2, loglik;
    int k, rc, df;

    memset(&d, 0, sizeof d);
    d.z = z;
    d.n = n;
    d.trend = trend;
    /* Initial states from the first few points, as R's ets does, so the
     * simplex starts near a sensible answer. */
    {
        int m = n < 5 ? n : 5;
        double mean = 0.0, sc = 0.0;
        for (int t = 0; t < m; t++)
            mean += z[t];
        mean /= m;
        d.l_init = trend ? z[0] : mean;
        d.b_init = (trend && n > 1) ? (z[m - 1] - z[0]) / (m - 1) : 0.0;
        for (int t = 1; t < n; t++)
            sc += fabs(z[t] - z[t - 1]);
        sc = n > 1 ? sc / (n - 1) : 0.0;
        d.scale = sc > 0 ? sc : (fabs(mean) > 0 ? 1e-3 * fabs(mean) : 1.0);
    }
    /* estimated: alpha [beta phi] l0 [b0] */
    k = trend == 0 ? 2 : trend == 1 ? 4 : 5;
    if (fixed && fixed->fixed_ets) {
        p.alpha = fixed->alpha;
        p.beta = trend ? fixed->beta : 0.0;
        p.phi = trend == 2 ? fixed->phi : 1.0;
        p.l0 = fixed->l0;
        p.b0 = trend ? fixed->b0 : 0.0;
        df = fixed->ets_df;
    } else {
        rc = ets_minimise(&d, &p);
        if (rc != FC_OK)
            return rc;
        df = k;
    }
    sse = ets_run(z, n, trend, &p, c->fitted, &l, &b);
    if (!isfinite(sse) || n - df <= 0)
        return FC_ERR_NUMERIC;
    sigma2 = sse / (n - df);
    c->sigma = sqrt(sigma2);
    c->df = 0;
    {
        double phisum = 0.0, phik = 1.0;
        for (int j = 0; j < h; j++) {
            phik *= p.phi;
            phisum += trend ? phik : 0.0;
            c->mean[j] = l + phisum * b;
            c->sd[j] = sqrt(sigma2 * ets_var_factor(trend, &p, j + 1));
        }
    }
    /* Gaussian likelihood as R's ets: k parameters + sigma. */
    loglik = -0.5 * n * (log(2.0 * M_PI * (sse > 0 ? sse : 1e-300) / n) + 1.0);
    c->aicc = (n - k - 2 > 0)
        ? -2.0 * loglik + 2.0 * (k + 1) + 2.0 * (k + 1) * (k + 2) / (n - k - 2)
        : NAN;
    c->n_params = 0;
    c->param_name[c->n_params] = "alpha";
    c->param[c->n_params++] = p.alpha;
    if (trend) {
        c->param_name[c->n_params] = "beta";
        c->param[c->n_params++] = p.beta;
    }
    if (trend == 2) {
        c->param_name[c->n_params] = "phi";
        c->param[c->n_params++] = p.phi;
    }
    c->param_name[c->n_params] = "l0";
    c->param[c->n_params++] = p.l0;
    if (trend) {
        c->param_name[c->n_params] = "b0";
        c->param[c->n_params++] = p.b0;
    }
    return FC_OK;
}

/* Theta method = SES plus half the OLS slope (Hyndman & Billah 2003, as
 * forecast::thetaf); intervals are the SES ones. */
int fc_core_theta(const double *z, int n, int h,
                  const struct fc_options *fixed, struct fc_core *c)
{
    double t[FC_MAX_N], c0, c1, cov00, cov01, cov11, sumsq, alpha;
    int rc = fc_core_ets(z, n, h, 0, fixed, c);

    if (rc != FC_OK)
        return rc;
    for (int i = 0; i < n; i++)
        t[i] = i;
    if (gsl_fit_linear(t, 1, z, 1, (size_t)n, &c0, &c1, &cov00, &cov01,
                       &cov11, &sumsq) != GSL_SUCCESS || !isfinite(c1))
        return FC_ERR_NUMERIC;
    alpha = c->param[0] > 1e-10 ? c->param[0] : 1e-10;
    for (int j = 0; j < h; j++)
        c->mean[j] += c1 / 2.0 * (j + (1.0 - pow(1.0 - alpha, n)) / alpha);
    c->param_name[c->n_params] = "b";
    c->param[c->n_params++] = c1;
    c->aicc = NAN;
    return FC_OK;
}
