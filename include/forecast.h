/*
 * forecast.h - the sendbench forecasting library (pure C + GSL).
 *
 * No I/O, no printing, no global state.  The caller must call
 * gsl_set_error_handler_off() once at start-up (GSL's default handler aborts
 * the process); every GSL status is checked here.
 *
 * Ownership: every result is a plain value (struct fc_result, struct
 * fc_calibration, struct fc_backtest) with fixed-size arrays, owned by the
 * caller, typically on the stack or inside the caller's own allocation.
 * Nothing returned needs freeing.  Input arrays are borrowed for the duration
 * of a call and never kept.  All functions are reentrant and thread-safe
 * (no static mutable data), so a worker thread may fit while another serves.
 *
 * Series are yearly (period 1) or quarterly (period 4) with NAN marking a
 * missing value (suppressed, not submitted).  Internal gaps are filled by
 * linear interpolation on the model's scale, leading gaps dropped, trailing
 * gaps extend the horizon; each of these is stated in the reason string.
 */
#ifndef SENDBENCH_FORECAST_H
#define SENDBENCH_FORECAST_H

#include <stddef.h>

#define FC_MAX_N 256      /* longest series accepted (quarterly: 64 years) */
#define FC_MAX_H 12       /* longest horizon */
#define FC_REASON_LEN 320
#define FC_MAX_PARAMS 6

#define FC_WUR __attribute__((warn_unused_result))

enum fc_status {
    FC_OK = 0,
    FC_ERR_ARG,          /* bad argument (NULL, n or h out of range) */
    FC_ERR_NO_DATA,      /* no observed value at all */
    FC_ERR_SINGULAR,     /* regression ill-conditioned: refused, not guessed */
    FC_ERR_NUMERIC,      /* GSL reported a failure or a non-finite value */
    FC_ERR_NOMEM
};

/* Models.  FC_AUTO is only a request to fc_auto(); results name the model
 * actually used. */
enum fc_model {
    FC_NAIVE = 0,
    FC_DRIFT,
    FC_LINEAR,       /* OLS trend on t = 1..T */
    FC_LOGLINEAR,    /* OLS trend on log y (positive series only) */
    FC_SES,          /* ETS(A,N,N) */
    FC_HOLT,         /* ETS(A,A,N) */
    FC_DAMPED,       /* ETS(A,Ad,N) */
    FC_THETA,        /* SES with drift (Hyndman & Billah) */
    FC_COMBO,        /* equal-weight drift + Theta + damped */
    FC_POOLED,       /* growth shrunk toward neighbours/region/England */
    FC_POOLED_DAMPED,/* the same growth, damped over the horizon (phi 0.6) */
    FC_POOLED_COMBO, /* equal-weight pooled + pooled damped + naive */
    FC_POOLED_AR,    /* proportions: the gap to the panel's centre decays at
                        the panel's pooled rate (AR(1) across authorities) */
    FC_SNAIVE,       /* seasonal naive (quarterly: the same quarter a year
                        earlier) */
    FC_HW,           /* additive Holt-Winters, ETS(A,A,A) */
    FC_MODEL_COUNT,
    FC_AUTO = FC_MODEL_COUNT
};

/* What the numbers are: decides the scale models work on. */
enum fc_kind {
    FC_KIND_COUNT = 0,   /* >= 0 (plans, requests): lower bounds clamped at 0 */
    FC_KIND_PROPORTION,  /* percentage 0..100: modelled on a scaled logit */
    FC_KIND_LEVEL        /* any sign (money): never logged */
};

/* Scale a model is fitted on.  AUTO: logit for proportions; log for the
 * log-linear and pooled models when every value is > 0, log(1 + y) for
 * counts with zeros; raw otherwise (never a log of a series that can be
 * negative). */
enum fc_scale { FC_SCALE_AUTO = 0, FC_SCALE_RAW, FC_SCALE_LOG, FC_SCALE_LOGIT,
                FC_SCALE_LOG1P };
#define FC_N_SCALES 5

struct fc_series {
    const double *y;     /* borrowed; NAN = missing */
    int n;               /* 1..FC_MAX_N */
    int period;          /* 1 yearly, 4 quarterly (MASE scale lag) */
    enum fc_kind kind;
};

