/* Handlers of the route table in server/routes.c, one file per concern. */
#ifndef SENDBENCH_ROUTES_H
#define SENDBENCH_ROUTES_H

#include "http.h"

/* server/routes_health.c */
void route_healthz(struct request *r);
void route_livez(struct request *r);
void route_readyz(struct request *r);
void route_prometheus(struct request *r);

/* server/routes_catalogue.c */
void route_metric_catalogue(struct request *r);
void route_authorities(struct request *r);
void route_authority(struct request *r);

/* server/routes_forecasts.c */
void route_forecast(struct request *r);
void route_forecast_quarterly(struct request *r);
/* server/routes_tables.c: comparative tables and profiles; the cache
 * that holds them is server/tables_query.c's (tables_start: before
 * serving; tables_stop: after). */
struct app;
void route_table(struct request *r);
void route_table_meta(struct request *r);
void route_profile(struct request *r);
int tables_start(struct app *app) __attribute__((warn_unused_result));
void tables_stop(struct app *app);
/* server/routes_submissions.c */
void route_submission_create(struct request *r);
void route_submissions_list(struct request *r);
void route_submission_get(struct request *r);
void submissions_catalogue_free(struct app *app);
/* Loads the metric catalogue into app->catalogue once, then calls next. */
void submissions_catalogue_ensure(struct request *r, void (*next)(struct request *r));

/* server/routes_returns.c: the quarterly return for signed-in people */
void route_returns(struct request *r);
void route_return_page(struct request *r);
void route_return_post(struct request *r);
void route_submission_approve(struct request *r);
void route_submission_reject(struct request *r);

/* server/routes_web.c: the web interface (HTML) */
void route_web_home(struct request *r);
void route_web_authority(struct request *r);
/* server/routes_compare.c: submitted beside published figures */
void route_web_compare(struct request *r);
void route_web_metric(struct request *r);

/* server/routes_login.c: sign-in, sign-out, set-up links */
void route_login_page(struct request *r);
void route_login(struct request *r);
void route_logout(struct request *r);
void route_setup_page(struct request *r);
void route_setup(struct request *r);
/* server/routes_consent.c: PUT /api/v1/admin/authorities/{code}/consent */
void route_admin_consent(struct request *r);

/* server/routes_high_needs.c: the High Needs trajectory and scenarios */
void route_high_needs(struct request *r);
void route_scenarios(struct request *r);
/* server/web_high_needs.c: the High Needs page and its scenario form */
void route_web_high_needs(struct request *r);
/* server/routes_quality.c: the import checks' flags (admin) */
void route_admin_quality(struct request *r);
void route_admin_quality_release(struct request *r);

/* server/routes_admin.c: administrators' pages */
void route_admin(struct request *r);
void route_admin_post(struct request *r);
void route_admin_audit(struct request *r);
void route_admin_collection(struct request *r);

/* server/routes_consent.c: PUT /api/v1/admin/authorities/{code}/consent */
void route_admin_consent(struct request *r);

/* server/routes_collections.c: a quarter's collection (JSON and page) */
void route_collection(struct request *r);
void route_web_collection(struct request *r);

/* server/routes_evidence.c */
void route_evidence(struct request *r);

/* server/openapi.c: the API's OpenAPI 3.1 description */
void route_openapi(struct request *r);

/*
 * Answers with the JSON document that `sql` returns as its one column of
 * one row (PostgreSQL builds it).  No row or a NULL value answers 404 with
 * not_found_message.  Parameters are copied.
 */
void route_sql_json(struct request *r, const char *sql, int nparams, const char *const *params,
                    const char *not_found_message);

#endif
