/*
 * The High Needs page: GET /authorities/{code}/high-needs shows the
 * unmitigated DSG trajectory to 2029-30 (fan of its 80% interval), each
 * scenario the viewer may see beside it, the levers as a plain form (GET:
 * a preview that saves nothing), and for a signed-in person of the
 * authority (or an administrator) a second form that saves the levers as a
 * scenario: POST /authorities/{code}/high-needs (CSRF token, then a 303 to
 * the page showing it).  No JavaScript anywhere.
 *
 * The numbers are the API's: the same query (server/high_needs.c), the
 * same projection, the same rules about whose figures are used.
 */
#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "auth.h"
#include "db.h"
#include "form.h"
#include "high_needs.h"
#include "html.h"
#include "portal.h"
#include "routes.h"
#include "sessions.h"
#include "svg.h"
#include "web.h"

#define MAX_SHOWN 3     /* scenarios on the chart beside the unmitigated line */

struct page_state {
    struct session_user user;
    int signed_in;
    int post;
    struct evkeyvalq fields;    /* POST form */
    int fields_init;
    json_t *levers;             /* the form's levers (GET preview or POST) */
    char name[121];
    int shared;
};

static void page_state_free(void *arg)
{
    struct page_state *st = arg;
    if (st->fields_init)
        evhttp_clear_headers(&st->fields);
    json_decref(st->levers);
    free(st);
}

static int may_save(const struct page_state *st, const char *code)
{
    return st->signed_in &&
           (st->user.role == ROLE_ADMIN ||
            (strcmp(st->user.authority, code) == 0 &&
             (st->user.role == ROLE_SUBMITTER || st->user.role == ROLE_APPROVER)));
}

static const char *query_get(void *arg, const char *name)
{
    return http_query(arg, name);
}

static const char *field_get(void *arg, const char *name)
{
    return evhttp_find_header(arg, name);
}

static int put_gbp(struct evbuffer *b, double v)
{
    char num[48];
    html_quantity(v, 0, "£", num, sizeof num);
    return html_escape(b, num);
}

/* One trajectory with its name, for the chart and the table. */
struct shown {
    char name[140];
    struct hn_levers lv;
    struct hn_result res;
};

static int render_form(struct evbuffer *b, const char *code, const struct hn_levers *lv,
                       const struct page_state *st, int save)
{
    if (web_put(b, "<form method=\"%s\" action=\"/authorities/%s/high-needs\" class=\"levers\">",
                save ? "post" : "get", code) != 0)
        return -1;
    if (save && (form_csrf_field(b, st->user.csrf) != 0 ||
                 web_put(b, "<p><label for=\"s-name\">Scenario name</label> <input id=\"s-name\""
                            " name=\"name\" required maxlength=\"120\"></p><p><input type=\"checkbox\""
                            " id=\"s-shared\" name=\"shared\" value=\"yes\"> <label for=\"s-shared\">"
                            "Share it (anyone may then see its trajectory, from published figures"
                            " only)</label></p>") != 0))
        return -1;
    for (size_t i = 0; i < high_needs_lever_count(); i++) {
        char val[48];
        if (high_needs_lever_text(lv, i, val, sizeof val) != 0)
            return -1;
        const char *n = high_needs_lever_name(i);
        if (web_put(b, "<p><label for=\"%s-%s\">", save ? "s" : "p", n) != 0 ||
            html_escape(b, high_needs_lever_help(i)) != 0 ||
            web_put(b, " <code>%s</code></label> <input id=\"%s-%s\" name=\"%s\" value=\"", n,
                    save ? "s" : "p", n, n) != 0 ||
            html_escape(b, val) != 0 || web_put(b, "\"></p>") != 0)
            return -1;
    }
    return web_put(b, "<p><button type=\"submit\">%s</button></p></form>",
                   save ? "Save scenario" : "Show these levers");
}

