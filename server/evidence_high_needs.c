/*
 * The evidence pack's High Needs plan (GET /api/v1/authorities/{code}/evidence):
 * the trajectory's inputs taken from the pack's own profile document, the
 * pack's High Needs plan section, and the whole pack with a council's
 * saved scenario (?scenario=ID, HTML, CSV and XLSX): the scenario is
 * looked up and its caller authorised first (the scenario's council, by
 * token or session, or an admin; anyone when it is shared), then the pack
 * is drawn as any other, its variant cached apart under the caller's
 * visibility.  The arithmetic is forecasts/hn_projection.c's, the
 * conversion server/high_needs.c's.
 */
#include <event2/buffer.h>
#include <libpq-fe.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "codes.h"
#include "db.h"
#include "high_needs.h"
#include "html.h"
#include "routes.h"
#include "sheet.h"
#include "svg.h"
#include "tables_page.h"
#include "web.h"

/* ---- the same inputs from a profile document (the evidence pack) -------- */

/* The metrics the trajectory reads (the query's list). */
static const char *const input_metrics[] = {
    "hnbt_ehcp_total", "hnbt_placed_mainstream", "hnbt_placed_resourced_provision",
    "hnbt_placed_maintained_special", "hnbt_placed_independent_special", "hnbt_placed_hospital_ap",
    "hnbt_placed_post16", "hnbt_placed_other", "hnbt_cost_mainstream_gbp",
    "hnbt_cost_maintained_special_gbp", "hnbt_cost_independent_gbp", "hnbt_cost_post16_gbp",
    "hnbt_budget_non_placement_gbp", "hnbt_budget_total_gbp", "hnb_before_deductions_gbp",
    "dsg_total_before_deductions_gbp", "dsg_balance_pct_of_income", "ehcp_caseload", NULL};

static const json_t *profile_metric(const json_t *profile, const char *id)
{
    size_t i;
    const json_t *m;
    json_array_foreach(json_object_get(profile, "metrics"), i, m) {
        const char *mid = json_string_value(json_object_get(m, "id"));
        if (mid && strcmp(mid, id) == 0)
            return m;
    }
    return NULL;
}

static const json_t *profile_forecast(const json_t *profile, const char *metric)
{
    size_t i;
    const json_t *f;
    json_array_foreach(json_object_get(json_object_get(profile, "extra"), "forecasts"), i, f) {
        const char *mid = json_string_value(json_object_get(f, "metric"));
        if (mid && strcmp(mid, metric) == 0)
            return json_object_get(f, "doc");
    }
    return NULL;
}

json_t *high_needs_doc_from_profile(const json_t *profile)
{
    const json_t *a = json_object_get(profile, "authority");
    json_t *figs = json_object(), *nb = json_object();
    for (int k = 0; input_metrics[k]; k++) {
        const json_t *m = profile_metric(profile, input_metrics[k]);
        json_t *per = json_object();
        size_t i;
        const json_t *h;
        json_array_foreach(json_object_get(m, "history"), i, h) {
            const char *p = json_string_value(json_object_get(h, "period"));
            const json_t *v = json_object_get(h, "value");
            if (p && json_is_number(v))
                json_object_set_new(per, p, json_real(json_number_value(v)));
            /* the neighbours' median of a cost stands in for their list */
            const json_t *med = json_object_get(json_object_get(h, "neighbours"), "median");
            if (p && json_is_number(med) && strncmp(input_metrics[k], "hnbt_cost_", 10) == 0)
                json_object_set_new(nb, input_metrics[k],
                                    json_pack("[f]", json_number_value(med)));
        }
        json_object_set_new(figs, input_metrics[k], per);
    }
    const json_t *cf = profile_forecast(profile, "ehcp_caseload");
    const json_t *nf = profile_forecast(profile, "new_plans_issued");
    json_t *sfs = json_object();
    for (int s = 0; sfs && s < HN_N_SETTINGS; s++) {
        const json_t *sf = profile_forecast(profile, high_needs_setting_metric(s));
        if (sf)
            json_object_set_new(sfs, high_needs_setting_metric(s), json_incref((json_t *)sf));
    }
    return json_pack("{s:s, s:s, s:s, s:b, s:o, s:o, s:O, s:O, s:o, s:n, s:[]}", "code",
                     json_string_value(json_object_get(a, "code")) ?: "", "old_code",
                     json_string_value(json_object_get(a, "old_la_code")) ?: "", "name",
                     json_string_value(json_object_get(a, "name")) ?: "", "own", 0, "figures", figs,
                     "neighbour_costs", nb, "caseload_forecast", cf ? (json_t *)cf : json_null(),
                     "new_plans_forecast", nf ? (json_t *)nf : json_null(), "setting_forecasts",
                     sfs, "scenario", "scenarios");
}

