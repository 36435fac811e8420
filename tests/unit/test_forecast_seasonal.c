/*
 * Quarterly series (no real quarterly history exists yet, so these are
 * synthetic): seasonal naive repeats last year's quarters, Holt-Winters
 * recovers a trend and a season, both refuse fewer quarters than they
 * need and say so, and the automatic choice on a panel of seasonal
 * series picks a seasonal model and beats naive out of sample.
 */
#include <gsl/gsl_errno.h>
#include <stdlib.h>
#include <string.h>

#include "forecast.h"
#include "unit.h"

static const double season[4] = { 12, -4, -14, 6 };

/* trend + season + a small deterministic wiggle */
static double synth(int series, int t)
{
    double wiggle = 0.5 * (((series * 7 + t * 13) % 11) - 5) / 5.0;
    return 200 + 10 * series + (2.0 + 0.1 * series) * t + season[t % 4] + wiggle;
}

static void test_snaive_repeats_last_year(void)
{
    double y[12];
    struct fc_result r;
    for (int t = 0; t < 12; t++)
        y[t] = synth(0, t);
    struct fc_series s = { y, 12, 4, FC_KIND_COUNT };
    CHECK(fc_fit(FC_SNAIVE, &s, NULL, 8, &r) == FC_OK);
    CHECK(r.model == FC_SNAIVE);
    for (int j = 0; j < 8; j++)
        CHECK_NEAR(r.mean[j], y[8 + (j % 4)], 1e-12);
    /* the second year ahead is wider than the first */
    CHECK(r.hi95[4] - r.lo95[4] > r.hi95[0] - r.lo95[0]);
}

static void test_holt_winters_recovers_trend_and_season(void)
{
    double y[16];
    struct fc_result r;
    for (int t = 0; t < 16; t++)
        y[t] = 100 + 3.0 * t + season[t % 4];
    struct fc_series s = { y, 16, 4, FC_KIND_LEVEL };
    CHECK(fc_fit(FC_HW, &s, NULL, 4, &r) == FC_OK);
    CHECK(r.model == FC_HW);
    for (int j = 0; j < 4; j++) {
        double want = 100 + 3.0 * (16 + j) + season[(16 + j) % 4];
        CHECK_NEAR(r.mean[j], want, 1e-3);
        CHECK(r.lo95[j] <= r.lo80[j] && r.lo80[j] <= r.mean[j]);
        CHECK(r.mean[j] <= r.hi80[j] && r.hi80[j] <= r.hi95[j]);
    }
}

static void test_too_few_quarters_fall_back_and_say_so(void)
{
    double y[7];
    struct fc_result r;
    for (int t = 0; t < 7; t++)
        y[t] = synth(1, t);
    struct fc_series s = { y, 7, 4, FC_KIND_COUNT };
    CHECK(fc_fit(FC_HW, &s, NULL, 4, &r) == FC_OK);
    CHECK(r.model == FC_NAIVE);
    CHECK(strstr(r.reason, "needs at least 8 quarters") != NULL);
    struct fc_series yearly = { y, 7, 1, FC_KIND_COUNT };
    CHECK(fc_fit(FC_SNAIVE, &yearly, NULL, 2, &r) == FC_OK);
    CHECK(r.model == FC_NAIVE && strstr(r.reason, "seasonal") != NULL);
}

#define NS 30
#define NT 16

static void test_auto_picks_a_seasonal_model_and_beats_naive(void)
{
    double *y = malloc(sizeof *y * NS * NT);
    int region[NS];
    struct fc_calibration *cal = calloc(1, sizeof *cal);
    struct fc_result r;
    CHECK(y && cal);
    if (!y || !cal)
        goto done;
    for (int i = 0; i < NS; i++) {
        region[i] = i % 3;
        for (int t = 0; t < NT; t++)
            y[i * NT + t] = synth(i, t);
    }
    struct fc_panel p = { y, NS, NT, 4, FC_KIND_COUNT, region, NULL, 0, NULL };
    CHECK(fc_calibrate(&p, NT, 8, 4, cal) == FC_OK);
    int seasonal = 0;
    for (int i = 0; i < NS; i++) {
        CHECK(fc_auto(&p, i, NT, cal, 4, &r) == FC_OK);
        seasonal += r.model == FC_SNAIVE || r.model == FC_HW;
    }
    CHECK(seasonal == NS);
    {
        enum fc_model models[2] = { FC_NAIVE, FC_AUTO };
        struct fc_backtest bt[2];
        CHECK(fc_backtest_panel(&p, models, 2, 8, 4, 1, bt) == FC_OK);
        CHECK(bt[1].all.n > 0 && bt[1].all.mase < 0.5 * bt[0].all.mase);
    }
done:
    fc_calibration_free(cal);
    free(cal);
    free(y);
}

int main(void)
{
    gsl_set_error_handler_off();
    RUN(test_snaive_repeats_last_year);
    RUN(test_holt_winters_recovers_trend_and_season);
    RUN(test_too_few_quarters_fall_back_and_say_so);
    RUN(test_auto_picks_a_seasonal_model_and_beats_naive);
    return UNIT_DONE();
}