static void page_render(struct request *r, json_t *doc)
{
    struct page_state *st = r->state;
    struct hn_inputs in;
    struct high_needs_view view;
    char reason[300];
    int hs = high_needs_inputs(doc, &in, &view, reason, sizeof reason);
    if (hs == HIGH_NEEDS_NO_FORECAST) {
        http_add_header(r, "Retry-After", "5");
        web_reply_error(r, 503, "forecast_pending", reason, NULL, NULL);
        return;
    }
    if (hs != HIGH_NEEDS_OK) {
        web_reply_error(r, 404, "not_found", reason, NULL, NULL);
        return;
    }
    struct shown *sh = calloc(MAX_SHOWN + 2, sizeof *sh);
    struct evbuffer *b = evbuffer_new();
    json_t *form_errors = json_array();
    int n = 0, bad = !sh || !b || !form_errors;
    struct hn_levers preview_lv;
    hn_levers_default(&preview_lv);
    if (!bad) {
        snprintf(sh[0].name, sizeof sh[0].name, "Unmitigated");
        hn_levers_default(&sh[0].lv);
        bad = hn_project(&in, &sh[0].lv, &sh[0].res) != HN_OK;
        n = 1;
    }
    /* the form's levers: a preview that is not saved */
    int has_preview = 0;
    if (!bad && st->levers && json_object_size(st->levers) > 0) {
        if (high_needs_levers_parse(st->levers, &preview_lv, form_errors) == 0) {
            struct shown *p = &sh[n];
            p->lv = preview_lv;
            high_needs_levers_fit(&in, &p->lv, &view);
            snprintf(p->name, sizeof p->name, "These levers (not saved)");
            if (hn_project(&in, &p->lv, &p->res) == HN_OK) {
                n++;
                has_preview = 1;
            }
        }
    }
    size_t i;
    json_t *s;
    json_array_foreach(json_object_get(doc, "scenarios"), i, s) {
        if (bad || n >= MAX_SHOWN + 2 - (has_preview ? 0 : 1))
            break;
        json_t *details = json_array();
        struct shown *p = &sh[n];
        if (high_needs_levers_parse(json_object_get(s, "levers"), &p->lv, details) == 0) {
            high_needs_levers_fit(&in, &p->lv, &view);
            snprintf(p->name, sizeof p->name, "%.100s (v%d)", web_str(s, "name") ?: "",
                     (int)json_integer_value(json_object_get(s, "version")));
            if (hn_project(&in, &p->lv, &p->res) == HN_OK)
                n++;
        }
        json_decref(details);
    }
    const struct hn_result *u = bad ? NULL : &sh[0].res;
    const struct hn_year *last = u ? &u->years[u->n - 1] : NULL;
    char title[200], lab[8];
    snprintf(title, sizeof title, "High Needs plan: %s", view.name);
    bad = bad || portal_page_begin(b, title, st->signed_in ? &st->user : NULL) != 0 ||
          web_put(b, "<h1>") != 0 || html_escape(b, title) != 0 || web_put(b, "</h1>") != 0;
    if (!bad) {
        hn_year_label(last->year, lab, sizeof lab);
        bad = web_put(b, "<p class=\"lead\">Without mitigation the cumulative DSG balance reaches"
                         " <strong>") != 0 || put_gbp(b, last->cumulative_balance_gbp) != 0 ||
              web_put(b, "</strong> by %s (80%% interval ", lab) != 0 ||
              put_gbp(b, last->cumulative_balance_lo80_gbp) != 0 || web_put(b, " to ") != 0 ||
              put_gbp(b, last->cumulative_balance_hi80_gbp) != 0 ||
              web_put(b, "; negative is a deficit). Figures used: %s.</p>",
                      view.own ? "published and the council's own submitted figures"
                               : "published figures only") != 0;
    }
    if (!bad && json_array_size(form_errors)) {
        bad = web_put(b, "<div class=\"errors\" role=\"alert\"><h2>The levers have problems</h2><ul>") != 0;
        json_t *d;
        json_array_foreach(form_errors, i, d) {
            bad = bad || web_put(b, "<li>") != 0 || html_escape(b, web_str(d, "message")) != 0 ||
                  web_put(b, "</li>") != 0;
        }
        bad = bad || web_put(b, "</ul></div>") != 0;
    }
    /* chart 1: the unmitigated fan */
    char xs[HN_MAX_YEARS + 1][8];
    const char *xp[HN_MAX_YEARS + 1];
    struct svg_fan_point fan[HN_MAX_YEARS];
    if (!bad) {
        hn_year_label(in.base_year, xs[0], sizeof xs[0]);
        xp[0] = xs[0];
        double open = isfinite(in.opening_balance_gbp) ? in.opening_balance_gbp : 0;
        for (int k = 0; k < u->n; k++) {
            hn_year_label(u->years[k].year, xs[k + 1], sizeof xs[k + 1]);
            xp[k + 1] = xs[k + 1];
            fan[k] = (struct svg_fan_point){xp[k + 1], u->years[k].cumulative_balance_gbp,
                                            u->years[k].cumulative_balance_lo80_gbp,
                                            u->years[k].cumulative_balance_hi80_gbp,
                                            u->years[k].cumulative_balance_lo80_gbp,
                                            u->years[k].cumulative_balance_hi80_gbp};
        }
        struct svg_frame f = {"hn-fan", "Unmitigated cumulative DSG balance",
                              "The cumulative DSG balance without mitigation, each financial year "
                              "to 2029-30, with its 80% interval; negative is a deficit.",
                              "Financial year", "Cumulative DSG balance", 0, "£"};
        bad = web_put(b, "<h2>Unmitigated trajectory</h2><figure>") != 0 ||
              svg_fan_chart(b, &f, xp, &open, 1, fan, (size_t)u->n) != 0 ||
              web_put(b, "</figure>") != 0;
    }
    /* chart 2: unmitigated against each scenario */
    if (!bad && n > 1) {
        double ys[MAX_SHOWN + 2][HN_MAX_YEARS];
        struct svg_series ser[4];
        size_t ns = 0;
        for (int k = 0; k < n && ns < 4; k++, ns++) {
            for (int y = 0; y < sh[k].res.n; y++)
                ys[k][y] = sh[k].res.years[y].cumulative_balance_gbp;
            ser[ns] = (struct svg_series){sh[k].name, ys[k], (enum svg_style)ns};
        }
        struct svg_frame f = {"hn-scenarios", "Unmitigated against the mitigated scenarios",
                              "The cumulative DSG balance each financial year without mitigation "
                              "and under each scenario shown; negative is a deficit.",
                              "Financial year", "Cumulative DSG balance", 0, "£"};
        bad = web_put(b, "<h2>Scenarios</h2><figure>") != 0 ||
              svg_line_chart(b, &f, xp + 1, (size_t)u->n, ser, ns, 1) != 0 ||
              web_put(b, "</figure>") != 0;
    }
    /* the table */
    if (!bad) {
        bad = web_put(b, "<h2>Year by year</h2><table><caption>Unmitigated trajectory and the"
                         " cumulative balance of each scenario (£)</caption><thead><tr>"
                         "<th scope=\"col\">Financial year</th><th scope=\"col\">EHC plans</th>"
                         "<th scope=\"col\">Spend</th><th scope=\"col\">Allocation</th>"
                         "<th scope=\"col\">In-year balance</th><th scope=\"col\">Cumulative"
                         " balance</th><th scope=\"col\">80%% interval</th>") != 0;
        for (int k = 1; k < n && !bad; k++)
            bad = web_put(b, "<th scope=\"col\">") != 0 || html_escape(b, sh[k].name) != 0 ||
                  web_put(b, "</th>") != 0;
        bad = bad || web_put(b, "</tr></thead><tbody>") != 0;
        for (int y = 0; y < u->n && !bad; y++) {
            const struct hn_year *yr = &u->years[y];
            char num[48];
            html_number(yr->placements_total, 0, num, sizeof num);
            bad = web_put(b, "<tr><th scope=\"row\">%s</th><td>%s</td><td>", xp[y + 1], num) != 0 ||
                  put_gbp(b, yr->spend_gbp) != 0 || web_put(b, "</td><td>") != 0 ||
                  put_gbp(b, yr->allocation_gbp) != 0 ||
                  web_put(b, "%s</td><td>", yr->allocation_published ? " (published)" : "") != 0 ||
                  put_gbp(b, yr->in_year_balance_gbp) != 0 || web_put(b, "</td><td>") != 0 ||
                  put_gbp(b, yr->cumulative_balance_gbp) != 0 || web_put(b, "</td><td>") != 0 ||
                  put_gbp(b, yr->cumulative_balance_lo80_gbp) != 0 || web_put(b, " to ") != 0 ||
                  put_gbp(b, yr->cumulative_balance_hi80_gbp) != 0 || web_put(b, "</td>") != 0;
            for (int k = 1; k < n && !bad; k++)
                bad = web_put(b, "<td>") != 0 ||
                      put_gbp(b, sh[k].res.years[y].cumulative_balance_gbp) != 0 ||
                      web_put(b, "</td>") != 0;
            bad = bad || web_put(b, "</tr>") != 0;
        }
        bad = bad || web_put(b, "</tbody></table>") != 0;
    }
    /* sources and assumptions */
    if (!bad) {
        bad = web_put(b, "<h2>Placements and costs by setting</h2><table id=\"hn-costs\">"
                         "<caption>HNBT %d-%02d placements by setting, the SEN2 series each grows"
                         " with, and the cost a placement with its source and prices</caption>"
                         "<thead><tr><th scope=\"col\">Setting</th><th scope=\"col\">Placements"
                         "</th><th scope=\"col\">Grows with</th><th scope=\"col\">Cost a"
                         " placement</th><th scope=\"col\">Source of the cost</th></tr></thead>"
                         "<tbody>", in.placements_year, (in.placements_year + 1) % 100) != 0;
        for (int k = 0; k < HN_N_SETTINGS && !bad; k++) {
            char num[48];
            int prices = in.cost_price_year[k] ? in.cost_price_year[k] : in.cost_year;
            html_number(in.placements[k], 0, num, sizeof num);
            bad = web_put(b, "<tr data-setting=\"%s\" data-cost-source=\"%s\"><th scope=\"row\">",
                          hn_setting_id(k), hn_cost_source_str(in.cost_source[k])) != 0 ||
                  html_escape(b, hn_setting_label(k)) != 0 ||
                  web_put(b, "</th><td>%s</td><td>%s</td><td>", num,
                          u->own_setting_forecast[k] ? high_needs_setting_metric(k)
                                                     : "ehcp_caseload (no series of its own)") != 0 ||
                  (isfinite(in.cost[k]) ? put_gbp(b, in.cost[k]) != 0 ||
                                              web_put(b, " (%d-%02d prices)", prices,
                                                      (prices + 1) % 100) != 0
                                        : web_put(b, "in the non-placement lines") != 0) ||
                  web_put(b, "</td><td>") != 0 ||
                  html_escape(b, high_needs_cost_source_words(in.cost_source[k])) != 0;
            if (!bad && in.cost_source[k] == HN_COST_SUBMITTED)
                bad = web_put(b, ", submitted for ") != 0 ||
                      html_escape(b, view.cost_period[k]) != 0 ||
                      web_put(b, " (the HNBT's: ") != 0 || put_gbp(b, view.hnbt_cost[k]) != 0 ||
                      web_put(b, ")") != 0;
            bad = bad || web_put(b, "</td></tr>") != 0;
        }
        bad = bad || web_put(b, "</tbody></table><p id=\"hn-resourced\">Resourced provision and"
                                " SEN units grow with their own SEN2 series"
                                " (<code>plans_mainstream_rp_unit</code>: the six resourced"
                                " provision and SEN unit columns SEN2 has published since"
                                " January 2019); mainstream with SEN2's whole mainstream count,"
                                " which includes them. Costs: the council's own submitted cost"
                                " per placement where it has sent one (the"
                                " <code>cost_per_placement_*_gbp</code> figures of its return),"
                                " else the HNBT's indicative cost.</p>") != 0;
        bad = bad || web_put(b, "<h2>Assumptions</h2><ul>") != 0;
        for (int k = 0; k < u->n_notes && !bad; k++)
            bad = web_put(b, "<li>") != 0 || html_escape(b, u->notes[k]) != 0 ||
                  web_put(b, "</li>") != 0;
        bad = bad || web_put(b, "</ul><h2>Sources</h2><ul><li>ESFA DSG allocations 2019-20 to"
                                " 2023-24</li><li>DfE High Needs Benchmarking Tool 2021-22</li>"
                                "<li>DfE SEND and AP inclusion dashboard: DSG cumulative balance"
                                " as %% of income</li><li>DfE SEN2 via the forecasting engine"
                                " (model: ") != 0 ||
              html_escape(b, view.caseload_model) != 0 ||
              web_put(b, ")</li></ul><p><a href=\"/api/v1/authorities/%s/high-needs?format=csv\">"
                         "Download the unmitigated trajectory (CSV)</a> · <a href=\"/api/v1/"
                         "authorities/%s/high-needs?format=xlsx\">Excel</a> · <a href=\"/api/v1/"
                         "authorities/%s/high-needs\">JSON</a></p>", view.code, view.code,
                         view.code) != 0;
    }
    /* the levers */
    if (!bad) {
        bad = web_put(b, "<h2>Try levers</h2><p>Shows the trajectory with these levers beside the"
                         " unmitigated one; nothing is saved.</p>") != 0 ||
              render_form(b, view.code, &preview_lv, st, 0) != 0;
        if (!bad && may_save(st, view.code))
            bad = web_put(b, "<h2>Save a scenario</h2><p>Saved for %s, private to it unless"
                             " shared; saving the same name again adds a version.</p>",
                          view.name) != 0 ||
                  render_form(b, view.code, &preview_lv, st, 1) != 0;
        else if (!bad && !st->signed_in)
            bad = web_put(b, "<p><a href=\"/login\">Sign in</a> as the council to save a"
                             " scenario.</p>") != 0;
    }
    free(sh);
    int errors = (int)json_array_size(form_errors);
    json_decref(form_errors);
    portal_end_page(r, errors ? 422 : 200, b, bad);
}