/* ---- the section ---------------------------------------------------------- */

/* What a pack with a scenario carries (tables_page_arg): the trajectory
 * query's answer for the caller, with the scenario. */
struct high_needs_plan {
    json_t *doc;
};

static void plan_free(void *arg)
{
    struct high_needs_plan *p = arg;
    if (p)
        json_decref(p->doc);
    free(p);
}

static int put_gbp(struct evbuffer *b, double v)
{
    char num[48];
    html_quantity(v, 0, "£", num, sizeof num);
    return html_escape(b, num);
}

/* The projections of one pack: unmitigated, and the scenario's when there
 * is one.  Returns HIGH_NEEDS_OK or why not (reason set). */
struct projected {
    struct hn_inputs in;
    struct high_needs_view view;
    struct hn_levers lv;
    struct hn_result unmit, plan;
    int has_plan;
};

static int project(const json_t *doc, struct projected *p, char *reason, size_t reasonlen)
{
    int hs = doc ? high_needs_inputs(doc, &p->in, &p->view, reason, reasonlen) : HIGH_NEEDS_BAD;
    if (hs != HIGH_NEEDS_OK)
        return hs;
    if (hn_project(&p->in, NULL, &p->unmit) != HN_OK) {
        snprintf(reason, reasonlen, "the inputs do not make one");
        return HIGH_NEEDS_BAD;
    }
    p->has_plan = 0;
    if (p->view.has_scenario) {
        json_t *details = json_array();
        const json_t *lv = json_object_get(json_object_get(doc, "scenario"), "levers");
        if (details && high_needs_levers_parse(lv, &p->lv, details) == 0) {
            high_needs_levers_fit(&p->in, &p->lv, &p->view);
            p->has_plan = hn_project(&p->in, &p->lv, &p->plan) == HN_OK;
        }
        json_decref(details);
    }
    return HIGH_NEEDS_OK;
}

static int plan_sentence(struct evbuffer *b, const struct projected *p, const char *lab)
{
    const struct hn_year *u = &p->unmit.years[p->unmit.n - 1];
    const struct hn_year *m = &p->plan.years[p->plan.n - 1];
    int d0 = u->cumulative_balance_gbp < 0, d1 = m->cumulative_balance_gbp < 0;
    return web_put(b, "<p class=\"lead\" id=\"plan-sentence\">Without mitigation the cumulative "
                      "DSG %s reaches <strong>", d0 ? "deficit" : "balance") != 0 ||
                   put_gbp(b, d0 ? -u->cumulative_balance_gbp : u->cumulative_balance_gbp) != 0 ||
                   web_put(b, "</strong> by %s; with this plan (", lab) != 0 ||
                   html_escape(b, p->view.scenario_name) != 0 ||
                   web_put(b, ", version %d) %s <strong>", p->view.scenario_version,
                           d1 ? "the deficit reaches" : "the balance is") != 0 ||
                   put_gbp(b, d1 ? -m->cumulative_balance_gbp : m->cumulative_balance_gbp) != 0 ||
                   web_put(b, "</strong>.</p>") != 0
               ? -1
               : 0;
}

/* The scenario's part: the chart against the unmitigated path, the year
 * table, its levers, the costs used and where its figures came from. */
