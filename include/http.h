/*
 * HTTP core on libevent's evhttp: routing with {path} parameters, request
 * ids, limits, JSON error replies, access logs and metrics.
 *
 * Every handler receives a struct request and must end it with exactly one
 * http_reply_* call, also when the answer comes later (from the database).
 * The reply frees the struct request (and its state); libevent frees the
 * evhttp_request, also when the client has gone.
 */
#ifndef SENDBENCH_HTTP_H
#define SENDBENCH_HTTP_H

#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "auth.h"
#include "proxy.h"

struct app;
struct db_reply;
struct pg_result;       /* libpq's PGresult */
struct request;

typedef void (*route_fn)(struct request *r);

enum { HTTP_GET = 1, HTTP_POST = 2, HTTP_PUT = 4, HTTP_DELETE = 8 };

struct route {
    int methods;            /* HTTP_GET also answers HEAD */
    const char *pattern;    /* "/api/v1/authorities/{code}" */
    route_fn fn;
    enum route_access access;   /* auth.h; left out = ROUTE_ANONYMOUS */
};

#define HTTP_MAX_PARAMS 4

struct request {
    struct evhttp_request *req;
    struct app *app;
    uint64_t id;                    /* this process's count (log lines: "<instance>-<id>") */
    char request_id[72];            /* X-Request-Id: a trusted proxy's, else "<instance>-<id>" */
    int adopted_id;                 /* request_id came from the proxy */
    char client[PROXY_ADDR_LEN];    /* the client's address (X-Forwarded-For via a trusted proxy) */
    double start;                   /* monotonic seconds */
    const struct route *route;
    char *params[HTTP_MAX_PARAMS];  /* decoded {…} segments */
    struct evkeyvalq query;
    void *state;                    /* handler state between async steps */
    void (*state_free)(void *state);
    struct auth_caller caller;      /* resolved before the handler (route access) */
    void (*query_done)(struct request *r, struct pg_result *res);   /* request_query */
};

/* The route table (server/routes.c). */
extern const struct route routes[];

/* Binds, sets limits, TCP_NODELAY, and routes requests.  Returns 0, or -1
 * with a reason in err. */
int http_server_start(struct app *app, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/* Frees the HTTP server, its limits and TLS context. */
void http_server_free(struct app *app);

/* SIGTERM: close the listening socket so new connections are refused;
 * requests already accepted still get their answers. */
void http_server_stop_accepting(struct app *app);

/* The client's address (text), borrowed: the TCP peer, or from
 * X-Forwarded-For when the peer is a trusted proxy (proxy.h). */
const char *http_client_address(const struct request *r);

/* Borrowed strings, valid until the reply. NULL when absent. */
const char *http_param(const struct request *r, int i);
const char *http_query(const struct request *r, const char *name);
const char *http_header(const struct request *r, const char *name);
/* The request body (borrowed, NUL-terminated copy kept until the reply). */
const char *http_body(struct request *r, size_t *len);

void http_add_header(struct request *r, const char *name, const char *value);

/* Replies; each frees r. */
void http_reply_json(struct request *r, int status, json_t *body /* stolen */);
void http_reply_error(struct request *r, int status, const char *code, const char *message,
                      json_t *details /* stolen, may be NULL */);
void http_reply_buffer(struct request *r, int status, const char *content_type,
                       struct evbuffer *body /* drained, caller still frees */);
void http_reply_text(struct request *r, int status, const char *content_type,
                     const char *text, size_t len);
/* 503 with Retry-After when the database is unavailable, else 500. */
void http_reply_db_error(struct request *r, const struct db_reply *reply);
/* Answers with a kept reply (cache.h): its ETag, Cache-Control and the Vary
 * given; 304 without a body when If-None-Match matches. */
struct cache_entry;
void http_reply_cached(struct request *r, struct cache_entry *e, const char *vary);
/* The one out-of-memory answer: logged, 500 internal_error. */
void http_reply_oom(struct request *r);

/*
 * Runs one query for r through the pool (parameters copied) and calls
 * done(r, res) with a result that succeeded; res is borrowed for the call.
 * A failure is answered here, never seen by done: 503 with Retry-After when
 * the database is unavailable or busy, 500 when the query failed or memory
 * ran out.  One query of a request at a time.
 */
typedef void (*request_query_cb)(struct request *r, struct pg_result *res);
void request_query(struct request *r, const char *sql, int nparams, const char *const *params,
                   request_query_cb done);

/* The shape every JSON error has: {"error":{"code","message","details"}}.
 * Returns a new reference. */
json_t *http_error_json(const char *code, const char *message, json_t *details /* stolen */);

/* The bytes http_reply_json sends for doc (compact, 15 significant digits,
 * a final newline), malloc'd and NUL-terminated, for replies that are kept
 * (cache.h).  doc is released.  NULL when doc is NULL or out of memory. */
char *http_json_text(json_t *doc /* stolen */, size_t *len);

#endif
