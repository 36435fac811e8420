/*
 * Pooled growth, scoring, calibration and the automatic choice on small
 * synthetic panels whose answers are known.
 */
#include <gsl/gsl_errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "forecast.h"
#include "unit.h"

#define NS 40
#define NT 10

/* deterministic noise in [-1, 1] */
static double noise(unsigned *state)
{
    *state = *state * 1103515245u + 12345u;
    return ((*state >> 8) & 0xffff) / 32767.5 - 1.0;
}

/* NS authorities growing 8% a year with multiplicative noise; series 0 is
 * short (3 points) and has a freak last step; neighbours: i+1..i+4. */
static void make_panel(double *y, int *region, int *nb, struct fc_panel *p,
                       double noise_sd)
{
    unsigned st = 7;

    for (int i = 0; i < NS; i++) {
        double level = 100 + 10 * i;
        region[i] = i % 4;
        for (int k = 0; k < 4; k++)
            nb[i * 4 + k] = (i + 1 + k) % NS;
        for (int t = 0; t < NT; t++) {
            y[i * NT + t] = level * exp(noise_sd * noise(&st));
            level *= 1.08;
        }
    }
    for (int t = 0; t < NT - 3; t++)
        y[t] = NAN;
    y[NT - 1] = y[NT - 2] * 1.6;   /* +60% in its only recent step */
    memset(p, 0, sizeof *p);
    p->y = y;
    p->n_series = NS;
    p->n = NT;
    p->period = 1;
    p->kind = FC_KIND_COUNT;
    p->region = region;
    p->neighbours = nb;
    p->n_neighbours = 4;
}

static double y_[NS * NT];
static int region_[NS], nb_[NS * 4];

/* a short, freak series is pulled toward the panel's 8%; a long smooth
 * one keeps most of its own growth */
static void test_shrinkage(void)
{
    struct fc_panel p;
    struct fc_result r;
    double g_short, w_short, w_long;

    make_panel(y_, region_, nb_, &p, 0.01);
    CHECK(fc_fit_panel(FC_POOLED, &p, 0, NT, NULL, 3, &r) == FC_OK);
    CHECK(r.model == FC_POOLED && r.scale == FC_SCALE_LOG);
    CHECK_STR(r.param_name[0], "growth");
    g_short = r.param[0];
    w_short = r.param[3];
    CHECK(w_short < 0.5);
    CHECK(fabs(g_short - log(1.08)) < fabs(r.param[1] - log(1.08)));
    CHECK(fabs(r.param[2] - log(1.08)) < 0.01);   /* prior ~ 8% */
    CHECK(fc_fit_panel(FC_POOLED, &p, 5, NT, NULL, 3, &r) == FC_OK);
    w_long = r.param[3];
    CHECK(w_long > w_short);
    CHECK(fabs(r.param[0] - log(1.08)) < 0.01);
    /* point forecast = last * exp(h g), h = 1..3 */
    for (int j = 0; j < 3; j++)
        CHECK_NEAR(r.mean[j], y_[5 * NT + NT - 1] * exp((j + 1) * r.param[0]), 1e-9);
    CHECK(strstr(r.reason, "prior") != NULL);
}

/* the pooled fit at origin o never looks past o: changing later data
 * leaves it unchanged */
static void test_no_lookahead(void)
{
    struct fc_panel p;
    struct fc_result a, b;

    make_panel(y_, region_, nb_, &p, 0.05);
    CHECK(fc_fit_panel(FC_POOLED, &p, 3, 6, NULL, 3, &a) == FC_OK);
    for (int i = 0; i < NS; i++)
        y_[i * NT + 7] *= 3;
    CHECK(fc_fit_panel(FC_POOLED, &p, 3, 6, NULL, 3, &b) == FC_OK);
    for (int j = 0; j < 3; j++) {
        CHECK(a.mean[j] == b.mean[j]);
        CHECK(a.hi95[j] == b.hi95[j]);
    }
}

struct score_case {
    double lo, hi, y, a, want;
};