static int plan_part(struct evbuffer *b, const struct projected *p, const char *const *xp)
{
    const struct hn_result *u = &p->unmit, *m = &p->plan;
    double yu[HN_MAX_YEARS], ym[HN_MAX_YEARS];
    for (int k = 0; k < u->n; k++) {
        yu[k] = u->years[k].cumulative_balance_gbp;
        ym[k] = k < m->n ? m->years[k].cumulative_balance_gbp : NAN;
    }
    char name[160];
    snprintf(name, sizeof name, "%s (v%d)", p->view.scenario_name, p->view.scenario_version);
    struct svg_series ser[2] = {{"Unmitigated", yu, SVG_FOCUS}, {name, ym, SVG_COMPARE1}};
    struct svg_frame f = {"hn-evidence-plan", "Unmitigated against the council's plan",
                          "The cumulative DSG balance each financial year without mitigation "
                          "(solid) and with the council's saved scenario (dashed); negative is a "
                          "deficit.", "Financial year", "Cumulative DSG balance", 0, "£"};
    int bad = web_put(b, "<p class=\"note\" id=\"plan-private\">%s</p><figure>",
                      p->view.scenario_shared
                          ? "This scenario is shared by the council: anyone may see it."
                          : "This scenario is the council's own and private to it: this pack is "
                            "shown only to the council and administrators.") != 0 ||
              svg_line_chart(b, &f, xp + 1, (size_t)u->n, ser, 2, 1) != 0 ||
              web_put(b, "</figure><table id=\"plan-table\"><caption>The High Needs plan year by "
                         "year (£)</caption><thead><tr><th scope=\"col\">Financial year</th>"
                         "<th scope=\"col\" class=\"num\">Spend, unmitigated</th>"
                         "<th scope=\"col\" class=\"num\">Spend, with the plan</th>"
                         "<th scope=\"col\" class=\"num\">Allocation</th>"
                         "<th scope=\"col\" class=\"num\">Cumulative balance, unmitigated</th>"
                         "<th scope=\"col\" class=\"num\">80%% interval</th>"
                         "<th scope=\"col\" class=\"num\">Cumulative balance, with the plan</th>"
                         "</tr></thead><tbody>") != 0;
    for (int k = 0; k < u->n && !bad; k++) {
        const struct hn_year *a = &u->years[k], *c = k < m->n ? &m->years[k] : a;
        bad = web_put(b, "<tr><th scope=\"row\">%s</th><td class=\"num\">", xp[k + 1]) != 0 ||
              put_gbp(b, a->spend_gbp) != 0 || web_put(b, "</td><td class=\"num\">") != 0 ||
              put_gbp(b, c->spend_gbp) != 0 || web_put(b, "</td><td class=\"num\">") != 0 ||
              put_gbp(b, a->allocation_gbp) != 0 || web_put(b, "</td><td class=\"num\">") != 0 ||
              put_gbp(b, a->cumulative_balance_gbp) != 0 ||
              web_put(b, "</td><td class=\"num\">") != 0 ||
              put_gbp(b, a->cumulative_balance_lo80_gbp) != 0 || web_put(b, " to ") != 0 ||
              put_gbp(b, a->cumulative_balance_hi80_gbp) != 0 ||
              web_put(b, "</td><td class=\"num\">") != 0 ||
              put_gbp(b, c->cumulative_balance_gbp) != 0 || web_put(b, "</td></tr>") != 0;
    }
    bad = bad || web_put(b, "</tbody></table><h3>The plan's levers</h3><ul id=\"plan-levers\">") != 0;
    for (size_t k = 0; k < high_needs_lever_count() && !bad; k++) {
        char val[48];
        if (high_needs_lever_text(&p->lv, k, val, sizeof val) == 0 && val[0])
            bad = web_put(b, "<li><code>%s</code>: ", high_needs_lever_name(k)) != 0 ||
                  html_escape(b, val) != 0 || web_put(b, "</li>") != 0;
    }
    bad = bad || web_put(b, "</ul><h3>Costs per placement used</h3><ul id=\"plan-costs\">") != 0;
    for (int s = 0; s < HN_N_SETTINGS && !bad; s++) {
        if (!isfinite(p->in.cost[s]))
            continue;
        int prices = p->in.cost_price_year[s] ? p->in.cost_price_year[s] : p->in.cost_year;
        bad = web_put(b, "<li data-setting=\"%s\">", hn_setting_id(s)) != 0 ||
              html_escape(b, hn_setting_label(s)) != 0 || web_put(b, ": ") != 0 ||
              put_gbp(b, p->in.cost[s]) != 0 ||
              web_put(b, " (%d-%02d prices), ", prices, (prices + 1) % 100) != 0 ||
              html_escape(b, high_needs_cost_source_words(p->in.cost_source[s])) != 0 ||
              web_put(b, "</li>") != 0;
    }
    bad = bad || web_put(b, "</ul><p>Figures used: %s. Saved %s.</p><h3>Assumptions of the "
                            "plan</h3><ul>",
                         p->view.own ? "published and the council's own submitted figures"
                                     : "published figures only",
                         p->view.scenario_created) != 0;
    for (int k = 0; k < m->n_notes && !bad; k++)
        bad = web_put(b, "<li>") != 0 || html_escape(b, m->notes[k]) != 0 ||
              web_put(b, "</li>") != 0;
    return bad || web_put(b, "</ul>") != 0 ? -1 : 0;
}

