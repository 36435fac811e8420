#include "routes.h"

#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "db.h"
#include "log.h"

/* Every URL the server answers.  The first pattern that matches the path
 * and allows the method wins; a path that matches with another method
 * answers 405 with Allow. */
const struct route routes[] = {
    {HTTP_GET, "/healthz", route_healthz},
    {HTTP_GET, "/metrics", route_prometheus},
    {HTTP_GET, "/api/v1/metrics", route_metric_catalogue},
    {HTTP_GET, "/api/v1/authorities", route_authorities},
    {HTTP_GET, "/api/v1/authorities/{code}", route_authority},
    {HTTP_GET, "/api/v1/forecasts/{metric}", route_forecast},
    {HTTP_GET, "/api/v1/authorities/{code}/profile", route_profile},
    {HTTP_GET, "/api/v1/tables/{metric}", route_table},
    {HTTP_GET, "/api/v1/tables/{metric}/meta", route_table_meta},
    {HTTP_POST, "/api/v1/submissions", route_submission_create},
    {HTTP_GET, "/api/v1/submissions", route_submissions_list},
    {HTTP_GET, "/api/v1/submissions/{id}", route_submission_get},
    {HTTP_GET, "/api/v1/authorities/{code}/evidence", route_evidence},
    {HTTP_GET, "/api/v1/authorities/{code}/high-needs", route_high_needs},
    {HTTP_GET | HTTP_POST, "/api/v1/authorities/{code}/scenarios", route_scenarios},
    {HTTP_GET, "/api/v1/authorities/{code}/scenarios/{id}", route_scenarios},
    {HTTP_GET, "/", route_web_home},
    {HTTP_GET, "/authorities/{code}", route_web_authority},
    {HTTP_GET, "/metrics/{metric}", route_web_metric},
    {HTTP_GET | HTTP_POST, "/authorities/{code}/high-needs", route_web_high_needs},
    {HTTP_GET, "/login", route_login_page},
    {HTTP_POST, "/login", route_login},
    {HTTP_POST, "/logout", route_logout},
    {HTTP_GET, "/setup/{secret}", route_setup_page},
    {HTTP_POST, "/setup/{secret}", route_setup},
    {0, NULL, NULL},
};

struct sql_json_state {
    const char *not_found;
};

static void sql_json_done(const struct db_reply *reply, void *arg)
{
    struct request *r = arg;
    struct sql_json_state *st = r->state;
    if (reply->error) {
        http_reply_db_error(r, reply);
        return;
    }
    if (PQntuples(reply->res) < 1 || PQgetisnull(reply->res, 0, 0)) {
        http_reply_error(r, 404, "not_found", st->not_found, NULL);
        return;
    }
    const char *doc = PQgetvalue(reply->res, 0, 0);
    size_t len = (size_t)PQgetlength(reply->res, 0, 0);
    char *copy = malloc(len + 1);
    if (!copy) {
        http_reply_error(r, 500, "internal_error", "out of memory", NULL);
        return;
    }
    memcpy(copy, doc, len);
    copy[len] = '\n';
    http_reply_text(r, 200, "application/json", copy, len + 1);
    free(copy);
}

void route_sql_json(struct request *r, const char *sql, int nparams, const char *const *params,
                    const char *not_found_message)
{
    struct sql_json_state *st = calloc(1, sizeof *st);
    if (!st) {
        http_reply_error(r, 500, "internal_error", "out of memory", NULL);
        return;
    }
    st->not_found = not_found_message;
    r->state = st;
    r->state_free = free;
    if (db_pool_query(r->app->pool, sql, nparams, params, sql_json_done, r) != 0)
        http_reply_error(r, 500, "internal_error", "out of memory", NULL);
}
