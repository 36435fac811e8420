/*
 * The quarterly return in the browser, for signed-in people:
 *   GET  /returns                 the quarters with their state (server/routes_returns_list.c)
 *   GET  /returns/{period}        the form (or, awaiting approval, the version to sign off)
 *   POST /returns/{period}        action = check | submit | approve | reject
 *                                 (w.METRIC ticked: that figure is withdrawn)
 *                                 | upload (multipart/form-data: the tidy CSV fills
 *                                 the form, checked; server/return_upload.c)
 * (the same decision over the API: server/routes_decide.c)
 *
 * The form's figures go through the API's own validation (submit_parse_json
 * in server/submit.c: the errors) and query rules (server/query_rules.c:
 * the queries), and are stored by the same SQL (submit_return), so a
 * return from the form and one from the API follow the same rules and
 * states (sql/041_returns.sql).
 */
#include <event2/buffer.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "app.h"
#include "auth.h"
#include "clock.h"
#include "db.h"
#include "form.h"
#include "html.h"
#include "log.h"
#include "portal.h"
#include "query_rules.h"
#include "return_upload.h"
#include "returns.h"
#include "routes.h"
#include "sessions.h"
#include "submit.h"
#include "web.h"

/* A member that is an object, else NULL (JSON null included). */
static const json_t *obj(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);
    return json_is_object(v) ? v : NULL;
}

/* A string member, "" when absent. */
static const char *str(const json_t *o, const char *key)
{
    const char *s = web_str(o, key);
    return s ? s : "";
}

/* ------------------------------------------------------ /returns/{period} */

struct ret_state {
    struct session_user u;
    char authority[16];
    char period[16];
    int post;
    struct evkeyvalq fields;
    json_t *doc;            /* the form's document (return_form_doc) */
    json_t *figures;        /* POST: what the form sent, metric -> number or text */
    json_t *withdraw;       /* POST: metric ids ticked "Withdraw" (w.METRIC) */
    json_t *errors;         /* details of submit_parse_json */
    json_t *queries;        /* query_rules_check */
    struct return_upload up; /* POST action=upload: the file's figures and problems */
    char action[16];
};

static void ret_state_free(void *arg)
{
    struct ret_state *st = arg;
    evhttp_clear_headers(&st->fields);
    json_decref(st->doc);
    json_decref(st->figures);
    json_decref(st->withdraw);
    json_decref(st->errors);
    json_decref(st->queries);
    return_upload_clear(&st->up);
    free(st);
}

static const char *group_of(const json_t *m)
{
    const char *id = web_str(m, "id"), *unit = web_str(m, "unit");
    if (unit && strcmp(unit, "£") == 0)
        return "High Needs money";
    if (unit && strcmp(unit, "FTE") == 0)
        return "Staffing";
    if (id && (strstr(id, "within") || strstr(id, "annual_reviews")))
        return "Timeliness";
    return "Volumes";
}

static const char *groups[] = {"Volumes", "Timeliness", "High Needs money", "Staffing"};

/* The detail (error or query) about metric in arr, or NULL. */
static const json_t *about(const json_t *arr, const char *metric)
{
    char field[96];
    snprintf(field, sizeof field, "figures.%s", metric);
    size_t i;
    json_t *d;
    json_array_foreach(arr, i, d) {
        const char *f = web_str(d, "field");
        if (f && strcmp(f, field) == 0)
            return d;
    }
    return NULL;
}

static const char *label_of(const json_t *doc, const char *metric)
{
    size_t i;
    json_t *m;
    json_array_foreach(json_object_get(doc, "metrics"), i, m)
        if (strcmp(web_str(m, "id"), metric) == 0)
            return web_str(m, "label");
    return metric;
}

/* The value to show in an input: what was sent, else the latest version's
 * figure, else the last approved one. */
static void field_value(const struct ret_state *st, const char *metric, char *out, size_t len)
{
    const json_t *v = st->figures ? json_object_get(st->figures, metric) : NULL;
    if (!v && !st->post) {
        const json_t *latest = obj(st->doc, "latest");
        const char *state = web_str(latest, "state");
        if (latest && state && strcmp(state, "approved") != 0)
            v = json_object_get(json_object_get(latest, "figures"), metric);
        if (!v)
            v = json_object_get(json_object_get(st->doc, "last_approved"), metric);
    }
    if (json_is_string(v))
        snprintf(out, len, "%s", json_string_value(v));
    else if (json_is_number(v))
        snprintf(out, len, "%.15g", json_number_value(v));
    else
        out[0] = '\0';
}