static void test_scores(void)
{
    static const struct score_case w[] = {
        { 10, 20, 15, 0.05, 10 },          /* inside: width */
        { 10, 20, 8, 0.05, 10 + 40 * 2 },  /* below by 2 */
        { 10, 20, 21, 0.2, 10 + 10 * 1 },  /* above by 1, a = 0.2 */
    };
    static const double y[6] = { 1, 3, 2, 5, NAN, 9 };

    for (size_t i = 0; i < sizeof w / sizeof w[0]; i++)
        CHECK_NEAR(fc_winkler(w[i].lo, w[i].hi, w[i].y, w[i].a), w[i].want, 1e-12);
    CHECK_NEAR(fc_smape1(100, 50), 200.0 * 50 / 150, 1e-12);
    CHECK(fc_smape1(0, 0) == 0);
    /* |3-1|, |2-3|, |5-2| (pairs touching NAN skipped): mean 2 */
    CHECK_NEAR(fc_mase_scale(y, 6, 1), 2.0, 1e-12);
    CHECK_NEAR(fc_mase_scale(y, 4, 2), (1 + 2) / 2.0, 1e-12);
    CHECK(fc_mase_scale(y, 1, 1) == 0);
}

/* Calibration widens intervals that are too narrow.  The panel's noise
 * is heavy-tailed (a few big shocks), so nominal normal intervals
 * under-cover; after calibration the backtest coverage must be within 6
 * points of nominal, and closer than the uncalibrated intervals.  (The
 * backtest starts at 3 points, as the calibration's own windows do; with
 * later first origins the calibration, which also learns from 3-point
 * windows, is conservative.) */
static void test_calibration_coverage(void)
{
    static double y[120 * 12];
    static int reg[120];
    unsigned st = 11;
    struct fc_panel p;
    struct fc_backtest raw, cal;
    enum fc_model m = FC_DRIFT;

    for (int i = 0; i < 120; i++) {
        double level = 50 + i;
        reg[i] = -1;
        for (int t = 0; t < 12; t++) {
            double e = noise(&st);
            e = e * e * e * 30;            /* heavy tails */
            level += 2 + e;
            y[i * 12 + t] = level;
        }
    }
    memset(&p, 0, sizeof p);
    p.y = y;
    p.n_series = 120;
    p.n = 12;
    p.period = 1;
    p.kind = FC_KIND_LEVEL;
    p.region = reg;
    CHECK(fc_backtest_panel(&p, &m, 1, 3, 3, 0, &raw) == FC_OK);
    CHECK(fc_backtest_panel(&p, &m, 1, 3, 3, 1, &cal) == FC_OK);
    /* origins 3..11: 3 targets each for 3..9, then 2, 1 */
    CHECK(raw.all.n == cal.all.n && raw.all.n == 120 * (7 * 3 + 2 + 1));
    fprintf(stderr, "  coverage raw %.1f/%.1f calibrated %.1f/%.1f\n", raw.all.cover80,
            raw.all.cover95, cal.all.cover80, cal.all.cover95);
    CHECK(fabs(cal.all.cover80 - 80) < 6);
    CHECK(fabs(cal.all.cover95 - 95) < 6);
    CHECK(fabs(cal.all.cover80 - 80) + fabs(cal.all.cover95 - 95)
          < fabs(raw.all.cover80 - 80) + fabs(raw.all.cover95 - 95));
    /* point forecasts are untouched by calibration */
    CHECK_NEAR(cal.all.mase, raw.all.mase, 1e-12);
}

/* auto: chooses by rolling-origin MASE, says why, calibrates, attaches
 * accuracy of the chosen model, naive and drift */