/* Many authorities' series of one metric on a common time axis: series i
 * has y[i*n .. i*n+n-1], NAN where missing.  For pooling, region[i] is a
 * region index (-1 none) and neighbours[i*n_neighbours + k] the index of
 * authority i's k-th statistical neighbour (-1 none).  Borrowed. */
struct fc_panel {
    const double *y;
    int n_series;
    int n;
    int period;
    enum fc_kind kind;
    const int *region;       /* may be NULL */
    const int *neighbours;   /* may be NULL */
    int n_neighbours;
    /* may be NULL (every observed value is a real actual); else
     * scored[i*n + t] == 0 marks a value that is not a real actual (a
     * successor's year apportioned from its predecessors): used to fit,
     * never scored nor used to calibrate. */
    const unsigned char *scored;
};

/* Options for a single fit.  Zero-initialise for the defaults. */
struct fc_options {
    enum fc_scale scale;
    /* ETS with everything fixed (tests against R): when fixed_ets is set,
     * alpha/beta/phi and the initial states l0/b0 are used as given and
     * sigma^2 = SSE / (T - ets_df). */
    int fixed_ets;
    double alpha, beta, phi, l0, b0;
    int ets_df;
};

struct fc_accuracy {
    double mase, smape, cover80, cover95, winkler, msis;
    int n;                   /* forecast/actual pairs scored */
    int n_origins;           /* fc_calibrate's per-series records: origins
                                that contributed at least one pair */
};

/* Empirical quantiles of standardised rolling-origin errors, per model and
 * horizon: z = (g(y) - g(yhat)) / sd_h on the model's scale.  Intervals are
 * then g^-1(mean + q * sd_h).  n[m][h] == 0 means "not calibrated" (nominal
 * normal quantiles are used). */
struct fc_calibration {
    double q[FC_MODEL_COUNT][FC_MAX_H][4];  /* 0.025, 0.10, 0.90, 0.975 */
    int n[FC_MODEL_COUNT][FC_MAX_H];
    /* Rolling-origin MASE of each model pooled over the panel. */
    double mase[FC_MODEL_COUNT];
    int mase_n[FC_MODEL_COUNT];
    /* Each series' own rolling-origin accuracy per model (means; coverage
     * of the calibrated intervals where the model is calibrated: the
     * series' standardised errors against the panel's quantiles, else of
     * the nominal ones). */
    struct fc_accuracy (*series_acc)[FC_MODEL_COUNT];   /* n_series rows; owned,
                                                           fc_calibration_free */
    int series_cap;    /* rows allocated in series_acc */
    int n_series;
    int n_use;         /* data used: time points < n_use */
    int min_train;     /* shortest training window of the rolling origins */
    int choice_origins;  /* origins whose errors rank the models (training
                            windows of min_train points or more) */
    /* per model: at how many of those origins its panel MASE was below the
     * default model's (the kind's default, fc_auto), and at how many both
     * were scored */
    int beat_default[FC_MODEL_COUNT];
    int vs_default[FC_MODEL_COUNT];
};

struct fc_result {
    enum fc_model requested;
    enum fc_model model;             /* used, after any fallback */
    const char *name;                /* static string, never freed */
    enum fc_scale scale;             /* scale actually used */
    int n_params;
    const char *param_name[FC_MAX_PARAMS];  /* static strings */
    double param[FC_MAX_PARAMS];
    int n;                           /* length of the input series */
    double fitted[FC_MAX_N];         /* one-step fits, original scale; where a
                                        model has none (t = 0) = y[0]; NAN
                                        where the input was missing */
    int h;
    double mean[FC_MAX_H];           /* point forecasts, original scale */
    double lo80[FC_MAX_H], hi80[FC_MAX_H], lo95[FC_MAX_H], hi95[FC_MAX_H];
    double mean_w[FC_MAX_H];         /* point forecast on the model's scale */
    double sd_w[FC_MAX_H];           /* forecast sd on the model's scale */
    double sigma;                    /* residual sd, model's scale */
    double aicc;                     /* NAN where not defined */
    int calibrated;                  /* intervals from fc_calibration */
    int has_accuracy;
    /* fc_auto only: this series' own rolling-origin record (from the
     * calibration: MASE, sMAPE, Winkler, coverage of nominal intervals) */
    struct fc_accuracy acc_model, acc_naive, acc_drift;
    /* the chosen model's record over every series of the panel (means
     * weighted by each series' n), and how many series it covers */
    struct fc_accuracy acc_panel;
    int panel_series;
    char reason[FC_REASON_LEN];      /* why this model, every fallback */
};

