/*
 * backtest_panel: the honest harness.  Rolling-origin backtest of every
 * forecasting model and the automatic choice over the shipped DfE SEN2
 * history (data/dfe/), at origins fixed in advance, 2019 to 2023 (the last
 * year of training data), horizons 1-3.
 *
 *   bin/backtest_panel [--tune-only] [data_dir] [splits.csv]
 *
 * Two sets of scores per metric, never mixed:
 *   tune    origins 2019-2022, scoring only targets up to 2023: every
 *           choice of model, constant and calibration rule is made here
 *           (bench/tune.sh compares the variants on this set alone).
 *   oos     origin 2023, the last one, scored on 2024 (and January 2025
 *           for plans in place): the out-of-sample result, reported and
 *           never tuned on.  With --tune-only it is not printed.
 * At every origin the automatic choice (fc_auto) picks its model by the
 * rule in forecasts/fc_auto.c from the errors of earlier origins only;
 * docs/forecasting.md says what had been seen of origin 2023 before.
 *
 * Series (the longer history; 2025 release wins where releases overlap):
 *   plans_in_place  January census 2010-2025: sen2_2022_age_caseload.csv
 *                   Total_all (age Total) to 2018, then sen2_2025/caseload.csv
 *                   ehcplans ("All EHC plans"); time_period 201819 = 2019.
 *   new_plans       calendar 2015-2024: sen2_2022_mi.csv NewallEHC to 2018,
 *                   then sen2_2025/newplans.csv new_ehc_plans.
 *   requests        calendar 2016-2024 (2015 is "z"): InreqEHC, then
 *                   requests_received_in_year.
 *   timeliness_20wk calendar 2015-2024: IncExc20weekRate, then
 *                   pc_plans_issued_within_20_weeks (both include
 *                   exceptions: the published rate).
 * Calendar 2014 is left out (EHC plans began on 1 September 2014).
 * Decisions within 6 weeks (request_outcome_six_weeks) exist for 2023 and
 * 2024 only: too short to backtest, reported as such.
 *
 * Quarantine (as the importer's rule for the 2025 release): an authority's
 * headline figure that is at least its own region's published total, in a
 * region of several authorities, is not the authority's figure (every
 * Yorkshire and The Humber authority's 2022 new plans carry the regional
 * 6,078): it is left out (NAN), never forecast and never scored.
 *
 * Boundary changes: successors' years before they existed are apportioned
 * from their predecessors with fc_backcast (share of the first year every
 * successor reports), at an origin only when that year is in the training
 * window, so that no share comes from the future.
 *
 * Writes the identical splits to bench/results/splits.csv for
 * bench/backtest_r.R (column set = tune or oos).
 */
#include <csv.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <gsl/gsl_errno.h>

#include "forecast.h"

#define MAX_FIELDS 200
#define MAX_LA 200
#define MAX_REG 16
#define MAX_T 20
#define H 3
#define ORIGIN_FIRST 2019
#define ORIGIN_LAST 2023    /* the reported origin; tune = the ones before */

struct row_reader {
    char *field[MAX_FIELDS];
    int nf;
    int header_done;
    char *header[MAX_FIELDS];
    int nh;
    void (*on_row)(struct row_reader *, void *);
    void *ctx;
    int oom;
};

static void cb_field(void *s, size_t len, void *data)
{
    struct row_reader *r = data;
    char *f;

    if (r->nf >= MAX_FIELDS)
        return;
    f = malloc(len + 1);
    if (!f) {
        r->oom = 1;
        return;
    }
    memcpy(f, s, len);
    f[len] = '\0';
    r->field[r->nf++] = f;
}

static void cb_row(int c, void *data)
{
    struct row_reader *r = data;

    (void)c;
    if (!r->header_done) {
        for (int i = 0; i < r->nf; i++) {
            char *h = r->field[i];
            if ((unsigned char)h[0] == 0xEF && (unsigned char)h[1] == 0xBB
                && (unsigned char)h[2] == 0xBF)
                memmove(h, h + 3, strlen(h + 3) + 1);
            r->header[i] = h;
        }
        r->nh = r->nf;
        r->header_done = 1;
        r->nf = 0;
        return;
    }
    r->on_row(r, r->ctx);
    for (int i = 0; i < r->nf; i++)
        free(r->field[i]);
    r->nf = 0;
}