static void test_auto(void)
{
    struct fc_panel p;
    struct fc_calibration *cal = calloc(1, sizeof *cal);
    struct fc_result r;
    int best = 0;

    CHECK(cal != NULL);
    if (!cal)
        return;
    make_panel(y_, region_, nb_, &p, 0.02);
    CHECK(fc_calibrate(&p, NT, 4, 3, cal) == FC_OK);
    for (int m = 1; m < FC_MODEL_COUNT; m++)
        if (cal->mase[m] < cal->mase[best])
            best = m;
    /* steady 8% growth: a growth model must beat naive by far */
    CHECK(cal->mase[best] < 0.5 * cal->mase[FC_NAIVE]);
    CHECK(fc_auto(&p, 7, NT, cal, 3, &r) == FC_OK);
    CHECK(r.requested == FC_AUTO);
    CHECK(strstr(r.reason, "rolling-origin MASE") != NULL);
    CHECK(r.calibrated == 1);
    CHECK(r.has_accuracy && r.acc_model.n > 0 && r.acc_naive.n > 0);
    CHECK(r.acc_model.mase < r.acc_naive.mase);
    for (int j = 0; j < 3; j++)
        CHECK(r.lo95[j] <= r.lo80[j] && r.lo80[j] <= r.mean[j]
              && r.mean[j] <= r.hi80[j] && r.hi80[j] <= r.hi95[j]);
    /* without calibration data: a stated default, nominal intervals */
    CHECK(fc_auto(&p, 7, NT, NULL, 3, &r) == FC_OK);
    CHECK(strstr(r.reason, "no backtest available") != NULL);
    CHECK(r.calibrated == 0);
    fc_calibration_free(cal);
    free(cal);
}

/* The selection rule: one model for every authority of a panel (the
 * candidate of the kind with the lowest panel MASE), never a model outside
 * the candidates (ETS, Theta); with errors from a single origin the kind's
 * default, saying why. */
static void test_panel_choice(void)
{
    struct fc_panel p;
    struct fc_calibration *cal = calloc(1, sizeof *cal);
    struct fc_result r;
    int first = -1, same = 1, best = -1;

    CHECK(cal != NULL);
    if (!cal)
        return;
    make_panel(y_, region_, nb_, &p, 0.02);
    CHECK(fc_calibrate(&p, NT, 4, 3, cal) == FC_OK);
    CHECK(cal->choice_origins == NT - 4);
    /* ETS and Theta are no candidates: not even calibrated */
    CHECK(cal->mase_n[FC_HOLT] == 0 && cal->mase_n[FC_THETA] == 0);
    /* the lowest panel MASE among the default and the models that beat
     * it at every choice origin */
    for (int m = 0; m < FC_MODEL_COUNT; m++)
        if (cal->mase_n[m] > 0
            && (m == FC_POOLED
                || (cal->beat_default[m] > 0 && cal->beat_default[m] == cal->vs_default[m]))
            && (best < 0 || cal->mase[m] < cal->mase[best]))
            best = m;
    for (int i = 0; i < NS; i++) {
        CHECK(fc_auto(&p, i, NT, cal, 3, &r) == FC_OK);
        CHECK(r.requested == FC_AUTO);
        /* series 0 has 3 points: its fit may fall back, its choice not */
        if (i == 1)
            first = (int)r.model;
        else if (i > 1)
            same &= (int)r.model == first;
    }
    CHECK(same);
    CHECK(first == best);
    CHECK(strstr(r.reason, "for every authority of the metric") != NULL);
    /* one origin of errors only: the default, stated */
    CHECK(fc_calibrate(&p, 5, 4, 3, cal) == FC_OK);
    CHECK(cal->choice_origins == 1);
    CHECK(fc_auto(&p, 7, 5, cal, 3, &r) == FC_OK);
    CHECK(r.model == FC_POOLED);
    CHECK(strstr(r.reason, "backtest of 1 origin only") != NULL);
    fc_calibration_free(cal);
    free(cal);
}

/* The consistency test: a candidate with the lowest pooled MASE replaces
 * the kind's default only if it beat the default at every choice origin;
 * the reason says when one was held back. */
