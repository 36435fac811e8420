/* A profile as the API's JSON document (include/profile.h): one renderer
 * of struct profile among the download, the pages and the evidence pack. */
#include "profile.h"

#include "attribution.h"
#include "tables_query.h"

static json_t *summary_json(const struct table_summary *s, const struct profile_metric *m)
{
    json_t *o = table_summary_json(s, m->dp, m->additive);
    if (o)
        table_summary_value_json(o, s, m->dp);
    return o;
}

static json_t *places_json(const struct profile_place *v, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < n; i++)
        if (json_array_append_new(a, json_pack("{s:o, s:o, s:o}", "code", tq_jstr(v[i].code),
                                               "name", tq_jstr(v[i].name), "effective",
                                               tq_jstr(v[i].effective))) != 0) {
            json_decref(a);
            return NULL;
        }
    return a;
}

static json_t *authority_json(const struct profile_authority *a)
{
    json_t *nbs = json_array();
    for (size_t i = 0; nbs && i < a->n_neighbours; i++) {
        const struct profile_neighbour *nb = &a->neighbours[i];
        if (json_array_append_new(nbs, json_pack("{s:I, s:o, s:o, s:o}", "rank",
                                                 (json_int_t)nb->rank, "code", tq_jstr(nb->code),
                                                 "name", tq_jstr(nb->name), "closeness",
                                                 tq_jstr(nb->closeness))) != 0) {
            json_decref(nbs);
            return NULL;
        }
    }
    return json_pack("{s:o, s:o, s:o, s:o, s:o, s:b, s:o, s:o, s:o, s:o, s:o}", "code",
                     tq_jstr(a->code), "old_la_code", tq_jstr(a->old_la_code), "name",
                     tq_jstr(a->name), "region_code", tq_jstr(a->region_code), "region_name",
                     tq_jstr(a->region_name), "consent_to_name", a->consent_to_name, "valid_to",
                     tq_jstr(a->valid_to), "valid_from", tq_jstr(a->valid_from), "predecessors",
                     places_json(a->predecessors, a->n_predecessors), "successors",
                     places_json(a->successors, a->n_successors), "neighbours", nbs);
}

/* One period of a metric's history or quarters. */
static json_t *xsec_json(const struct profile_xsec *x, const struct profile_metric *m)
{
    char band[2] = {x->band, 0};
    int h = x->hidden;
    json_t *o = json_pack("{s:s, s:o, s:o, s:b, s:o, s:I, s:o, s:o, s:o, s:o, s:o}", "period",
                          x->period, "value", h ? json_null() : table_cell_json(&x->cur, m->dp),
                          "symbol", h ? json_string("x") : table_symbol_json(&x->cur),
                          "published", !h && x->cur.exists && x->cur.published, "rank_england",
                          h || !x->rank_england ? json_null() : json_integer(x->rank_england),
                          "n_england", (json_int_t)x->n_england, "band",
                          h || !x->band ? json_null() : json_string(band), "rank_neighbours",
                          h || !x->rank_neighbours ? json_null()
                                                   : json_integer(x->rank_neighbours),
                          "neighbours", summary_json(&x->neighbours, m), "region",
                          summary_json(&x->region, m), "england", summary_json(&x->england, m));
    /* A DfE footnote (sql/170): the figure is shown, not ranked. */
    if (o && !h && x->reason)
        json_object_set_new(o, x->cur.has_value ? "note" : "reason", json_string(x->reason));
    return o;
}

static json_t *xsecs_json(const struct profile_xsec *v, size_t n, const struct profile_metric *m)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < n; i++)
        if (json_array_append_new(a, xsec_json(&v[i], m)) != 0) {
            json_decref(a);
            return NULL;
        }
    return a;
}

static json_t *series_json(const struct profile_metric *m)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < m->n_series; i++) {
        const struct profile_point *pt = &m->series[i];
        json_t *o = json_pack("{s:s, s:o, s:o, s:b}", "period", pt->period, "value",
                              table_cell_json(&pt->cell, m->dp), "symbol",
                              table_symbol_json(&pt->cell), "published", pt->cell.published);
        if (o && pt->note)
            json_object_set_new(o, "note", json_string(pt->note));
        if (json_array_append_new(a, o) != 0) {
            json_decref(a);
            return NULL;
        }
    }
    return a;
}

