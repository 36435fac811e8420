/*
 * bench_high_needs: the High Needs projection measured and checked.
 *
 *   bin/bench/bench_high_needs [--db URL] [--repeat N] [--hnbt FILE]
 *
 * 1. CPU: the unmitigated trajectory of every authority, as the server
 *    makes it (its inputs document turned into struct hn_inputs, then
 *    hn_project), N passes (default 50); prints the median CPU of one pass
 *    over all authorities.  The documents are fetched once, before timing
 *    (one query each, the server's own): the database's time is not the
 *    projection's.  Stored caseload forecasts are made first when missing.
 * 2. Back-cast of 2021-22 high needs spend for every HNBT authority
 *    against its 2021-22 section 251 budget (the file's own figures):
 *      a. prior-year costs: each setting's 2020-21 outturn cost per
 *         2021-22 placement, and the 2020-21 non-placement outturn, uplifted
 *         by one year of the default inflation, times 2021-22 placements;
 *      b. neighbours' costs: 2021-22 placements x the median of the
 *         statistical neighbours' 2021-22 costs per placement (the
 *         projection's fallback), plus the authority's own non-placement.
 *    Prints mean and median absolute % error, mean signed error (bias),
 *    the share within 5% and 10% and the five largest errors; authorities
 *    whose placements the tool does not publish (x) are left out.
 * Exit status 0, 1 on failure, 2 bad arguments.
 */
#include <gsl/gsl_errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dbsync.h"
#include "forecast_run.h"
#include "high_needs.h"
#include "hn_projection.h"
#include "import_money.h"

#define MAX_AUTH 400

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int dbl_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

struct err_stats {
    int n;
    double abs_sum, signed_sum, within5, within10;
    double ape[MAX_AUTH];
    double err[MAX_AUTH];           /* signed, in the order added */
    char code[MAX_AUTH][4];
};

static void err_add(struct err_stats *s, const char *code, double predicted, double actual)
{
    if (!(actual > 0) || !isfinite(predicted) || s->n >= MAX_AUTH)
        return;
    double e = 100 * (predicted - actual) / actual;
    s->err[s->n] = e;
    snprintf(s->code[s->n], sizeof s->code[s->n], "%s", code);
    s->ape[s->n++] = fabs(e);
    s->abs_sum += fabs(e);
    s->signed_sum += e;
    s->within5 += fabs(e) <= 5;
    s->within10 += fabs(e) <= 10;
}

static void err_print(const char *name, struct err_stats *s)
{
    if (s->n == 0) {
        printf("backcast %s n 0\n", name);
        return;
    }
    /* the five largest errors, by DfE number */
    printf("backcast_worst %s", name);
    int used[MAX_AUTH] = {0};
    for (int k = 0; k < 5 && k < s->n; k++) {
        int w = -1;
        for (int i = 0; i < s->n; i++)
            if (!used[i] && (w < 0 || fabs(s->err[i]) > fabs(s->err[w])))
                w = i;
        used[w] = 1;
        printf(" %s:%+.1f%%", s->code[w], s->err[w]);
    }
    printf("\n");
    qsort(s->ape, (size_t)s->n, sizeof *s->ape, dbl_cmp);
    double med = s->n % 2 ? s->ape[s->n / 2] : 0.5 * (s->ape[s->n / 2 - 1] + s->ape[s->n / 2]);
    printf("backcast %s n %d mape %.2f median_ape %.2f bias %.2f within5 %.1f within10 %.1f "
           "p90_ape %.2f\n",
           name, s->n, s->abs_sum / s->n, med, s->signed_sum / s->n, 100 * s->within5 / s->n,
           100 * s->within10 / s->n, s->ape[(int)(0.9 * (s->n - 1))]);
}

/* Setting line i of import_money_hnbt covers these hn settings. */
static const int line_settings[IMPORT_MONEY_SETTING_LINES][2] = {
    {HN_MAINSTREAM, HN_RESOURCED}, {HN_SPECIAL, -1}, {HN_INDEPENDENT, -1}, {HN_POST16, -1}};