static const char *col(const struct row_reader *r, const char *name)
{
    for (int i = 0; i < r->nh && i < r->nf; i++)
        if (strcmp(r->header[i], name) == 0)
            return r->field[i];
    return NULL;
}

static int read_csv(const char *path, void (*on_row)(struct row_reader *, void *),
                    void *ctx)
{
    struct csv_parser p;
    struct row_reader r;
    char buf[65536];
    size_t n;
    FILE *f = fopen(path, "rb");
    int rc = 0;

    if (!f) {
        fprintf(stderr, "backtest_panel: %s: %s\n", path, strerror(errno));
        return -1;
    }
    memset(&r, 0, sizeof r);
    r.on_row = on_row;
    r.ctx = ctx;
    if (csv_init(&p, CSV_APPEND_NULL) != 0) {
        fclose(f);
        return -1;
    }
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        if (csv_parse(&p, buf, n, cb_field, cb_row, &r) != n) {
            fprintf(stderr, "backtest_panel: %s: %s\n", path,
                    csv_strerror(csv_error(&p)));
            rc = -1;
            break;
        }
    csv_fini(&p, cb_field, cb_row, &r);
    csv_free(&p);
    fclose(f);
    for (int i = 0; i < r.nf; i++)
        free(r.field[i]);
    for (int i = 0; i < r.nh; i++)
        free(r.header[i]);
    return r.oom ? -1 : rc;
}

/* ---- the data ---------------------------------------------------------- */

enum { M_CASELOAD, M_NEWPLANS, M_REQUESTS, M_TIMELINESS, N_METRICS };

struct metric {
    const char *name;
    int first_year, n;
    enum fc_kind kind;
    int min_train;
    double y[MAX_LA * MAX_T];
    double region_total[MAX_REG * MAX_T];  /* published, 2025 release */
    int quarantined;
};

struct world {
    int n_la;
    char code[MAX_LA][8];
    int region[MAX_LA];
    int n_reg;
    char reg_code[MAX_REG][16];
    int neighbours[MAX_LA * 10];
    struct metric m[N_METRICS];
    int six_weeks_years[MAX_T];
};

static int la_index(struct world *w, const char *code, int add)
{
    for (int i = 0; i < w->n_la; i++)
        if (strcmp(w->code[i], code) == 0)
            return i;
    if (!add || w->n_la >= MAX_LA || strlen(code) >= 8 || !code[0])
        return -1;
    snprintf(w->code[w->n_la], sizeof w->code[0], "%s", code);
    w->region[w->n_la] = -1;
    return w->n_la++;
}

static int reg_index(struct world *w, const char *code)
{
    if (!code || !code[0])
        return -1;
    for (int i = 0; i < w->n_reg; i++)
        if (strcmp(w->reg_code[i], code) == 0)
            return i;
    if (w->n_reg >= MAX_REG)
        return -1;
    snprintf(w->reg_code[w->n_reg], sizeof w->reg_code[0], "%s", code);
    return w->n_reg++;
}

/* "c", "x", "z", "low" and blanks are not numbers: NAN, never zero. */
static double num(const char *s)
{
    char *end;
    double v;

    if (!s || !*s)
        return NAN;
    v = strtod(s, &end);
    return (end == s || *end) ? NAN : v;
}

static int str_is(const char *a, const char *b)
{
    return a && strcmp(a, b) == 0;
}

/* year: calendar or census year of the figure */
static void store(struct world *w, struct metric *m, struct row_reader *r,
                  int year, const char *column, int from_2025)
{
    const char *lvl = col(r, "geographic_level");
    int t = year - m->first_year;

    if (t < 0 || t >= m->n)
        return;
    if (from_2025 && str_is(lvl, "Regional")) {
        int g = reg_index(w, col(r, "region_code"));
        if (g >= 0)
            m->region_total[g * MAX_T + t] = num(col(r, column));
        return;
    }
    if (!str_is(lvl, "Local authority"))
        return;
    int i = la_index(w, col(r, "old_la_code") ? col(r, "old_la_code") : "", 1);
    if (i < 0)
        return;
    w->region[i] = reg_index(w, col(r, "region_code"));
    m->y[i * m->n + t] = num(col(r, column));
}