json_t *high_needs_page_doc(struct request *r, const struct db_reply *reply)
{
    if (reply->error) {
        http_reply_db_error(r, reply);
        return NULL;
    }
    json_t *doc = high_needs_reply_doc(reply->res);
    if (!doc)
        web_reply_error(r, 404, "unknown_authority", "no such authority", "code",
                        "ONS code or DfE number");
    return doc;
}

static void page_loaded(const struct db_reply *reply, void *arg)
{
    struct request *r = arg;
    json_t *doc = high_needs_page_doc(r, reply);
    if (!doc)
        return;
    page_render(r, doc);
    json_decref(doc);
}

static void page_query(struct request *r)
{
    struct page_state *st = r->state;
    char who[16] = "";
    if (st->signed_in)
        snprintf(who, sizeof who, "%s", st->user.role == ROLE_ADMIN ? "*" : st->user.authority);
    const char *params[3] = {http_param(r, 0), who, NULL};
    /* not web_query_doc: that keeps its own r->state, and this page has one */
    if (db_pool_query(r->app->pool, HIGH_NEEDS_INPUTS_SQL, 3, params, page_loaded, r) != 0)
        http_reply_oom(r);
}

static void saved(const struct db_reply *reply, void *arg)
{
    struct request *r = arg;
    if (reply->error) {
        if (reply->sqlstate && strcmp(reply->sqlstate, "23503") == 0) {
            portal_refuse(r, 404, "not_found", "no such authority");
            return;
        }
        http_reply_db_error(r, reply);
        return;
    }
    json_error_t e;
    json_t *doc = json_loads(PQgetvalue(reply->res, 0, 0), 0, &e);
    char loc[120];
    snprintf(loc, sizeof loc, "/authorities/%s/high-needs?saved=%lld",
             doc ? json_string_value(json_object_get(doc, "authority")) : "",
             doc ? (long long)json_integer_value(json_object_get(doc, "id")) : 0LL);
    json_decref(doc);
    portal_redirect(r, loc);
}