const char *fc_model_name(enum fc_model m);
const char *fc_status_str(enum fc_status s);

/* Fit one model to one series and forecast h steps.  Falls back to a
 * simpler model when the series is too short or degenerate (stated in
 * out->reason).  FC_POOLED through fc_fit has no panel to borrow from: it
 * uses the series' own robust growth (said in the reason).  Returns FC_OK,
 * FC_ERR_NO_DATA (no observed value) or FC_ERR_ARG; on FC_OK every bound
 * is finite and lo95 <= lo80 <= mean <= hi80 <= hi95. */
FC_WUR int fc_fit(enum fc_model model, const struct fc_series *s,
                  const struct fc_options *opt, int h, struct fc_result *out);

/* Fit model to series idx of a panel, using only its first n_use time
 * points (and only the first n_use points of every other series, so that a
 * backtest never sees the future). */
FC_WUR int fc_fit_panel(enum fc_model model, const struct fc_panel *p,
                        int idx, int n_use, const struct fc_options *opt,
                        int h, struct fc_result *out);

/* Re-draw out's intervals from calibration cal (may be NULL: no-op). */
void fc_apply_calibration(const struct fc_calibration *cal,
                          struct fc_result *out);

/* Automatic choice for series idx of panel p: the model with the lowest
 * rolling-origin MASE in cal (computed by fc_calibrate on data before n_use)
 * pooled over the whole panel, among the candidates of the panel's kind, so
 * every series of a panel gets the same model; AICc within the ETS family,
 * with the minimum-length fallbacks;
 * intervals calibrated; this series' backtest accuracy of the chosen
 * model, naive and drift attached.  cal NULL: a stated default (pooled
 * growth for counts, pooled mean reversion for proportions, pooled_combo
 * for money) with nominal intervals. */
FC_WUR int fc_auto(const struct fc_panel *p, int idx, int n_use,
                   const struct fc_calibration *cal, int h,
                   struct fc_result *out);
/* fc_auto for every series of p at once (want[i] zero skips series i; want
 * NULL: all), the same answers with the panel's pools built once instead of
 * once per series: ok[i] says whether out[i] was filled (a series with too
 * little to forecast is ok[i] = 0).  FC_OK unless the arguments are wrong
 * (FC_ERR_ARG) or memory runs out (FC_ERR_NOMEM, for the pools or any
 * series: the series after it are left ok[i] = 0). */
FC_WUR int fc_auto_each(const struct fc_panel *p, int n_use,
                        const struct fc_calibration *cal, int h,
                        const unsigned char *want, struct fc_result *out, int *ok);

/* Rolling-origin errors over the panel using only time points < n_use,
 * horizons 1..h, every model.  Interval quantiles come from training
 * windows of max(2, min_train - 1) points or more, pooled over the panel
 * and keyed by the model actually used; MASE for the choice from windows
 * of min_train or more. */
FC_WUR int fc_calibrate(const struct fc_panel *p, int n_use, int min_train,
                        int h, struct fc_calibration *cal);
/* fc_calibrate covers the automatic choice's candidates for the panel's
 * kind plus naive and drift; fc_calibrate_models the models whose bit
 * (1u << model) is set in models (a backtest of every model). */
FC_WUR int fc_calibrate_models(const struct fc_panel *p, int n_use,
                               int min_train, int h, unsigned models,
                               struct fc_calibration *cal);
/* cal must start zeroed (calloc or = {0}); it may be passed to
 * fc_calibrate again (its per-series table is reused and resized to the
 * panel, so any number of series is allowed).  Release what it holds with
 * fc_calibration_free; fc_calibrate's temporary workspace is freed before
 * it returns. */
void fc_calibration_free(struct fc_calibration *cal);