static void on_caseload_2022(struct row_reader *r, void *ctx)
{
    struct world *w = ctx;
    const char *tp = col(r, "time_period");

    if (str_is(col(r, "characteristic_age"), "Total") && tp && atoi(tp) <= 2018)
        store(w, &w->m[M_CASELOAD], r, atoi(tp), "Total_all", 0);
}

static void on_mi(struct row_reader *r, void *ctx)
{
    struct world *w = ctx;
    const char *tp = col(r, "time_period");
    int y = tp ? atoi(tp) : 0;

    if (y > 2018)
        return;
    store(w, &w->m[M_NEWPLANS], r, y, "NewallEHC", 0);
    store(w, &w->m[M_REQUESTS], r, y, "InreqEHC", 0);
    store(w, &w->m[M_TIMELINESS], r, y, "IncExc20weekRate", 0);
}

static void on_caseload_2025(struct row_reader *r, void *ctx)
{
    const char *tp = col(r, "time_period");

    /* 201819 is the January 2019 census */
    if (tp && strlen(tp) == 6 && str_is(col(r, "breakdown_topic"), "All EHC plans"))
        store(ctx, &((struct world *)ctx)->m[M_CASELOAD], r, atoi(tp) / 100 + 1,
              "ehcplans", 1);
}

static void on_newplans_2025(struct row_reader *r, void *ctx)
{
    const char *tp = col(r, "time_period");

    if (tp && str_is(col(r, "breakdown_topic"), "New EHC plans"))
        store(ctx, &((struct world *)ctx)->m[M_NEWPLANS], r, atoi(tp),
              "new_ehc_plans", 1);
}

static void on_requests_2025(struct row_reader *r, void *ctx)
{
    struct world *w = ctx;
    const char *tp = col(r, "time_period");

    if (!tp || !str_is(col(r, "breakdown_topic"),
                       "All requests for EHC needs assessments"))
        return;
    store(w, &w->m[M_REQUESTS], r, atoi(tp), "requests_received_in_year", 1);
    if (str_is(col(r, "geographic_level"), "Local authority")
        && isfinite(num(col(r, "request_outcome_six_weeks")))
        && atoi(tp) >= 2010 && atoi(tp) < 2010 + MAX_T)
        w->six_weeks_years[atoi(tp) - 2010] = 1;
}

static void on_timeliness_2025(struct row_reader *r, void *ctx)
{
    const char *tp = col(r, "time_period");

    if (tp && str_is(col(r, "breakdown_topic"), "All EHC plans issued"))
        store(ctx, &((struct world *)ctx)->m[M_TIMELINESS], r, atoi(tp),
              "pc_plans_issued_within_20_weeks", 1);
}

static void on_neighbours(struct row_reader *r, void *ctx)
{
    struct world *w = ctx;
    const char *code = r->nf > 0 ? r->field[0] : NULL;
    int i = code ? la_index(w, code, 0) : -1;

    if (i < 0)
        return;
    /* columns: LA num, name, LA number, GOInd, GOReg, SN1, SNP, SN2, ... */
    for (int k = 0; k < 10; k++) {
        int c = 5 + 2 * k;
        w->neighbours[i * 10 + k] = c < r->nf ? la_index(w, r->field[c], 0) : -1;
    }
}

/* The importer's rule: a count at least its region's published total, in a
 * region of several authorities, is not an authority's figure. */
static void quarantine(struct world *w, struct metric *m)
{
    if (m->kind != FC_KIND_COUNT)
        return;
    for (int t = 0; t < m->n; t++)
        for (int g = 0; g < w->n_reg; g++) {
            double tot = m->region_total[g * MAX_T + t];
            int members = 0;
            if (!isfinite(tot) || tot <= 0)
                continue;
            for (int i = 0; i < w->n_la; i++)
                members += w->region[i] == g && isfinite(m->y[i * m->n + t]);
            if (members < 2)
                continue;
            for (int i = 0; i < w->n_la; i++)
                if (w->region[i] == g && m->y[i * m->n + t] >= tot) {
                    m->y[i * m->n + t] = NAN;
                    m->quarantined++;
                }
        }
}