static int can_submit(const struct session_user *u)
{
    return u->role == ROLE_SUBMITTER || u->role == ROLE_APPROVER;
}

static int render_summary(struct evbuffer *b, const struct ret_state *st)
{
    size_t ne = json_array_size(st->errors), nq = json_array_size(st->queries);
    size_t i;
    json_t *d;
    if (ne) {
        if (web_put(b, "<div class=\"error-summary\" role=\"alert\" tabindex=\"-1\" "
                       "id=\"error-summary\"><h2>There %s %zu error%s: the return cannot be "
                       "submitted until %s corrected</h2><ul>", ne == 1 ? "is" : "are", ne,
                    ne == 1 ? "" : "s", ne == 1 ? "it is" : "they are") != 0)
            return -1;
        json_array_foreach(st->errors, i, d) {
            const char *f = web_str(d, "field");
            const char *metric = f && strncmp(f, "figures.", 8) == 0 ? f + 8 : NULL;
            if (web_put(b, "<li><a href=\"#%s%s\">", metric ? "f-" : "",
                        metric ? metric : "error-summary") != 0 ||
                (metric && (html_escape(b, label_of(st->doc, metric)) != 0 ||
                            web_put(b, ": ") != 0)) ||
                html_escape(b, web_str(d, "message")) != 0 || web_put(b, "</a></li>") != 0)
                return -1;
        }
        if (web_put(b, "</ul></div>") != 0)
            return -1;
    }
    if (nq) {
        if (web_put(b, "<div class=\"query-summary\" id=\"query-summary\" tabindex=\"-1\">"
                       "<h2>%zu quer%s: correct the figure or explain it before submitting</h2><ul>",
                    nq, nq == 1 ? "y" : "ies") != 0)
            return -1;
        json_array_foreach(st->queries, i, d) {
            const char *metric = web_str(d, "metric");
            if (web_put(b, "<li data-rule=\"") != 0 || html_escape(b, web_str(d, "rule")) != 0 ||
                web_put(b, "\"><a href=\"#x-%s\">", metric) != 0 ||
                html_escape(b, label_of(st->doc, metric)) != 0 || web_put(b, ": ") != 0 ||
                html_escape(b, web_str(d, "message")) != 0 || web_put(b, "</a></li>") != 0)
                return -1;
        }
        if (web_put(b, "</ul></div>") != 0)
            return -1;
    }
    return 0;
}

static int withdraw_has(const json_t *withdraw, const char *metric)
{
    size_t i;
    json_t *w;
    json_array_foreach(withdraw, i, w)
        if (strcmp(json_string_value(w), metric) == 0)
            return 1;
    return 0;
}