static void test_choice_needs_every_origin(void)
{
    struct fc_panel p;
    struct fc_calibration *cal = calloc(1, sizeof *cal);
    struct fc_result r;

    CHECK(cal != NULL);
    if (!cal)
        return;
    make_panel(y_, region_, nb_, &p, 0.02);
    CHECK(fc_calibrate(&p, NT, 4, 3, cal) == FC_OK);
    CHECK(cal->vs_default[FC_NAIVE] == cal->choice_origins);
    /* naive made the best of the pooled means, pooled growth the default */
    for (int m = 0; m < FC_MODEL_COUNT; m++)
        if (m != FC_NAIVE && m != FC_POOLED)
            cal->mase_n[m] = 0;
    cal->mase[FC_NAIVE] = 0.5 * cal->mase[FC_POOLED];
    cal->beat_default[FC_NAIVE] = cal->vs_default[FC_NAIVE] - 1;
    CHECK(fc_auto(&p, 7, NT, cal, 3, &r) == FC_OK);
    CHECK(r.model == FC_POOLED);
    CHECK(strstr(r.reason, "beat the default pooled at") != NULL);
    /* beaten at every origin: naive is served */
    cal->beat_default[FC_NAIVE] = cal->vs_default[FC_NAIVE];
    CHECK(fc_auto(&p, 7, NT, cal, 3, &r) == FC_OK);
    CHECK(r.model == FC_NAIVE);
    CHECK(strstr(r.reason, "not chosen") == NULL);
    fc_calibration_free(cal);
    free(cal);
}

/* Calibration on a log scale works in the errors themselves: the interval
 * is exp(mean_w + q) whatever sd the model states; on the raw scale it is
 * mean + q * sd (errors of different authorities differ by their size). */
static void test_calibration_unit(void)
{
    struct fc_panel p;
    struct fc_calibration *cal = calloc(1, sizeof *cal);
    struct fc_result r;
    static const double q[4] = { -0.2, -0.1, 0.1, 0.2 };

    CHECK(cal != NULL);
    if (!cal)
        return;
    make_panel(y_, region_, nb_, &p, 0.02);
    for (int j = 0; j < 3; j++) {
        memcpy(cal->q[FC_POOLED][j], q, sizeof q);
        memcpy(cal->q[FC_NAIVE][j], q, sizeof q);
        cal->n[FC_POOLED][j] = cal->n[FC_NAIVE][j] = 100;
    }
    CHECK(fc_fit_panel(FC_POOLED, &p, 7, NT, NULL, 3, &r) == FC_OK);
    CHECK(r.scale == FC_SCALE_LOG);
    fc_apply_calibration(cal, &r);
    CHECK(r.calibrated);
    for (int j = 0; j < 3; j++) {
        CHECK_NEAR(r.lo95[j], exp(r.mean_w[j] - 0.2), 1e-9 * r.mean[j]);
        CHECK_NEAR(r.hi80[j], exp(r.mean_w[j] + 0.1), 1e-9 * r.mean[j]);
    }
    CHECK(fc_fit_panel(FC_NAIVE, &p, 7, NT, NULL, 3, &r) == FC_OK);
    CHECK(r.scale == FC_SCALE_RAW);
    fc_apply_calibration(cal, &r);
    for (int j = 0; j < 3; j++)
        CHECK_NEAR(r.hi95[j], r.mean_w[j] + 0.2 * r.sd_w[j], 1e-9 * r.mean[j]);
    free(cal);
}

/* fc_auto_each (the worker's path: the panel's pools built once) answers
 * exactly what fc_auto answers series by series, and skips what it is told
 * to skip. */