static void code_resolved(const struct db_reply *reply, void *arg)
{
    struct request *r = arg;
    struct page_state *st = r->state;
    if (reply->error) {
        http_reply_db_error(r, reply);
        return;
    }
    if (PQntuples(reply->res) < 1) {
        portal_refuse(r, 404, "not_found", "no such authority");
        return;
    }
    const char *code = PQgetvalue(reply->res, 0, 0);
    if (!may_save(st, code)) {
        portal_refuse(r, 403, "forbidden",
                      "only a submitter or approver of this council, or an administrator, may "
                      "save its scenarios");
        return;
    }
    json_t *details = json_array();
    struct hn_levers lv;
    const char *name = evhttp_find_header(&st->fields, "name");
    size_t nl = name ? strlen(name) : 0;
    if (nl < 1 || nl > 120 || !form_text_ok(name, 0))
        json_array_append_new(details, json_pack("{s:s, s:s, s:s}", "field", "name", "rule",
                                                 "name", "message", "a scenario needs a name of "
                                                 "1 to 120 characters"));
    if (high_needs_levers_parse(st->levers, &lv, details) != 0 || json_array_size(details)) {
        size_t i;
        json_t *d;
        char msg[600] = "nothing was saved:";
        json_array_foreach(details, i, d) {
            size_t l = strlen(msg);
            snprintf(msg + l, sizeof msg - l, " %s;", web_str(d, "message") ?: "");
        }
        json_decref(details);
        portal_refuse(r, 422, "validation_failed", msg);
        return;
    }
    json_decref(details);
    json_t *norm = high_needs_levers_json(&lv);
    char *levers = norm ? json_dumps(norm, JSON_COMPACT | JSON_SORT_KEYS | JSON_REAL_PRECISION(15))
                        : NULL;
    json_decref(norm);
    if (!levers) {
        http_reply_oom(r);
        return;
    }
    const char *sh = evhttp_find_header(&st->fields, "shared");
    const char *params[5] = {code, name, levers, sh && strcmp(sh, "yes") == 0 ? "true" : "false",
                             NULL};
    int rc = db_pool_query(r->app->pool,
                           "SELECT hn_scenario_save($1, $2, $3::jsonb, $4::boolean, $5::bigint)", 5,
                           params, saved, r);
    free(levers);
    if (rc != 0)
        http_reply_oom(r);
}