static int render_field(struct evbuffer *b, const struct ret_state *st, const json_t *m, int edit)
{
    const char *id = web_str(m, "id"), *label = web_str(m, "label"), *unit = web_str(m, "unit");
    const json_t *err = about(st->errors, id);
    const json_t *q = NULL;
    size_t i;
    json_t *d;
    json_array_foreach(st->queries, i, d)
        if (strcmp(web_str(d, "metric"), id) == 0)
            q = d;
    char value[64];
    field_value(st, id, value, sizeof value);
    const json_t *last = json_object_get(json_object_get(st->doc, "last_approved"), id);
    if (web_put(b, "<div class=\"field%s\" data-metric=\"%s\"><label for=\"f-%s\">",
                err ? " field-error" : q ? " field-query" : "", id, id) != 0 ||
        html_escape(b, label) != 0 || web_put(b, "</label><span class=\"hint\" id=\"h-%s\">", id) != 0 ||
        web_put(b, "%s. ", strcmp(unit, "count") == 0 ? "A count" : strcmp(unit, "£") == 0
                                ? "In pounds" : "Full-time equivalent") != 0 ||
        html_escape(b, web_str(m, "description")) != 0)
        return -1;
    if (json_is_number(last)) {
        char n[48];
        html_quantity(json_number_value(last), (int)web_num(m, "dp"), unit, n, sizeof n);
        if (web_put(b, " Last approved: %s.", n) != 0)
            return -1;
    }
    if (web_put(b, "</span>") != 0)
        return -1;
    if (err && (web_put(b, "<span class=\"msg\" id=\"e-%s\">Error: ", id) != 0 ||
                html_escape(b, web_str(err, "message")) != 0 || web_put(b, "</span>") != 0))
        return -1;
    if (edit) {
        if (web_put(b, "<input id=\"f-%s\" name=\"f.%s\" inputmode=\"decimal\" "
                       "aria-describedby=\"h-%s%s%s\" value=\"", id, id, id, err ? " e-" : "",
                    err ? id : "") != 0 ||
            html_escape(b, value) != 0 || web_put(b, "\">") != 0)
            return -1;
    } else if (web_put(b, "<output id=\"f-%s\">", id) != 0 || html_escape(b, value[0] ? value : "no figure") != 0 ||
               web_put(b, "</output>") != 0) {
        return -1;
    }
    /* A figure in force for this quarter can be withdrawn: the next version
     * marks it withdrawn (a new row, never a deletion), as the API's
     * "withdraw" does.  Ticking it sends no figure for the metric. */
    if (edit && json_object_get(json_object_get(st->doc, "in_force"), id)) {
        int ticked = st->withdraw && withdraw_has(st->withdraw, id);
        if (web_put(b, "<div class=\"check\"><input type=\"checkbox\" id=\"w-%s\" name=\"w.%s\" "
                       "value=\"1\"%s><label for=\"w-%s\">Withdraw ", id, id,
                    ticked ? " checked" : "", id) != 0 ||
            html_escape(b, label) != 0 ||
            web_put(b, " (the figure in force for this quarter)</label></div>") != 0)
            return -1;
    }
    if (q) {
        char key[80];
        snprintf(key, sizeof key, "x.%s", id);
        const char *given = st->post ? evhttp_find_header(&st->fields, key) : NULL;
        if (web_put(b, "<span class=\"msg\" id=\"q-%s\">Query: ", id) != 0 ||
            html_escape(b, web_str(q, "message")) != 0 || web_put(b, "</span>") != 0 ||
            web_put(b, "<label for=\"x-%s\">Explanation for ", id) != 0 || html_escape(b, label) != 0 ||
            web_put(b, "</label><textarea id=\"x-%s\" name=\"x.%s\" rows=\"3\" maxlength=\"2000\" "
                       "aria-describedby=\"q-%s\">", id, id, id) != 0 ||
            html_escape(b, given ? given : "") != 0 || web_put(b, "</textarea>") != 0)
            return -1;
    }
    return web_put(b, "</div>");
}

