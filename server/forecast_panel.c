/*
 * Loading a metric's annual history as a panel: every authority's figures
 * (quarantined ones are not in force, so never here), their regions and
 * statistical neighbours; the boundary changes applied (successors' early
 * years apportioned from their predecessors); for a rate, its
 * denominator's figures and forecasts; the DfE's own England and regional
 * figures.  Blocking libpq: the forecast worker and CLI commands only.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dbsync.h"
#include "forecast_areas.h"
#include "forecast_run.h"

void fr_panel_free(struct fr_panel *p)
{
    free(p->scored);
    free(p->den_y);
    free(p->den_fc);
    free(p->area_y);
    free(p->y);
    free(p->region);
    free(p->neighbours);
    free(p->auth);
    memset(p, 0, sizeof *p);
}

void fr_period_label(const struct fr_panel *p, int year, char *out, size_t outlen)
{
    if (strcmp(p->period_kind, "financial_year") == 0)
        snprintf(out, outlen, "%d-%02d", year, (year + 1) % 100);
    else
        snprintf(out, outlen, "%d", year);
}

static int region_index(struct fr_panel *p, const char *code, const char *name)
{
    for (int i = 0; i < p->n_regions; i++)
        if (strcmp(p->region_codes[i], code) == 0)
            return i;
    if (p->n_regions == FR_MAX_REGIONS)
        return -1;
    snprintf(p->region_codes[p->n_regions], sizeof p->region_codes[0], "%s", code);
    snprintf(p->region_names[p->n_regions], sizeof p->region_names[0], "%s", name);
    return p->n_regions++;
}

static int auth_index(const struct fr_panel *p, const char *code)
{
    /* The panel is sorted by code: binary search. */
    int lo = 0, hi = p->n_series - 1;
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        int c = strcmp(p->auth[mid].code, code);
        if (c == 0)
            return mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return -1;
}

static int apply_boundaries(PGconn *conn, struct fr_panel *p, char *err, size_t errlen);
static int load_denominator(PGconn *conn, struct fr_panel *p, char *err, size_t errlen);
static int load_areas(PGconn *conn, struct fr_panel *p, char *err, size_t errlen);