static void test_auto_each_equals_auto(void)
{
    struct fc_panel p;
    struct fc_calibration *cal = calloc(1, sizeof *cal);
    struct fc_result *each = calloc(NS, sizeof *each), one;
    int ok[NS], same = 1;
    unsigned char want[NS];

    CHECK(cal != NULL && each != NULL);
    if (!cal || !each)
        goto done;
    make_panel(y_, region_, nb_, &p, 0.02);
    CHECK(fc_calibrate(&p, NT, 4, 3, cal) == FC_OK);
    for (int i = 0; i < NS; i++)
        want[i] = i != 3;
    CHECK(fc_auto_each(&p, NT, cal, 3, want, each, ok) == FC_OK);
    CHECK(ok[3] == 0);
    for (int i = 0; i < NS; i++) {
        if (i == 3)
            continue;
        CHECK(ok[i] == 1);
        CHECK(fc_auto(&p, i, NT, cal, 3, &one) == FC_OK);
        same &= one.model == each[i].model;
        for (int j = 0; j < 3; j++)
            same &= one.mean[j] == each[i].mean[j] && one.lo80[j] == each[i].lo80[j]
                    && one.hi95[j] == each[i].hi95[j];
        same &= strcmp(one.reason, each[i].reason) == 0;
    }
    CHECK(same);
    CHECK(fc_auto_each(&p, NT + 1, cal, 3, NULL, each, ok) == FC_ERR_ARG);
done:
    fc_calibration_free(cal);
    free(cal);
    free(each);
}

/* Any number of series: 600 authorities (more than any fixed table the
 * calibration once had), a second calibration on a smaller panel reusing
 * the same struct, and the last series gets its own record. */
static void test_many_series(void)
{
    enum { MANY = 600, LEN = 10 };
    double *y = malloc(sizeof(double) * MANY * LEN);
    int *region = malloc(sizeof(int) * MANY);
    struct fc_calibration *cal = calloc(1, sizeof *cal);
    struct fc_result r;
    CHECK(y && region && cal);
    if (!y || !region || !cal)
        goto done;
    for (int i = 0; i < MANY; i++) {
        region[i] = i % 9;
        for (int t = 0; t < LEN; t++)
            y[i * LEN + t] = (100 + i % 50) * pow(1.05 + 0.01 * (i % 3), t) * (1 + 0.01 * ((i * 7 + t * 3) % 5));
    }
    struct fc_panel p = {y, MANY, LEN, 1, FC_KIND_COUNT, region, NULL, 0, NULL};
    CHECK(fc_calibrate(&p, LEN, 5, 3, cal) == FC_OK);
    CHECK(cal->n_series == MANY);
    CHECK(fc_auto(&p, MANY - 1, LEN, cal, 3, &r) == FC_OK);
    CHECK(r.has_accuracy && r.acc_model.n > 0);
    CHECK(isfinite(r.mean[2]) && r.lo95[2] <= r.mean[2] && r.mean[2] <= r.hi95[2]);
    p.n_series = 300;
    CHECK(fc_calibrate(&p, LEN, 5, 3, cal) == FC_OK);
    CHECK(cal->n_series == 300);
    CHECK(fc_auto(&p, 299, LEN, cal, 3, &r) == FC_OK);
done:
    fc_calibration_free(cal);
    free(cal);
    free(y);
    free(region);
}


/* Pooled mean reversion on proportions: every authority's gap to the
 * panel's median halves each year (phi = 0.5, on the logit scale); the
 * model must find phi and forecast the gap shrinking toward the median. */