static void ret_render(struct request *r, int status, const char *note)
{
    struct ret_state *st = r->state;
    const json_t *doc = st->doc;
    const json_t *status_doc = json_object_get(doc, "status");
    const char *state = str(status_doc, "state");
    const json_t *latest = obj(doc, "latest");
    int awaiting = state && strcmp(state, "awaiting_approval") == 0 && latest;
    int edit = can_submit(&st->u) && !awaiting && strcmp(state, "not_open") != 0;
    long long submitter = (long long)web_num(latest, "user_id");
    int may_decide = awaiting && (st->u.role == ROLE_APPROVER || st->u.role == ROLE_ADMIN) &&
                     submitter != st->u.user_id;
    char title[96], path[64];
    snprintf(title, sizeof title, "Quarterly return %s", st->period);
    returns_period_path(st->period, path, sizeof path);
    struct evbuffer *b = evbuffer_new();
    int bad = !b || portal_page_begin(b, title, &st->u) != 0 ||
              web_put(b, "<h1>Quarterly return %s: ", st->period) != 0 ||
              html_escape(b, web_str(doc, "name")) != 0 ||
              web_put(b, "</h1><p id=\"status\" data-state=\"%s\">State: <strong>%s</strong>%s. "
                         "Due %s.</p>", state, returns_state_label(state),
                      json_is_true(json_object_get(status_doc, "late")) ? " (late)" : "",
                      str(status_doc, "due")) != 0 ||
              (note && (web_put(b, "<p class=\"note\" id=\"note\">") != 0 ||
                        html_escape(b, note) != 0 || web_put(b, "</p>") != 0)) ||
              render_summary(b, st) != 0;
    if (!bad && latest && strcmp(str(latest, "state"), "rejected") == 0 && !st->post)
        bad = web_put(b, "<p class=\"note\" id=\"rejection\">The approver returned version %d: ",
                      (int)web_num(latest, "version")) != 0 ||
              html_escape(b, web_str(latest, "reason")) != 0 || web_put(b, "</p>") != 0;
    if (!bad && awaiting) {
        /* The version awaiting sign-off, with its queries and explanations. */
        bad = web_put(b, "<h2>Version %d, awaiting approval</h2>", (int)web_num(latest, "version")) != 0;
        size_t i;
        json_t *q;
        if (!bad && json_array_size(json_object_get(latest, "queries")))
            bad = web_put(b, "<table id=\"explanations\"><caption>Queries and their explanations"
                             "</caption><thead><tr><th scope=\"col\">Figure</th><th scope=\"col\">"
                             "Query</th><th scope=\"col\">Explanation</th></tr></thead><tbody>") != 0;
        json_array_foreach(json_object_get(latest, "queries"), i, q) {
            if (bad)
                break;
            const char *ex = web_str(q, "explanation");
            bad = web_put(b, "<tr><th scope=\"row\">") != 0 ||
                  html_escape(b, label_of(doc, web_str(q, "metric"))) != 0 ||
                  web_put(b, "</th><td>") != 0 || html_escape(b, web_str(q, "message")) != 0 ||
                  web_put(b, "</td><td>") != 0 || html_escape(b, ex ? ex : "(not explained)") != 0 ||
                  web_put(b, "</td></tr>") != 0;
        }
        if (!bad && json_array_size(json_object_get(latest, "queries")))
            bad = web_put(b, "</tbody></table>") != 0;
    }
    if (!bad && edit)
        bad = web_put(b, "<form method=\"post\" action=\"%s\" enctype=\"multipart/form-data\" "
                         "class=\"stack\" id=\"upload\">", path) != 0 ||
              form_csrf_field(b, st->u.csrf) != 0 ||
              web_put(b, "<div class=\"field\"><label for=\"upload-file\">Upload the figures as "
                         "CSV or XLSX</label><span class=\"hint\" id=\"upload-hint\">The API's "
                         "tidy layout (in an .xlsx, on its first sheet): a header row and one row for this quarter (time_period, "
                         "new_la_code, one column per metric id). The figures fill the form "
                         "below and are checked; nothing is sent until you press Submit for "
                         "approval.</span><input type=\"file\" id=\"upload-file\" name=\"file\" "
                         "accept=\".csv,text/csv,.xlsx,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet\" aria-describedby=\"upload-hint\"></div>"
                         "<div class=\"actions\"><button type=\"submit\" name=\"action\" "
                         "value=\"upload\" class=\"secondary\">Upload</button></div></form>") != 0;
    if (!bad)
        bad = web_put(b, "<form method=\"post\" action=\"%s\" class=\"stack\" novalidate>", path) != 0 ||
              form_csrf_field(b, st->u.csrf) != 0;
    for (size_t g = 0; !bad && g < sizeof groups / sizeof groups[0]; g++) {
        bad = web_put(b, "<fieldset><legend>%s</legend>", groups[g]) != 0;
        size_t i;
        json_t *m;
        json_array_foreach(json_object_get(doc, "metrics"), i, m) {
            if (bad)
                break;
            if (strcmp(group_of(m), groups[g]) == 0)
                bad = render_field(b, st, m, edit) != 0;
        }
        if (!bad)
            bad = web_put(b, "</fieldset>") != 0;
    }
    if (!bad && edit)
        bad = web_put(b, "<div class=\"actions\"><button type=\"submit\" name=\"action\" "
                         "value=\"check\">Check</button><button type=\"submit\" name=\"action\" "
                         "value=\"submit\">Submit for approval</button></div>") != 0;
    if (!bad && may_decide)
        bad = web_put(b, "<div class=\"field\"><label for=\"reason\">Reason for rejecting "
                         "(needed to reject)</label><textarea id=\"reason\" name=\"reason\" rows=\"3\" "
                         "maxlength=\"2000\"></textarea></div><div class=\"actions\">"
                         "<button type=\"submit\" name=\"action\" value=\"approve\">Approve</button>"
                         "<button type=\"submit\" name=\"action\" value=\"reject\" class=\"secondary\">"
                         "Reject</button></div>") != 0;
    if (!bad && awaiting && !may_decide)
        bad = web_put(b, "<p class=\"note\" id=\"waiting\">%s</p>",
                      submitter == st->u.user_id
                          ? "You sent this version: an approver of your authority, another "
                            "person, signs it off."
                          : "An approver of your authority signs this version off.") != 0;
    if (!bad)
        bad = web_put(b, "</form><p><a href=\"/returns\">All quarters</a> · <a href=\"/authorities/%s\">"
                         "Your authority's profile</a></p>", st->authority) != 0;
    portal_end_page(r, status, b, bad);
}

