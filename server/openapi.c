#include "openapi.h"

#include <stdio.h>
#include <stdlib.h>

#include "app.h"
#include "db.h"
#include "routes.h"

json_t *openapi_document(const char *const *ids, size_t n, char *err, size_t errlen)
{
    json_error_t jerr;
    json_t *doc = json_loadb(openapi_json, openapi_json_len, JSON_REJECT_DUPLICATES, &jerr);
    if (!doc) {
        snprintf(err, errlen, "docs/openapi.json line %d: %s", jerr.line, jerr.text);
        return NULL;
    }
    json_t *metric = json_object_get(
        json_object_get(json_object_get(doc, "components"), "schemas"), "MetricId");
    json_t *e = json_array();
    if (!json_is_object(metric) || !e) {
        snprintf(err, errlen, "docs/openapi.json has no components.schemas.MetricId");
        json_decref(e);
        json_decref(doc);
        return NULL;
    }
    for (size_t i = 0; i < n; i++)
        if (json_array_append_new(e, json_string(ids[i])) != 0) {
            snprintf(err, errlen, "out of memory");
            json_decref(e);
            json_decref(doc);
            return NULL;
        }
    json_object_set_new(metric, "enum", e);
    return doc;
}

static void catalogue_done(const struct db_reply *reply, void *arg)
{
    struct request *r = arg;
    if (reply->error) {
        http_reply_db_error(r, reply);
        return;
    }
    int n = PQntuples(reply->res);
    const char **ids = calloc(n > 0 ? (size_t)n : 1, sizeof *ids);
    if (!ids) {
        http_reply_oom(r);
        return;
    }
    for (int i = 0; i < n; i++)
        ids[i] = PQgetvalue(reply->res, i, 0);
    char err[200];
    json_t *doc = openapi_document(ids, (size_t)n, err, sizeof err);
    free(ids);
    if (!doc) {
        http_reply_error(r, 500, "internal_error", err, NULL);
        return;
    }
    http_add_header(r, "Cache-Control", "public, max-age=60");
    http_reply_json(r, 200, doc);
}

void route_openapi(struct request *r)
{
    if (db_pool_query(r->app->pool, "SELECT id FROM metrics ORDER BY id", 0, NULL, catalogue_done,
                      r) != 0)
        http_reply_oom(r);
}