static json_t *metric_json(const struct profile_metric *m, int history)
{
    const struct profile_xsec *x = &m->shown;
    int hidden = x->hidden;
    char band[2] = {x->band, 0};
    json_t *o = json_pack("{s:s, s:o, s:o, s:I, s:o, s:o, s:o, s:o}", "id", m->id, "label",
                          tq_jstr(m->label), "unit", tq_jstr(m->unit), "dp", (json_int_t)m->dp,
                          "polarity", tq_jstr(m->polarity_name), "kind", tq_jstr(m->kind),
                          "annual_period", tq_jstr(m->annual_period), "period",
                          tq_jstr(x->period));
    if (!o)
        return NULL;
    /* whether England's and a region's total means something (sql/192) */
    json_object_set_new(o, "additive", json_boolean(m->additive));
    json_object_set_new(o, "value", hidden ? json_null() : table_cell_json(&x->cur, m->dp));
    /* A withheld figure reads as no figure at all: whether an authority
     * submitted is itself not public (docs/disclosure.md). */
    json_object_set_new(o, "symbol", hidden ? json_string("x") : table_symbol_json(&x->cur));
    json_object_set_new(o, "published", x->cur.exists && !hidden
                                            ? json_boolean(x->cur.published)
                                            : json_null());
    /* a figure shown with a DfE footnote carries it as its note; a missing
     * one says why as its reason; never both */
    if (x->reason && !hidden)
        json_object_set_new(o, x->cur.has_value ? "note" : "reason", json_string(x->reason));
    json_object_set_new(o, "rank_england",
                        hidden || !x->rank_england ? json_null() : json_integer(x->rank_england));
    json_object_set_new(o, "n_england", json_integer((json_int_t)x->n_england));
    /* A figure shown but not ranked because it is (nearly) the only one the
     * caller sees: say so rather than "1 of 1" (include/tables.h). */
    if (x->rank_alone)
        json_object_set_new(o, "rank_note",
                            json_string("not ranked: it is the only figure for its period "
                                        "that can be shown here, and a rank among one "
                                        "figure says nothing"));
    json_object_set_new(o, "band", hidden || !x->band ? json_null() : json_string(band));
    json_object_set_new(o, "rank_region",
                        hidden || !x->rank_region ? json_null() : json_integer(x->rank_region));
    json_object_set_new(o, "n_region", json_integer((json_int_t)x->region.n));
    json_object_set_new(o, "rank_neighbours", hidden || !x->rank_neighbours
                                                  ? json_null()
                                                  : json_integer(x->rank_neighbours));
    /* the rank's n: the subject among its neighbours, as rank_region's n
     * counts the subject among its region (the neighbours' summary is over
     * the neighbours alone: its n is one less) */
    json_object_set_new(o, "n_neighbours", json_integer((json_int_t)x->n_neighbours));
    json_object_set_new(o, "england", summary_json(&x->england, m));
    json_object_set_new(o, "region", summary_json(&x->region, m));
    json_object_set_new(o, "neighbours", summary_json(&x->neighbours, m));
    json_object_set_new(o, "series", series_json(m));
    if (history) {
        json_object_set_new(o, "description", tq_jstr(m->description));
        json_object_set_new(o, "history", xsecs_json(m->history, m->n_history, m));
        json_object_set_new(o, "quarters", xsecs_json(m->quarters, m->n_quarters, m));
    }
    return o;
}

static json_t *growth_json(const struct profile *p)
{
    json_t *series = json_array();
    for (size_t i = 0; series && i < p->n_growth; i++) {
        const struct profile_growth_point *g = &p->growth[i];
        json_t *o = json_pack(
            "{s:s, s:o, s:o, s:o, s:I, s:o, s:o}", "period", g->period, "value",
            g->has_index ? json_real(g->index) : json_null(), "plans",
            g->has_plans ? tq_jnum(g->plans, 0) : json_null(), "nb_median",
            g->has_nb_median ? json_real(g->nb_median) : json_null(), "nb_n",
            (json_int_t)g->nb_n, "england", g->has_england ? json_real(g->england) : json_null(),
            "england_plans", g->has_england ? tq_jnum(g->england_plans, 0) : json_null());
        if (json_array_append_new(series, o) != 0) {
            json_decref(series);
            return NULL;
        }
    }
    return json_pack("{s:o, s:o}", "base", tq_jstr(p->growth_base), "series", series);
}

json_t *profile_to_json(const struct profile *p)
{
    json_t *metrics = json_array();
    for (size_t k = 0; metrics && k < p->n_metrics; k++)
        if (json_array_append_new(metrics, metric_json(&p->metrics[k], p->history)) != 0) {
            json_decref(metrics);
            return NULL;
        }
    json_t *doc = json_pack("{s:o, s:o, s:s, s:o, s:s}", "authority",
                            authority_json(&p->authority), "period", tq_jstr(p->period),
                            "visibility", p->visibility, "metrics", metrics, "attribution",
                            OGL_ATTRIBUTION);
    if (doc && p->history) {
        json_object_set_new(doc, "growth", growth_json(p));
        json_object_set_new(doc, "extra", json_incref(p->extra));
    }
    return doc;
}