/* A form value as JSON: a number when it reads as one (thousands
 * separators, a leading £ and spaces allowed), else the text, which the
 * validation then reports as not a number. */
static json_t *form_number(const char *s)
{
    char buf[64];
    size_t n = 0;
    for (const char *p = s; *p && n + 1 < sizeof buf; p++) {
        if (*p == ',' || *p == ' ')
            continue;
        if (n == 0 && strncmp(p, "\xc2\xa3", 2) == 0) {
            p++;
            continue;
        }
        buf[n++] = *p;
    }
    buf[n] = '\0';
    if (!n)
        return NULL;
    char *end = NULL;
    double v = strtod(buf, &end);
    if (end && *end == '\0' && isfinite(v))
        return v == floor(v) && fabs(v) < 1e15 ? json_integer((json_int_t)v) : json_real(v);
    return json_string(s);
}

static void ret_decided(const struct db_reply *reply, void *arg)
{
    struct request *r = arg;
    struct ret_state *st = r->state;
    char path[80];
    returns_period_path(st->period, path, sizeof path);
    if (reply->error) {
        const char *ss = reply->sqlstate ? reply->sqlstate : "";
        if (strcmp(ss, "SBK22") == 0) {
            portal_refuse(r, 403, "own_return", "You sent this version: another approver of "
                                                "your authority must sign it off.");
            return;
        }
        if (strcmp(ss, "SBK20") == 0 || strcmp(ss, "SBK21") == 0) {
            portal_refuse(r, 409, "not_awaiting_approval",
                          "This version is no longer awaiting approval (decided already, or a "
                          "newer version was sent). Reload the return.");
            return;
        }
        http_reply_db_error(r, reply);
        return;
    }
    strncat(path, strcmp(st->action, "approve") == 0 ? "?done=approved" : "?done=rejected",
            sizeof path - strlen(path) - 1);
    portal_redirect(r, path);
}

static void ret_stored(const struct db_reply *reply, void *arg)
{
    struct request *r = arg;
    struct ret_state *st = r->state;
    if (reply->error) {
        http_reply_db_error(r, reply);
        return;
    }
    char path[80];
    returns_period_path(st->period, path, sizeof path);
    strncat(path, "?done=submitted", sizeof path - strlen(path) - 1);
    portal_redirect(r, path);
}

