/* Authority profiles: every metric against neighbours, region and England,
 * and the time series (see include/tables_query.h). */
#include "codes.h"
#include "sheet.h"
#include "tables_query.h"

#include <csv.h>
#include <event2/buffer.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "db.h"
#include "http.h"
#include "log.h"
#include "metrics.h"
#include "tables_page.h"
#include "tables_xsec.h"

/* ---------------------------------------------------------------- profile */

/*
 * One query: the authority ('a'), the metrics ('m') with the period each
 * is shown for, the authority's own series ('s'), with $3 (pages) the
 * cross-sections ('x': every authority's figure) of every period, ordered
 * by period so that each (metric, period) is one run of rows, and
 * England's and the region's published figures ('z').  An API profile's
 * cross-sections come from the store (tables_xsec.h), read once for every
 * profile that shows them.  With $3 the 'a' row also carries what only pages show
 * (sources, forecasts, submitted staffing).
 */
const char TABLES_PROFILE_SQL[] =
    "WITH subj AS (SELECT * FROM authorities WHERE new_la_code = $1 OR old_la_code = $1"
    "              ORDER BY new_la_code LIMIT 1),"
    /* Not materialised: each use below is expanded with its own
     * conditions (one authority; one metric; one metric and period), which
     * PostgreSQL pushes into current_observations and into the one branch
     * of derived_observations that makes the metric, so nothing reads every
     * authority's every figure (it did: 200 ms a profile). */
    " src AS NOT MATERIALIZED ("
    "  SELECT authority, metric, period, period_start, value, symbol, published,"
    "         NULL::text AS reason, source, recorded_at FROM current_observations"
    "  UNION ALL"
    "  SELECT authority, metric, period, period_start, value,"
    "         CASE WHEN value IS NULL THEN 'x' END, published, reason, NULL, NULL"
    "  FROM derived_observations),"
    " own AS MATERIALIZED (SELECT * FROM src WHERE authority = (SELECT new_la_code FROM subj)),"
    /* For each metric the period shown (before $2 when given): the
     * subject's own latest figure that the caller may see (published, or
     * $4 the caller's authority, $5 admin, or consent), else the latest
     * public default period (sql/090).  A figure the caller may not see
     * never decides the period, so the choice says nothing about
     * unpublished figures (docs/disclosure.md). */
    " chosen AS ("
    "  SELECT m.id AS metric, coalesce(o.period, a.period) AS period FROM metrics m"
    "  LEFT JOIN LATERAL (SELECT s.period FROM own s CROSS JOIN subj j WHERE s.metric = m.id"
    "   AND ($2::date IS NULL OR s.period_start < $2::date)"
    "   AND (s.published OR $5 OR j.new_la_code = coalesce($4, '') OR j.consent_to_name)"
    "   ORDER BY s.period_start DESC, s.published DESC LIMIT 1) o ON true"
    "  LEFT JOIN LATERAL (SELECT d.period FROM default_periods d"
    "   WHERE o.period IS NULL AND d.metric = m.id"
    "   AND ($2::date IS NULL OR d.period_start < $2::date)"
    "   ORDER BY d.period_start DESC, d.published DESC LIMIT 1) a ON true"
    "  WHERE coalesce(o.period, a.period) IS NOT NULL)"
    " SELECT 'a' AS t, NULL AS metric, NULL AS period, s.new_la_code AS code,"
    "  s.region_code, NULL::int AS nb, NULL::text AS value, NULL::text AS symbol,"
    "  NULL::text AS published, NULL::text AS reason, '' AS ord,"
    "  json_build_object('code', s.new_la_code, 'old_la_code', s.old_la_code, 'name', s.name,"
    "   'region_code', s.region_code, 'region_name', s.region_name,"
    "   'consent_to_name', s.consent_to_name, 'valid_to', s.valid_to,"
    "   'valid_from', s.valid_from,"
    /* Boundary changes: the pages name predecessors and successors. */
    "   'predecessors', coalesce((SELECT json_agg(json_build_object('code', x.predecessor,"
    "     'name', p.name, 'effective', x.effective) ORDER BY x.predecessor)"
    "     FROM authority_successions x JOIN authorities p ON p.new_la_code = x.predecessor"
    "     WHERE x.successor = s.new_la_code), '[]'),"
    "   'successors', coalesce((SELECT json_agg(json_build_object('code', x.successor,"
    "     'name', p.name, 'effective', x.effective) ORDER BY x.successor)"
    "     FROM authority_successions x JOIN authorities p ON p.new_la_code = x.successor"
    "     WHERE x.predecessor = s.new_la_code), '[]'),"
    "   'neighbours', coalesce((SELECT json_agg(json_build_object('rank', n.rank,"
    "     'code', n.neighbour, 'name', b.name, 'closeness', n.closeness) ORDER BY n.rank)"
    "     FROM statistical_neighbours n JOIN authorities b ON b.new_la_code = n.neighbour"
    "     WHERE n.authority = s.new_la_code), '[]'))::text AS info,"
    "  CASE WHEN $3 THEN json_build_object("
    "   'generated_at', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI \"UTC\"'),"
    "   'data_version', data_version(),"
    "   'sources', coalesce((SELECT json_object_agg(w.metric, w.srcs) FROM ("
    "     SELECT u.metric, json_agg(json_build_object('source', u.source, 'recorded', u.rec,"
    "      'release', i.release, 'published', to_char(i.published, 'YYYY-MM-DD'))"
    "      ORDER BY i.published NULLS FIRST, u.rec, u.source) AS srcs FROM ("
    "      SELECT d.metric, z.source, max(z.rec) AS rec"
    "      FROM (SELECT id AS metric, id AS input FROM metrics UNION ALL"
    "            SELECT * FROM (" TABLES_DERIVED_INPUTS ") v(metric, input)) d"
    "      JOIN (SELECT metric, source, to_char(max(recorded_at), 'YYYY-MM-DD') AS rec FROM src"
    "            WHERE published AND source IS NOT NULL GROUP BY metric, source) z"
    "       ON z.metric = d.input GROUP BY d.metric, z.source) u"
    "      LEFT JOIN import_sources i ON i.source = u.source GROUP BY u.metric) w), '{}'),"
    /* Figures the import checks hold back (quarantined, not released):
     * the pages say which and why (Yorkshire and The Humber's 2022 new
     * plans carry the regional total). */
    "   'held_back', coalesce((SELECT json_agg(json_build_object('metric', q.metric,"
    "     'label', m.label, 'period', q.period, 'rule', q.rule, 'detail', q.detail)"
    "     ORDER BY m.sort_order, q.period) FROM import_quality q"
    "     JOIN metrics m ON m.id = q.metric"
    "     WHERE q.authority = s.new_la_code AND q.action = 'quarantine'"
    "      AND NOT EXISTS (SELECT 1 FROM import_quality_releases r WHERE r.quality_id = q.id)"
    "      AND NOT EXISTS (SELECT 1 FROM current_observations c WHERE c.authority = q.authority"
    "       AND c.metric = q.metric AND c.period = q.period)), '[]'),"
    "   'forecasts', coalesce((SELECT json_agg(json_build_object('metric', f.metric,"
    "     'stale', f.data_version < forecast_data_version(), 'doc', f.doc) ORDER BY m.sort_order)"
    "     FROM forecasts f JOIN metrics m ON m.id = f.metric"
    "     WHERE f.scope_code = s.new_la_code AND f.frequency = 'annual'), '[]'),"
    /* Council-submitted staffing is not published: shown only when the
     * authority agreed to be named beside its own submitted figures, or to
     * the authority itself ($4) and admins ($5). */
    "   'staffing', json_build_object('consent', s.consent_to_name,"
    "    'hidden', (SELECT count(*) FROM current_observations f WHERE f.authority = s.new_la_code"
    "      AND f.metric = 'case_officers_fte' AND NOT f.published AND NOT s.consent_to_name),"
    "    'rows', coalesce((SELECT json_agg(json_build_object('period', c.period,"
    "      'caseload', c.value, 'officers', f.value, 'per_officer', c.value / f.value,"
    "      'published', c.published AND f.published, 'source', f.source,"
    "      'recorded', to_char(greatest(c.recorded_at, f.recorded_at), 'YYYY-MM-DD'))"
    "      ORDER BY c.period_start, c.period)"
    "     FROM current_observations c JOIN current_observations f ON f.authority = c.authority"
    "      AND f.period = c.period AND f.metric = 'case_officers_fte' AND f.value > 0"
    "     WHERE c.authority = s.new_la_code AND c.metric = 'ehcp_caseload'"
    "      AND c.value IS NOT NULL"
    "      AND ((c.published AND f.published) OR s.consent_to_name OR $5"
    "           OR s.new_la_code = coalesce($4, ''))), '[]'))"
    "  )::text END AS extra"
    " FROM subj s"
    " UNION ALL"
    " SELECT 'm', m.id, c.period, NULL, NULL, NULL, NULL, NULL, NULL, NULL,"
    "  lpad(m.sort_order::text, 6, '0'),"
    "  json_build_object('label', m.label, 'unit', m.unit, 'dp', m.dp,"
    "   'polarity', m.polarity, 'kind', m.kind, 'annual_period', m.annual_period,"
    "   'additive', m.additive, 'description', m.description, 'ratio_scale', (SELECT d.sign * d.scale"
    "    FROM derived_metrics d WHERE d.metric = m.id AND d.formula = 'ratio'),"
    /* Pages: the quarters that are public defaults (sql/090), whose
     * England and region aggregates anyone's quarterly chart draws. */
    "   'default_quarters', CASE WHEN $3 THEN (SELECT json_agg(d.period) FROM default_periods d"
    "    WHERE d.metric = m.id AND d.period LIKE '% Q_') END)::text, NULL"
    " FROM metrics m LEFT JOIN chosen c ON c.metric = m.id WHERE EXISTS (SELECT 1 FROM subj)"
    " UNION ALL"
    " SELECT 'x', s.metric, s.period, a.new_la_code, a.region_code, NULL::int,"
    /* A DfE footnote the import checks carry (sql/170) travels as the
     * reason: with a value, the figure is shown but not ranked. */
    "  s.value::text, s.symbol, figure_state(s.published, s.authority, s.metric, s.period),"
    "  coalesce(fn.note, s.reason), s.period_start::text || ' ' || s.period,"
    "  a.consent_to_name::text,"
    TABLES_RATIO_INPUTS_TEXT
    " FROM (SELECT * FROM src WHERE $3"
    /* held figures no longer in force (sql/181): in aggregates only */
    "  UNION ALL SELECT authority, metric, period, period_start, NULL, NULL, false, NULL, NULL,"
    "   NULL FROM figures_held_out WHERE $3) s"
    " JOIN authorities a ON a.new_la_code = s.authority"
    " LEFT JOIN figure_notes fn ON fn.authority = s.authority AND fn.metric = s.metric"
    "  AND fn.period = s.period"
    /* A derived rate's numerator and denominator, for England's and the
     * region's ratio of sums where nothing is published: on pages the
     * quarters (council submissions; the DfE publishes its years by area);
     * an API profile's from the store (TABLES_XSEC_SQL, every period). */
    " LEFT JOIN derived_metrics dmx ON dmx.metric = s.metric AND dmx.formula = 'ratio'"
    "  AND (NOT $3 OR s.period LIKE '% Q_')"
    TABLES_RATIO_INPUTS_SQL
    " UNION ALL"
    " SELECT 's', s.metric, s.period, NULL, NULL, NULL, s.value::text, s.symbol,"
    "  s.published::text, coalesce(fn.note, s.reason), s.period_start::text || ' ' || s.period,"
    "  NULL, NULL"
    " FROM own s LEFT JOIN figure_notes fn ON fn.authority = s.authority"
    "  AND fn.metric = s.metric AND fn.period = s.period"
    " UNION ALL"
    /* England's and the subject's region's figures as the DfE publishes
     * them (sql/091), for the periods shown ($3: all). */
    " SELECT 'z', f.metric, f.period, f.area, NULL, NULL, f.value::text, f.symbol, 'true',"
    "  NULL, f.period_start::text || ' ' || f.period, NULL, NULL"
    " FROM area_figures f CROSS JOIN subj j"
    " WHERE f.area IN ('E92000001', j.region_code)"
    "  AND ($3 OR (f.metric, f.period) IN (SELECT metric, period FROM chosen))"
    " ORDER BY 1, 11, 2";