static void page_resolved(struct request *r, const struct session_user *u)
{
    struct page_state *st = r->state;
    if (u) {
        st->user = *u;
        st->signed_in = 1;
    }
    if (!st->post) {
        st->levers = high_needs_levers_from_text(query_get, r);
        page_query(r);
        return;
    }
    if (!st->signed_in) {
        portal_need_sign_in(r);
        return;
    }
    if (!session_csrf_ok(st->user.csrf, evhttp_find_header(&st->fields, "csrf"))) {
        portal_refuse(r, 403, "csrf", "the form is out of date: reload the page and try again");
        return;
    }
    st->levers = high_needs_levers_from_text(field_get, &st->fields);
    const char *params[1] = {http_param(r, 0)};
    if (db_pool_query(r->app->pool,
                      "SELECT new_la_code FROM authorities WHERE new_la_code = $1 OR old_la_code = $1"
                      " ORDER BY valid_to DESC NULLS FIRST LIMIT 1",
                      1, params, code_resolved, r) != 0)
        http_reply_oom(r);
}

void route_web_high_needs(struct request *r)
{
    struct page_state *st = calloc(1, sizeof *st);
    if (!st) {
        http_reply_oom(r);
        return;
    }
    r->state = st;
    r->state_free = page_state_free;
    st->post = evhttp_request_get_command(r->req) == EVHTTP_REQ_POST;
    if (st->post) {
        form_init(&st->fields);
        st->fields_init = 1;
        if (form_read(r, &st->fields) != 0) {
            portal_refuse(r, 400, "invalid_form", "the body is not a readable form");
            return;
        }
    }
    session_resolve(r, page_resolved);
}