/* The reorganisations (migration 003's boundary register), by DfE number. */
static const struct {
    const char *pred[3];
    const char *succ[2];
    const char *what;
} reorgs[] = {
    { { "835", "836", "837" }, { "838", "839" },
      "Dorset, Poole, Bournemouth -> Dorset, BCP (2019)" },
    { { "928", NULL, NULL }, { "940", "941" },
      "Northamptonshire -> North, West Northamptonshire (2021)" },
    { { "909", NULL, NULL }, { "942", "943" },
      "Cumbria -> Cumberland, Westmorland and Furness (2023)" },
};
#define N_REORGS ((int)(sizeof reorgs / sizeof reorgs[0]))

/* Apportion predecessors' history into y (a copy of the metric's data) for
 * every reorganisation whose first common year lies before origin o
 * (o = -1: no limit).  Returns the points filled. */
static int apportion(struct world *w, struct metric *m, double *y, int o,
                     FILE *log)
{
    int filled = 0;

    for (int k = 0; k < N_REORGS; k++) {
        int pred[3], succ[2], np = 0, ns = 0;
        struct fc_backcast bc;
        for (int j = 0; j < 3 && reorgs[k].pred[j]; j++)
            if ((pred[np] = la_index(w, reorgs[k].pred[j], 0)) >= 0)
                np++;
        for (int j = 0; j < 2; j++)
            if ((succ[ns] = la_index(w, reorgs[k].succ[j], 0)) >= 0)
                ns++;
        if (np < 1 || ns < 1)
            continue;
        {
            /* t0 must lie inside the training window */
            double *tmp = malloc(sizeof *tmp * (size_t)w->n_la * m->n);
            int rc;
            if (!tmp)
                return filled;
            memcpy(tmp, y, sizeof *tmp * (size_t)w->n_la * m->n);
            rc = fc_backcast(tmp, w->n_la, m->n, m->kind, pred, np, succ, ns, &bc);
            if (rc == FC_OK && (o < 0 || bc.t0 < o)) {
                memcpy(y, tmp, sizeof *tmp * (size_t)w->n_la * m->n);
                for (int j = 0; j < ns; j++)
                    filled += bc.n_filled[j];
                if (log)
                    fprintf(log, "%s: %s: %d+%d years apportioned, shares %.3f/%.3f"
                            " (from %d)\n", m->name, reorgs[k].what, bc.n_filled[0],
                            ns > 1 ? bc.n_filled[1] : 0, bc.share[0],
                            ns > 1 ? bc.share[1] : 0, m->first_year + bc.t0);
            }
            free(tmp);
        }
    }
    return filled;
}

static double cpu_now(void)
{
    return (double)clock() / CLOCKS_PER_SEC;
}

static const enum fc_model models[] = {
    FC_NAIVE, FC_DRIFT, FC_LINEAR, FC_LOGLINEAR, FC_SES, FC_HOLT, FC_DAMPED,
    FC_THETA, FC_COMBO, FC_POOLED, FC_POOLED_DAMPED, FC_POOLED_COMBO,
    FC_POOLED_AR, FC_AUTO
};
#define N_MODELS ((int)(sizeof models / sizeof models[0]))

static void panel_of(struct world *w, struct metric *m, const double *y,
                     struct fc_panel *p)
{
    memset(p, 0, sizeof *p);
    p->y = y;
    p->n_series = w->n_la;
    p->n = m->n;
    p->period = 1;
    p->kind = m->kind;
    p->region = w->region;
    p->neighbours = w->neighbours;
    p->n_neighbours = 10;
}

/* Missing values are written as NA, which R reads as missing. */
static void put_value(FILE *f, const char *sep, double v)
{
    if (isfinite(v))
        fprintf(f, "%s%.17g", sep, v);
    else
        fprintf(f, "%sNA", sep);
}