struct profile_metric {
    const char *id, *period;
    json_t *info;
    json_t *series;
    json_t *history;    /* pages only */
    json_t *quarters;   /* pages only: the quarterly cross-sections drawn */
    int dp, additive;
    double ratio_scale;     /* a derived rate's sign x scale (sql/150), else 0 */
    enum polarity pol;
};

static json_t *profile_summary(const struct table_summary *s, int dp, int additive)
{
    json_t *o = table_summary_json(s, dp, additive);
    if (o)
        table_summary_value_json(o, s, dp);
    return o;
}

/* The 'z' rows (England's and the subject region's published figures),
 * sorted by metric, period and area for lookup. */
struct area_index {
    const PGresult *res;
    int *rows;
    size_t n;
};

static const PGresult *area_sort_res;   /* qsort's context; loop thread only */

static int area_key_cmp(const char *metric, const char *period, const char *area,
                        const PGresult *res, int row)
{
    int c = strcmp(metric, PQgetvalue(res, row, 1));
    if (c == 0)
        c = strcmp(period, PQgetvalue(res, row, 2));
    return c ? c : strcmp(area, PQgetvalue(res, row, 3));
}

static int area_row_cmp(const void *a, const void *b)
{
    int rb = *(const int *)b;
    int ra = *(const int *)a;
    return area_key_cmp(PQgetvalue(area_sort_res, ra, 1), PQgetvalue(area_sort_res, ra, 2),
                        PQgetvalue(area_sort_res, ra, 3), area_sort_res, rb);
}