int high_needs_evidence_section(struct evbuffer *b, const json_t *profile, const void *plan_arg)
{
    const struct high_needs_plan *plan = plan_arg;
    json_t *own = plan ? NULL : high_needs_doc_from_profile(profile);
    const json_t *doc = plan ? plan->doc : own;
    struct projected *p = malloc(sizeof *p);
    char reason[300] = "out of memory";
    int hs = p ? project(doc, p, reason, sizeof reason) : HIGH_NEEDS_BAD;
    json_decref(own);
    if (web_put(b, "<section id=\"high-needs-plan\"><h2>High Needs plan: the DSG trajectory to"
                   " 2029-30</h2>") != 0) {
        free(p);
        return -1;
    }
    if (hs != HIGH_NEEDS_OK) {
        free(p);
        return web_put(b, "<p class=\"note\">No trajectory: ") != 0 ||
                       html_escape(b, reason) != 0 || web_put(b, ".</p></section>") != 0
                   ? -1
                   : 0;
    }
    const struct hn_result *res = &p->unmit;
    const struct hn_year *last = &res->years[res->n - 1];
    char lab[8], xs[HN_MAX_YEARS + 1][8];
    const char *xp[HN_MAX_YEARS + 1];
    struct svg_fan_point fan[HN_MAX_YEARS];
    hn_year_label(last->year, lab, sizeof lab);
    hn_year_label(p->in.base_year, xs[0], sizeof xs[0]);
    xp[0] = xs[0];
    double open = isfinite(p->in.opening_balance_gbp) ? p->in.opening_balance_gbp : 0;
    for (int k = 0; k < res->n; k++) {
        const struct hn_year *y = &res->years[k];
        hn_year_label(y->year, xs[k + 1], sizeof xs[k + 1]);
        xp[k + 1] = xs[k + 1];
        fan[k] = (struct svg_fan_point){xp[k + 1], y->cumulative_balance_gbp,
                                        y->cumulative_balance_lo80_gbp, y->cumulative_balance_hi80_gbp,
                                        y->cumulative_balance_lo80_gbp, y->cumulative_balance_hi80_gbp};
    }
    struct svg_frame f = {"hn-evidence-fan", "Cumulative DSG balance without mitigation",
                          "The cumulative DSG balance each financial year to 2029-30 without "
                          "mitigation, with its 80% interval; negative is a deficit.",
                          "Financial year", "Cumulative DSG balance", 0, "£"};
    int deficit = last->cumulative_balance_gbp < 0;
    int bad = (p->has_plan && plan_sentence(b, p, lab) != 0) ||
              web_put(b, "<p>Without mitigation the cumulative DSG %s reaches <strong>",
                      deficit ? "deficit" : "balance") != 0 ||
              put_gbp(b, deficit ? -last->cumulative_balance_gbp : last->cumulative_balance_gbp) != 0 ||
              web_put(b, "</strong> by %s (80%% interval of the balance ", lab) != 0 ||
              put_gbp(b, last->cumulative_balance_lo80_gbp) != 0 || web_put(b, " to ") != 0 ||
              put_gbp(b, last->cumulative_balance_hi80_gbp) != 0 ||
              (p->view.own &&
               web_put(b, "). It uses the council's own submitted figures where it has them, "
                          "which are not published: its opening balance is %s",
                       p->in.opening_source == HN_BAL_SUBMITTED
                           ? "the DSG balance it submitted"
                           : "the published one (it has submitted none since)") != 0) ||
              web_put(b, "). A council's mitigated plans are on its <a href=\"/authorities/%s/"
                         "high-needs\">High Needs page</a>; signed in (or with its token), "
                         "<code>?scenario=ID</code> on this pack adds its plan.</p><figure>",
                      p->view.code) != 0 ||
              svg_fan_chart(b, &f, xp, &open, 1, fan, (size_t)res->n) != 0 ||
              web_put(b, "</figure>") != 0 || (p->has_plan && plan_part(b, p, xp) != 0) ||
              web_put(b, "<h3>Assumptions%s</h3><ul>", p->has_plan ? " without mitigation" : "") != 0;
    for (int k = 0; k < res->n_notes && !bad; k++)
        bad = web_put(b, "<li>") != 0 || html_escape(b, res->notes[k]) != 0 ||
              web_put(b, "</li>") != 0;
    bad = bad || web_put(b, "</ul><p>Sources: ESFA DSG allocations 2019-20 to 2023-24; DfE High"
                            " Needs Benchmarking Tool 2021-22; DfE DSG balance as %% of income;"
                            " DfE SEN2 through sendbench's caseload forecast%s.</p></section>",
                         p->has_plan && p->view.own ? "; the council's own submitted figures" : "") != 0;
    free(p);
    return bad ? -1 : 0;
}