static void ret_post(struct request *r)
{
    struct ret_state *st = r->state;
    const json_t *status_doc = json_object_get(st->doc, "status");
    const char *state = str(status_doc, "state");
    const json_t *latest = obj(st->doc, "latest");
    if (strcmp(st->action, "approve") == 0 || strcmp(st->action, "reject") == 0) {
        if (st->u.role != ROLE_APPROVER && st->u.role != ROLE_ADMIN) {
            portal_refuse(r, 403, "not_an_approver", "Only an approver signs off a return.");
            return;
        }
        if (!latest || strcmp(state, "awaiting_approval") != 0) {
            portal_refuse(r, 409, "not_awaiting_approval", "There is no version awaiting approval.");
            return;
        }
        const char *reason = evhttp_find_header(&st->fields, "reason");
        if (strcmp(st->action, "reject") == 0 && (!reason || !*reason)) {
            st->errors = json_array();
            submit_detail(st->errors, "reason", "required", "give the reason for rejecting, so "
                                                            "the submitter knows what to change");
            ret_render(r, 422, NULL);
            return;
        }
        char id[24], uid[24];
        snprintf(id, sizeof id, "%lld", (long long)web_num(latest, "id"));
        snprintf(uid, sizeof uid, "%lld", st->u.user_id);
        const char *params[4] = {id, st->action, uid, reason && *reason ? reason : NULL};
        if (db_pool_write(r->app->pool, "SELECT submission_decide($1::bigint, $2, $3::bigint, NULL, $4)",
                          4, params, ret_decided, r) != 0)
            http_reply_oom(r);
        return;
    }
    if (!can_submit(&st->u)) {
        portal_refuse(r, 403, "viewer", "Viewers can read the return but not change it.");
        return;
    }
    if (strcmp(state, "awaiting_approval") == 0 || strcmp(state, "not_open") == 0) {
        portal_refuse(r, 409, "not_editable", strcmp(state, "not_open") == 0
                      ? "This quarter has not ended yet." : "A version is awaiting approval.");
        return;
    }
    /* The figures as the API's body, through the API's validation. */
    json_t *body = json_pack("{s:s, s:s, s:O, s:O}", "authority", st->authority, "period",
                             st->period, "figures", st->figures, "withdraw", st->withdraw);
    char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
    struct submit_doc sd;
    memset(&sd, 0, sizeof sd);
    struct submit_date today;
    clock_utc_date(&today.year, &today.month, &today.day);
    st->errors = json_array();
    st->queries = json_array();
    int rc = text && st->errors && st->queries
                 ? submit_parse_json(text, strlen(text), r->app->catalogue, &today, &sd, st->errors)
                 : SUBMIT_NOMEM;
    free(text);
    if (rc == SUBMIT_NOMEM || rc == SUBMIT_MALFORMED) {
        submit_doc_clear(&sd);
        http_reply_error(r, 500, "internal_error", "the form could not be checked", NULL);
        return;
    }
    const json_t *c = json_object_get(st->doc, "context");
    struct query_context ctx = {json_object_get(c, "prev"), json_object_get(c, "year_ago"),
                                json_object_get(c, "published")};
    if (query_rules_check(r->app->catalogue, rc == SUBMIT_OK ? sd.figures : st->figures,
                          rc == SUBMIT_OK ? sd.withdraw : st->withdraw, &ctx, st->queries) < 0) {
        submit_doc_clear(&sd);
        http_reply_oom(r);
        return;
    }
    if (strcmp(st->action, "upload") == 0) {
        /* The file's own problems, and a file for another authority or
         * quarter than this page's. */
        json_array_extend(st->errors, st->up.errors);
        const char *old = web_str(st->doc, "old_code");
        if (st->up.authority[0] && strcmp(st->up.authority, st->authority) != 0 &&
            !(old && strcmp(st->up.authority, old) == 0))
            submit_detail(st->errors, "new_la_code", "other_authority",
                          "the file is for %s, this return is %s's", st->up.authority,
                          web_str(st->doc, "name"));
        if (st->up.period[0] && strcmp(st->up.period, st->period) != 0)
            submit_detail(st->errors, "time_period", "other_period",
                          "the file is for %s, this return is %s", st->up.period, st->period);
    }
    /* Each query with its explanation (form field x.METRIC). */
    size_t i, unexplained = 0;
    json_t *q;
    json_array_foreach(st->queries, i, q) {
        char key[80];
        snprintf(key, sizeof key, "x.%s", web_str(q, "metric"));
        const char *ex = evhttp_find_header(&st->fields, key);
        if (ex && *ex) {
            if (strlen(ex) > 2000) {
                submit_detail(st->errors, q ? json_string_value(json_object_get(q, "field")) : "",
                              "explanation_too_long", "an explanation has at most 2000 characters");
                continue;
            }
            json_object_set_new(q, "explanation", json_string(ex));
        } else {
            unexplained++;
        }
    }
    if (strcmp(st->action, "submit") != 0 || json_array_size(st->errors) || unexplained) {
        int refused = strcmp(st->action, "submit") == 0;
        int upload = strcmp(st->action, "upload") == 0;
        refused = refused || (upload && json_array_size(st->errors));
        char note[300];
        snprintf(note, sizeof note, "%s%zu error%s, %zu quer%s (%zu without an explanation).%s",
                 upload ? "Read from the uploaded file and checked: "
                 : refused ? "Not submitted: " : "Checked: ", json_array_size(st->errors),
                 json_array_size(st->errors) == 1 ? "" : "s", json_array_size(st->queries),
                 json_array_size(st->queries) == 1 ? "y" : "ies", unexplained,
                 upload ? " Nothing is sent until you press Submit for approval." : "");
        submit_doc_clear(&sd);
        ret_render(r, refused ? 422 : 200, note);
        return;
    }
    char *figures = json_dumps(sd.figures, JSON_COMPACT | JSON_SORT_KEYS | JSON_REAL_PRECISION(15));
    char *qtext = json_dumps(st->queries, JSON_COMPACT);
    char *wtext = json_dumps(sd.withdraw, JSON_COMPACT);
    char uid[24];
    snprintf(uid, sizeof uid, "%lld", st->u.user_id);
    const char *notes = evhttp_find_header(&st->fields, "notes");
    const char *params[7] = {st->authority, st->period, figures, uid, notes && *notes ? notes : NULL,
                             qtext, wtext};
    if (!figures || !qtext || !wtext ||
        db_pool_write(r->app->pool,
                      "SELECT submit_return($1, $2, $3::jsonb, $7::jsonb, NULL, $4::bigint, NULL,"
                      " 'application/x-www-form-urlencoded', $5, $6::jsonb)",
                      7, params, ret_stored, r) != 0)
        http_reply_oom(r);
    free(figures);
    free(qtext);
    free(wtext);
    submit_doc_clear(&sd);
}

