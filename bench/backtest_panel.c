/*
 * backtest_panel: rolling-origin backtest of every forecasting model and the
 * automatic choice over the shipped DfE SEN2 history (data/dfe/), horizons
 * 1-3.  Prints one table per metric and writes the identical splits to
 * bench/results/splits.csv for bench/backtest_r.R.
 *
 *   bin/backtest_panel [data_dir] [splits.csv]
 *
 * Caseload: sen2_2022_age_caseload.csv, "Local authority" rows, age "Total",
 * Total_all, January 2010-2022.  Flows: sen2_2022_mi.csv, calendar
 * 2015-2021 (2014 held only the four months after the reform):
 * NewallEHC, InreqEHC, IncExc20weekRate.  Neighbours:
 * dfe_statistical_neighbours_may2025.csv (3-digit old_la_code); region:
 * the SEN2 region_code.  Suppressed or unavailable cells become NAN.
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

#define MAX_FIELDS 160
#define MAX_LA 200
#define MAX_REG 16
#define H 3

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

struct metric {
    const char *name, *column;
    int first_year, n;
    enum fc_kind kind;
    int min_train;
    double y[MAX_LA * 16];
};

struct world {
    int n_la;
    char code[MAX_LA][8];
    int region[MAX_LA];
    int n_reg;
    char reg_code[MAX_REG][16];
    int neighbours[MAX_LA * 10];
    struct metric m[4];
};

static int la_index(struct world *w, const char *code, int add)
{
    for (int i = 0; i < w->n_la; i++)
        if (strcmp(w->code[i], code) == 0)
            return i;
    if (!add || w->n_la >= MAX_LA || strlen(code) >= 8)
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

static void store(struct world *w, struct metric *m, struct row_reader *r)
{
    const char *code = col(r, "old_la_code"), *tp = col(r, "time_period");
    int i, t;

    if (!code || !tp)
        return;
    i = la_index(w, code, 1);
    t = atoi(tp) - m->first_year;
    if (i < 0 || t < 0 || t >= m->n)
        return;
    w->region[i] = reg_index(w, col(r, "region_code"));
    m->y[i * m->n + t] = num(col(r, m->column));
}

static void on_caseload(struct row_reader *r, void *ctx)
{
    struct world *w = ctx;
    const char *lvl = col(r, "geographic_level"), *age = col(r, "characteristic_age");

    if (lvl && age && strcmp(lvl, "Local authority") == 0
        && strcmp(age, "Total") == 0)
        store(w, &w->m[0], r);
}

static void on_mi(struct row_reader *r, void *ctx)
{
    struct world *w = ctx;
    const char *lvl = col(r, "geographic_level");

    if (!lvl || strcmp(lvl, "Local authority") != 0)
        return;
    for (int k = 1; k < 4; k++)
        store(w, &w->m[k], r);
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

static double cpu_now(void)
{
    return (double)clock() / CLOCKS_PER_SEC;
}

static const enum fc_model models[] = {
    FC_NAIVE, FC_DRIFT, FC_LINEAR, FC_LOGLINEAR, FC_SES, FC_HOLT, FC_DAMPED,
    FC_THETA, FC_COMBO, FC_POOLED, FC_POOLED_DAMPED, FC_POOLED_COMBO, FC_AUTO
};
#define N_MODELS ((int)(sizeof models / sizeof models[0]))

static void panel_of(struct world *w, struct metric *m, struct fc_panel *p)
{
    memset(p, 0, sizeof *p);
    p->y = m->y;
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

static void write_splits(FILE *f, struct world *w, struct metric *m)
{
    for (int o = m->min_train; o < m->n; o++)
        for (int i = 0; i < w->n_la; i++) {
            const double *y = m->y + i * m->n;
            int any = 0;
            for (int t = 0; t < o; t++)
                any |= isfinite(y[t]);
            if (!any)
                continue;
            fprintf(f, "%s,%s,%d,%d,", m->name, w->code[i], m->kind, o);
            for (int t = 0; t < o; t++)
                put_value(f, t ? ";" : "", y[t]);
            fputc(',', f);
            for (int j = 0; j < H && o + j < m->n; j++)
                put_value(f, j ? ";" : "", y[o + j]);
            fputc('\n', f);
        }
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : "data/dfe";
    const char *splits = argc > 2 ? argv[2] : "bench/results/splits.csv";
    struct world *w = calloc(1, sizeof *w);
    struct fc_calibration *cal = calloc(1, sizeof *cal);
    struct fc_result *r = malloc(sizeof *r);
    char path[512];
    FILE *sf = NULL;
    double t_bt = 0, t_prod = 0;
    int rc = 1;

    gsl_set_error_handler_off();
    if (!w || !cal || !r)
        goto done;
    {
        struct metric defs[4] = {
            { "plans_in_place", "Total_all", 2010, 13, FC_KIND_COUNT, 5, {0} },
            /* 2014 is left out of the flows: EHC plans began on
             * 1 September 2014, so calendar 2014 holds four months
             * (England: 1,359 new plans against 24,654 in 2015) */
            { "new_plans", "NewallEHC", 2015, 7, FC_KIND_COUNT, 3, {0} },
            { "requests", "InreqEHC", 2015, 7, FC_KIND_COUNT, 3, {0} },
            { "timeliness_20wk", "IncExc20weekRate", 2015, 7,
              FC_KIND_PROPORTION, 3, {0} },
        };
        for (int k = 0; k < 4; k++) {
            w->m[k].name = defs[k].name;
            w->m[k].column = defs[k].column;
            w->m[k].first_year = defs[k].first_year;
            w->m[k].n = defs[k].n;
            w->m[k].kind = defs[k].kind;
            w->m[k].min_train = defs[k].min_train;
            for (int i = 0; i < MAX_LA * 16; i++)
                w->m[k].y[i] = NAN;
        }
    }
    for (int i = 0; i < MAX_LA * 10; i++)
        w->neighbours[i] = -1;
    snprintf(path, sizeof path, "%s/sen2_2022_age_caseload.csv", dir);
    if (read_csv(path, on_caseload, w) != 0)
        goto done;
    snprintf(path, sizeof path, "%s/sen2_2022_mi.csv", dir);
    if (read_csv(path, on_mi, w) != 0)
        goto done;
    snprintf(path, sizeof path, "%s/dfe_statistical_neighbours_may2025.csv", dir);
    if (read_csv(path, on_neighbours, w) != 0)
        goto done;
    sf = fopen(splits, "w");
    if (!sf) {
        fprintf(stderr, "backtest_panel: %s: %s\n", splits, strerror(errno));
        goto done;
    }
    fprintf(sf, "metric,la,kind,origin,train,test\n");
    printf("# %d authorities, %d regions; horizons 1-%d; rolling origins; "
           "intervals calibrated on earlier origins only\n", w->n_la, w->n_reg, H);
    for (int k = 0; k < 4; k++) {
        struct metric *m = &w->m[k];
        struct fc_panel p;
        struct fc_backtest bt[N_MODELS];
        double t0;

        panel_of(w, m, &p);
        write_splits(sf, w, m);
        t0 = cpu_now();
        if (fc_backtest_panel(&p, models, N_MODELS, m->min_train, H, 1, bt) != FC_OK) {
            fprintf(stderr, "backtest_panel: backtest failed for %s\n", m->name);
            goto done;
        }
        t_bt += cpu_now() - t0;
        printf("\n## %s (%d-%d, first origin after %d years)\n\n", m->name,
               m->first_year, m->first_year + m->n - 1, m->min_train);
        printf("| model | MASE | sMAPE | cover80 | cover95 | Winkler95 | MSIS | n | fallbacks |\n");
        printf("|---|---|---|---|---|---|---|---|---|\n");
        for (int j = 0; j < N_MODELS; j++)
            printf("| %s | %.3f | %.2f | %.1f | %.1f | %.1f | %.2f | %d | %d |\n",
                   fc_model_name(bt[j].model), bt[j].all.mase, bt[j].all.smape,
                   bt[j].all.cover80, bt[j].all.cover95, bt[j].all.winkler,
                   bt[j].all.msis, bt[j].all.n, bt[j].n_fallback);
        printf("\nauto by horizon:");
        for (int j = 0; j < H; j++)
            printf(" h%d MASE %.3f sMAPE %.2f cov80 %.1f cov95 %.1f;", j + 1,
                   bt[N_MODELS - 1].by_h[j].mase, bt[N_MODELS - 1].by_h[j].smape,
                   bt[N_MODELS - 1].by_h[j].cover80, bt[N_MODELS - 1].by_h[j].cover95);
        printf("\n");
        /* production pass: calibrate on all data, choose and fit every
         * authority (what the server's worker does after an import) */
        t0 = cpu_now();
        if (fc_calibrate(&p, m->n, m->min_train, H, cal) != FC_OK)
            goto done;
        for (int i = 0; i < w->n_la; i++) {
            int frc = fc_auto(&p, i, m->n, cal, H, r);
            if (frc != FC_OK && frc != FC_ERR_NO_DATA)
                goto done;
        }
        t_prod += cpu_now() - t0;
    }
    printf("\nCPU seconds: backtest (all models, all origins) %.2f; "
           "production pass (calibrate + auto-fit every authority, 4 metrics) %.3f\n",
           t_bt, t_prod);
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