int main(int argc, char **argv)
{
    const char *url = getenv("DATABASE_URL") ? getenv("DATABASE_URL") : "";
    const char *hnbt = "data/high_needs/hnbt_2021_22.csv";
    int repeat = 50, rc = 1;
    char err[512];
    gsl_set_error_handler_off();
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--db") == 0 && i + 1 < argc)
            url = argv[++i];
        else if (strcmp(argv[i], "--repeat") == 0 && i + 1 < argc)
            repeat = atoi(argv[++i]);
        else if (strcmp(argv[i], "--hnbt") == 0 && i + 1 < argc)
            hnbt = argv[++i];
        else {
            fprintf(stderr, "usage: bench_high_needs [--db URL] [--repeat N] [--hnbt FILE]\n");
            return 2;
        }
    }
    if (repeat < 1 || repeat > 100000) {
        fprintf(stderr, "bench_high_needs: --repeat must be 1..100000\n");
        return 2;
    }
    PGconn *conn = dbsync_connect(url, err, sizeof err);
    if (!conn) {
        fprintf(stderr, "bench_high_needs: %s\n", err);
        return 1;
    }
    json_t *docs[MAX_AUTH] = {0};
    double *pass = NULL;
    struct import_csv csv = {0};
    int n_docs = 0;
    PGresult *ar = NULL;
    for (int attempt = 0; attempt < 2; attempt++) {
        PGresult *fr = dbsync_exec(conn, "SELECT count(*) FROM forecasts WHERE metric = 'ehcp_caseload'",
                                   0, NULL, err, sizeof err);
        if (!fr)
            goto done;
        int have = atoi(PQgetvalue(fr, 0, 0));
        PQclear(fr);
        if (have > 0)
            break;
        if (fr_refit_and_store(conn, "ehcp_caseload", err, sizeof err) < 0 ||
            fr_refit_and_store(conn, "new_plans_issued", err, sizeof err) < 0)
            goto done;
    }
    /* The placements grow with the forecasts of plans by setting: without
     * them every trajectory is pending (and the pass would skip them all). */
    for (int k = 0; HIGH_NEEDS_SETTING_METRICS[k]; k++) {
        const char *mp[1] = {HIGH_NEEDS_SETTING_METRICS[k]};
        PGresult *fr = dbsync_exec(conn, "SELECT count(*) FROM forecast_runs WHERE metric = $1"
                                   " AND frequency = 'annual'", 1, mp, err, sizeof err);
        if (!fr)
            goto done;
        int have = atoi(PQgetvalue(fr, 0, 0));
        PQclear(fr);
        if (!have && fr_refit_and_store(conn, mp[0], err, sizeof err) < 0)
            goto done;
    }
    ar = dbsync_exec(conn, "SELECT new_la_code FROM authorities WHERE valid_to IS NULL ORDER BY 1", 0,
                     NULL, err, sizeof err);
    if (!ar)
        goto done;
    for (int i = 0; i < PQntuples(ar) && n_docs < MAX_AUTH; i++) {
        const char *params[3] = {PQgetvalue(ar, i, 0), "", NULL};
        PGresult *r = dbsync_exec(conn, HIGH_NEEDS_INPUTS_SQL, 3, params, err, sizeof err);
        if (!r)
            goto done;
        json_error_t e;
        if (PQntuples(r) == 1 && !PQgetisnull(r, 0, 0))
            docs[n_docs++] = json_loads(PQgetvalue(r, 0, 0), 0, &e);
        PQclear(r);
    }

    /* 1. CPU of every authority's unmitigated trajectory */
    pass = calloc((size_t)repeat, sizeof *pass);
    if (!pass)
        goto done;
    int projected = 0, skipped = 0;
    double checksum = 0;
    for (int k = 0; k < repeat; k++) {
        double t0 = cpu_now();
        projected = skipped = 0;
        for (int i = 0; i < n_docs; i++) {
            struct hn_inputs in;
            struct high_needs_view view;
            struct hn_result res;
            char reason[300];
            if (high_needs_inputs(docs[i], &in, &view, reason, sizeof reason) != HIGH_NEEDS_OK ||
                hn_project(&in, NULL, &res) != HN_OK) {
                skipped++;
                continue;
            }
            projected++;
            checksum += res.years[res.n - 1].cumulative_balance_gbp;
        }
        pass[k] = cpu_now() - t0;
    }
    qsort(pass, (size_t)repeat, sizeof *pass, dbl_cmp);
    printf("projection authorities %d projected %d skipped %d repeat %d median_cpu_ms %.3f "
           "min_cpu_ms %.3f per_authority_us %.2f checksum %.6g\n",
           n_docs, projected, skipped, repeat, 1000 * pass[repeat / 2], 1000 * pass[0],
           projected ? 1e6 * pass[repeat / 2] / projected : 0.0, checksum / repeat);

    /* 2. back-cast of 2021-22 */
    if (import_csv_read(hnbt, &csv, err, sizeof err) != 0) {
        fprintf(stderr, "bench_high_needs: %s: %s\n", hnbt, err);
        goto done;
    }
    struct hn_inputs dflt;
    hn_inputs_init(&dflt);
    double uplift = 1 + dflt.default_inflation_pct / 100;
    struct err_stats prior = {0}, nbr = {0};
    int no_placements = 0;
    for (size_t row = 1; row < csv.nrecord; row++) {
        struct import_money_hnbt b, o;
        if (import_money_hnbt_row(&csv, row, "budget_2122_", &b, err, sizeof err) != 0 ||
            import_money_hnbt_row(&csv, row, "outturn_2021_", &o, err, sizeof err) != 0) {
            fprintf(stderr, "bench_high_needs: %s: %s\n", hnbt, err);
            goto done;
        }
        /* no placements published (x): nothing to multiply, not back-cast */
        int placed = 1;
        for (int k = 0; k < 7; k++)
            placed &= isfinite(b.placed[k]);
        if (!placed) {
            no_placements++;
            continue;
        }
        /* a: 2020-21 outturn costs per placement, one year uplifted */
        double cost[HN_N_SETTINGS];
        for (int s = 0; s < HN_N_SETTINGS; s++)
            cost[s] = NAN;
        int ok = isfinite(o.total_gbp);
        for (int l = 0; l < IMPORT_MONEY_SETTING_LINES; l++) {
            double places = 0;
            for (int j = 0; j < 2; j++)
                if (line_settings[l][j] >= 0)
                    places += b.placed[line_settings[l][j]];
            double c = isfinite(o.setting_gbp[l]) && places > 0 ? o.setting_gbp[l] / places : NAN;
            for (int j = 0; j < 2; j++)
                if (line_settings[l][j] >= 0)
                    cost[line_settings[l][j]] = c * uplift;
        }
        if (ok)
            err_add(&prior, b.old_la_code, hn_spend(b.placed, cost, o.non_placement_gbp * uplift), b.total_gbp);
        /* b: the neighbours' median costs (from the database documents) */
        for (int i = 0; i < n_docs; i++) {
            if (strcmp(json_string_value(json_object_get(docs[i], "old_code")) ?: "",
                       b.old_la_code) != 0)
                continue;
            const json_t *nb = json_object_get(docs[i], "neighbour_costs");
            static const char *const cm[IMPORT_MONEY_SETTING_LINES] = {
                "hnbt_cost_mainstream_gbp", "hnbt_cost_maintained_special_gbp",
                "hnbt_cost_independent_gbp", "hnbt_cost_post16_gbp"};
            double nc[HN_N_SETTINGS];
            for (int s = 0; s < HN_N_SETTINGS; s++)
                nc[s] = NAN;
            for (int l = 0; l < IMPORT_MONEY_SETTING_LINES; l++) {
                double vals[32];
                int n = 0;
                size_t k;
                const json_t *v;
                json_array_foreach(json_object_get(nb, cm[l]), k, v)
                    if (n < 32)
                        vals[n++] = json_number_value(v);
                double med = hn_median(vals, n);
                for (int j = 0; j < 2; j++)
                    if (line_settings[l][j] >= 0)
                        nc[line_settings[l][j]] = med;
            }
            err_add(&nbr, b.old_la_code, hn_spend(b.placed, nc, b.non_placement_gbp), b.total_gbp);
        }
    }
    printf("backcast_skipped no_placements %d\n", no_placements);
    err_print("prior_year_costs", &prior);
    err_print("neighbour_costs", &nbr);
    rc = 0;
done:
    if (rc != 0)
        fprintf(stderr, "bench_high_needs: %s\n", err);
    import_csv_free(&csv);
    free(pass);
    for (int i = 0; i < n_docs; i++)
        json_decref(docs[i]);
    PQclear(ar);
    PQfinish(conn);
    return rc;
}