int fr_panel_load(PGconn *conn, const char *metric, struct fr_panel *p, char *err, size_t errlen)
{
    PGresult *meta = NULL, *data = NULL, *auths = NULL, *nb = NULL;
    int rc = -1;
    memset(p, 0, sizeof *p);

    const char *mp[1] = {metric};
    meta = dbsync_exec(conn, "SELECT label, unit, annual_period, additive FROM metrics WHERE id = $1",
                       1, mp, err, errlen);
    if (!meta)
        goto done;
    if (PQntuples(meta) != 1) {
        snprintf(err, errlen, "unknown metric \"%.60s\"", metric);
        goto done;
    }
    snprintf(p->metric, sizeof p->metric, "%s", metric);
    snprintf(p->label, sizeof p->label, "%s", PQgetvalue(meta, 0, 0));
    snprintf(p->unit, sizeof p->unit, "%s", PQgetvalue(meta, 0, 1));
    snprintf(p->period_kind, sizeof p->period_kind, "%s", PQgetvalue(meta, 0, 2));
    /* Rates, ratios and unit costs do not add up over authorities
     * (metrics.additive, sql/192). */
    p->additive = PQgetvalue(meta, 0, 3)[0] == 't';

    /* Only authorities with data for this metric join the panel. */
    const char *dp[2] = {metric, p->period_kind};
    auths = dbsync_exec(conn,
        "SELECT a.new_la_code, a.old_la_code, a.name, a.region_code, a.region_name,"
        "       a.valid_to IS NULL"
        " FROM authorities a"
        " WHERE a.new_la_code ~ '^E(06|08|09|10|11)'"
        "   AND EXISTS (SELECT 1 FROM forecast_input f WHERE f.authority = a.new_la_code"
        "               AND f.metric = $1 AND f.period_kind = $2"
        "               AND NOT (f.period_kind = 'calendar_year' AND substr(f.period, 1, 4)::int < 2015))"
        " ORDER BY a.new_la_code",
        2, dp, err, errlen);
    if (!auths)
        goto done;
    /* EHC plans began in September 2014, so calendar 2014 holds four months
     * of the new system's flows: a growth rate from it is meaningless. */
    data = dbsync_exec(conn,
        "SELECT authority, substr(period, 1, 4)::int AS year, value::float8"
        " FROM forecast_input WHERE metric = $1 AND period_kind = $2"
        "   AND NOT (period_kind = 'calendar_year' AND substr(period, 1, 4)::int < 2015)",
        2, dp, err, errlen);
    if (!data)
        goto done;
    nb = dbsync_exec(conn, "SELECT authority, rank, neighbour FROM statistical_neighbours", 0,
                     NULL, err, errlen);
    if (!nb)
        goto done;

    int ns = PQntuples(auths), nd = PQntuples(data);
    if (ns == 0 || nd == 0) {
        rc = 1;
        goto done;
    }
    int y0 = 99999, y1 = -1;
    for (int i = 0; i < nd; i++) {
        int y = atoi(PQgetvalue(data, i, 1));
        y0 = y < y0 ? y : y0;
        y1 = y > y1 ? y : y1;
    }
    p->first_year = y0;
    p->n = y1 - y0 + 1;
    if (p->n > FC_MAX_N)
        p->n = FC_MAX_N;
    p->n_series = ns;
    p->y = malloc(sizeof(double) * (size_t)ns * (size_t)p->n);
    p->region = malloc(sizeof(int) * (size_t)ns);
    p->neighbours = malloc(sizeof(int) * (size_t)ns * FR_NEIGHBOURS);
    p->auth = calloc((size_t)ns, sizeof *p->auth);
    if (!p->y || !p->region || !p->neighbours || !p->auth) {
        snprintf(err, errlen, "out of memory");
        goto done;
    }
    for (int i = 0; i < ns * p->n; i++)
        p->y[i] = NAN;
    for (int i = 0; i < ns * FR_NEIGHBOURS; i++)
        p->neighbours[i] = -1;
    for (int i = 0; i < ns; i++) {
        struct fr_authority *a = &p->auth[i];
        snprintf(a->code, sizeof a->code, "%s", PQgetvalue(auths, i, 0));
        snprintf(a->old_code, sizeof a->old_code, "%s", PQgetvalue(auths, i, 1));
        snprintf(a->name, sizeof a->name, "%s", PQgetvalue(auths, i, 2));
        a->region = region_index(p, PQgetvalue(auths, i, 3), PQgetvalue(auths, i, 4));
        a->current = PQgetvalue(auths, i, 5)[0] == 't';
        p->region[i] = a->region;
    }
    int in_unit_range = 1;
    for (int i = 0; i < nd; i++) {
        int s = auth_index(p, PQgetvalue(data, i, 0));
        int t = atoi(PQgetvalue(data, i, 1)) - y0;
        if (s < 0 || t < 0 || t >= p->n)
            continue;
        double v = strtod(PQgetvalue(data, i, 2), NULL);
        p->y[s * p->n + t] = v;
        if (v < 0 || v > 100)
            in_unit_range = 0;
    }
    for (int i = 0; i < PQntuples(nb); i++) {
        int s = auth_index(p, PQgetvalue(nb, i, 0));
        int rank = atoi(PQgetvalue(nb, i, 1));
        int other = auth_index(p, PQgetvalue(nb, i, 2));
        if (s >= 0 && rank >= 1 && rank <= FR_NEIGHBOURS)
            p->neighbours[s * FR_NEIGHBOURS + rank - 1] = other;
    }
    /* Percentages that stay within 0-100 are modelled on a logit scale;
     * money and balances (which cross zero) are never logged. */
    if (strcmp(p->unit, "%") == 0 && in_unit_range)
        p->kind = FC_KIND_PROPORTION;
    else if (strcmp(p->unit, "£") == 0 || strcmp(p->unit, "%") == 0)
        p->kind = FC_KIND_LEVEL;
    else
        p->kind = FC_KIND_COUNT;
    p->scored = malloc((size_t)ns * (size_t)p->n);
    if (!p->scored) {
        snprintf(err, errlen, "out of memory");
        goto done;
    }
    for (int i = 0; i < ns * p->n; i++)
        p->scored[i] = isfinite(p->y[i]);
    if (apply_boundaries(conn, p, err, errlen) != 0 ||
        (!p->additive && load_denominator(conn, p, err, errlen) != 0) ||
        load_areas(conn, p, err, errlen) != 0)
        goto done;
    rc = 0;
done:
    PQclear(meta);
    PQclear(data);
    PQclear(auths);
    PQclear(nb);
    if (rc != 0)
        fr_panel_free(p);
    return rc;
}