static void write_split(FILE *f, struct world *w, struct metric *m,
                        const double *yy, int o, int t_end, const char *set)
{
    for (int i = 0; i < w->n_la; i++) {
        const double *y = yy + i * m->n;
        int any = 0, anytest = 0;
        for (int t = 0; t < o; t++)
            any |= isfinite(y[t]);
        for (int j = 0; j < H && o + j < t_end; j++)
            anytest |= isfinite(y[o + j]);
        if (!any || !anytest)
            continue;
        fprintf(f, "%s,%s,%s,%d,%d,", set, m->name, w->code[i], m->kind,
                m->first_year + o - 1);
        for (int t = 0; t < o; t++)
            put_value(f, t ? ";" : "", y[t]);
        fputc(',', f);
        for (int j = 0; j < H && o + j < t_end; j++)
            put_value(f, j ? ";" : "", y[o + j]);
        fputc('\n', f);
    }
}

/* Weighted sums of means, so that origins run one at a time add up. */
static void acc_merge(struct fc_accuracy *sum, const struct fc_accuracy *a)
{
    if (a->n <= 0)
        return;
    sum->mase += a->mase * a->n;
    sum->smape += a->smape * a->n;
    sum->cover80 += a->cover80 * a->n;
    sum->cover95 += a->cover95 * a->n;
    sum->winkler += a->winkler * a->n;
    sum->msis += a->msis * a->n;
    sum->n += a->n;
}

static void acc_done(struct fc_accuracy *a)
{
    if (a->n <= 0) {
        a->mase = a->smape = a->cover80 = a->cover95 = a->winkler = a->msis = NAN;
        return;
    }
    a->mase /= a->n;
    a->smape /= a->n;
    a->cover80 /= a->n;
    a->cover95 /= a->n;
    a->winkler /= a->n;
    a->msis /= a->n;
}

/* One set (tune, oos): every origin separately (its own apportionment),
 * merged. */
static int run_set(struct world *w, struct metric *m, int year_first,
                   int year_last, int year_end, FILE *sf, const char *set,
                   struct fc_backtest *bt, int *series_scored)
{
    double *yy = malloc(sizeof *yy * (size_t)w->n_la * m->n);
    unsigned char *scored = malloc((size_t)w->n_la * m->n);
    struct fc_backtest one[N_MODELS];
    int rc = -1;

    memset(bt, 0, sizeof *bt * N_MODELS);
    *series_scored = 0;
    if (!yy || !scored) {
        free(yy);
        free(scored);
        return -1;
    }
    for (int year = year_first; year <= year_last; year++) {
        int o = year - m->first_year + 1;          /* training length */
        int t_end = year_end - m->first_year + 1;  /* targets < t_end */
        struct fc_panel p;
        if (t_end > m->n)
            t_end = m->n;
        memcpy(yy, m->y, sizeof *yy * (size_t)w->n_la * m->n);
        apportion(w, m, yy, o, NULL);
        panel_of(w, m, yy, &p);
        /* an apportioned year is fitted on, never scored as an actual */
        for (int c = 0; c < w->n_la * m->n; c++)
            scored[c] = isfinite(m->y[c]);
        p.scored = scored;
        if (sf)
            write_split(sf, w, m, yy, o, t_end, set);
        for (int i = 0; i < w->n_la; i++) {
            int any = 0, anytest = 0;
            for (int t = 0; t < o; t++)
                any |= isfinite(yy[i * m->n + t]);
            for (int j = 0; j < H && o + j < t_end; j++)
                anytest |= isfinite(m->y[i * m->n + o + j]);
            *series_scored += any && anytest;
        }
        if (fc_backtest_range(&p, models, N_MODELS, m->min_train, o, o, t_end,
                              H, 1, one) != FC_OK)
            goto done;
        for (int k = 0; k < N_MODELS; k++) {
            bt[k].model = one[k].model;
            bt[k].n_fallback += one[k].n_fallback;
            for (int c = 0; c < FC_MODEL_COUNT; c++)
                bt[k].chosen[c] += one[k].chosen[c];
            acc_merge(&bt[k].all, &one[k].all);
            for (int j = 0; j < H; j++)
                acc_merge(&bt[k].by_h[j], &one[k].by_h[j]);
        }
    }
    for (int k = 0; k < N_MODELS; k++) {
        acc_done(&bt[k].all);
        for (int j = 0; j < H; j++)
            acc_done(&bt[k].by_h[j]);
    }
    rc = 0;
done:
    free(scored);
    free(yy);
    return rc;
}

