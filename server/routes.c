#include "routes.h"

#include <stdlib.h>
#include <string.h>

#include "app.h"
#include "db.h"
#include "log.h"

/* Every URL the server answers.  The first pattern that matches the path
 * and allows the method wins; a path that matches with another method
 * answers 405 with Allow.  The last column says what the route needs of its
 * caller (auth.h enum route_access; left out: anonymous): the dispatcher
 * resolves the caller into r->caller before the handler runs. */
const struct route routes[] = {
    {HTTP_GET, "/healthz", route_healthz, ROUTE_ANONYMOUS},
    {HTTP_GET, "/livez", route_livez, ROUTE_ANONYMOUS},
    {HTTP_GET, "/readyz", route_readyz, ROUTE_ANONYMOUS},
    {HTTP_GET, "/metrics", route_prometheus, ROUTE_ANONYMOUS},
    {HTTP_GET, "/api/v1/metrics", route_metric_catalogue, ROUTE_ANONYMOUS},
    {HTTP_GET, "/api/v1/authorities", route_authorities, ROUTE_ANONYMOUS},
    {HTTP_GET, "/api/v1/authorities/{code}", route_authority, ROUTE_ANONYMOUS},
    {HTTP_GET, "/api/v1/forecasts/{metric}", route_forecast, ROUTE_ANONYMOUS},
    {HTTP_GET, "/api/v1/forecasts/{metric}/quarterly", route_forecast_quarterly,
     ROUTE_TOKEN_REQUIRED},
    {HTTP_GET, "/api/v1/authorities/{code}/profile", route_profile, ROUTE_TOKEN_OPTIONAL},
    {HTTP_GET, "/api/v1/tables/{metric}", route_table, ROUTE_TOKEN_OPTIONAL},
    {HTTP_GET, "/api/v1/tables/{metric}/meta", route_table_meta, ROUTE_TOKEN_OPTIONAL},
    {HTTP_POST, "/api/v1/submissions", route_submission_create, ROUTE_TOKEN_REQUIRED},
    {HTTP_GET, "/api/v1/submissions", route_submissions_list, ROUTE_TOKEN_REQUIRED},
    {HTTP_GET, "/api/v1/submissions/{id}", route_submission_get, ROUTE_TOKEN_REQUIRED},
    {HTTP_GET, "/api/v1/authorities/{code}/evidence", route_evidence, ROUTE_TOKEN_OPTIONAL},
    {HTTP_GET, "/api/v1/openapi.json", route_openapi, ROUTE_ANONYMOUS},
    {HTTP_GET, "/api/v1/authorities/{code}/high-needs", route_high_needs, ROUTE_TOKEN_OPTIONAL},
    {HTTP_GET | HTTP_POST, "/api/v1/authorities/{code}/scenarios", route_scenarios,
     ROUTE_TOKEN_REQUIRED},
    {HTTP_GET, "/api/v1/authorities/{code}/scenarios/{id}", route_scenarios, ROUTE_TOKEN_REQUIRED},
    {HTTP_PUT, "/api/v1/admin/authorities/{code}/consent", route_admin_consent, ROUTE_ADMIN},
    {HTTP_GET, "/api/v1/admin/quality", route_admin_quality, ROUTE_ADMIN},
    {HTTP_POST, "/api/v1/admin/quality/{id}/release", route_admin_quality_release, ROUTE_ADMIN},
    {HTTP_GET, "/api/v1/collections/{period}", route_collection, ROUTE_TOKEN_OPTIONAL},
    {HTTP_GET, "/collections/{period}", route_web_collection, ROUTE_TOKEN_OPTIONAL},
    {HTTP_GET, "/", route_web_home, ROUTE_ANONYMOUS},
    {HTTP_GET, "/authorities/{code}", route_web_authority, ROUTE_TOKEN_OPTIONAL},
    {HTTP_GET, "/authorities/{code}/submitted", route_web_compare, ROUTE_TOKEN_OPTIONAL},
    {HTTP_GET, "/metrics/{metric}", route_web_metric, ROUTE_TOKEN_OPTIONAL},
    {HTTP_GET | HTTP_POST, "/authorities/{code}/high-needs", route_web_high_needs, ROUTE_ANONYMOUS},
    {HTTP_GET, "/returns", route_returns, ROUTE_ANONYMOUS},
    {HTTP_GET, "/returns/{period}", route_return_page, ROUTE_ANONYMOUS},
    {HTTP_POST, "/returns/{period}", route_return_post, ROUTE_ANONYMOUS},
    {HTTP_POST, "/api/v1/submissions/{id}/approve", route_submission_approve, ROUTE_TOKEN_REQUIRED},
    {HTTP_POST, "/api/v1/submissions/{id}/reject", route_submission_reject, ROUTE_TOKEN_REQUIRED},
    {HTTP_GET, "/admin", route_admin, ROUTE_ANONYMOUS},
    {HTTP_POST, "/admin", route_admin_post, ROUTE_ANONYMOUS},
    {HTTP_GET, "/admin/audit", route_admin_audit, ROUTE_ANONYMOUS},
    {HTTP_GET, "/admin/collection", route_admin_collection, ROUTE_ANONYMOUS},
    {HTTP_GET, "/login", route_login_page, ROUTE_ANONYMOUS},
    {HTTP_POST, "/login", route_login, ROUTE_ANONYMOUS},
    {HTTP_POST, "/logout", route_logout, ROUTE_ANONYMOUS},
    {HTTP_GET, "/setup/{secret}", route_setup_page, ROUTE_ANONYMOUS},
    {HTTP_POST, "/setup/{secret}", route_setup, ROUTE_ANONYMOUS},
    {0, NULL, NULL, ROUTE_ANONYMOUS},
};

struct sql_json_state {
    const char *not_found;
};

static void sql_json_done(struct request *r, PGresult *res)
{
    struct sql_json_state *st = r->state;
    if (PQntuples(res) < 1 || PQgetisnull(res, 0, 0)) {
        http_reply_error(r, 404, "not_found", st->not_found, NULL);
        return;
    }
    const char *doc = PQgetvalue(res, 0, 0);
    size_t len = (size_t)PQgetlength(res, 0, 0);
    char *copy = malloc(len + 1);
    if (!copy) {
        http_reply_oom(r);
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
        http_reply_oom(r);
        return;
    }
    st->not_found = not_found_message;
    r->state = st;
    r->state_free = free;
    request_query(r, sql, nparams, params, sql_json_done);
}
