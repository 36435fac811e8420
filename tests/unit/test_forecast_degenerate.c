/*
 * Degenerate inputs: every model on constant, all-zero, 1-3 point, gappy,
 * huge, collapsing-proportion and sign-crossing series must return a
 * finite, ordered forecast with a stated fallback, never NaN or a crash.
 */
#include <gsl/gsl_errno.h>
#include <string.h>

#include "forecast.h"
#include "unit.h"

struct dcase {
    const char *name;
    double y[16];
    int n;
    enum fc_kind kind;
};

#define X NAN
static const struct dcase cases[] = {
    { "constant", { 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5 }, 12, FC_KIND_COUNT },
    { "zeros", { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 }, 10, FC_KIND_COUNT },
    { "one", { 42 }, 1, FC_KIND_COUNT },
    { "two", { 42, 45 }, 2, FC_KIND_COUNT },
    { "three", { 42, 45, 50 }, 3, FC_KIND_COUNT },
    { "gaps", { 10, 12, X, 15, X, X, 21, 24, 26, X, 31, 33 }, 12, FC_KIND_COUNT },
    { "lead_trail", { X, X, 100, 110, 120, 135, 150, 160, 170, 190, X }, 11, FC_KIND_COUNT },
    { "huge", { 1e12, 1.1e12, 1.3e12, 1.2e12, 1.5e12, 1.7e12, 1.6e12, 1.9e12,
                2.2e12, 2.1e12, 2.5e12 }, 11, FC_KIND_COUNT },
    { "zero_then_growth", { 0, 3, 8, 20, 41, 60, 90, 130, 170, 220 }, 10, FC_KIND_COUNT },
    { "collapse_pct", { 96, 95, 97, 90, 80, 55, 30, 11, 14, 12 }, 10, FC_KIND_PROPORTION },
    { "pct_bounds", { 100, 100, 99, 100, 0, 2, 100, 98, 100, 100 }, 10, FC_KIND_PROPORTION },
    { "money_crosses_zero", { 3.1, 2.0, 0.4, -1.2, -2.8, -4.0, -3.1, -6.5, -8.0,
                              -9.9, -12.0 }, 11, FC_KIND_LEVEL },
    { "spike", { 10, 11, 10, 12, 5000, 11, 12, 13, 12, 14 }, 10, FC_KIND_COUNT },
};
#undef X

static int finite_ordered(const struct fc_result *r, enum fc_kind kind)
{
    for (int j = 0; j < r->h; j++) {
        double v[5] = { r->lo95[j], r->lo80[j], r->mean[j], r->hi80[j], r->hi95[j] };
        for (int k = 0; k < 5; k++)
            if (!isfinite(v[k]))
                return 0;
        for (int k = 0; k < 4; k++)
            if (v[k] > v[k + 1] * (1 + 1e-12) + 1e-9)
                return 0;
        if (kind == FC_KIND_PROPORTION && (v[0] < 0 || v[4] > 100))
            return 0;
        if (kind == FC_KIND_COUNT && v[0] < 0)
            return 0;
    }
    return 1;
}

/* all models x all cases */
static void test_every_model_every_case(void)
{
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++)
        for (int m = 0; m < FC_MODEL_COUNT; m++) {
            struct fc_series s = { cases[c].y, cases[c].n, 1, cases[c].kind };
            struct fc_result r;
            int rc = fc_fit((enum fc_model)m, &s, NULL, 3, &r);
            int ok = rc == FC_OK && finite_ordered(&r, cases[c].kind);
            CHECK(ok);
            if (!ok)
                fprintf(stderr, "  case %s model %s rc %d\n", cases[c].name,
                        fc_model_name((enum fc_model)m), rc);
            /* a fallback always says why */
            if (rc == FC_OK && (int)r.model != m)
                CHECK(r.reason[0] != '\0');
        }
}

struct fb_case {
    const char *name;
    enum fc_model model;
    int n;
    enum fc_model want;
    const char *reason_has;
};

static const struct fb_case fallbacks[] = {
    { "ses_6", FC_SES, 6, FC_DRIFT, "ses needs at least 7 points, have 6" },
    { "ses_7", FC_SES, 7, FC_SES, NULL },
    { "holt_8", FC_HOLT, 8, FC_DRIFT, "holt needs at least 9 points, have 8" },
    { "holt_9", FC_HOLT, 9, FC_HOLT, NULL },
    { "damped_9", FC_DAMPED, 9, FC_DRIFT, "damped needs at least 10 points" },
    { "damped_10", FC_DAMPED, 10, FC_DAMPED, NULL },
    { "theta_6", FC_THETA, 6, FC_DRIFT, "theta needs at least 7 points" },
    { "drift_2", FC_DRIFT, 2, FC_NAIVE, "drift needs 3 points, have 2" },
    { "holt_2", FC_HOLT, 2, FC_NAIVE, "holt needs at least 9 points, have 2" },
    { "linear_3", FC_LINEAR, 3, FC_DRIFT, "linear needs at least 4 points" },
    { "pooled_1", FC_POOLED, 1, FC_NAIVE, "too few series" },
};