/* ---- the download rows ----------------------------------------------------- */

static void plan_row(struct sheet *s, const char *metric, const char *series, const char *code,
                     const char *name, int year, double v, const char *source, const char *recorded)
{
    char lab[8];
    if (!isfinite(v))
        return;
    hn_year_label(year, lab, sizeof lab);
    const char *before[] = {"high_needs_plan", metric, series, code, name, lab};
    for (size_t i = 0; i < sizeof before / sizeof before[0]; i++)
        sheet_text(s, before[i]);
    sheet_number(s, v, 0);
    sheet_text(s, "£");
    sheet_text(s, source);
    sheet_text(s, recorded);
    sheet_text(s, "");   /* note: the pack's eleventh column (DfE footnotes) */
    sheet_end_row(s);
}

void high_needs_evidence_rows(struct sheet *s, const void *plan_arg)
{
    const struct high_needs_plan *plan = plan_arg;
    struct projected *p = plan ? malloc(sizeof *p) : NULL;
    char reason[300], source[200];
    if (!p || project(plan->doc, p, reason, sizeof reason) != HIGH_NEEDS_OK || !p->has_plan) {
        free(p);
        return;
    }
    snprintf(source, sizeof source, "computed by sendbench: High Needs plan, scenario %s (v%d)",
             p->view.scenario_name, p->view.scenario_version);
    const char *code = p->view.code, *name = p->view.name, *at = p->view.scenario_created;
    for (int k = 0; k < p->unmit.n; k++) {
        const struct hn_year *u = &p->unmit.years[k];
        const struct hn_year *m = k < p->plan.n ? &p->plan.years[k] : NULL;
        plan_row(s, "spend_gbp", "unmitigated", code, name, u->year, u->spend_gbp,
                 "computed by sendbench: High Needs plan, unmitigated", NULL);
        plan_row(s, "allocation_gbp", "unmitigated", code, name, u->year, u->allocation_gbp,
                 "computed by sendbench: High Needs plan, unmitigated", NULL);
        plan_row(s, "cumulative_balance_gbp", "unmitigated", code, name, u->year,
                 u->cumulative_balance_gbp, "computed by sendbench: High Needs plan, unmitigated",
                 NULL);
        plan_row(s, "cumulative_balance_gbp", "unmitigated_lo80", code, name, u->year,
                 u->cumulative_balance_lo80_gbp,
                 "computed by sendbench: High Needs plan, unmitigated", NULL);
        plan_row(s, "cumulative_balance_gbp", "unmitigated_hi80", code, name, u->year,
                 u->cumulative_balance_hi80_gbp,
                 "computed by sendbench: High Needs plan, unmitigated", NULL);
        if (m) {
            plan_row(s, "spend_gbp", "scenario", code, name, m->year, m->spend_gbp, source, at);
            plan_row(s, "cumulative_balance_gbp", "scenario", code, name, m->year,
                     m->cumulative_balance_gbp, source, at);
        }
    }
    free(p);
}

