/*
 * The OpenAPI 3.1 description of the HTTP API: docs/openapi.json, compiled
 * into the binary (scripts/embed_file.sh), served at GET
 * /api/v1/openapi.json with the metric catalogue's ids filled in as the
 * MetricId enum, so that the served document names exactly the metrics
 * this database has.  tests/unit/test_openapi.c checks the document against
 * the route table (every route documented, nothing documented that is not
 * a route); tests/integration/test_openapi.py validates real answers of
 * every operation against it.
 */
#ifndef SENDBENCH_OPENAPI_H
#define SENDBENCH_OPENAPI_H

#include <jansson.h>
#include <stddef.h>

extern const char openapi_json[];
extern const size_t openapi_json_len;

/* The document with ids[0..n) as components.schemas.MetricId.enum.  New
 * reference (caller json_decref), or NULL with a reason in err. */
json_t *openapi_document(const char *const *ids, size_t n, char *err, size_t errlen);

#endif
