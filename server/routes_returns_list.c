/*
 * GET /returns: a signed-in council officer's last eight quarters with
 * their state, opening and due dates (return_status, sql/041), each linked
 * to its form (server/routes_returns.c).  Administrators go to the
 * collection dashboard instead.
 */
#include <event2/buffer.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "db.h"
#include "html.h"
#include "portal.h"
#include "returns.h"
#include "routes.h"
#include "sessions.h"
#include "web.h"

/* "2025-26 Q2" -> "2025-26%20Q2" (a checked period has no other specials). */
void returns_period_path(const char *period, char *out, size_t outlen)
{
    snprintf(out, outlen, "/returns/%.7s%%20%.2s", period, period + 8);
}

const char *returns_state_label(const char *state)
{
    return strcmp(state, "not_open") == 0 ? "not open yet"
         : strcmp(state, "open") == 0 ? "open, not started"
         : strcmp(state, "draft") == 0 ? "draft (returned by the approver)"
         : strcmp(state, "awaiting_approval") == 0 ? "awaiting approval"
         : strcmp(state, "approved") == 0 ? "approved" : state;
}

static void list_loaded(const struct db_reply *reply, void *arg)
{
    struct request *r = arg;
    const struct session_user *u = r->state;
    if (reply->error) {
        http_reply_db_error(r, reply);
        return;
    }
    struct evbuffer *b = evbuffer_new();
    int bad = !b || portal_page_begin(b, "Quarterly returns", u) != 0 ||
              web_put(b, "<h1>Quarterly returns</h1><p>") != 0 ||
              html_escape(b, u->authority_name) != 0 ||
              web_put(b, ". Each quarter opens the day after it ends and is due by the date "
                         "shown.</p><table id=\"returns\"><caption>Quarters and their state"
                         "</caption><thead><tr><th scope=\"col\">Quarter</th>"
                         "<th scope=\"col\">State</th><th scope=\"col\">Opens</th>"
                         "<th scope=\"col\">Due</th></tr></thead><tbody>") != 0;
    for (int i = 0; !bad && i < PQntuples(reply->res); i++) {
        const char *period = PQgetvalue(reply->res, i, 0), *state = PQgetvalue(reply->res, i, 1);
        int late = strcmp(PQgetvalue(reply->res, i, 2), "t") == 0;
        char path[64];
        returns_period_path(period, path, sizeof path);
        bad = web_put(b, "<tr data-period=\"%s\" data-state=\"%s\"%s><th scope=\"row\">"
                         "<a href=\"%s\">%s</a></th><td><span class=\"state state-%s\">%s</span>%s"
                         "</td><td>%s</td><td>%s</td></tr>",
                      period, state, late ? " data-late=\"true\"" : "", path, period, state,
                      returns_state_label(state),
                      late ? " <span class=\"state state-late\">late</span>" : "",
                      PQgetvalue(reply->res, i, 3), PQgetvalue(reply->res, i, 4)) != 0;
    }
    if (!bad)
        bad = web_put(b, "</tbody></table>") != 0;
    portal_end_page(r, 200, b, bad);
}

static void list_resolved(struct request *r, const struct session_user *u)
{
    if (!u) {
        portal_need_sign_in(r);
        return;
    }
    if (u->role == ROLE_ADMIN) {
        portal_redirect(r, "/admin/collection");
        return;
    }
    struct session_user *copy = malloc(sizeof *copy);
    if (!copy) {
        http_reply_oom(r);
        return;
    }
    *copy = *u;
    r->state = copy;
    r->state_free = free;
    const char *params[1] = {u->authority};
    /* The last eight quarters that have ended, newest first. */
    if (db_pool_query(r->app->pool,
                      "WITH cur AS (SELECT to_char(fy, 'FM0000') || '-' || to_char((fy + 1) % 100, 'FM00')"
                      "               || ' Q' || q AS p FROM (SELECT"
                      "   CASE WHEN extract(month FROM current_date) >= 4 THEN extract(year FROM current_date)"
                      "        ELSE extract(year FROM current_date) - 1 END::int AS fy,"
                      "   ((extract(month FROM current_date)::int + 8) % 12) / 3 + 1 AS q) x)"
                      " SELECT p.p, s.state, s.late, s.opens, s.due"
                      " FROM cur, generate_series(1, 8) k,"
                      "      LATERAL (SELECT fy_quarter_shift(cur.p, -k) AS p) p,"
                      "      LATERAL return_status($1, p.p) s"
                      " ORDER BY k",
                      1, params, list_loaded, r) != 0)
        http_reply_oom(r);
}

void route_returns(struct request *r)
{
    session_resolve(r, list_resolved);
}