/* Indexes the 'z' rows among [z0, nres).  Returns 0, or -1 when out of memory. */
static int area_index_build(struct area_index *ai, const PGresult *res, int z0, int nres)
{
    memset(ai, 0, sizeof *ai);
    ai->res = res;
    ai->rows = calloc((size_t)(nres - z0) + 1, sizeof *ai->rows);
    if (!ai->rows)
        return -1;
    for (int i = z0; i < nres; i++)
        if (PQgetvalue(res, i, 0)[0] == 'z')
            ai->rows[ai->n++] = i;
    area_sort_res = res;
    qsort(ai->rows, ai->n, sizeof *ai->rows, area_row_cmp);
    return 0;
}

/* The published figure of area for metric and period into c (exists = 0:
 * none published). */
static void area_cell(const struct area_index *ai, const char *area, const char *metric,
                      const char *period, struct table_cell *c)
{
    memset(c, 0, sizeof *c);
    size_t lo = 0, hi = ai->n;
    while (area && period && lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int cmp = area_key_cmp(metric, period, area, ai->res, ai->rows[mid]);
        if (cmp == 0) {
            tq_read_cell(ai->res, ai->rows[mid], 6, c);
            return;
        }
        if (cmp < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
}

/* The subject's statistical neighbours (its 'a' row's "neighbours"), for
 * the neighbour rank of each row of a cross-section: 0 the subject itself,
 * -1 not a neighbour. */
struct nbmap {
    const char *subject;
    const json_t *list;         /* borrowed: [{"rank", "code", ...}] */
};

static int nbmap_rank(const struct nbmap *nb, const char *code)
{
    if (strcmp(code, nb->subject) == 0)
        return 0;
    size_t i;
    const json_t *o;
    json_array_foreach(nb->list, i, o) {
        const char *c = json_string_value(json_object_get(o, "code"));
        if (c && strcmp(c, code) == 0)
            return (int)json_integer_value(json_object_get(o, "rank"));
    }
    return -1;
}

/* The subject among every authority's figures for one metric and period. */
struct xsec {
    int hidden;                 /* the subject's figure is unpublished and may not be named */
    int rank_nb, rank_en, rank_rg;
    char band;
    struct table_cell cur;
    const char *reason;
    size_t n_en;
    size_t n_nb;                /* ranked among the neighbours: they and the subject */
    struct table_summary england, region, neighbours;
    struct table_cell england_area;     /* England's published figure (exists 0: none) */
};

/* Reads the 'x' rows [j0, j1) of metric (and period when not NULL) into
 * rows, adding an empty row for the subject when it has no figure; the
 * subject's index into *focal and its reason into *reason.  Returns the
 * number of rows. */
static size_t xsec_fill(const PGresult *res, int j0, int j1, const char *metric,
                        const char *period, const struct nbmap *nb, const char *subject_region,
                        struct table_row *rows, long *focal, const char **reason)
{
    const char *subject = nb->subject;
    size_t n = 0;
    *focal = -1;
    for (int j = j0; j < j1; j++) {
        if (strcmp(PQgetvalue(res, j, 1), metric) != 0 ||
            (period && strcmp(PQgetvalue(res, j, 2), period) != 0))
            continue;
        struct table_row *row = &rows[n];
        memset(row, 0, sizeof *row);
        row->code = PQgetvalue(res, j, 3);
        row->region_code = PQgetvalue(res, j, 4);
        row->neighbour_rank = nbmap_rank(nb, row->code);
        row->consent_to_name = PQgetvalue(res, j, 11)[0] == 't';
        tq_read_cell(res, j, 6, &row->cur);
        row->note = row->cur.has_value ? tq_cell(res, j, 9) : NULL;
        /* "num den held_num held_den" (TABLES_RATIO_INPUTS_TEXT) */
        const char *nd = tq_cell(res, j, 12);
        if (nd) {
            char *end = NULL;
            row->num = strtod(nd, &end);
            row->den = strtod(end, &end);
            row->held_num = strtod(end, &end);
            row->held_den = strtod(end, NULL);
            row->has_ratio = isfinite(row->num) && isfinite(row->den);
            row->has_held_ratio = isfinite(row->held_num) && isfinite(row->held_den);
        }
        if (strcmp(row->code, subject) == 0) {
            *focal = (long)n;
            *reason = tq_cell(res, j, 9);
        }
        n++;
    }
    if (*focal < 0) {
        /* No figure for the subject: the others are still summarised. */
        memset(&rows[n], 0, sizeof rows[n]);
        rows[n].code = subject;
        rows[n].region_code = subject_region;
        *focal = (long)n++;
    }
    return n;
}

/* Reads the 'x' rows [j0, j1) of metric (and period when not NULL) into
 * rows (room for j1 - j0 + 1), and ranks, bands and summarises them as
 * table_compute does for the API's tables, once as the neighbours' table
 * and once as the region's, each from the rows as read (table_compute
 * withholds what the caller may not see, and the region's aggregates are
 * over the figures as recorded).  Returns 0, or -1 when out of memory. */
static int xsec_compute(const PGresult *res, int j0, int j1, const struct area_index *ai,
                        const char *metric, const char *period, const struct nbmap *nb,
                        const char *subject_region, const struct profile_metric *pm,
                        const struct auth_caller *caller, struct table_row *rows,
                        struct xsec *out)
{
    long focal = -1;
    memset(out, 0, sizeof *out);
    size_t n = xsec_fill(res, j0, j1, metric, period, nb, subject_region, rows, &focal,
                         &out->reason);
    struct table tn = {.rows = rows, .n = n, .polarity = pm->pol, .dp = pm->dp,
                       .group = GROUP_NEIGHBOURS, .focal = focal, .caller = *caller,
                       .min_contributors = MIN_CONTRIBUTORS, .mask_key = "profile",
                       .table_id = metric, .additive = pm->additive,
                       .ratio_scale = pm->ratio_scale};
    area_cell(ai, CODE_ENGLAND, metric, period, &tn.england_area);
    area_cell(ai, subject_region, metric, period, &tn.region_area);
    if (table_compute(&tn) != 0)
        return -1;
    const struct table_row *f = &rows[focal];
    out->hidden = f->withheld || f->masked;
    out->rank_nb = f->rank;
    out->rank_en = f->rank_england;
    out->band = f->band;
    out->cur = f->cur;
    out->england = tn.england;
    out->england_area = tn.england_area;
    out->neighbours = tn.neighbours;
    out->n_en = tn.n_ranked_england;
    out->n_nb = tn.n_ranked_group;
    table_release(&tn);
    struct table tr = tn;
    tr.group = GROUP_REGION;
    tr.order = NULL;
    tr.n = xsec_fill(res, j0, j1, metric, period, nb, subject_region, rows, &tr.focal,
                     &out->reason);
    if (table_compute(&tr) != 0)
        return -1;
    out->rank_rg = rows[focal].rank;
    out->region = tr.region;
    table_release(&tr);
    return 0;
}

/* Growth in plans: each authority's plans as an index of its figure in the
 * base census (the subject's first from 2015 on), the subject's index,
 * the median index of its neighbours and England's total plans as an
 * index of England's total in the base year. */
struct growth {
    const char *base;           /* NULL: no base */
    const char **codes;         /* authorities with a base figure; borrowed */
    double *base_values;
    size_t n_base;
    double base_total;
    int base_total_ok;
    json_t *series;
};

static double growth_base_of(const struct growth *g, const char *code)
{
    for (size_t i = 0; i < g->n_base; i++)
        if (strcmp(g->codes[i], code) == 0)
            return g->base_values[i];
    return NAN;
}

/* rows[0..n) is the ehcp_caseload run of period (after xsec_compute: the
 * values are rounded as published).  Returns 0, or -1 when out of memory. */
static int growth_add(struct growth *g, const char *period, const struct table_row *rows,
                      size_t n, const char *subject, const struct auth_caller *caller,
                      const struct table_cell *eng_area)
{
    int rc = -1;
    double *vals = calloc(n + 1, sizeof *vals), *scratch = calloc(n + 1, sizeof *scratch);
    int *present = calloc(n + 1, sizeof *present), *unpub = calloc(n + 1, sizeof *unpub);
    if (!vals || !scratch || !present || !unpub)
        goto done;
    int is_base = strcmp(period, g->base) == 0;
    if (is_base) {
        g->codes = calloc(n + 1, sizeof *g->codes);
        g->base_values = calloc(n + 1, sizeof *g->base_values);
        if (!g->codes || !g->base_values)
            goto done;
    }
    double plans = NAN, index = NAN;
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        const struct table_row *row = &rows[i];
        int visible = row->cur.has_value &&
                      (row->cur.published || table_may_name(caller, row->code,
                                                            row->consent_to_name));
        if (is_base && row->cur.has_value) {
            g->codes[g->n_base] = row->code;
            g->base_values[g->n_base++] = row->cur.value;
        }
        if (strcmp(row->code, subject) == 0 && visible) {
            double b = growth_base_of(g, row->code);
            plans = row->cur.value;
            if (b > 0)
                index = 100.0 * plans / b;
        }
        struct table_cell held;
        const struct table_cell *ag = table_cell_for_aggregates(caller, &row->cur,
                                                                row->consent_to_name, &held);
        vals[m] = ag->has_value ? ag->value : 0;
        present[m] = ag->has_value && table_cell_aggregated(caller, ag, row->consent_to_name);
        unpub[m] = ag->exists && !ag->published;
        m++;
    }
    struct table_summary eng, nbs;
    table_summarise(vals, present, unpub, m, MIN_CONTRIBUTORS, caller->kind == CALLER_ADMIN,
                    scratch, &eng);
    /* England's plans as the DfE publishes them where it does (a sum of
     * authorities falls short by their suppressed cells). */
    if (eng_area->exists && eng_area->has_value) {
        eng.total = eng_area->value;
        eng.suppressed = 0;
        eng.n = eng.n ? eng.n : 1;
    }
    if (is_base) {
        g->base_total = eng.total;
        g->base_total_ok = !eng.suppressed && eng.n > 0 && eng.total > 0;
    }
    m = 0;
    for (size_t i = 0; i < n; i++) {
        const struct table_row *row = &rows[i];
        double b = growth_base_of(g, row->code);
        struct table_cell held;
        const struct table_cell *ag = table_cell_for_aggregates(caller, &row->cur,
                                                                row->consent_to_name, &held);
        if (row->neighbour_rank < 1 || !ag->has_value || !(b > 0) ||
            !table_cell_aggregated(caller, ag, row->consent_to_name))
            continue;
        vals[m] = 100.0 * ag->value / b;
        present[m] = 1;
        unpub[m++] = !ag->published;
    }
    table_summarise(vals, present, unpub, m, MIN_CONTRIBUTORS, caller->kind == CALLER_ADMIN,
                    scratch, &nbs);
    int eng_ok = g->base_total_ok && !eng.suppressed && eng.n > 0;
    int nb_ok = !nbs.suppressed && nbs.n > 0;
    json_t *o = json_pack("{s:s, s:o, s:o, s:o, s:I, s:o, s:o}", "period", period, "value",
                          isfinite(index) ? json_real(table_round(index, 1)) : json_null(),
                          "plans", isfinite(plans) ? tq_jnum(plans, 0) : json_null(),
                          "nb_median", nb_ok ? json_real(table_round(nbs.median, 1))
                                             : json_null(),
                          "nb_n", (json_int_t)nbs.n, "england",
                          eng_ok ? json_real(table_round(100.0 * eng.total / g->base_total, 1))
                                 : json_null(),
                          "england_plans", eng_ok ? tq_jnum(eng.total, 0) : json_null());
    if (!o || json_array_append_new(g->series, o) != 0)
        goto done;
    rc = 0;
done:
    free(vals);
    free(scratch);
    free(present);
    free(unpub);
    return rc;
}

static json_t *xsec_json(const struct xsec *x, const struct profile_metric *pm,
                         const char *period)
{
    char band[2] = {x->band, 0};
    int h = x->hidden;
    json_t *o = json_pack("{s:s, s:o, s:o, s:b, s:o, s:I, s:o, s:o, s:o, s:o, s:o}", "period", period,
                     "value", h ? json_null() : table_cell_json(&x->cur, pm->dp), "symbol",
                     h ? json_string("x") : table_symbol_json(&x->cur), "published",
                     !h && x->cur.exists && x->cur.published, "rank_england",
                     h || !x->rank_en ? json_null() : json_integer(x->rank_en), "n_england",
                     (json_int_t)x->n_en, "band",
                     h || !x->band ? json_null() : json_string(band), "rank_neighbours",
                     h || !x->rank_nb ? json_null() : json_integer(x->rank_nb), "neighbours",
                     profile_summary(&x->neighbours, pm->dp, pm->additive), "region",
                     profile_summary(&x->region, pm->dp, pm->additive), "england",
                     profile_summary(&x->england, pm->dp, pm->additive));
    /* A DfE footnote (sql/170): the figure is shown, not ranked. */
    if (o && !h && x->reason)
        json_object_set_new(o, x->cur.has_value ? "note" : "reason", json_string(x->reason));
    return o;
}

/* Builds the profile document from TABLES_PROFILE_SQL's rows; history adds the
 * pages' parts (and its rows hold the cross-sections), else runs[k] is the
 * cross-section of the k-th 'm' row's metric and period (tables_xsec.h).
 * NULL with *status 404 (no such authority) or 500. */
static json_t *profile_build(const struct tq *q, const PGresult *res, int history,
                             const struct xsec_run *runs, int *status)
{
    json_t *authority = NULL, *metrics_out = NULL, *doc = NULL, *extra = NULL;
    struct profile_metric *pm = NULL;
    struct table_row *rows = NULL;
    struct growth g;
    memset(&g, 0, sizeof g);
    struct area_index ai;
    memset(&ai, 0, sizeof ai);
    size_t nm = 0;
    int nres = PQntuples(res);
    *status = 500;
    if (nres == 0 || strcmp(PQgetvalue(res, 0, 0), "a") != 0) {
        *status = 404;
        return NULL;
    }
    authority = json_loads(PQgetvalue(res, 0, 11), 0, NULL);
    if (history && !PQgetisnull(res, 0, 12))
        extra = json_loads(PQgetvalue(res, 0, 12), 0, NULL);
    const char *subject = PQgetvalue(res, 0, 3);
    const char *subject_region = PQgetvalue(res, 0, 4);
    int subject_consent = authority && json_is_true(json_object_get(authority,
                                                                     "consent_to_name"));
    struct nbmap nb = {subject, json_object_get(authority, "neighbours")};
    /* Room for the longest cross-section: the query's rows, or the store's. */
    size_t nrows = (size_t)nres;
    for (int i = 1; !history && i < nres && PQgetvalue(res, i, 0)[0] == 'm'; i++)
        if (runs[i - 1].res && (size_t)(runs[i - 1].j1 - runs[i - 1].j0) > nrows)
            nrows = (size_t)(runs[i - 1].j1 - runs[i - 1].j0);
    pm = calloc((size_t)nres, sizeof *pm);
    rows = calloc(nrows + 1, sizeof *rows);
    metrics_out = json_array();
    g.series = json_array();
    if (!authority || !pm || !rows || !metrics_out || !g.series || (history && !extra))
        goto done;
    int i = 1;
    for (; i < nres && PQgetvalue(res, i, 0)[0] == 'm'; i++) {
        struct profile_metric *p = &pm[nm];
        p->id = PQgetvalue(res, i, 1);
        p->period = tq_cell(res, i, 2);
        p->info = json_loads(PQgetvalue(res, i, 11), 0, NULL);
        p->series = json_array();
        p->history = json_array();
        p->quarters = json_array();
        nm++;
        if (!p->info || !p->series || !p->history || !p->quarters)
            goto done;
        json_t *info = p->info;
        p->dp = (int)json_integer_value(json_object_get(info, "dp"));
        if (table_polarity_parse(json_string_value(json_object_get(info, "polarity")),
                                 &p->pol) != 0)
            p->pol = POLARITY_NEUTRAL;
        p->additive = json_is_true(json_object_get(info, "additive"));
        p->ratio_scale = json_number_value(json_object_get(info, "ratio_scale"));
    }
    /* Then the 's' (series) rows, then the 'x' (cross-section) rows: the
     * ORDER BY sorts by type letter. */
    int first_x = nres, end_x = nres, first_s = i;
    for (; i < nres; i++) {
        char type = PQgetvalue(res, i, 0)[0];
        if (type == 'x') {
            if (first_x == nres)
                first_x = i;
            end_x = i + 1;
            continue;
        }
        if (type != 's')
            continue;
        const char *mid = PQgetvalue(res, i, 1);
        for (size_t k = 0; k < nm; k++) {
            if (strcmp(pm[k].id, mid) != 0)
                continue;
            struct table_cell c;
            tq_read_cell(res, i, 6, &c);
            int hide = c.exists && !c.published &&
                       !table_may_name(&q->caller, subject, subject_consent);
            if (hide)
                break;  /* left out, as if never submitted (docs/disclosure.md) */
            json_t *pt = json_pack("{s:s, s:o, s:o, s:b}", "period", PQgetvalue(res, i, 2),
                                   "value", hide ? json_null() : table_cell_json(&c, pm[k].dp),
                                   "symbol", hide ? json_string("c") : table_symbol_json(&c),
                                   "published", c.published);
            if (pt && c.has_value && !PQgetisnull(res, i, 9))
                json_object_set_new(pt, "note", json_string(PQgetvalue(res, i, 9)));
            if (!pt || json_array_append_new(pm[k].series, pt) != 0)
                goto done;
            /* The growth index starts at the first census from 2015 on. */
            if (history && !g.base && strcmp(mid, "ehcp_caseload") == 0 && c.has_value &&
                !hide && strcmp(PQgetvalue(res, i, 2), "2015") >= 0)
                g.base = PQgetvalue(res, i, 2);
            break;
        }
    }

    if (area_index_build(&ai, res, first_s, nres) != 0)
        goto done;
    if (history) {
        /* Every (metric, period) run of 'x' rows, in period order. */
        for (int j0 = first_x; j0 < end_x;) {
            const char *mid = PQgetvalue(res, j0, 1), *per = PQgetvalue(res, j0, 2);
            int j1 = j0 + 1;
            while (j1 < end_x && strcmp(PQgetvalue(res, j1, 1), mid) == 0 &&
                   strcmp(PQgetvalue(res, j1, 2), per) == 0)
                j1++;
            /* Charts of annual figures: quarters (council submissions) are
             * a different frequency and stay out of the history; they go to
             * the quarterly series (its own chart, its own axis) when the
             * caller sees the subject's figure of the quarter or the
             * quarter is a public default (sql/090): a quarter a few
             * councils sent is never drawn for the public. */
            int quarter = strstr(per, " Q") != NULL;
            for (size_t k = 0; k < nm; k++) {
                if (strcmp(pm[k].id, mid) != 0)
                    continue;
                struct xsec x;
                if (xsec_compute(res, j0, j1, &ai, mid, per, &nb, subject_region, &pm[k],
                                 &q->caller, rows, &x) != 0)
                    goto done;
                if (quarter) {
                    int is_default = 0;
                    size_t d;
                    json_t *dq;
                    json_array_foreach(json_object_get(pm[k].info, "default_quarters"), d, dq)
                        is_default |= json_is_string(dq) &&
                                      strcmp(json_string_value(dq), per) == 0;
                    if (is_default || (!x.hidden && x.cur.has_value)) {
                        json_t *o = xsec_json(&x, &pm[k], per);
                        if (!o || json_array_append_new(pm[k].quarters, o) != 0)
                            goto done;
                    }
                    break;
                }
                json_t *o = xsec_json(&x, &pm[k], per);
                if (!o || json_array_append_new(pm[k].history, o) != 0)
                    goto done;
                if (g.base && strcmp(mid, "ehcp_caseload") == 0 &&
                    (g.codes || strcmp(per, g.base) == 0) &&
                    growth_add(&g, per, rows, (size_t)(j1 - j0), subject, &q->caller,
                               &x.england_area) != 0)
                    goto done;
                break;
            }
            j0 = j1;
        }
    }

    for (size_t k = 0; k < nm; k++) {
        json_t *info = pm[k].info;
        struct xsec x;
        const PGresult *xr = history ? res : runs[k].res;
        int x0 = history ? first_x : runs[k].j0, x1 = history ? end_x : runs[k].j1;
        if (pm[k].period && !xr)
            goto done;  /* cannot happen: every period shown has its run */
        if (!pm[k].period) {
            memset(&x, 0, sizeof x);
        } else if (xsec_compute(xr, x0, x1, &ai, pm[k].id, pm[k].period, &nb, subject_region,
                                &pm[k], &q->caller, rows, &x) != 0) {
            goto done;
        }
        int hidden = x.hidden;
        char band[2] = {x.band, 0};
        json_t *o = json_pack("{s:s, s:O, s:O, s:O, s:O, s:O, s:O, s:o}", "id", pm[k].id,
                              "label", json_object_get(info, "label"), "unit",
                              json_object_get(info, "unit"), "dp", json_object_get(info, "dp"),
                              "polarity", json_object_get(info, "polarity"), "kind",
                              json_object_get(info, "kind"), "annual_period",
                              json_object_get(info, "annual_period"), "period",
                              tq_jstr(pm[k].period));
        if (!o)
            goto done;
        json_array_append_new(metrics_out, o);
        /* whether England's and a region's total means something (sql/192) */
        json_object_set_new(o, "additive", json_boolean(pm[k].additive));
        json_object_set_new(o, "value", hidden ? json_null() : table_cell_json(&x.cur, pm[k].dp));
        /* A withheld figure reads as no figure at all: whether an
         * authority submitted is itself not public (docs/disclosure.md). */
        json_object_set_new(o, "symbol", hidden ? json_string("x") : table_symbol_json(&x.cur));
        json_object_set_new(o, "published", x.cur.exists && !hidden
                                                ? json_boolean(x.cur.published)
                                                : json_null());
        /* a figure shown with a DfE footnote carries it as its note; a
         * missing one says why as its reason; never both */
        if (x.reason && !hidden)
            json_object_set_new(o, x.cur.has_value ? "note" : "reason", json_string(x.reason));
        json_object_set_new(o, "rank_england",
                            hidden || !x.rank_en ? json_null() : json_integer(x.rank_en));
        json_object_set_new(o, "n_england", json_integer((json_int_t)x.n_en));
        /* A figure shown but not ranked because it is (nearly) the only one
         * the caller sees: say so rather than "1 of 1" (include/tables.h). */
        if (!hidden && x.cur.has_value && x.n_en < TABLE_MIN_RANKED)
            json_object_set_new(o, "rank_note",
                                json_string("not ranked: it is the only figure for its period "
                                            "that can be shown here, and a rank among one "
                                            "figure says nothing"));
        json_object_set_new(o, "band", hidden || !x.band ? json_null() : json_string(band));
        json_object_set_new(o, "rank_region",
                            hidden || !x.rank_rg ? json_null() : json_integer(x.rank_rg));
        json_object_set_new(o, "n_region", json_integer((json_int_t)x.region.n));
        json_object_set_new(o, "rank_neighbours",
                            hidden || !x.rank_nb ? json_null() : json_integer(x.rank_nb));
        /* the rank's n: the subject among its neighbours, as rank_region's
         * n counts the subject among its region (the neighbours' summary
         * is over the neighbours alone: its n is one less) */
        json_object_set_new(o, "n_neighbours", json_integer((json_int_t)x.n_nb));
        json_object_set_new(o, "england", profile_summary(&x.england, pm[k].dp,
                                                          pm[k].additive));
        json_object_set_new(o, "region", profile_summary(&x.region, pm[k].dp, pm[k].additive));
        json_object_set_new(o, "neighbours", profile_summary(&x.neighbours, pm[k].dp,
                                                             pm[k].additive));
        json_object_set_new(o, "series", json_incref(pm[k].series));
        if (history) {
            json_object_set_new(o, "description",
                                json_incref(json_object_get(info, "description")));
            json_object_set_new(o, "history", json_incref(pm[k].history));
            json_object_set_new(o, "quarters", json_incref(pm[k].quarters));
        }
    }
    char vis[40];
    doc = json_pack("{s:O, s:o, s:s, s:O, s:s}", "authority", authority, "period",
                    q->period[0] ? json_string(q->period) : json_null(), "visibility",
                    tq_visibility_key(&q->caller, vis, sizeof vis), "metrics", metrics_out,
                    "attribution", OGL_ATTRIBUTION);
    if (doc && history) {
        json_object_set_new(doc, "growth", json_pack("{s:o, s:O}", "base", tq_jstr(g.base),
                                                     "series", g.series));
        json_object_set_new(doc, "extra", json_incref(extra));
    }
done:
    for (size_t k = 0; k < nm; k++) {
        json_decref(pm[k].info);
        json_decref(pm[k].series);
        json_decref(pm[k].history);
        json_decref(pm[k].quarters);
    }
    free(pm);
    free(rows);
    free(ai.rows);
    free(g.codes);
    free(g.base_values);
    json_decref(g.series);
    json_decref(authority);
    json_decref(metrics_out);
    json_decref(extra);
    return doc;
}

/* Answers from the profile's rows (q->res) and, for an API profile, the
 * cross-sections in q->xruns. */
static void profile_answer(struct request *r)
{
    struct tq *q = r->state;
    int status = 500;
    json_t *doc = profile_build(q, q->res, q->page != NULL, q->xruns, &status);
    if (!doc) {
        if (status == 404)
            tq_bad_param(r, 404, "code", "no such authority");
        else
            http_reply_oom(r);
        return;
    }
    if (!q->page && (q->csv || q->xlsx)) {
        struct sheet *rows = profile_sheet(doc);
        const json_t *a = json_object_get(doc, "authority");
        const char *name = json_string_value(json_object_get(a, "name"));
        char title[200];
        snprintf(title, sizeof title, "Profile: %s%s%s", name ? name : q->authority,
                 q->period[0] ? ", as at " : "", q->period);
        const char *extra[] = {"authority", q->authority, "as_at",
                               q->period[0] ? q->period : "latest", NULL};
        const struct sheet *sheets[] = {rows};
        if (rows && !sheet_failed(rows))
            table_reply_download(r, q, sheets, 1, title, extra);
        else
            http_reply_oom(r);
        sheet_free(rows);
        json_decref(doc);
        return;
    }
    if (!q->page) {
        tq_reply_json_doc(r, q, doc);
        return;
    }
    size_t len = 0;
    char *body = q->page->profile(r, doc, &len);
    json_decref(doc);
    if (!body) {
        http_reply_oom(r);
        return;
    }
    tq_store_and_reply(r, q, q->page->content_type, body, len);
}


/* The cross-sections an API profile lacked, read (TABLES_XSEC_SQL): kept in
 * the store, and the profile answered. */
static void profile_xsec_fetched(const struct db_reply *reply, void *arg)
{
    struct request *r = arg;
    struct tq *q = r->state;
    if (reply->error) {
        tq_db_failed(r, reply);
        return;
    }
    const PGresult *res = q->kept_res;
    const char **metrics = calloc(q->nxruns + 1, sizeof *metrics);
    const char **periods = calloc(q->nxruns + 1, sizeof *periods);
    struct xsec_run *runs = calloc(q->nxruns + 1, sizeof *runs);
    size_t n = 0;
    for (size_t k = 0; metrics && periods && runs && k < q->nxruns; k++)
        if (!q->xruns[k].res && !PQgetisnull(res, (int)k + 1, 2)) {
            metrics[n] = PQgetvalue(res, (int)k + 1, 1);
            periods[n++] = PQgetvalue(res, (int)k + 1, 2);
        }
    int rc = !metrics || !periods || !runs ? -1
           : xsec_store_put(r->app->xsec, r->app->tables_cache, reply->res, metrics, periods, n,
                            q->xsec_generation, runs);
    for (size_t k = 0, i = 0; rc == 0 && k < q->nxruns; k++)
        if (!q->xruns[k].res && !PQgetisnull(res, (int)k + 1, 2))
            q->xruns[k] = runs[i++];
    free(metrics);
    free(periods);
    free(runs);
    if (rc != 0) {
        http_reply_oom(r);
        return;
    }
    q->res = res;
    profile_answer(r);
}

/* A text[] literal of the strings (ids and periods: no quote or backslash,
 * escaped anyway).  Caller frees; NULL when out of memory. */
static char *text_array(const char *const *v, size_t n)
{
    size_t len = 3;
    for (size_t i = 0; i < n; i++)
        len += 2 * strlen(v[i]) + 3;
    char *out = malloc(len), *p = out;
    if (!out)
        return NULL;
    *p++ = '{';
    for (size_t i = 0; i < n; i++) {
        if (i)
            *p++ = ',';
        *p++ = '"';
        for (const char *c = v[i]; *c; c++) {
            if (*c == '"' || *c == '\\')
                *p++ = '\\';
            *p++ = *c;
        }
        *p++ = '"';
    }
    *p++ = '}';
    *p = '\0';
    return out;
}

void tables_profile_fetched(const struct db_reply *reply, void *arg)
{
    struct request *r = arg;
    struct tq *q = r->state;
    if (reply->error) {
        tq_db_failed(r, reply);
        return;
    }
    q->res = reply->res;
    int nres = PQntuples(reply->res);
    if (q->page || nres == 0 || strcmp(PQgetvalue(reply->res, 0, 0), "a") != 0) {
        profile_answer(r);
        return;
    }
    /* An API profile: each metric's cross-section in the period shown,
     * from the store, and those it lacks in one more query. */
    size_t nm = 0;
    while ((int)nm + 1 < nres && PQgetvalue(reply->res, (int)nm + 1, 0)[0] == 'm')
        nm++;
    q->xruns = calloc(nm + 1, sizeof *q->xruns);
    const char **metrics = calloc(nm + 1, sizeof *metrics);
    const char **periods = calloc(nm + 1, sizeof *periods);
    if (!q->xruns || !metrics || !periods) {
        free(metrics);
        free(periods);
        http_reply_oom(r);
        return;
    }
    q->nxruns = nm;
    size_t missing = 0;
    for (size_t k = 0; k < nm; k++) {
        int i = (int)k + 1;
        if (PQgetisnull(reply->res, i, 2))
            continue;
        if (!xsec_store_get(r->app->xsec, r->app->tables_cache, PQgetvalue(reply->res, i, 1),
                            PQgetvalue(reply->res, i, 2), &q->xruns[k])) {
            metrics[missing] = PQgetvalue(reply->res, i, 1);
            periods[missing++] = PQgetvalue(reply->res, i, 2);
        }
    }
    if (missing == 0) {
        free(metrics);
        free(periods);
        profile_answer(r);
        return;
    }
    char *ma = text_array(metrics, missing), *pa = text_array(periods, missing);
    free(metrics);
    free(periods);
    /* The rows are the callback's only: kept while the cross-sections are read. */
    q->kept_res = PQcopyResult(reply->res, PG_COPYRES_ATTRS | PG_COPYRES_TUPLES);
    q->res = NULL;
    q->xsec_generation = cache_generation(r->app->tables_cache);
    const char *params[2] = {ma, pa};
    int rc = !ma || !pa || !q->kept_res ? -1
           : tq_read(r, TABLES_XSEC_SQL, 2, params, profile_xsec_fetched);
    free(ma);
    free(pa);
    if (rc != 0)
        http_reply_oom(r);
}

/* The pool prepares statements by their text and PostgreSQL keeps one plan
 * per statement: pages ($3 true) read every period, so they get a text (and
 * a plan) of their own.  Loop thread only. */
const char *tables_profile_sql(int page)
{
    static char page_sql[sizeof TABLES_PROFILE_SQL + 32];
    if (!page)
        return TABLES_PROFILE_SQL;
    if (!page_sql[0])
        snprintf(page_sql, sizeof page_sql, "/* pages */ %s", TABLES_PROFILE_SQL);
    return page_sql;
}