static void print_table(const struct fc_backtest *bt)
{
    printf("| model | MASE | sMAPE | cover80 | cover95 | Winkler95 | MSIS | n | fallbacks |\n");
    printf("|---|---|---|---|---|---|---|---|---|\n");
    for (int j = 0; j < N_MODELS; j++)
        printf("| %s | %.3f | %.2f | %.1f | %.1f | %.1f | %.2f | %d | %d |\n",
               fc_model_name(bt[j].model), bt[j].all.mase, bt[j].all.smape,
               bt[j].all.cover80, bt[j].all.cover95, bt[j].all.winkler,
               bt[j].all.msis, bt[j].all.n, bt[j].n_fallback);
    printf("\nauto by horizon:");
    for (int j = 0; j < H; j++)
        if (bt[N_MODELS - 1].by_h[j].n > 0)
            printf(" h%d MASE %.3f sMAPE %.2f cov80 %.1f cov95 %.1f (n %d);", j + 1,
                   bt[N_MODELS - 1].by_h[j].mase, bt[N_MODELS - 1].by_h[j].smape,
                   bt[N_MODELS - 1].by_h[j].cover80, bt[N_MODELS - 1].by_h[j].cover95,
                   bt[N_MODELS - 1].by_h[j].n);
    printf("\nauto chose:");
    for (int m = 0; m < FC_MODEL_COUNT; m++)
        if (bt[N_MODELS - 1].chosen[m] > 0)
            printf(" %s %d;", fc_model_name((enum fc_model)m),
                   bt[N_MODELS - 1].chosen[m]);
    printf(" (fits)\n");
}