/* ---- boundary changes -------------------------------------------------- */

/* Reorganisations from authority_successions, grouped: predecessors that
 * share a successor and successors that share a predecessor are one change
 * (Dorset, Poole and Bournemouth became Dorset and BCP).  Each change is
 * applied with fc_backcast; each successor's document then says what was
 * done. */
#define FR_MAX_GROUP 8
static int apply_boundaries(PGconn *conn, struct fr_panel *p, char *err, size_t errlen)
{
    PGresult *res = dbsync_exec(conn,
        "SELECT s.predecessor, s.successor, extract(year FROM s.effective)::int"
        " FROM authority_successions s ORDER BY s.effective, s.successor, s.predecessor",
        0, NULL, err, errlen);
    if (!res)
        return -1;
    int nr = PQntuples(res);
    int *done = calloc((size_t)nr + 1, sizeof(int));
    if (!done) {
        PQclear(res);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (int r0 = 0; r0 < nr; r0++) {
        if (done[r0])
            continue;
        int pred[FR_MAX_GROUP], succ[FR_MAX_GROUP], np = 0, ns = 0, grew = 1;
        const char *pc[FR_MAX_GROUP], *sc[FR_MAX_GROUP];
        int npc = 0, nsc = 0;
        pc[npc++] = PQgetvalue(res, r0, 0);
        sc[nsc++] = PQgetvalue(res, r0, 1);
        done[r0] = 1;
        int year = atoi(PQgetvalue(res, r0, 2));
        /* grow the group until no row links to it */
        while (grew) {
            grew = 0;
            for (int r = 0; r < nr; r++) {
                if (done[r])
                    continue;
                const char *a = PQgetvalue(res, r, 0), *b = PQgetvalue(res, r, 1);
                int ha = 0, hb = 0;
                for (int k = 0; k < npc; k++)
                    ha |= strcmp(pc[k], a) == 0;
                for (int k = 0; k < nsc; k++)
                    hb |= strcmp(sc[k], b) == 0;
                if (!ha && !hb)
                    continue;
                if (!ha && npc < FR_MAX_GROUP)
                    pc[npc++] = a;
                if (!hb && nsc < FR_MAX_GROUP)
                    sc[nsc++] = b;
                done[r] = grew = 1;
            }
        }
        char names[160] = "";
        for (int k = 0; k < npc; k++) {
            int i = auth_index(p, pc[k]);
            if (i < 0)
                continue;
            pred[np++] = i;
            size_t len = strlen(names);
            snprintf(names + len, sizeof names - len, "%s%s (%s)", len ? ", " : "",
                     p->auth[i].name, p->auth[i].old_code);
        }
        for (int k = 0; k < nsc; k++) {
            int i = auth_index(p, sc[k]);
            if (i >= 0 && ns < FC_MAX_SUCC)
                succ[ns++] = i;
        }
        if (np == 0 || ns == 0)
            continue;
        struct fc_backcast bc;
        int st = fc_backcast(p->y, p->n_series, p->n, p->kind, pred, np, succ, ns, &bc);
        for (int k = 0; k < ns; k++) {
            struct fr_authority *a = &p->auth[succ[k]];
            snprintf(a->predecessors, sizeof a->predecessors, "%s", names);
            if (st != FC_OK) {
                snprintf(a->boundary, sizeof a->boundary,
                         "created in %d from %s; no year in which every successor reports, so "
                         "nothing was apportioned: forecast from its own figures, its growth "
                         "pooled with its neighbours', region's and England's",
                         year, names);
                continue;
            }
            if (bc.n_filled[k] == 0)
                continue;
            a->n_apportioned = bc.n_filled[k];
            a->first_apportioned = p->first_year + bc.first_filled[k];
            a->last_apportioned = p->first_year + bc.last_filled[k];
            a->share = bc.share[k];
            char first[16];
            fr_period_label(p, p->first_year + bc.t0, first, sizeof first);
            if (p->kind == FC_KIND_PROPORTION)
                snprintf(a->boundary, sizeof a->boundary,
                         "created in %d from %s: its figures for %d-%d are the predecessors' "
                         "average rate (a rate does not split by size); they are fitted on but "
                         "never scored as actual figures",
                         year, names, a->first_apportioned, a->last_apportioned);
            else
                snprintf(a->boundary, sizeof a->boundary,
                         "created in %d from %s: its figures for %d-%d are %.1f%% of the "
                         "predecessors' total, its share of the successors' total in %s (the "
                         "first period every successor reported); they are fitted on but never "
                         "scored as actual figures",
                         year, names, a->first_apportioned, a->last_apportioned,
                         100.0 * a->share, first);
        }
    }
    free(done);
    PQclear(res);
    return 0;
}

/* ---- rates: the denominator ---------------------------------------------- */

/* Loads the denominator's panel, fits it, and aligns its figures and
 * forecasts with p's authorities and years.  A rate without a known
 * denominator keeps den_metric empty (England and regions: equal
 * weights, said in the document). */
static int load_denominator(PGconn *conn, struct fr_panel *p, char *err, size_t errlen)
{
    int rc = -1;
    struct fr_panel d;
    struct fc_calibration *cal = NULL;
    struct fc_result *res = NULL;
    int *have = NULL;
    const char *mp[1] = {p->metric};
    memset(&d, 0, sizeof d);
    /* The definition the database computes the figures by (derived_metrics,
     * sql/150): a ratio is weighted by its denominator (the fallback where
     * the first has no figures), a growth rate by the count that grows. */
    PGresult *def = dbsync_exec(conn,
        "SELECT CASE WHEN formula = 'ratio' THEN numerator ELSE '' END,"
        "       coalesce(denominator, numerator), coalesce(fallback_denominator, ''),"
        "       sign::float8, scale::float8"
        " FROM derived_metrics WHERE metric = $1", 1, mp, err, errlen);
    if (!def)
        return -1;
    if (PQntuples(def) == 0) {
        PQclear(def);
        return 0;
    }
    snprintf(p->rate_num, sizeof p->rate_num, "%s", PQgetvalue(def, 0, 0));
    p->rate_sign = strtod(PQgetvalue(def, 0, 3), NULL);
    p->rate_scale = strtod(PQgetvalue(def, 0, 4), NULL);
    for (int j = 1; j <= 2 && PQgetvalue(def, 0, j)[0]; j++) {
        int lr = fr_panel_load(conn, PQgetvalue(def, 0, j), &d, err, errlen);
        if (lr < 0) {
            PQclear(def);
            return -1;
        }
        if (lr == 0) {
            snprintf(p->den_metric, sizeof p->den_metric, "%s", PQgetvalue(def, 0, j));
            break;
        }
    }
    PQclear(def);
    if (!p->den_metric[0])
        return 0;
    p->den_y = malloc(sizeof(double) * (size_t)p->n_series * (size_t)p->n);
    p->den_fc = malloc(sizeof(double) * (size_t)p->n_series * FR_MAX_HORIZON);
    cal = calloc(1, sizeof *cal);
    res = calloc((size_t)d.n_series, sizeof *res);
    have = calloc((size_t)d.n_series, sizeof *have);
    if (!p->den_y || !p->den_fc || !cal || !res || !have) {
        snprintf(err, errlen, "out of memory");
        goto done;
    }
    for (int i = 0; i < p->n_series * p->n; i++)
        p->den_y[i] = NAN;
    for (int i = 0; i < p->n_series * FR_MAX_HORIZON; i++)
        p->den_fc[i] = NAN;
    if (fr_fit_series(&d, FR_MAX_HORIZON, 0, cal, res, have, err, errlen) != 0)
        goto done;
    for (int i = 0; i < p->n_series; i++) {
        int j = auth_index(&d, p->auth[i].code);
        if (j < 0)
            continue;
        for (int t = 0; t < p->n; t++) {
            int u = p->first_year + t - d.first_year;
            if (u >= 0 && u < d.n)
                p->den_y[i * p->n + t] = d.y[j * d.n + u];
        }
        /* forecast years of p: observed in d when d runs later, else d's
         * forecasts */
        for (int h = 0; h < FR_MAX_HORIZON; h++) {
            int u = p->first_year + p->n + h - d.first_year;
            if (u >= 0 && u < d.n && isfinite(d.y[j * d.n + u]))
                p->den_fc[i * FR_MAX_HORIZON + h] = d.y[j * d.n + u];
            else if (have[j] && u >= d.n && u - d.n < FR_MAX_HORIZON)
                p->den_fc[i * FR_MAX_HORIZON + h] = res[j].mean[u - d.n];
        }
    }
    rc = 0;
done:
    fc_calibration_free(cal);
    free(cal);
    free(res);
    free(have);
    fr_panel_free(&d);
    return rc;
}

/* ---- the DfE's own England and regional figures --------------------------- */

static int area_row(const struct fr_panel *p, const char *code)
{
    if (strcmp(code, CODE_ENGLAND) == 0)
        return p->n_regions;
    for (int g = 0; g < p->n_regions; g++)
        if (strcmp(p->region_codes[g], code) == 0)
            return g;
    return -1;
}

/* Published area figures, where the database has them (migration 020's
 * current_area_observations); rates from the published numerator and
 * denominator. */
static int load_areas(PGconn *conn, struct fr_panel *p, char *err, size_t errlen)
{
    size_t cells = (size_t)(p->n_regions + 1) * (size_t)p->n;
    p->area_y = malloc(sizeof(double) * (cells ? cells : 1));
    if (!p->area_y) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < cells; i++)
        p->area_y[i] = NAN;
    PGresult *has = dbsync_exec(conn,
        "SELECT to_regclass('current_area_observations') IS NOT NULL", 0, NULL, err, errlen);
    if (!has)
        return -1;
    int present = PQgetvalue(has, 0, 0)[0] == 't';
    PQclear(has);
    if (!present)
        return 0;
    PGresult *res;
    if (p->additive) {
        const char *params[2] = {p->metric, p->period_kind};
        res = dbsync_exec(conn,
            "SELECT area, substr(period, 1, 4)::int, value::float8 FROM current_area_observations"
            " WHERE metric = $1 AND period_kind = $2 AND value IS NOT NULL",
            2, params, err, errlen);
    } else if (p->rate_num[0] && p->den_metric[0]) {
        char scale[32];
        snprintf(scale, sizeof scale, "%.17g", p->rate_sign * p->rate_scale);
        const char *params[4] = {p->rate_num, p->den_metric, p->period_kind, scale};
        res = dbsync_exec(conn,
            "SELECT n.area, substr(n.period, 1, 4)::int, (n.value / d.value * $4::float8)::float8"
            " FROM current_area_observations n JOIN current_area_observations d"
            "   ON d.area = n.area AND d.period = n.period AND d.metric = $2"
            " WHERE n.metric = $1 AND n.period_kind = $3 AND n.value IS NOT NULL"
            "   AND d.value IS NOT NULL AND d.value <> 0",
            4, params, err, errlen);
    } else {
        return 0;
    }
    if (!res)
        return -1;
    for (int i = 0; i < PQntuples(res); i++) {
        int g = area_row(p, PQgetvalue(res, i, 0));
        int t = atoi(PQgetvalue(res, i, 1)) - p->first_year;
        if (g < 0 || t < 0 || t >= p->n)
            continue;
        p->area_y[g * p->n + t] = strtod(PQgetvalue(res, i, 2), NULL);
        p->n_published++;
    }
    PQclear(res);
    return 0;
}

int fr_min_train(const struct fr_panel *p)
{
    return p->n >= 10 ? 5 : 3;
}


void fr_fc_panel(const struct fr_panel *p, struct fc_panel *out)
{
    memset(out, 0, sizeof *out);
    out->y = p->y;
    out->n_series = p->n_series;
    out->n = p->n;
    out->period = 1;
    out->kind = p->kind;
    out->region = p->region;
    out->neighbours = p->neighbours;
    out->n_neighbours = FR_NEIGHBOURS;
    out->scored = p->scored;
}