static void ret_doc_loaded(const struct db_reply *reply, void *arg)
{
    struct request *r = arg;
    struct ret_state *st = r->state;
    if (reply->error) {
        http_reply_db_error(r, reply);
        return;
    }
    json_error_t jerr;
    st->doc = PQntuples(reply->res) == 1 && !PQgetisnull(reply->res, 0, 0)
                  ? json_loads(PQgetvalue(reply->res, 0, 0), 0, &jerr) : NULL;
    if (!st->doc) {
        portal_refuse(r, 404, "unknown_authority", "The authority is not registered.");
        return;
    }
    if (st->post) {
        ret_post(r);
        return;
    }
    const char *done = http_query(r, "done");
    ret_render(r, 200, !done ? NULL
                       : strcmp(done, "submitted") == 0 ? "Submitted for approval. An approver of "
                                                          "your authority signs it off."
                       : strcmp(done, "approved") == 0 ? "Approved: the figures are now in force."
                       : strcmp(done, "rejected") == 0 ? "Rejected: returned to the submitter "
                                                         "with your reason." : NULL);
}

static void ret_load(struct request *r)
{
    struct ret_state *st = r->state;
    const char *params[2] = {st->authority, st->period};
    if (db_pool_query(r->app->pool,
        "SELECT jsonb_build_object('authority', a.new_la_code, 'old_code', a.old_la_code, 'name', a.name,"
        " 'metrics', (SELECT jsonb_agg(jsonb_build_object('id', m.id, 'label', m.label, 'unit', m.unit,"
        "    'dp', m.dp, 'description', m.description) ORDER BY m.sort_order)"
        "    FROM metrics m WHERE m.submittable),"
        " 'status', (SELECT to_jsonb(s) FROM return_status(a.new_la_code, $2) s),"
        " 'latest', (SELECT submission_json(s.id) || jsonb_build_object('reason',"
        "    (SELECT st.reason FROM submission_states st WHERE st.submission_id = s.id"
        "     ORDER BY st.id DESC LIMIT 1))"
        "    FROM submissions s WHERE s.authority = a.new_la_code AND s.period = $2"
        "    ORDER BY s.version DESC LIMIT 1),"
        " 'last_approved', (SELECT coalesce(jsonb_object_agg(metric, value), '{}') FROM ("
        "    SELECT DISTINCT ON (metric) metric, value FROM current_observations"
        "    WHERE authority = a.new_la_code AND period_kind = 'fy_quarter' AND value IS NOT NULL"
        "      AND period_start <= fy_quarter_start($2)"
        "    ORDER BY metric, period_start DESC) l),"
        " 'in_force', (SELECT coalesce(jsonb_object_agg(metric, value), '{}') FROM current_observations"
        "    WHERE authority = a.new_la_code AND period = $2 AND value IS NOT NULL),"
        " 'context', return_context(a.new_la_code, $2))"
        " FROM authorities a WHERE a.new_la_code = $1",
        2, params, ret_doc_loaded, r) != 0)
        http_reply_oom(r);
}

