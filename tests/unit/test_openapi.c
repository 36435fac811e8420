/* The OpenAPI description (docs/openapi.json, compiled in) cannot drift
 * from the route table: every route of server/routes.c is documented with
 * its methods, nothing is documented that the server does not route, every
 * {parameter} of a path is declared, every $ref resolves, operation ids are
 * unique.  A route added without its description fails here, by name. */
#include "openapi.h"

#include <stdlib.h>

#include "auth.h"
#include "http.h"
#include "unit.h"

static json_t *doc;

static const struct {
    int bit;
    const char *name;
} METHODS[] = {{HTTP_GET, "get"}, {HTTP_POST, "post"}, {HTTP_PUT, "put"}, {HTTP_DELETE, "delete"}};
#define N_METHODS (sizeof METHODS / sizeof METHODS[0])

static void test_document_parses(void)
{
    json_error_t jerr;
    doc = json_loadb(openapi_json, openapi_json_len, JSON_REJECT_DUPLICATES, &jerr);
    if (!doc)
        fprintf(stderr, "docs/openapi.json line %d: %s\n", jerr.line, jerr.text);
    CHECK(doc != NULL);
    CHECK_STR(json_string_value(json_object_get(doc, "openapi")), "3.1.0");
    CHECK(json_is_object(json_object_get(doc, "paths")));
}

static void test_every_route_is_documented(void)
{
    json_t *paths = json_object_get(doc, "paths");
    for (const struct route *rt = routes; rt->pattern; rt++) {
        json_t *item = json_object_get(paths, rt->pattern);
        for (size_t m = 0; m < N_METHODS; m++) {
            if (!(rt->methods & METHODS[m].bit))
                continue;
            if (!json_is_object(json_object_get(item, METHODS[m].name))) {
                fprintf(stderr, "route %s %s (server/routes.c) is not described in "
                                "docs/openapi.json\n", METHODS[m].name, rt->pattern);
                CHECK(!"every route is in docs/openapi.json");
            }
        }
    }
}

/* What the operation's security says: *anyone when an empty requirement
 * ({}) or none at all lets a caller in without credentials, *bearer when a
 * bearer token is one of the ways. */
static void security_of(const json_t *op, int *anyone, int *bearer)
{
    const json_t *sec = json_object_get(op, "security");
    if (!sec)
        sec = json_object_get(doc, "security");
    *anyone = !json_is_array(sec) || json_array_size(sec) == 0;
    *bearer = 0;
    size_t i;
    const json_t *req;
    json_array_foreach(sec, i, req) {
        if (json_object_size(req) == 0)
            *anyone = 1;
        if (json_object_get(req, "bearerToken"))
            *bearer = 1;
    }
}

/* The route table's access column and the document's security agree: a
 * route that needs a token (or an admin's) is not documented as open to
 * anyone, and one that takes an optional token documents both ways. */
static void test_security_matches_route_access(void)
{
    json_t *paths = json_object_get(doc, "paths");
    for (const struct route *rt = routes; rt->pattern; rt++) {
        for (size_t m = 0; m < N_METHODS; m++) {
            json_t *op = json_object_get(json_object_get(paths, rt->pattern), METHODS[m].name);
            if (!(rt->methods & METHODS[m].bit) || !op)
                continue;
            int anyone, bearer;
            security_of(op, &anyone, &bearer);
            int ok = 1;
            if (rt->access == ROUTE_TOKEN_REQUIRED || rt->access == ROUTE_ADMIN)
                ok = !anyone && bearer;
            else if (rt->access == ROUTE_TOKEN_OPTIONAL)
                ok = anyone && bearer;
            if (!ok) {
                fprintf(stderr, "%s %s: docs/openapi.json's security does not match the route's "
                                "access (%d) in server/routes.c\n", METHODS[m].name, rt->pattern,
                        (int)rt->access);
                CHECK(!"security matches route access");
            }
        }
    }
}

static int routed(const char *pattern, int bit)
{
    for (const struct route *rt = routes; rt->pattern; rt++)
        if (strcmp(rt->pattern, pattern) == 0 && (rt->methods & bit))
            return 1;
    return 0;
}

static void test_everything_documented_is_routed(void)
{
    const char *path;
    json_t *item;
    json_object_foreach(json_object_get(doc, "paths"), path, item) {
        const char *key;
        json_t *op;
        json_object_foreach(item, key, op) {
            size_t m = 0;
            while (m < N_METHODS && strcmp(METHODS[m].name, key) != 0)
                m++;
            if (m == N_METHODS) {
                if (strcmp(key, "parameters") != 0 && strcmp(key, "summary") != 0 &&
                    strcmp(key, "description") != 0) {
                    fprintf(stderr, "docs/openapi.json: %s %s: the server answers no such "
                                    "method\n", key, path);
                    CHECK(!"only methods the route table has");
                }
                continue;
            }
            if (!routed(path, METHODS[m].bit)) {
                fprintf(stderr, "docs/openapi.json describes %s %s, which server/routes.c "
                                "does not route\n", key, path);
                CHECK(!"everything described is routed");
            }
        }
    }
}