int main(int argc, char **argv)
{
    const char *dir = "data/dfe";
    const char *splits = "bench/results/splits.csv";
    struct world *w = calloc(1, sizeof *w);
    struct fc_calibration *cal = calloc(1, sizeof *cal);
    struct fc_result *r = malloc(sizeof *r);
    char path[512];
    FILE *sf = NULL;
    double t_bt = 0, t_prod = 0;
    int rc = 1, tune_only = 0, npos = 0;

    gsl_set_error_handler_off();
    for (int a = 1; a < argc; a++) {
        if (strcmp(argv[a], "--tune-only") == 0)
            tune_only = 1;
        else if (npos == 0 && ++npos)
            dir = argv[a];
        else
            splits = argv[a];
    }
    if (!w || !cal || !r)
        goto done;
    {
        struct { const char *name; int first, n; enum fc_kind kind; int min_train; } defs[] = {
            { "plans_in_place", 2010, 16, FC_KIND_COUNT, 5 },
            { "new_plans", 2015, 10, FC_KIND_COUNT, 3 },
            { "requests", 2016, 9, FC_KIND_COUNT, 3 },
            { "timeliness_20wk", 2015, 10, FC_KIND_PROPORTION, 3 },
        };
        for (int k = 0; k < N_METRICS; k++) {
            struct metric *m = &w->m[k];
            m->name = defs[k].name;
            m->first_year = defs[k].first;
            m->n = defs[k].n;
            m->kind = defs[k].kind;
            m->min_train = defs[k].min_train;
            for (int i = 0; i < MAX_LA * MAX_T; i++)
                m->y[i] = NAN;
            for (int i = 0; i < MAX_REG * MAX_T; i++)
                m->region_total[i] = NAN;
        }
    }
    for (int i = 0; i < MAX_LA * 10; i++)
        w->neighbours[i] = -1;
    {
        struct { const char *file; void (*fn)(struct row_reader *, void *); } files[] = {
            { "sen2_2022_age_caseload.csv", on_caseload_2022 },
            { "sen2_2022_mi.csv", on_mi },
            { "sen2_2025/caseload.csv", on_caseload_2025 },
            { "sen2_2025/newplans.csv", on_newplans_2025 },
            { "sen2_2025/requests.csv", on_requests_2025 },
            { "sen2_2025/timeliness_20_week.csv", on_timeliness_2025 },
            { "dfe_statistical_neighbours_may2025.csv", on_neighbours },
        };
        for (size_t k = 0; k < sizeof files / sizeof files[0]; k++) {
            snprintf(path, sizeof path, "%s/%s", dir, files[k].file);
            if (read_csv(path, files[k].fn, w) != 0)
                goto done;
        }
    }
    sf = fopen(splits, "w");
    if (!sf) {
        fprintf(stderr, "backtest_panel: %s: %s\n", splits, strerror(errno));
        goto done;
    }
    fprintf(sf, "set,metric,la,kind,origin,train,test\n");
    printf("# %d authority codes, %d regions; origins %d-%d fixed in advance; "
           "horizons 1-%d\n", w->n_la, w->n_reg, ORIGIN_FIRST, ORIGIN_LAST, H);
    printf("# tune: origins %d-%d, targets up to %d; oos: origin %d, scored on every "
           "target after it%s\n", ORIGIN_FIRST, ORIGIN_LAST - 1, ORIGIN_LAST, ORIGIN_LAST,
           tune_only ? " (not printed: --tune-only)" : "");
    {
        int ny = 0;
        for (int t = 0; t < MAX_T; t++)
            ny += w->six_weeks_years[t];
        printf("# requests_decided_within_6_weeks: %d year%s of authority figures in "
               "the release: too little history to backtest or to judge a forecast\n",
               ny, ny == 1 ? "" : "s");
    }
    for (int k = 0; k < N_METRICS; k++) {
        struct metric *m = &w->m[k];
        struct fc_backtest tune[N_MODELS], oos[N_MODELS];
        int ns_tune, ns_oos;
        int last = m->first_year + m->n - 1;
        double t0;

        quarantine(w, m);
        printf("\n## %s (%d-%d; %d figures quarantined)\n\n", m->name, m->first_year,
               last, m->quarantined);
        {
            double *yy = malloc(sizeof *yy * (size_t)w->n_la * m->n);
            if (!yy)
                goto done;
            memcpy(yy, m->y, sizeof *yy * (size_t)w->n_la * m->n);
            apportion(w, m, yy, -1, stdout);
            free(yy);
        }
        t0 = cpu_now();
        if (run_set(w, m, ORIGIN_FIRST, ORIGIN_LAST - 1, ORIGIN_LAST, sf, "tune", tune,
                    &ns_tune) != 0
            || (!tune_only
                && run_set(w, m, ORIGIN_LAST, ORIGIN_LAST, last, sf, "oos", oos,
                           &ns_oos) != 0)) {
            fprintf(stderr, "backtest_panel: backtest failed for %s\n", m->name);
            goto done;
        }
        t_bt += cpu_now() - t0;
        printf("\n### tune: origins %d-%d, targets to %d (%d series x origins)\n\n",
               ORIGIN_FIRST, ORIGIN_LAST - 1, ORIGIN_LAST, ns_tune);
        print_table(tune);
        if (!tune_only) {
            printf("\n### oos: origin %d, targets %d-%d (%d series)\n\n", ORIGIN_LAST,
                   ORIGIN_LAST + 1, last, ns_oos);
            print_table(oos);
        }
        /* production pass: calibrate on all data, choose and fit every
         * authority (what the server's worker does after an import) */
        {
            double *yy = malloc(sizeof *yy * (size_t)w->n_la * m->n);
            struct fc_panel p;
            if (!yy)
                goto done;
            memcpy(yy, m->y, sizeof *yy * (size_t)w->n_la * m->n);
            apportion(w, m, yy, -1, NULL);
            panel_of(w, m, yy, &p);
            t0 = cpu_now();
            if (fc_calibrate(&p, m->n, m->min_train, H, cal) != FC_OK) {
                free(yy);
                goto done;
            }
            for (int i = 0; i < w->n_la; i++) {
                int frc = fc_auto(&p, i, m->n, cal, H, r);
                if (frc != FC_OK && frc != FC_ERR_NO_DATA) {
                    free(yy);
                    goto done;
                }
            }
            t_prod += cpu_now() - t0;
            free(yy);
        }
    }
    printf("\nCPU seconds: backtest (all models, every set) %.2f; "
           "production pass (calibrate + auto-fit every authority, %d metrics) %.3f\n",
           t_bt, N_METRICS, t_prod);
    rc = 0;
done:
    if (sf && fclose(sf) != 0)
        rc = 1;
    free(r);
    fc_calibration_free(cal);
    free(cal);
    free(w);
    return rc;
}