static void test_min_length_fallbacks(void)
{
    static const double y[12] = { 10, 12, 15, 16, 19, 22, 23, 27, 30, 31, 35, 38 };

    for (size_t i = 0; i < sizeof fallbacks / sizeof fallbacks[0]; i++) {
        const struct fb_case *f = &fallbacks[i];
        struct fc_series s = { y, f->n, 1, FC_KIND_COUNT };
        struct fc_result r;
        CHECK(fc_fit(f->model, &s, NULL, 2, &r) == FC_OK);
        CHECK(r.model == f->want);
        if (r.model != f->want)
            fprintf(stderr, "  %s: got %s (%s)\n", f->name, r.name, r.reason);
        if (f->reason_has) {
            CHECK(strstr(r.reason, f->reason_has) != NULL);
            if (!strstr(r.reason, f->reason_has))
                fprintf(stderr, "  %s: reason \"%s\"\n", f->name, r.reason);
        }
    }
}

static void test_all_missing_is_an_error(void)
{
    double y[4] = { NAN, NAN, NAN, NAN };
    struct fc_series s = { y, 4, 1, FC_KIND_COUNT };
    struct fc_result r;

    CHECK(fc_fit(FC_DRIFT, &s, NULL, 3, &r) == FC_ERR_NO_DATA);
    CHECK(strstr(r.reason, "no observed") != NULL);
}

static void test_bad_arguments(void)
{
    double y[3] = { 1, 2, 3 };
    struct fc_series s = { y, 3, 1, FC_KIND_COUNT };
    struct fc_result r;

    CHECK(fc_fit(FC_DRIFT, &s, NULL, 0, &r) == FC_ERR_ARG);
    CHECK(fc_fit(FC_DRIFT, &s, NULL, FC_MAX_H + 1, &r) == FC_ERR_ARG);
    CHECK(fc_fit(FC_AUTO, &s, NULL, 3, &r) == FC_ERR_ARG);
    CHECK(fc_fit(FC_DRIFT, NULL, NULL, 3, &r) == FC_ERR_ARG);
    s.n = 0;
    CHECK(fc_fit(FC_DRIFT, &s, NULL, 3, &r) == FC_ERR_ARG);
}

/* states the gap handling; forecasts start after the last *time point* */
static void test_gaps_are_stated(void)
{
    struct fc_series s = { cases[6].y, cases[6].n, 1, FC_KIND_COUNT };
    struct fc_result r;

    CHECK(fc_fit(FC_DRIFT, &s, NULL, 2, &r) == FC_OK);
    CHECK(strstr(r.reason, "2 leading missing values dropped") != NULL);
    CHECK(strstr(r.reason, "last 1 values missing") != NULL);
    /* drift 90/7 per step from 190: the first forecast is two steps on */
    CHECK_NEAR(r.mean[0], 190 + 2 * 90.0 / 7, 1e-12);
    CHECK(isnan(r.fitted[0]) && isnan(r.fitted[10]));
}

/* logit scale: even a collapsing percentage keeps every bound in [0,100],
 * and a count with zeros is never logged directly */
static void test_scales(void)
{
    struct fc_series p = { cases[9].y, cases[9].n, 1, FC_KIND_PROPORTION };
    struct fc_series z = { cases[8].y, cases[8].n, 1, FC_KIND_COUNT };
    struct fc_series mny = { cases[11].y, cases[11].n, 1, FC_KIND_LEVEL };
    struct fc_result r;

    CHECK(fc_fit(FC_DRIFT, &p, NULL, 10, &r) == FC_OK);
    CHECK(r.scale == FC_SCALE_LOGIT);
    for (int j = 0; j < 10; j++)
        CHECK(r.lo95[j] >= 0 && r.hi95[j] <= 100 && r.lo95[j] < r.hi95[j]);
    CHECK(fc_fit(FC_LOGLINEAR, &z, NULL, 3, &r) == FC_OK);
    CHECK(r.scale != FC_SCALE_LOG);
    CHECK(fc_fit(FC_POOLED, &mny, NULL, 3, &r) == FC_OK);
    CHECK(r.scale == FC_SCALE_RAW);
    CHECK(strstr(r.reason, "not logged") != NULL);
    CHECK(r.mean[0] < 0);
}

int main(void)
{
    gsl_set_error_handler_off();
    RUN(test_every_model_every_case);
    RUN(test_min_length_fallbacks);
    RUN(test_all_missing_is_an_error);
    RUN(test_bad_arguments);
    RUN(test_gaps_are_stated);
    RUN(test_scales);
    return UNIT_DONE();
}