/* The object a local "#/a/b/c" reference points to, or NULL. */
static json_t *resolve(const char *ref)
{
    if (strncmp(ref, "#/", 2) != 0)
        return NULL;
    char buf[256];
    snprintf(buf, sizeof buf, "%s", ref + 2);
    json_t *at = doc;
    for (char *save = NULL, *tok = strtok_r(buf, "/", &save); tok && at;
         tok = strtok_r(NULL, "/", &save))
        at = json_object_get(at, tok);
    return at;
}

static void check_refs(json_t *v, int *n)
{
    if (json_is_object(v)) {
        const char *k;
        json_t *x;
        json_object_foreach(v, k, x) {
            if (strcmp(k, "$ref") == 0 && json_is_string(x)) {
                (*n)++;
                if (!resolve(json_string_value(x))) {
                    fprintf(stderr, "docs/openapi.json: $ref %s resolves to nothing\n",
                            json_string_value(x));
                    CHECK(!"every $ref resolves");
                }
            } else {
                check_refs(x, n);
            }
        }
    } else if (json_is_array(v)) {
        size_t i;
        json_t *x;
        json_array_foreach(v, i, x) check_refs(x, n);
    }
}

/* Whether operation op (or its path item) declares path parameter name. */
static int declares(json_t *item, json_t *op, const char *name)
{
    json_t *lists[2] = {json_object_get(op, "parameters"), json_object_get(item, "parameters")};
    for (int l = 0; l < 2; l++) {
        size_t i;
        json_t *p;
        json_array_foreach(lists[l], i, p) {
            json_t *ref = json_object_get(p, "$ref");
            if (ref)
                p = resolve(json_string_value(ref));
            if (p && strcmp(json_string_value(json_object_get(p, "in")) ?: "", "path") == 0 &&
                strcmp(json_string_value(json_object_get(p, "name")) ?: "", name) == 0)
                return 1;
        }
    }
    return 0;
}

static void test_operations_are_complete(void)
{
    int refs = 0;
    check_refs(doc, &refs);
    CHECK(refs > 20);
    json_t *ids = json_object();
    const char *path;
    json_t *item;
    json_object_foreach(json_object_get(doc, "paths"), path, item) {
        const char *key;
        json_t *op;
        json_object_foreach(item, key, op) {
            if (strcmp(key, "parameters") == 0 || !json_is_object(op))
                continue;
            const char *id = json_string_value(json_object_get(op, "operationId"));
            if (!id || json_object_get(ids, id)) {
                fprintf(stderr, "%s %s: operationId missing or used twice (%s)\n", key, path,
                        id ? id : "none");
                CHECK(!"unique operation ids");
            } else {
                json_object_set_new(ids, id, json_true());
            }
            json_t *resp = json_object_get(op, "responses");
            CHECK(json_is_object(resp) && json_object_size(resp) > 0);
            /* Every {name} of the path is a declared path parameter. */
            for (const char *p = strchr(path, '{'); p; p = strchr(p + 1, '{')) {
                const char *end = strchr(p, '}');
                char name[64];
                if (!end || (size_t)(end - p) >= sizeof name)
                    break;
                snprintf(name, sizeof name, "%.*s", (int)(end - p - 1), p + 1);
                if (!declares(item, op, name)) {
                    fprintf(stderr, "%s %s: path parameter {%s} is not declared\n", key, path,
                            name);
                    CHECK(!"path parameters declared");
                }
            }
        }
    }
    json_decref(ids);
}

static void test_served_document_lists_metric_ids(void)
{
    const char *ids[] = {"ehcp_caseload", "pct_within_20_weeks"};
    char err[200] = "";
    json_t *d = openapi_document(ids, 2, err, sizeof err);
    CHECK(d != NULL);
    json_t *e = json_object_get(
        json_object_get(json_object_get(json_object_get(d, "components"), "schemas"),
                        "MetricId"),
        "enum");
    CHECK(json_array_size(e) == 2);
    CHECK_STR(json_string_value(json_array_get(e, 1)), "pct_within_20_weeks");
    json_decref(d);
}

int main(void)
{
    RUN(test_document_parses);
    if (doc) {
        RUN(test_every_route_is_documented);
        RUN(test_everything_documented_is_routed);
        RUN(test_operations_are_complete);
        RUN(test_security_matches_route_access);
    }
    RUN(test_served_document_lists_metric_ids);
    json_decref(doc);
    return UNIT_DONE();
}
