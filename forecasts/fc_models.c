/*
 * Model dispatch: prepares a series (gaps, scale), runs one model on its
 * working scale, falls back when the series is too short or the model
 * fails, and draws the intervals back on the original scale.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <gsl/gsl_cdf.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_fit.h>

#include "fc_internal.h"

static const char *const model_names[FC_MODEL_COUNT + 1] = {
    "naive", "drift", "linear", "loglinear", "ses", "holt", "damped",
    "theta", "combo", "pooled", "pooled_damped", "pooled_combo", "pooled_ar", "snaive", "holt_winters", "auto"
};

const char *fc_model_name(enum fc_model m)
{
    return (m >= 0 && m <= FC_MODEL_COUNT) ? model_names[m] : "unknown";
}

const char *fc_status_str(enum fc_status s)
{
    switch (s) {
    case FC_OK: return "ok";
    case FC_ERR_ARG: return "bad argument";
    case FC_ERR_NO_DATA: return "no observed values";
    case FC_ERR_SINGULAR: return "design matrix numerically singular";
    case FC_ERR_NUMERIC: return "numerical failure";
    case FC_ERR_NOMEM: return "out of memory";
    }
    return "unknown status";
}

void fc_reason_add(char *buf, const char *fmt, ...)
{
    size_t len = strlen(buf);
    va_list ap;

    if (len + 2 >= FC_REASON_LEN)
        return;
    if (len > 0) {
        buf[len++] = ';';
        buf[len++] = ' ';
        buf[len] = '\0';
    }
    va_start(ap, fmt);
    vsnprintf(buf + len, FC_REASON_LEN - len, fmt, ap);
    va_end(ap);
}

/* Proportions are clamped into [0.1, 99.9] before the logit so that 0% and
 * 100% stay finite; the inverse maps back inside (0, 100). */
double fc_to_scale(enum fc_scale sc, double y)
{
    switch (sc) {
    case FC_SCALE_LOG:
        return log(y);
    case FC_SCALE_LOG1P:
        return log1p(y);
    case FC_SCALE_LOGIT: {
        double p = y < 0.1 ? 0.1 : y > 99.9 ? 99.9 : y;
        return log(p / (100.0 - p));
    }
    default:
        return y;
    }
}

double fc_from_scale(enum fc_scale sc, double z)
{
    switch (sc) {
    case FC_SCALE_LOG:
        return exp(z > 700 ? 700 : z);
    case FC_SCALE_LOG1P:
        return expm1(z > 700 ? 700 : z);
    case FC_SCALE_LOGIT:
        return 100.0 / (1.0 + exp(-z));
    default:
        return z;
    }
}

/* ---- single-series cores on the working scale ------------------------- */

int fc_core_naive(const double *z, int n, int h, struct fc_core *c)
{
    double ss = 0.0, s2;

    c->fitted[0] = z[0];
    for (int t = 1; t < n; t++) {
        c->fitted[t] = z[t - 1];
        ss += (z[t] - z[t - 1]) * (z[t] - z[t - 1]);
    }
    s2 = n > 1 ? ss / (n - 1) : 0.0;
    c->sigma = sqrt(s2);
    for (int j = 0; j < h; j++) {
        c->mean[j] = z[n - 1];
        c->sd[j] = sqrt(s2 * (j + 1));
    }
    c->df = 0;
    c->aicc = NAN;
    c->n_params = 0;
    return FC_OK;
}

/* Random walk with drift; sd as forecast::rwf: sigma^2 h (1 + h/(T-1)). */
int fc_core_drift(const double *z, int n, int h, struct fc_core *c)
{
    double b, ss = 0.0, s2;

    if (n < 3)
        return FC_ERR_ARG;
    b = (z[n - 1] - z[0]) / (n - 1);
    c->fitted[0] = z[0];
    for (int t = 1; t < n; t++) {
        double e = z[t] - z[t - 1] - b;
        c->fitted[t] = z[t - 1] + b;
        ss += e * e;
    }
    s2 = ss / (n - 2);
    c->sigma = sqrt(s2);
    for (int j = 0; j < h; j++) {
        double hh = j + 1;
        c->mean[j] = z[n - 1] + hh * b;
        c->sd[j] = sqrt(s2 * hh * (1.0 + hh / (n - 1)));
    }
    c->df = 0;
    c->aicc = NAN;
    c->n_params = 1;
    c->param_name[0] = "drift";
    c->param[0] = b;
    return FC_OK;
}

/* OLS trend on t = 1..T; prediction sd includes s^2 (gsl_fit_linear_est
 * alone gives the sd of the fitted mean); Student t with T-2 df. */
int fc_core_linear(const double *z, int n, int h, struct fc_core *c)
{
    double t[FC_MAX_N], c0, c1, c00, c01, c11, sumsq, s2;

    if (n < 3)
        return FC_ERR_ARG;
    for (int i = 0; i < n; i++)
        t[i] = i + 1;
    if (gsl_fit_linear(t, 1, z, 1, (size_t)n, &c0, &c1, &c00, &c01, &c11,
                       &sumsq) != GSL_SUCCESS)
        return FC_ERR_NUMERIC;
    s2 = sumsq / (n - 2);
    for (int i = 0; i < n; i++)
        c->fitted[i] = c0 + c1 * t[i];
    for (int j = 0; j < h; j++) {
        double yf, yerr;
        if (gsl_fit_linear_est(n + j + 1.0, c0, c1, c00, c01, c11, &yf,
                               &yerr) != GSL_SUCCESS)
            return FC_ERR_NUMERIC;
        c->mean[j] = yf;
        c->sd[j] = sqrt(s2 + yerr * yerr);
    }
    c->sigma = sqrt(s2);
    c->df = n - 2;
    {
        double k = 3.0, ll = -0.5 * n * (log(2 * M_PI * (sumsq > 0 ? sumsq : 1e-300) / n) + 1);
        c->aicc = n - k - 1 > 0 ? -2 * ll + 2 * k + 2 * k * (k + 1) / (n - k - 1) : NAN;
    }
    c->n_params = 2;
    c->param_name[0] = "intercept";
    c->param[0] = c0;
    c->param_name[1] = "slope";
    c->param[1] = c1;
    return FC_OK;
}
