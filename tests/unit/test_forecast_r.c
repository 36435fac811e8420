/*
 * Naive, drift, Holt, damped and Theta against R's forecast package
 * (fixtures made by tests/fixtures/forecast/make_r_fixtures.R).  Holt,
 * damped and Theta are run with R's fitted parameters and initial states
 * fixed, so forecasts and intervals must agree to 1e-6; our own optimiser
 * must then reach an SSE no worse than R's.
 */
#include <gsl/gsl_errno.h>
#include <stdlib.h>
#include <string.h>

#include "forecast.h"
#include "unit.h"

#define DIR "tests/fixtures/forecast/"
#define MAXS 8
#define MAXROWS 200

struct ser { char id[16]; double y[64]; int n; };
struct par { char id[16], method[16]; double alpha, beta, phi, l0, b0, sse; int df; };
struct row { char id[16], method[16]; int h; double mean, lo80, hi80, lo95, hi95; };

static struct ser sers[MAXS];
static int n_sers;
static struct par pars[MAXROWS];
static int n_pars;
static struct row rows[MAXROWS];
static int n_rows;

static int load(void)
{
    char line[4096];
    FILE *f;

    if (!(f = fopen(DIR "series.csv", "r")))
        return -1;
    if (!fgets(line, sizeof line, f)) {
        fclose(f);
        return -1;
    }
    while (n_sers < MAXS && fgets(line, sizeof line, f)) {
        struct ser *s = &sers[n_sers];
        char *c = strchr(line, ','), *p, *end;
        if (!c)
            continue;
        *c = '\0';
        snprintf(s->id, sizeof s->id, "%.15s", line);
        p = c + 1;
        s->n = 0;
        while (s->n < 64) {
            double v = strtod(p, &end);
            if (end == p)
                break;
            s->y[s->n++] = v;
            p = (*end == ';') ? end + 1 : end;
        }
        n_sers++;
    }
    fclose(f);
    if (!(f = fopen(DIR "params.csv", "r")))
        return -1;
    if (!fgets(line, sizeof line, f)) {
        fclose(f);
        return -1;
    }
    while (n_pars < MAXROWS && fgets(line, sizeof line, f)) {
        struct par *q = &pars[n_pars];
        if (sscanf(line, "%15[^,],%15[^,],%lf,%lf,%lf,%lf,%lf,%d,%lf", q->id,
                   q->method, &q->alpha, &q->beta, &q->phi, &q->l0, &q->b0,
                   &q->df, &q->sse) == 9)
            n_pars++;
    }
    fclose(f);
    if (!(f = fopen(DIR "forecasts.csv", "r")))
        return -1;
    if (!fgets(line, sizeof line, f)) {
        fclose(f);
        return -1;
    }
    while (n_rows < MAXROWS && fgets(line, sizeof line, f)) {
        struct row *r = &rows[n_rows];
        if (sscanf(line, "%15[^,],%15[^,],%d,%lf,%lf,%lf,%lf,%lf", r->id,
                   r->method, &r->h, &r->mean, &r->lo80, &r->hi80, &r->lo95,
                   &r->hi95) == 8)
            n_rows++;
    }
    fclose(f);
    return 0;
}

static const struct ser *find_ser(const char *id)
{
    for (int i = 0; i < n_sers; i++)
        if (strcmp(sers[i].id, id) == 0)
            return &sers[i];
    return NULL;
}

static const struct par *find_par(const char *id, const char *method)
{
    for (int i = 0; i < n_pars; i++)
        if (strcmp(pars[i].id, id) == 0 && strcmp(pars[i].method, method) == 0)
            return &pars[i];
    return NULL;
}

static enum fc_model model_of(const char *m)
{
    if (strcmp(m, "naive") == 0) return FC_NAIVE;
    if (strcmp(m, "drift") == 0) return FC_DRIFT;
    if (strcmp(m, "holt") == 0) return FC_HOLT;
    if (strcmp(m, "damped") == 0) return FC_DAMPED;
    return FC_THETA;
}

static void test_fixtures_loaded(void)
{
    CHECK(n_sers == 4);
    CHECK(n_pars == 9);
    CHECK(n_rows >= 60);
}

/* every (series, method, h) row of forecasts.csv, tolerance 1e-6 */
static void test_against_r(void)
{
    int checked = 0;

    for (int i = 0; i < n_rows; i++) {
        const struct row *r = &rows[i];
        const struct ser *s = find_ser(r->id);
        const struct par *q = find_par(r->id, r->method);
        struct fc_series fs = { s ? s->y : NULL, s ? s->n : 0, 1, FC_KIND_LEVEL };
        struct fc_options opt;
        struct fc_result out;
        enum fc_model m = model_of(r->method);
        int rc;

        CHECK(s != NULL);
        if (!s)
            continue;
        memset(&opt, 0, sizeof opt);
        opt.scale = FC_SCALE_RAW;
        if (m == FC_HOLT || m == FC_DAMPED || m == FC_THETA) {
            CHECK(q != NULL);
            if (!q)
                continue;
            opt.fixed_ets = 1;
            opt.alpha = q->alpha;
            opt.beta = q->beta;
            opt.phi = q->phi;
            opt.l0 = q->l0;
            opt.b0 = q->b0;
            opt.ets_df = q->df;
        }
        rc = fc_fit(m, &fs, &opt, r->h, &out);
        CHECK(rc == FC_OK);
        if (rc != FC_OK)
            continue;
        CHECK((int)out.model == (int)m);
        CHECK_NEAR(out.mean[r->h - 1], r->mean, 1e-6);
        CHECK_NEAR(out.lo80[r->h - 1], r->lo80, 1e-6);
        CHECK_NEAR(out.hi80[r->h - 1], r->hi80, 1e-6);
        CHECK_NEAR(out.lo95[r->h - 1], r->lo95, 1e-6);
        CHECK_NEAR(out.hi95[r->h - 1], r->hi95, 1e-6);
        if (unit_case_failures)
            fprintf(stderr, "  at %s %s h=%d\n", r->id, r->method, r->h);
        checked++;
    }
    CHECK(checked == n_rows);
}

/* our optimiser: SSE no worse than R's (relative 1e-4) */
static void test_optimiser_sse(void)
{
    for (int i = 0; i < n_pars; i++) {
        const struct par *q = &pars[i];
        const struct ser *s = find_ser(q->id);
        struct fc_series fs = { s ? s->y : NULL, s ? s->n : 0, 1, FC_KIND_LEVEL };
        struct fc_options opt;
        struct fc_result out;
        enum fc_model m = model_of(q->method);
        int k = m == FC_HOLT ? 4 : m == FC_DAMPED ? 5 : 2;
        double sse;

        if (!s)
            continue;
        memset(&opt, 0, sizeof opt);
        opt.scale = FC_SCALE_RAW;
        CHECK(fc_fit(m == FC_THETA ? FC_SES : m, &fs, &opt, 3, &out) == FC_OK);
        sse = out.sigma * out.sigma * (s->n - k);
        CHECK(sse <= q->sse * (1 + 1e-4) + 1e-9);
        if (!(sse <= q->sse * (1 + 1e-4) + 1e-9))
            fprintf(stderr, "  %s %s: our SSE %.10g, R %.10g\n", q->id,
                    q->method, sse, q->sse);
    }
}

int main(void)
{
    gsl_set_error_handler_off();
    if (load() != 0)
        fprintf(stderr, "cannot read fixtures under " DIR " (run from the repo root)\n");
    RUN(test_fixtures_loaded);
    RUN(test_against_r);
    RUN(test_optimiser_sse);
    return UNIT_DONE();
}