static void ret_resolved(struct request *r, const struct session_user *u)
{
    struct ret_state *st = r->state;
    if (!u) {
        portal_need_sign_in(r);
        return;
    }
    st->u = *u;
    const char *asked = http_query(r, "authority");
    if (asked && *asked && strcmp(asked, u->authority) != 0 && u->role != ROLE_ADMIN) {
        portal_refuse(r, 403, "forbidden", "You can see and change only your own authority's returns.");
        return;
    }
    if (u->role == ROLE_ADMIN && !(asked && *asked)) {
        portal_redirect(r, "/admin/collection");
        return;
    }
    snprintf(st->authority, sizeof st->authority, "%s", asked && *asked ? asked : u->authority);
    if (st->post) {
        struct submit_date today;
        clock_utc_date(&today.year, &today.month, &today.day);
        int upload = return_upload_is(r);
        if (upload && return_upload_read(r, r->app->catalogue, &today, &st->fields, &st->up) != 0) {
            char msg[220];
            snprintf(msg, sizeof msg, "The upload could not be read: %s. Nothing was done.",
                     st->up.reason);
            portal_refuse(r, 400, "bad_upload", msg);
            return;
        }
        if ((!upload && form_read(r, &st->fields) != 0) ||
            !session_csrf_ok(u->csrf, evhttp_find_header(&st->fields, "csrf"))) {
            log_msg(LOG_INFO, r->id, "return form refused: missing or wrong CSRF token");
            portal_refuse(r, 403, "csrf_failed", "This form has expired or did not come from "
                                                 "this site, so nothing was done. Reload the page.");
            return;
        }
        const char *a = evhttp_find_header(&st->fields, "action");
        snprintf(st->action, sizeof st->action, "%s", a ? a : "");
        if ((strcmp(st->action, "check") && strcmp(st->action, "submit") &&
             strcmp(st->action, "approve") && strcmp(st->action, "reject") &&
             strcmp(st->action, "upload")) ||
            (upload != (strcmp(st->action, "upload") == 0))) {
            portal_refuse(r, 400, "bad_action", "The form's button is not one this page knows.");
            return;
        }
        st->figures = json_object();
        st->withdraw = json_array();
        if (!st->figures || !st->withdraw) {
            http_reply_oom(r);
            return;
        }
        for (struct evkeyval *kv = st->fields.tqh_first; kv; kv = kv->next.tqe_next)
            if (strncmp(kv->key, "w.", 2) == 0 && kv->key[2] && !withdraw_has(st->withdraw, kv->key + 2))
                json_array_append_new(st->withdraw, json_string(kv->key + 2));
        if (upload)
            json_object_update(st->figures, st->up.figures);
        for (struct evkeyval *kv = st->fields.tqh_first; !upload && kv; kv = kv->next.tqe_next) {
            /* A withdrawn figure's input still shows the figure in force:
             * the tick wins, and no figure is sent for it. */
            if (strncmp(kv->key, "f.", 2) != 0 || withdraw_has(st->withdraw, kv->key + 2))
                continue;
            json_t *v = form_number(kv->value);
            if (v)
                json_object_set_new(st->figures, kv->key + 2, v);
        }
    }
    ret_load(r);
}

static void ret_catalogue_ready(struct request *r)
{
    session_resolve(r, ret_resolved);
}

static void ret_start(struct request *r, int post)
{
    struct ret_state *st = calloc(1, sizeof *st);
    if (!st) {
        http_reply_oom(r);
        return;
    }
    form_init(&st->fields);
    st->post = post;
    r->state = st;
    r->state_free = ret_state_free;
    const char *period = http_param(r, 0);
    struct submit_date today;
    clock_utc_date(&today.year, &today.month, &today.day);
    json_t *d = json_array();
    int bad = !d || strlen(period) >= sizeof st->period ||
              submit_check_period(period, &today, "period", d) != 0;
    if (bad) {
        const json_t *first = json_array_get(d, 0);
        portal_refuse(r, 404, "bad_period", first ? web_str(first, "message")
                                                  : "no such quarter");
        json_decref(d);
        return;
    }
    json_decref(d);
    snprintf(st->period, sizeof st->period, "%s", period);
    submissions_catalogue_ensure(r, ret_catalogue_ready);
}

void route_return_page(struct request *r)
{
    ret_start(r, 0);
}

void route_return_post(struct request *r)
{
    ret_start(r, 1);
}