static void test_pooled_ar_recovers_reversion(void)
{
    enum { N = 60, T = 8 };
    double *y = malloc(sizeof *y * N * T);
    unsigned st = 7;
    struct fc_result r;
    CHECK(y != NULL);
    if (!y)
        return;
    for (int i = 0; i < N; i++) {
        /* gaps symmetric around 0 so that the median stays at logit 0 */
        double gap = (i % 2 ? 1 : -1) * (0.5 + 1.5 * (i / 2) / (N / 2.0));
        for (int t = 0; t < T; t++) {
            double z = gap + 0.01 * noise(&st);
            y[i * T + t] = 100.0 / (1.0 + exp(-z));
            gap *= 0.5;
        }
    }
    struct fc_panel p = {y, N, T, 1, FC_KIND_PROPORTION, NULL, NULL, 0, NULL};
    /* fit series 1 on its first 3 years (its gap is still large) */
    CHECK(fc_fit_panel(FC_POOLED_AR, &p, 1, 3, NULL, 3, &r) == FC_OK);
    CHECK(r.model == FC_POOLED_AR);
    CHECK(r.n_params == 2 && strcmp(r.param_name[0], "phi") == 0);
    CHECK_NEAR(r.param[0], 0.5, 0.05);
    {
        double last = y[1 * T + 2];
        /* each step closer to 50% than the one before, and on the same side */
        CHECK(fabs(r.mean[0] - 50) < fabs(last - 50));
        CHECK(fabs(r.mean[1] - 50) < fabs(r.mean[0] - 50));
        CHECK((r.mean[2] - 50) * (last - 50) > 0);
        for (int j = 0; j < 3; j++)
            CHECK(0 < r.lo95[j] && r.lo95[j] <= r.mean[j] && r.mean[j] <= r.hi95[j]
                  && r.hi95[j] < 100);
    }
    /* counts are not proportions: a stated fallback */
    p.kind = FC_KIND_COUNT;
    CHECK(fc_fit_panel(FC_POOLED_AR, &p, 1, 3, NULL, 3, &r) == FC_OK);
    CHECK(r.model == FC_NAIVE && strstr(r.reason, "pooled_ar is for proportions") != NULL);
    free(y);
}

/* fc_backcast: a county split in two (60/40 in its first common year);
 * a rate gets the predecessors' mean; a successor's own figure is kept. */
static void test_backcast_rule(void)
{
    enum { N = 4, T = 5 };
    const double X = NAN;
    /* rows: county, north, south, other (a second predecessor) */
    double y[N * T] = {
        100, 110, X, X, X,
        X, X, 72, 80, 88,
        X, 30, 48, 50, 52,
        50, 55, X, X, X,
    };
    int pred[2] = {0, 3}, succ[2] = {1, 2};
    struct fc_backcast bc;
    CHECK(fc_backcast(y, N, T, FC_KIND_COUNT, pred, 2, succ, 2, &bc) == FC_OK);
    CHECK(bc.t0 == 2);
    CHECK_NEAR(bc.share[0], 0.6, 1e-12);
    CHECK_NEAR(bc.share[1], 0.4, 1e-12);
    CHECK_NEAR(y[1 * T + 0], 0.6 * 150, 1e-12);
    CHECK_NEAR(y[1 * T + 1], 0.6 * 165, 1e-12);
    CHECK_NEAR(y[2 * T + 0], 0.4 * 150, 1e-12);
    CHECK(y[2 * T + 1] == 30);        /* its own figure wins */
    CHECK(bc.n_filled[0] == 2 && bc.n_filled[1] == 1);
    CHECK(bc.first_filled[0] == 0 && bc.last_filled[0] == 1);
    {
        double rate[2 * 3] = {40, 60, X, X, X, 55};
        int pp[1] = {0}, ss[1] = {1};
        CHECK(fc_backcast(rate, 2, 3, FC_KIND_PROPORTION, pp, 1, ss, 1, &bc) == FC_OK);
        CHECK(rate[3] == 40 && rate[4] == 60 && bc.share[0] == 1.0);
    }
    {
        double none[2 * 2] = {1, 2, X, X};
        int pp[1] = {0}, ss[1] = {1};
        CHECK(fc_backcast(none, 2, 2, FC_KIND_COUNT, pp, 1, ss, 1, &bc) == FC_ERR_NO_DATA);
        CHECK(fc_backcast(none, 2, 2, FC_KIND_COUNT, pp, 1, pp, 0, &bc) == FC_ERR_ARG);
    }
}

int main(void)
{
    gsl_set_error_handler_off();
    RUN(test_many_series);
    RUN(test_shrinkage);
    RUN(test_no_lookahead);
    RUN(test_scores);
    RUN(test_calibration_coverage);
    RUN(test_auto);
    RUN(test_panel_choice);
    RUN(test_choice_needs_every_origin);
    RUN(test_calibration_unit);
    RUN(test_auto_each_equals_auto);
    RUN(test_pooled_ar_recovers_reversion);
    RUN(test_backcast_rule);
    return UNIT_DONE();
}