/* --- scoring ----------------------------------------------------------- */

/* MASE scale: mean |y_t - y_{t-m}| over the (observed) training data;
 * 0 when undefined or constant (caller skips such series). */
double fc_mase_scale(const double *y, int n, int m);
/* Winkler score of one interval at level 1 - a. */
double fc_winkler(double lo, double hi, double y, double a);
/* sMAPE term 200|y - f| / (|y| + |f|) (0 when both are 0). */
double fc_smape1(double y, double f);

/* Rolling-origin backtest over a panel for n_models models (FC_AUTO
 * allowed): origins o = min_train..n-1 (o = length of the training
 * window), horizons 1..h.  Each split uses only data before o, including
 * the calibration (when calibrate is set; always for FC_AUTO) and the
 * automatic choice.  Averages over every (series, origin, horizon) with an
 * observed actual and a nonzero MASE scale.  out[k] is for models[k]. */
struct fc_backtest {
    enum fc_model model;
    struct fc_accuracy all;
    struct fc_accuracy by_h[FC_MAX_H];
    int n_fallback;           /* fits that fell back to a simpler model */
    int chosen[FC_MODEL_COUNT];  /* FC_AUTO: fits by the model it chose */
};
FC_WUR int fc_backtest_panel(const struct fc_panel *p,
                             const enum fc_model *models, int n_models,
                             int min_train, int h, int calibrate,
                             struct fc_backtest *out);
/* The same over a fixed range of origins o_first..o_last (training window
 * lengths), scoring only targets at time points < t_end.  A harness that
 * keeps a held-out step uses it twice: origins before the last with
 * t_end = the last origin (everything a tuner may see), then the last
 * origin alone with t_end = n (the out-of-sample report). */
FC_WUR int fc_backtest_range(const struct fc_panel *p,
                             const enum fc_model *models, int n_models,
                             int min_train, int o_first, int o_last,
                             int t_end, int h, int calibrate,
                             struct fc_backtest *out);

/* --- boundary changes --------------------------------------------------- */

#define FC_MAX_SUCC 4
/* What fc_backcast did for each successor k (indices into succ). */
struct fc_backcast {
    int t0;                       /* first point every successor reports */
    double share[FC_MAX_SUCC];    /* successor's share of the successors'
                                     total at t0 (1 for proportions) */
    int n_filled[FC_MAX_SUCC];    /* points apportioned */
    int first_filled[FC_MAX_SUCC], last_filled[FC_MAX_SUCC];  /* -1: none */
};

/* A reorganisation: predecessors pred[0..n_pred-1] became successors
 * succ[0..n_succ-1] (row indices of y, n_series rows of n points, changed
 * in place).  Every point before t0 (the first point where every successor
 * is observed) at which a successor has no figure and every predecessor
 * has one is filled: counts and levels with share_k * (sum of the
 * predecessors), share_k = successor k's share of the successors' total at
 * t0 (so the successors add up to their predecessors); proportions with the
 * predecessors' unweighted mean rate.  A successor's own figure is never
 * replaced.  FC_ERR_NO_DATA when the successors never all report. */
FC_WUR int fc_backcast(double *y, int n_series, int n, enum fc_kind kind,
                       const int *pred, int n_pred, const int *succ,
                       int n_succ, struct fc_backcast *out);

/* --- ordinary least squares (NIST-checked) ------------------------------ */

#define FC_OLS_MAXP 12
struct fc_ols {
    int p;
    double coef[FC_OLS_MAXP], se[FC_OLS_MAXP];
    double rsd;       /* residual standard deviation */
    double rss, r2;
    double rcond;     /* reciprocal condition number of the design */
};
/* y = X b, X row-major n x p (include a column of ones for an intercept).
 * FC_ERR_SINGULAR when the design is too ill-conditioned for a trustworthy
 * answer (e.g. NIST Filip). */
FC_WUR int fc_ols_fit(const double *X, const double *y, int n, int p,
                      struct fc_ols *out);
/* Polynomial of degree d in x with intercept (builds X, centres nothing). */
FC_WUR int fc_ols_poly(const double *x, const double *y, int n, int d,
                       struct fc_ols *out);

#endif
