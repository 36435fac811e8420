/*
 * Ordinary least squares through GSL's SVD solver (gsl_multifit_linear),
 * which balances columns first; this is what the NIST StRD tests check.
 * We refuse, rather than guess, when the design is numerically singular:
 * a wrong regression is worse than none.
 */
#include <math.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_linalg.h>
#include <gsl/gsl_multifit.h>
#include <gsl/gsl_permutation.h>

#include "forecast.h"

/* Below this reciprocal condition number (of the balanced design) the
 * SVD solution loses more digits than a double holds. */
#define FC_OLS_MIN_RCOND 1e-15

int fc_ols_fit(const double *X, const double *y, int n, int p,
               struct fc_ols *out)
{
    gsl_matrix *mx = NULL, *cov = NULL;
    gsl_vector *vy = NULL, *c = NULL, *dc = NULL;
    gsl_multifit_linear_workspace *w = NULL;
    double chisq = 0.0, chisq0 = 0.0, tss = 0.0, ybar = 0.0;
    int rc = FC_ERR_NOMEM;

    if (!X || !y || !out || p < 1 || p > FC_OLS_MAXP || n <= p)
        return FC_ERR_ARG;
    out->p = p;
    mx = gsl_matrix_alloc((size_t)n, (size_t)p);
    cov = gsl_matrix_alloc((size_t)p, (size_t)p);
    vy = gsl_vector_alloc((size_t)n);
    c = gsl_vector_alloc((size_t)p);
    dc = gsl_vector_alloc((size_t)p);
    w = gsl_multifit_linear_alloc((size_t)n, (size_t)p);
    if (!mx || !cov || !vy || !c || !dc || !w)
        goto done;
    for (int i = 0; i < n; i++) {
        if (!isfinite(y[i])) {
            rc = FC_ERR_ARG;
            goto done;
        }
        gsl_vector_set(vy, (size_t)i, y[i]);
        ybar += y[i];
        for (int j = 0; j < p; j++)
            gsl_matrix_set(mx, (size_t)i, (size_t)j, X[i * p + j]);
    }
    ybar /= n;
    if (gsl_multifit_linear(mx, vy, c, cov, &chisq0, w) != GSL_SUCCESS) {
        rc = FC_ERR_NUMERIC;
        goto done;
    }
    /* Two steps of iterative refinement with residuals accumulated in long
     * double: the SVD alone leaves ~6 digits on Wampler5-like designs. */
    for (int pass = 0; pass < 2; pass++) {
        double rnorm, snorm;
        for (int i = 0; i < n; i++) {
            long double r = y[i];
            for (int j = 0; j < p; j++)
                r -= (long double)X[i * p + j] * gsl_vector_get(c, (size_t)j);
            gsl_vector_set(vy, (size_t)i, (double)r);
        }
        if (gsl_multifit_linear_solve(0.0, mx, vy, dc, &rnorm, &snorm, w)
            != GSL_SUCCESS) {
            rc = FC_ERR_NUMERIC;
            goto done;
        }
        gsl_vector_add(c, dc);
    }
    chisq = 0.0;
    for (int i = 0; i < n; i++) {
        long double r = y[i];
        for (int j = 0; j < p; j++)
            r -= (long double)X[i * p + j] * gsl_vector_get(c, (size_t)j);
        chisq += (double)(r * r);
    }
    out->rcond = gsl_multifit_linear_rcond(w);
    if (!(out->rcond >= FC_OLS_MIN_RCOND)) {
        rc = FC_ERR_SINGULAR;
        goto done;
    }
    for (int i = 0; i < n; i++)
        tss += (y[i] - ybar) * (y[i] - ybar);
    out->rss = chisq;
    out->rsd = sqrt(chisq / (n - p));
    out->r2 = tss > 0 ? 1.0 - chisq / tss : 1.0;
    /* gsl_multifit_linear scaled cov by its own chisq/(n-p); rescale to
     * the refined residual sum of squares. */
    for (int j = 0; j < p; j++) {
        out->coef[j] = gsl_vector_get(c, (size_t)j);
        out->se[j] = sqrt(gsl_matrix_get(cov, (size_t)j, (size_t)j)
                          * (chisq0 > 0 ? chisq / chisq0 : 0.0));
        if (!isfinite(out->coef[j]) || !isfinite(out->se[j])) {
            rc = FC_ERR_NUMERIC;
            goto done;
        }
    }
    rc = FC_OK;
done:
    if (w)
        gsl_multifit_linear_free(w);
    gsl_vector_free(dc);
    gsl_vector_free(c);
    gsl_vector_free(vy);
    gsl_matrix_free(cov);
    gsl_matrix_free(mx);
    return rc;
}

