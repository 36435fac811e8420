/* Internals shared by the files of forecasts/; not part of the API. */
#ifndef SENDBENCH_FC_INTERNAL_H
#define SENDBENCH_FC_INTERNAL_H

#include <stdarg.h>
#include "forecast.h"

/* Output of a model on its working scale, before intervals are drawn. */
struct fc_core {
    double fitted[FC_MAX_N];
    double mean[FC_MAX_H];
    double sd[FC_MAX_H];
    double df;                  /* Student t degrees of freedom, 0 = normal */
    double sigma;
    double aicc;
    int n_params;
    const char *param_name[FC_MAX_PARAMS];
    double param[FC_MAX_PARAMS];
};

/* Minimum lengths (as R's forecast package). */
#define FC_MIN_SES 7
#define FC_MIN_HOLT 9
#define FC_MIN_DAMPED 10

double fc_to_scale(enum fc_scale sc, double y);
double fc_from_scale(enum fc_scale sc, double z);

int fc_core_naive(const double *z, int n, int h, struct fc_core *c);
int fc_core_drift(const double *z, int n, int h, struct fc_core *c);
int fc_core_linear(const double *z, int n, int h, struct fc_core *c);
/* trend: 0 SES, 1 Holt, 2 damped */
int fc_core_ets(const double *z, int n, int h, int trend,
                const struct fc_options *fixed, struct fc_core *c);
/* Seasonal (period m > 1): need n >= m + 1 and n >= 2m points. */
int fc_core_snaive(const double *z, int n, int m, int h, struct fc_core *c);
int fc_core_hw(const double *z, int n, int m, int h, struct fc_core *c);
int fc_core_theta(const double *z, int n, int h,
                  const struct fc_options *fixed, struct fc_core *c);

/* Growth statistics of a panel at one origin on one scale (fc_fit.c). */
struct fc_pool;
int fc_pool_build(const struct fc_panel *pn, int n_use, enum fc_scale sc,
                  struct fc_pool **out);
void fc_pool_free(struct fc_pool *pl);
/* pools[scale] for every scale the panel's pooled models use */
int fc_pools_build(const struct fc_panel *p, int n_use,
                   struct fc_pool *pools[FC_N_SCALES]);
void fc_pools_free(struct fc_pool *pools[FC_N_SCALES]);
/* Model cores already computed for one series at one origin, so that
 * combinations reuse their parts instead of refitting them.  Reset
 * (fc_memo_reset) before moving to another series or origin. */
struct fc_memo {
    int valid[FC_MODEL_COUNT][FC_N_SCALES];
    int H[FC_MODEL_COUNT][FC_N_SCALES];
    int rc[FC_MODEL_COUNT][FC_N_SCALES];
    enum fc_model used[FC_MODEL_COUNT][FC_N_SCALES];
    struct fc_core core[FC_MODEL_COUNT][FC_N_SCALES];
    char reason[FC_MODEL_COUNT][FC_N_SCALES][FC_REASON_LEN];
};
void fc_memo_reset(struct fc_memo *mm);
int fc_fit_panel_pools(enum fc_model model, const struct fc_panel *p,
                       int idx, int n_use, const struct fc_options *opt,
                       int h, struct fc_pool *const *pools,
                       struct fc_memo *memo, struct fc_result *out);

void fc_reason_add(char *buf, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