/* ---- GET /api/v1/authorities/{code}/evidence?scenario=ID ------------------ */

struct scenario_state {
    const struct tables_page *page;
    char scenario[24];
};

/* The pack of authority ons drawn with the inputs doc (taken), cached as
 * variant; r->state is already released. */
static void profile_with_plan(struct request *r, const struct tables_page *page, const char *ons,
                              const char *variant, json_t *doc)
{
    struct high_needs_plan *plan = malloc(sizeof *plan);
    if (!plan) {
        json_decref(doc);
        http_reply_oom(r);
        return;
    }
    plan->doc = doc;
    tables_page_profile_with(r, page, ons, variant, plan, plan_free);
}

/* The tables take over r->state. */
static void release_state(struct request *r)
{
    r->state_free(r->state);
    r->state = NULL;
    r->state_free = NULL;
}

static void scenario_loaded(const struct db_reply *reply, void *arg)
{
    struct request *r = arg;
    struct scenario_state *st = r->state;
    json_t *doc = high_needs_page_doc(r, reply);
    if (!doc)
        return;
    const char *code = json_string_value(json_object_get(doc, "code"));
    const struct tables_page *page = st->page;
    char variant[48], ons[16];
    if (!st->scenario[0]) {
        /* The pack of a signed-in council (or an admin) without a scenario:
         * its trajectory from its own submitted figures too (opening balance,
         * case officers, costs per placement), cached apart as "own".  Not
         * its own authority: the pack as anyone sees it. */
        int own = json_is_true(json_object_get(doc, "own"));
        snprintf(ons, sizeof ons, "%s", code ? code : "");
        release_state(r);
        if (!own) {
            json_decref(doc);
            tables_page_profile(r, page, ons, 0);
            return;
        }
        profile_with_plan(r, page, ons, "own", doc);
        return;
    }
    if (!high_needs_scenario_visible(doc)) {
        json_decref(doc);
        if (r->caller.kind == CALLER_ANONYMOUS) {
            http_add_header(r, "WWW-Authenticate", "Bearer");
            web_reply_error(r, 401, "unauthorized",
                            "a scenario is private to its authority: sign in or send the "
                            "council's token", "scenario", "the council's own");
        } else {
            web_reply_error(r, 404, "not_found", "no such scenario for this authority", "scenario",
                            "a scenario of this authority");
        }
        return;
    }
    snprintf(variant, sizeof variant, "scenario=%s", st->scenario);
    snprintf(ons, sizeof ons, "%s", code);
    release_state(r);
    profile_with_plan(r, page, ons, variant, doc);
}

/* Starts the inputs query for the pack's High Needs section: scenario sc
 * (NULL: none, the caller's own figures only). */
static void evidence_inputs(struct request *r, const struct tables_page *page, const char *sc)
{
    struct scenario_state *st = calloc(1, sizeof *st);
    if (!st) {
        http_reply_oom(r);
        return;
    }
    r->state = st;
    r->state_free = free;
    st->page = page;
    snprintf(st->scenario, sizeof st->scenario, "%s", sc ? sc : "");
    const char *who = r->caller.kind == CALLER_ADMIN     ? "*"
                      : r->caller.kind == CALLER_COUNCIL ? r->caller.authority
                                                         : "";
    const char *params[3] = {http_param(r, 0), who, sc};
    if (db_pool_query(r->app->pool, HIGH_NEEDS_INPUTS_SQL, 3, params, scenario_loaded, r) != 0)
        http_reply_oom(r);
}

void high_needs_evidence_own(struct request *r, const struct tables_page *page)
{
    evidence_inputs(r, page, NULL);
}

void high_needs_evidence_scenario(struct request *r, const struct tables_page *page)
{
    const char *sc = http_query(r, "scenario");
    if (!code_is_row_id(sc) || sc[0] == '0') {
        web_reply_error(r, 400, "bad_parameter", "scenario must be a scenario id (a whole number)",
                        "scenario", "id");
        return;
    }
    evidence_inputs(r, page, sc);
}