/* Full covariance (X'X)^-1 rsd^2 of a well-conditioned design, p x p
 * row-major into cov. */
static int fc_ols_cov(const double *X, int n, int p, double rsd, double *cov)
{
    gsl_matrix *a = NULL;
    gsl_permutation *perm = NULL;
    gsl_matrix *inv = NULL;
    int sign, rc = FC_ERR_NOMEM;

    a = gsl_matrix_calloc((size_t)p, (size_t)p);
    inv = gsl_matrix_alloc((size_t)p, (size_t)p);
    perm = gsl_permutation_alloc((size_t)p);
    if (!a || !inv || !perm)
        goto done;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < p; j++)
            for (int k = 0; k < p; k++)
                *gsl_matrix_ptr(a, (size_t)j, (size_t)k) += X[i * p + j] * X[i * p + k];
    if (gsl_linalg_LU_decomp(a, perm, &sign) != GSL_SUCCESS
        || gsl_linalg_LU_invert(a, perm, inv) != GSL_SUCCESS) {
        rc = FC_ERR_NUMERIC;
        goto done;
    }
    for (int j = 0; j < p; j++)
        for (int k = 0; k < p; k++)
            cov[j * FC_OLS_MAXP + k] = gsl_matrix_get(inv, (size_t)j, (size_t)k) * rsd * rsd;
    rc = FC_OK;
done:
    gsl_permutation_free(perm);
    gsl_matrix_free(inv);
    gsl_matrix_free(a);
    return rc;
}

/* Polynomials are fitted in u = (x - c)/s, centred and scaled onto
 * [-1, 1], where the design is well conditioned, then mapped back to
 * powers of x in long double:
 *   b_i = sum_{k>=i} a_k C(k,i) s^-i (-c/s)^(k-i),  cov_b = T cov_a T'.
 * Fitting raw powers directly loses a digit per degree (Wampler5). */
int fc_ols_poly(const double *x, const double *y, int n, int d,
                struct fc_ols *out)
{
    double X[FC_MAX_N * FC_OLS_MAXP], cov[FC_OLS_MAXP][FC_OLS_MAXP];
    long double T[FC_OLS_MAXP][FC_OLS_MAXP];
    double lo, hi, c, sc;
    struct fc_ols u;
    int p = d + 1, rc;

    if (!x || !y || !out || d < 0 || p > FC_OLS_MAXP || n > FC_MAX_N || n <= p)
        return FC_ERR_ARG;
    lo = hi = x[0];
    for (int i = 1; i < n; i++) {
        lo = x[i] < lo ? x[i] : lo;
        hi = x[i] > hi ? x[i] : hi;
    }
    c = 0.5 * (lo + hi);
    sc = hi > lo ? 0.5 * (hi - lo) : 1.0;
    for (int i = 0; i < n; i++) {
        double v = 1.0, ui = (x[i] - c) / sc;
        for (int j = 0; j < p; j++) {
            X[i * p + j] = v;
            v *= ui;
        }
    }
    rc = fc_ols_fit(X, y, n, p, &u);
    if (rc != FC_OK)
        return rc;
    /* the standard errors of b need the full covariance of a */
    rc = fc_ols_cov(X, n, p, u.rsd, &cov[0][0]);
    if (rc != FC_OK)
        return rc;
    for (int i = 0; i < p; i++)
        for (int k = 0; k < p; k++) {
            long double binom = 1.0L;
            if (k < i) {
                T[i][k] = 0.0L;
                continue;
            }
            for (int m = 1; m <= i; m++)
                binom = binom * (k - i + m) / m;
            T[i][k] = binom * powl(1.0L / sc, i) * powl(-(long double)c / sc, k - i);
        }
    *out = u;
    for (int i = 0; i < p; i++) {
        long double b = 0.0L, v = 0.0L;
        for (int k = 0; k < p; k++)
            b += T[i][k] * u.coef[k];
        for (int k = 0; k < p; k++)
            for (int l = 0; l < p; l++)
                v += T[i][k] * cov[k][l] * T[i][l];
        out->coef[i] = (double)b;
        out->se[i] = (double)sqrtl(v > 0 ? v : 0);
    }
    return FC_OK;
}
